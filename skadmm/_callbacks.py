"""scikit-learn's fit callbacks (``sklearn.callback``, scikit-learn >= 1.9).

Where scikit-learn provides them, the estimators take callbacks through
``set_callbacks``: the fit is a task and every iteration (of the stages, then
of the run on all rows) one of its subtasks. A callback's ``on_fit_task_end``
receives, if it asks for ``fitted_estimator``, a copy of the estimator that
predicts with the iteration's weights (its read-out as the solver left it,
before the final ``refit_readout``); returning ``True`` stops the fit after
that iteration, with no warning (``stop_reason_`` says so). With an older
scikit-learn the estimators have no ``set_callbacks`` and none of this runs.
"""

try:
    from sklearn.callback import CallbackSupportMixin
except ImportError:  # scikit-learn < 1.9: no callbacks

    class CallbackSupportMixin:
        """Nothing: this scikit-learn has no callbacks."""


#: Whether this scikit-learn has callbacks.
HAS_CALLBACKS = hasattr(CallbackSupportMixin, "_init_callback_context")


class FitCallbacks:
    """The callback tasks of one fit: the fit, and one subtask per iteration.

    Inactive (every method does nothing) when the estimator has no callbacks
    and no meta-estimator's context, so that a fit without callbacks does
    exactly what it did before they existed.
    """

    def __init__(self, estimator, X, y, sample_weight):
        self.estimator = estimator
        self.active = HAS_CALLBACKS and (
            bool(getattr(estimator, "_skl_callbacks", None))
            or hasattr(estimator, "_parent_callback_ctx")
        )
        self.X, self.y = X, y
        self.metadata = (
            None if sample_weight is None else {"sample_weight": sample_weight}
        )
        self._context = self._iteration = None
        if self.active:
            self._context = estimator._init_callback_context(max_subtasks=None)
            self._context.call_on_fit_task_begin(
                estimator=estimator, X=X, y=y, metadata=self.metadata
            )

    def begin_iteration(self):
        """Open the task of the next iteration."""
        if not self.active:
            return
        self._iteration = self._context.subcontext(task_name="iteration")
        self._iteration.call_on_fit_task_begin(
            estimator=self.estimator, X=self.X, y=self.y, metadata=self.metadata
        )

    def end_iteration(self, attributes):
        """Close the iteration's task; whether a callback asks to stop.

        ``attributes``: a function returning the fitted attributes of the
        iteration's network (called only if a callback asks for it).
        """
        if self._iteration is None:
            return False
        iteration, self._iteration = self._iteration, None
        return iteration.call_on_fit_task_end(
            estimator=self.estimator,
            X=self.X,
            y=self.y,
            metadata=self.metadata,
            reconstruction_attributes=attributes,
        )

    def end_fit(self):
        """Close an iteration left open (an interrupt, a failure) and the fit."""
        if not self.active:
            return
        if self._iteration is not None:
            self._iteration.call_on_fit_task_end(estimator=self.estimator)
            self._iteration = None
        self._context.call_on_fit_task_end(
            estimator=self.estimator,
            X=self.X,
            y=self.y,
            metadata=self.metadata,
            reconstruction_attributes={},
        )
        self.active = False

"""scikit-learn's fit callbacks (``sklearn.callback``, scikit-learn >= 1.9).

Where scikit-learn provides them, the estimators take callbacks through
``set_callbacks``: the fit is a task and every iteration (of the stages, then
of the run on all rows) one of its subtasks. A callback's ``on_fit_task_end``
receives, if it asks for ``fitted_estimator``, a copy of the estimator that
predicts with the iteration's weights (its read-out as the solver left it,
before the final ``refit_readout``); returning ``True`` stops the fit after
that iteration, with no warning (``stop_reason_`` says so).

Before the iterations, each fit of ``alpha="auto"``'s cross-validated search
is a subtask of the fit as well (``task_name="alpha-search-fit"``, a leaf:
the candidate's own iterations are not tasks, and its ``fitted_estimator`` is
``None``). The candidates never carry the callbacks, so their results do not
depend on them; when the search runs on worker processes (``n_jobs``), the
hooks of a candidate's task run in the fitting process as its result arrives,
so a callback sees the same tasks for any ``n_jobs``. Returning ``True`` at
the end of a candidate's task stops the search and the fit (see
:class:`SearchStopped`). ``embedding="auto"``'s two held-out fits (more than
2,000 rows) are tasks of the fit (``"embedding-fit"``, see
:meth:`FitCallbacks.subfit`) with those tasks below them. With an older
scikit-learn the estimators have no ``set_callbacks`` and none of this runs.
"""

try:
    from sklearn.callback import CallbackSupportMixin
except ImportError:  # scikit-learn < 1.9: no callbacks

    class CallbackSupportMixin:
        """Nothing: this scikit-learn has no callbacks."""


class SearchStopped(Exception):
    """A callback asked to stop the fit during ``alpha="auto"``'s search.

    Raised by the search's results (see :meth:`FitCallbacks.search_run`) and
    caught by the fit, which then ends with the initial network: no iteration
    runs, and ``stop_reason_`` says so.
    """

    def __init__(self, n_fits, n_planned):
        super().__init__(n_fits, n_planned)
        #: The candidate fits completed before the stop, of ``n_planned``.
        self.n_fits, self.n_planned = n_fits, n_planned


#: Whether this scikit-learn has callbacks.
HAS_CALLBACKS = hasattr(CallbackSupportMixin, "_init_callback_context")


class FitCallbacks:
    """The callback tasks of one fit: the fit, and one subtask per iteration.

    Inactive (every method does nothing) when the estimator has no callbacks
    and no meta-estimator's context, so that a fit without callbacks does
    exactly what it did before they existed.
    """

    def __init__(self, estimator, X, y, sample_weight, parent=None, task_name=None):
        self.estimator = estimator
        self.active = HAS_CALLBACKS and (
            bool(getattr(estimator, "_skl_callbacks", None))
            or hasattr(estimator, "_parent_callback_ctx")
        )
        if parent is not None:
            self.active = parent.active
        #: The fit this one is a task of (:meth:`subfit`), or ``None``.
        self.parent = parent
        self.X, self.y = X, y
        self.metadata = (
            None if sample_weight is None else {"sample_weight": sample_weight}
        )
        self._context = self._iteration = None
        #: A callback asked to stop (at an iteration or a candidate's end).
        self.asked_stop = False
        if self.active:
            self._context = (
                estimator._init_callback_context(max_subtasks=None)
                if parent is None
                else parent._context.subcontext(task_name=task_name, max_subtasks=None)
            )
            self._context.call_on_fit_task_begin(
                estimator=estimator, X=X, y=y, metadata=self.metadata
            )

    def subfit(self, task_name, X, y, sample_weight):
        """The callbacks of a whole fit inside this one, as a task of it
        (``embedding="auto"``'s held-out fits): its iterations and search fits
        are tasks below that one, and the callbacks see this fit's estimator.
        Inactive when this one is."""
        return FitCallbacks(self.estimator, X, y, sample_weight, self, task_name)

    def begin_iteration(self, task_name="iteration"):
        """Open the task of the next iteration (or candidate fit)."""
        if not self.active:
            return
        self._iteration = self._context.subcontext(task_name=task_name)
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
        stop = iteration.call_on_fit_task_end(
            estimator=self.estimator,
            X=self.X,
            y=self.y,
            metadata=self.metadata,
            reconstruction_attributes=attributes,
        )
        self.asked_stop = self.asked_stop or bool(stop)
        return stop

    def search_run(self, run, in_process, n_planned):
        """``run`` of ``alpha="auto"``'s search (see ``_alpha_search.search_alpha``)
        with a subtask per candidate fit; ``run`` itself when inactive.

        The search calls it once per candidate; :class:`SearchStopped` counts
        the fits of all calls, of at most ``n_planned``.

        ``in_process``: the candidates are fitted here, one after the other
        (their tasks then span their fits); otherwise they are fitted on
        worker processes and a task is opened and closed as each result
        arrives. A callback asking to stop ends the search: the results then
        raise :class:`SearchStopped` after the last one handed out, and the
        fits not yet done are abandoned.
        """
        if not self.active:
            return run

        n_fits = 0

        def observed(tasks):
            nonlocal n_fits
            results = iter(tasks) if in_process else run(tasks)
            try:
                for item in results:
                    self.begin_iteration("alpha-search-fit")
                    result = item() if in_process else item
                    stop = self.end_iteration(None)
                    n_fits += 1
                    yield result
                    if stop:
                        raise SearchStopped(n_fits, n_planned)
            finally:
                close = getattr(results, "close", None)
                if close is not None:
                    close()

        return observed

    def end_fit(self, attributes=None):
        """Close an iteration left open (an interrupt, a failure) and the fit.

        ``attributes``: the fitted attributes of a :meth:`subfit`'s model (its
        task's ``fitted_estimator``; ``None``: the estimator as it is, fitted
        by now). A callback asking to stop there sets :attr:`asked_stop`.
        """
        if not self.active:
            return
        if self._iteration is not None:
            self._iteration.call_on_fit_task_end(estimator=self.estimator)
            self._iteration = None
        stop = self._context.call_on_fit_task_end(
            estimator=self.estimator,
            X=self.X,
            y=self.y,
            metadata=self.metadata,
            reconstruction_attributes={} if attributes is None else attributes,
        )
        self.asked_stop = self.asked_stop or bool(stop)
        self.active = False

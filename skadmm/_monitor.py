"""Evaluation of the forward network during training, and early stopping."""

from typing import NamedTuple

import numpy as np


class MonitorReport(NamedTuple):
    """What :meth:`ForwardMonitor.update` found after an iteration."""

    #: End the run (early stopping, or a callback asked).
    stop: bool
    #: The forward network's outputs are finite.
    finite: bool
    #: Why the run stops (empty unless ``stop``).
    reason: str
    #: A short text for progress lines.
    info: str


class ForwardMonitor:
    """Record the forward network's training loss and, optionally, validation scores.

    ``target`` (``skadmm._targets.RegressionTarget`` or the classifier's) gives
    the loss of the curves (``curve_loss``) and the validation score
    (``score``, higher is better). With ``validation`` set, this is early
    stopping: the run stops once the validation criterion has not improved by
    at least ``tol`` for ``n_iter_no_change`` iterations in a row, and
    :attr:`best_weights` keeps the best iterate. The criterion is the score,
    or minus the validation loss where the target's ``stops_on_loss`` is set
    (the classifier: its accuracy moves in steps of one validation row, and
    stopped its runs on large tables after a dozen iterations while the
    validation log-loss still fell, see the user guide, "Early stopping").

    ``predict(X, weights)`` computes the network's outputs (the fit's
    row-parallel forward pass). ``callbacks``: the fit's
    (``skadmm._callbacks.FitCallbacks``), with ``attributes``, the function of
    ``(weights, iteration)`` giving the fitted attributes a callback's
    ``fitted_estimator`` predicts with.
    """

    def __init__(
        self,
        X,
        Y,
        sample_weight,
        validation,
        tol,
        n_iter_no_change,
        target,
        predict,
        callbacks=None,
        attributes=None,
    ):
        self.X, self.Y, self.sample_weight = X, Y, sample_weight
        self.target = target
        self.predict = predict
        self.validation = validation
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.loss_curve = []
        self.validation_scores = []
        self.validation_loss_curve = []
        self.best_score = -np.inf
        self.best_loss = np.inf
        self.best_weights = None
        #: The best value of the stopping criterion (see the class docstring).
        self.best_criterion = -np.inf
        self._no_improvement = 0
        self.callbacks, self.attributes = callbacks, attributes
        #: A callback ended the run (or, set by :meth:`stop_by_callback`, the
        #: penalty search before it).
        self.stopped_by_callback = False

    def stop_by_callback(self):
        """Record that a callback ended the fit before this monitor's run."""
        self.stopped_by_callback = True

    def release_data(self):
        """Forget the training rows (only the curves outlive a stage's run)."""
        self.X = self.Y = self.sample_weight = None

    def state(self):
        """The early-stopping state a resumed run goes on from (``warm_start``):
        the best score so far, its loss and weights, and the count of
        iterations without improvement."""
        return dict(
            best_score=self.best_score,
            best_loss=self.best_loss,
            best_weights=self.best_weights,
            best_criterion=self.best_criterion,
            no_improvement=self._no_improvement,
        )

    def restore(self, state):
        """Go on from a :meth:`state` of an earlier run on the same data."""
        self.best_score, self.best_loss = state["best_score"], state["best_loss"]
        self.best_weights = state["best_weights"]
        self.best_criterion = state["best_criterion"]
        self._no_improvement = state["no_improvement"]

    def begin_iteration(self, iteration):
        """Called before each iteration (opens its callback task)."""
        if self.callbacks is not None:
            self.callbacks.begin_iteration()

    def update(self, problem, iteration, loss=None):
        """Evaluate the current weights; return a :class:`MonitorReport`.

        ``loss``: the training loss of the current weights where the solver
        knows it (the forward-reset mode's objective is computed on the
        forward pass); the curve is then derived from it instead of from a
        forward pass over the training rows.

        Nothing is recorded until every evaluation has finished, so an interrupt
        leaves the curves consistent. A callback that asks to stop ends the
        run after this iteration.
        """
        report, record = self._evaluate(problem, loss)
        asked = False
        if self.callbacks is not None and report.finite:
            weights = problem.weights
            # A callback may raise (Ctrl-C in its code): the iteration then
            # never happened, so its values are recorded only after it.
            asked = self.callbacks.end_iteration(
                lambda: self.attributes(weights(), iteration)
            )
        record()
        if asked and not report.stop:
            self.stopped_by_callback = True
            reason = f"a callback stopped the fit at iteration {iteration}"
            return report._replace(stop=True, reason=reason)
        return report

    def _evaluate(self, problem, train_loss=None):
        """``(report, record)``: the :class:`MonitorReport` of the current
        weights, and the function that records their values in the curves
        and the early-stopping state (nothing changes before it is called)."""
        loss = None
        if train_loss is not None:
            loss = self.target.curve_from_loss(train_loss)
        if loss is None:
            loss = self._train_loss(problem.W)
        if not np.isfinite(loss):
            return MonitorReport(False, False, "", ""), _nothing
        info = f"train {self.target.curve_name} = {loss:.6g}"
        if self.validation is None:

            def record():
                self.loss_curve.append(loss)
                self.best_loss = min(self.best_loss, loss)

            return MonitorReport(False, True, "", info), record
        val_loss, score = self._validation_scores(problem.W)
        if not np.isfinite(val_loss):
            return MonitorReport(False, False, "", info), _nothing
        criterion = -val_loss if self.target.stops_on_loss else score
        improved = criterion > self.best_criterion + self.tol
        no_improvement = 0 if improved else self._no_improvement + 1
        best = criterion > self.best_criterion
        best_weights = problem.weights() if best else None

        def record():
            self.loss_curve.append(loss)
            self.validation_loss_curve.append(val_loss)
            self.validation_scores.append(score)
            self._no_improvement = no_improvement
            if best:
                self.best_criterion = criterion
                self.best_score, self.best_loss = score, val_loss
                self.best_weights = best_weights

        info += f", validation {self.target.score_name} = {score:.4f}"
        if no_improvement >= self.n_iter_no_change:
            reason = (
                f"validation {self._criterion_name} did not improve by more than "
                f"tol={self.tol:g} "
                f"for {self.n_iter_no_change} consecutive iterations"
            )
            return MonitorReport(True, True, reason, info), record
        return MonitorReport(False, True, "", info), record

    @property
    def _criterion_name(self):
        return self.target.curve_name if self.target.stops_on_loss else "score"

    def _train_loss(self, weights):
        """The training rows' curve loss of the network ``weights``."""
        pred = self.predict(self.X, weights)
        return self.target.curve_loss(self.Y, pred, self.sample_weight)

    def _validation_scores(self, weights):
        """``(loss, score)`` of the network ``weights`` on the validation rows."""
        X_val, Y_val, sw_val = self.validation
        pred = self.predict(X_val, weights)
        return (
            self.target.curve_loss(Y_val, pred, sw_val),
            self.target.score(Y_val, pred, sw_val),
        )


def _nothing():
    """The record of an iterate that is not recorded (not finite)."""

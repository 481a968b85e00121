"""Evaluation of the forward network during training, and early stopping."""

from functools import partial

import numpy as np

from ._network import forward


class ForwardMonitor:
    """Record the forward network's training loss and, optionally, validation scores.

    ``target`` (``skadmm._target.RegressionTarget`` or the classifier's) gives
    the loss of the curves (``curve_loss``) and the validation score
    (``score``, higher is better). With ``validation`` set, this is early
    stopping: the run stops once the validation score has not improved by at
    least ``tol`` for ``n_iter_no_change`` iterations in a row, and
    :attr:`best_weights` keeps the best iterate.
    """

    def __init__(
        self,
        X,
        Y,
        sample_weight,
        activation,
        validation,
        tol,
        n_iter_no_change,
        target,
    ):
        self.X, self.Y, self.sample_weight = X, Y, sample_weight
        self.target = target
        self.activation = activation
        #: ``predict(X, weights)``; replaced by a row-parallel version in a team.
        self.predict = partial(forward, activation=activation)
        self.validation = validation
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.loss_curve = []
        self.validation_scores = []
        self.validation_loss_curve = []
        self.best_score = -np.inf
        self.best_loss = np.inf
        self.best_weights = None
        self.best_iter = 0
        self.finite = True
        self.stop_reason = ""
        self._no_improvement = 0
        #: The fit's callbacks (``skadmm._callbacks.FitCallbacks``) and the
        #: function of ``(weights, iteration)`` giving the fitted attributes
        #: a callback's ``fitted_estimator`` predicts with.
        self.callbacks = self.attributes = None
        self.stopped_by_callback = False

    def state(self):
        """The early-stopping state a resumed run goes on from (``warm_start``):
        the best score so far, its loss, weights and iteration, and the count
        of iterations without improvement."""
        return dict(
            best_score=self.best_score,
            best_loss=self.best_loss,
            best_weights=self.best_weights,
            best_iter=self.best_iter,
            no_improvement=self._no_improvement,
        )

    def restore(self, state):
        """Go on from a :meth:`state` of an earlier run on the same data."""
        self.best_score, self.best_loss = state["best_score"], state["best_loss"]
        self.best_weights, self.best_iter = state["best_weights"], state["best_iter"]
        self._no_improvement = state["no_improvement"]

    def begin_iteration(self, iteration):
        """Called before each iteration (opens its callback task)."""
        if self.callbacks is not None:
            self.callbacks.begin_iteration()

    def update(self, problem, iteration):
        """Evaluate the current weights; return ``(stop, progress text)``.

        Nothing is recorded until every evaluation has finished, so an interrupt
        leaves the curves consistent. A callback that asks to stop ends the
        run after this iteration.
        """
        stop, info = self._evaluate(problem, iteration)
        if self.callbacks is None or not self.finite:
            return stop, info
        weights = problem.weights
        asked = self.callbacks.end_iteration(
            lambda: self.attributes(weights(), iteration)
        )
        if asked and not stop:
            self.stopped_by_callback = True
            self.stop_reason = f"a callback stopped the fit at iteration {iteration}"
        return stop or asked, info

    def _evaluate(self, problem, iteration):
        loss = self._train_loss(problem.W)
        self.finite = bool(np.isfinite(loss))
        if not self.finite:
            return False, ""
        info = f"train {self.target.curve_name} = {loss:.6g}"
        if self.validation is None:
            self.loss_curve.append(loss)
            self.best_loss = min(self.best_loss, loss)
            return False, info
        val_loss, score = self._validation_scores(problem.W)
        self.finite = bool(np.isfinite(val_loss))
        self.loss_curve.append(loss)
        self.validation_loss_curve.append(val_loss)
        self.validation_scores.append(score)
        if score > self.best_score + self.tol:
            self._no_improvement = 0
        else:
            self._no_improvement += 1
        if score > self.best_score:
            self.best_score, self.best_loss = score, val_loss
            self.best_weights, self.best_iter = problem.weights(), iteration
        info += f", validation {self.target.score_name} = {score:.4f}"
        if self._no_improvement >= self.n_iter_no_change:
            self.stop_reason = (
                f"validation score did not improve by more than tol={self.tol:g} "
                f"for {self.n_iter_no_change} consecutive iterations"
            )
            return True, info
        return False, info

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

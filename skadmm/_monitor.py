"""Evaluation of the forward network during training, and early stopping."""

from functools import partial

import numpy as np
from sklearn.metrics import r2_score

from ._network import forward


def weighted_mse(Y, pred, sample_weight, y_scale=None):
    """Mean squared error over rows (weighted) and outputs.

    ``Y`` and ``pred`` are standardised targets; with ``y_scale`` the error is
    reported in the units of the original target.
    """
    err = pred - Y
    if y_scale is not None:
        err *= y_scale
    sq = (err**2).mean(axis=1)
    return float(np.average(sq, weights=sample_weight))


class ForwardMonitor:
    """Record the forward network's training MSE and, optionally, validation scores.

    With ``validation`` set, this is early stopping: the run stops once the
    validation R^2 has not improved by at least ``tol`` for ``n_iter_no_change``
    iterations in a row, and :attr:`best_weights` keeps the best iterate.
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
        y_scale=None,
    ):
        self.X, self.Y, self.sample_weight = X, Y, sample_weight
        self.y_scale = y_scale
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

    def update(self, problem, iteration):
        """Evaluate the current weights; return ``(stop, progress text)``.

        Nothing is recorded until every evaluation has finished, so an interrupt
        leaves the curves consistent.
        """
        pred = self.predict(self.X, problem.W)
        loss = weighted_mse(self.Y, pred, self.sample_weight, self.y_scale)
        self.finite = bool(np.isfinite(loss))
        if not self.finite:
            return False, ""
        info = f"train MSE = {loss:.6g}"
        if self.validation is None:
            self.loss_curve.append(loss)
            self.best_loss = min(self.best_loss, loss)
            return False, info
        X_val, Y_val, sw_val = self.validation
        pred = self.predict(X_val, problem.W)
        val_loss = weighted_mse(Y_val, pred, sw_val, self.y_scale)
        score = r2_score(Y_val, pred, sample_weight=sw_val)
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
        info += f", validation R2 = {score:.4f}"
        if self._no_improvement >= self.n_iter_no_change:
            self.stop_reason = (
                f"validation score did not improve by more than tol={self.tol:g} "
                f"for {self.n_iter_no_change} consecutive iterations"
            )
            return True, info
        return False, info

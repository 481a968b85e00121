"""Standardisation of the regression target inside ``fit``.

The penalties ``beta``, ``rho`` and ``alpha`` weigh terms whose size depends on the
units of ``y``; training on the weighted z-score of each output makes the fitted
function equivariant to an affine change of units (see the user guide, "Target
standardisation"). The network is trained on the standardised target and the
transform is folded into the read-out afterwards, so ``coefs_`` and
``intercepts_`` describe the network in the units of ``y``.
"""

import numpy as np
from sklearn.metrics import r2_score
from sklearn.preprocessing import StandardScaler

from ._losses import SquaredLoss

# Head room below the square root of the largest float for the squared errors.
_MARGIN = 1e3


def fit_target_scaler(Y, sample_weight):
    """Weighted mean and scale of every output.

    The statistics are computed on ``Y / max|Y|`` (per output) and scaled back:
    the variance of ``y`` itself overflows from ``|y| ~ 1e155`` and underflows
    to zero below ``1e-155`` in float64, where the standard deviation is still
    representable. A constant output gets the scale ``max|y|`` (1 for zeros),
    so its standardised values are its rounding noise relative to its size.
    """
    top = np.max(np.abs(Y), axis=0)
    # Squared errors in the units of y (loss_curve_, scores) must stay finite.
    limit = np.sqrt(np.finfo(Y.dtype).max) / _MARGIN
    if not (top <= limit).all():
        raise ValueError(
            f"max|y| = {float(np.max(top)):.3g} is too large: its squared errors "
            f"overflow {Y.dtype} (the limit is {limit:.3g}). Rescale y, for example "
            "divide it by a power of ten."
        )
    top[top == 0] = 1.0
    scaler = StandardScaler().fit(Y / top, sample_weight=sample_weight)
    with np.errstate(over="ignore"):
        mean, scale = scaler.mean_ * top, scaler.scale_ * top
    if not (np.isfinite(mean).all() and np.isfinite(scale).all()):
        raise ValueError(
            "The mean or standard deviation of y overflows its floating type; "
            "rescale y (for example divide it by a power of ten)."
        )
    return mean.astype(Y.dtype), scale.astype(Y.dtype)


def standardise(Y, mean, scale):
    """``(Y - mean) / scale``; ``ValueError`` if it overflows (``|y|`` near the max)."""
    with np.errstate(over="ignore", invalid="ignore"):
        Z = (Y - mean) / scale
    if not np.isfinite(Z).all():
        raise ValueError(
            "Standardising y overflows its floating type; rescale y (for example "
            "divide it by a power of ten)."
        )
    return Z


def fold_into_readout(weights, mean, scale):
    """Weights whose read-out predicts in the units of ``y``."""
    readout = weights[-1] * scale
    readout[-1] += mean
    return [*weights[:-1], readout]


def unfold_readout(weights, mean, scale):
    """Inverse of :func:`fold_into_readout` (to warm-start in standardised units)."""
    readout = weights[-1].copy()
    readout[-1] -= mean
    return [*weights[:-1], readout / scale]


class RegressionTarget:
    """The regressor's target encoding: the weighted z-score of every output.

    The shared fit (``skadmm._base``) asks its estimator's target object for the
    encoded training target, the loss, how to fold the encoding into the
    read-out, and the curves' loss and validation score.
    """

    loss = SquaredLoss()
    curve_name, score_name = "MSE", "R2"
    #: ``alpha="auto"`` cross-validates (``skadmm._penalty``).
    auto_alpha = None

    def __init__(self, mean, scale, one_dimensional):
        self.mean, self.scale = mean, scale
        self.one_dimensional = one_dimensional
        self.n_outputs = mean.shape[0]

    @classmethod
    def fit(cls, y, sample_weight, dtype):
        """Scaler of ``y`` (rows of positive weight)."""
        Y = np.asarray(y, dtype=dtype).reshape(y.shape[0], -1)
        return cls(*fit_target_scaler(Y, sample_weight), np.ndim(y) == 1)

    def encode(self, y, dtype):
        """Standardised 2-D target; ``ValueError`` on a different number of outputs."""
        Y = np.asarray(y, dtype=dtype).reshape(y.shape[0], -1)
        if Y.shape[1] != self.n_outputs:
            raise ValueError(
                f"warm_start=True but y has {Y.shape[1]} outputs and the fitted "
                f"model has {self.n_outputs}; set warm_start=False to refit."
            )
        return standardise(Y, self.mean, self.scale)

    def fold(self, weights):
        return fold_into_readout(weights, self.mean, self.scale)

    def unfold(self, weights):
        return unfold_readout(weights, self.mean, self.scale)

    def stratify(self, Y):
        """Labels to stratify a validation split on (none for regression)."""
        return None

    def curve_loss(self, Y, out, sample_weight):
        """Mean squared error in the units of ``y`` (``loss_curve_``)."""
        return weighted_mse(Y, out, sample_weight, self.scale)

    def score(self, Y, out, sample_weight):
        """Validation R^2 (early stopping)."""
        return r2_score(Y, out, sample_weight=sample_weight)

    # alpha="auto": models are fitted on the encoded target and compared by the
    # summed weighted squared error of their predictions.
    def cv_target(self, Y):
        return Y

    def cv_predict(self, model, X):
        return np.asarray(model.predict(X)).reshape(X.shape[0], -1)

    def cv_errors(self, Y, pred):
        return np.sum((pred - Y) ** 2, axis=1)


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

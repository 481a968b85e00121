"""Standardisation of the regression target inside ``fit``.

The penalties ``beta``, ``rho`` and ``alpha`` weigh terms whose size depends on the
units of ``y``; training on the weighted z-score of each output makes the fitted
function equivariant to an affine change of units (see the user guide, "Target
standardisation"). The network is trained on the standardised target and the
transform is folded into the read-out afterwards, so ``coefs_`` and
``intercepts_`` describe the network in the units of ``y``.
"""

import numpy as np
from sklearn.preprocessing import StandardScaler

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

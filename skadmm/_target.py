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


def fit_target_scaler(Y, sample_weight):
    """Weighted mean and scale of every output (scale 1 for a constant output)."""
    scaler = StandardScaler().fit(Y, sample_weight=sample_weight)
    if not (np.isfinite(scaler.mean_).all() and np.isfinite(scaler.scale_).all()):
        raise ValueError(
            "The mean or standard deviation of y overflows its floating type; "
            "rescale y (for example divide it by a power of ten)."
        )
    return scaler.mean_.astype(Y.dtype), scaler.scale_.astype(Y.dtype)


def standardise(Y, mean, scale):
    """``(Y - mean) / scale``."""
    return (Y - mean) / scale


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

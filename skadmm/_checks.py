"""The never-NaN rule: a clear error instead of NaN or infinity from finite input.

Three checks (see the user guide, "Numerical safety"):

1. Before any work, :func:`check_input_scale` refuses an ``X`` whose scale would
   overflow the products of a fit in its floating type.
2. After training, :func:`check_fitted_network` refuses non-finite weights, or
   weights whose forward pass on the training data overflows, so that ``fit``
   raises instead of storing them (fitted attributes are set only afterwards).
3. :func:`check_predictions` refuses non-finite predictions of a test ``X``
   (its scale can differ from the training data's).

Each raises :class:`~skadmm.exceptions.NumericalError`, a ``ValueError``.
"""

import numpy as np
import scipy.sparse as sp

from ._network import forward_into
from .exceptions import NumericalError

_STANDARDISE = "Standardise X (for example with sklearn.preprocessing.StandardScaler)"

# Head room of the scale bound for weights that grow during training and for
# the penalties that multiply the Gram matrices.
_MARGIN = 1e3


def max_input_scale(n_samples, n_features, width, dtype):
    """Largest ``max|X|`` that :func:`check_input_scale` accepts.

    The largest numbers of a fit are sums of squares over the rows: Gram
    matrices of the layer inputs and squared norms of the pre-activations. A
    pre-activation of the lifting layer is a row of ``[X, 1]`` (norm up to
    ``sqrt(d + 1) max|X|`` for ``d`` features) times a weight column (norm about
    the activation's gain), and a later layer mixes ``width`` features the same
    way, so these sums stay below about ``n (d + 1) (width + 1) max|X|^2``. The
    bound asks that quantity to stay ``_MARGIN**2`` below the dtype's largest
    number, the margin leaving room for depth, weights that grow during
    training and the penalties that multiply the Gram matrices. Standardised
    data is many orders of magnitude inside it (for a million rows, 100
    features and width 100: about ``1e11`` in float32, ``1e146`` in float64).
    """
    room = np.sqrt(float(np.finfo(dtype).max) / max(n_samples, 1)) / _MARGIN
    return room / np.sqrt((n_features + 1) * (width + 1))


def check_input_scale(X, width):
    """Raise :class:`NumericalError` if ``max|X|`` exceeds :func:`max_input_scale`."""
    if X.shape[0] * X.shape[1] == 0:
        return
    # A sparse X's largest entry is among its stored values (never densified).
    values = X.data if sp.issparse(X) else X
    largest = float(np.max(np.abs(values))) if values.size else 0.0
    limit = max_input_scale(X.shape[0], X.shape[1], width, X.dtype)
    if largest > limit:
        # float64 is a remedy only for narrower data that it would accept.
        wide = max_input_scale(X.shape[0], X.shape[1], width, np.float64)
        widen = (
            f", or pass float64 data (its limit is {wide:.3g})"
            if X.dtype != np.float64 and largest <= wide
            else ""
        )
        raise NumericalError(
            f"max|X| = {largest:.3g} is too large for {X.dtype} arithmetic with "
            f"{X.shape[0]} samples, {X.shape[1]} features and width {width}: the "
            f"network's products would overflow (the limit is {limit:.3g}). "
            f"{_STANDARDISE}{widen}."
        )


def check_fitted_network(weights, X, activation):
    """Raise :class:`NumericalError` if the trained network is not finite on ``X``."""
    finite = all(np.isfinite(W).all() for W in weights)
    if finite:
        with np.errstate(over="ignore", invalid="ignore"):
            # Row block by row block: no n_samples x width temporary.
            dtype = np.result_type(X.dtype, *(W.dtype for W in weights))
            out = np.empty((X.shape[0], weights[-1].shape[1]), dtype)
            forward_into(X, weights, activation, out, whole=False)
            finite = np.isfinite(out).all()
    if not finite:
        raise NumericalError(
            "Training produced weights that are not finite, or whose predictions "
            f"on the training data overflow; the estimator was not fitted. "
            f"{_STANDARDISE} and y, or raise alpha."
        )


def check_predictions(pred):
    """``pred``, or :class:`NumericalError` if the forward pass overflowed."""
    if not np.isfinite(pred).all():
        raise NumericalError(
            "The network's forward pass overflows for this X: its scale is far "
            "outside that of the training data. Transform X as during fit "
            "(for example with the same fitted StandardScaler)."
        )
    return pred

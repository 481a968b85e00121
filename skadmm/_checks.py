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
An ``X`` that is finite and within the limits but far from standardised fits
poorly without any error: :func:`warn_input_scale` says so, before any work,
with an :class:`~skadmm.exceptions.InputScaleWarning`.
"""

import numpy as np
import scipy.sparse as sp
from sklearn.utils.sparsefuncs import mean_variance_axis, min_max_axis

from ._network import forward_into
from ._warn import warn
from .exceptions import InputScaleWarning, NumericalError

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


#: A column whose root mean square is above this is far from standardised:
#: on Friedman #1 (2,000 rows) an offset of 10 gave test R2 0.82 and a scale
#: of 30 0.86, against 0.95 standardised (a scale of 10: 0.945).
LARGE_COLUMN_RMS = 10.0
#: A varying column spanning a range below this is far from standardised: a
#: scale of 0.01 (range about 0.035) gave 0.85, of 0.03 (about 0.1) 0.945.
SMALL_COLUMN_RANGE = 0.05


def column_scale(X):
    """``(rows, sums of squares, minima, maxima)`` of the columns of ``X``, in
    float64: what :func:`warn_input_scale` reads, and what row chunks of a
    sharded fit combine (sums add, extremes take the extreme). One pass over
    ``X`` (its stored values when sparse), no temporary of its size."""
    if sp.issparse(X):
        mean, var = mean_variance_axis(X, axis=0)
        sums = (var + mean * mean) * X.shape[0]
        low, high = min_max_axis(X, axis=0)
    else:
        sums = np.einsum("ij,ij->j", X, X, dtype=np.float64)
        low, high = X.min(axis=0), X.max(axis=0)
    return X.shape[0], sums, low.astype(np.float64), high.astype(np.float64)


#: The in-process fit's advice (a sharded fit refuses embeddings).
_SCALE_ADVICE = (
    f"{_STANDARDISE}, or pass an embedding other than 'none', which "
    "standardises every column."
)


def warn_input_scale(rows, sums, low, high, advice=_SCALE_ADVICE):
    """Issue an :class:`InputScaleWarning` if a column (of
    :func:`column_scale`'s summary) has a root mean square above
    ``LARGE_COLUMN_RMS``, or varies over a range below ``SMALL_COLUMN_RANGE``;
    constant columns are left alone. ``advice``: what the message tells the
    user to do."""
    if not rows or not len(sums):
        return
    rms = np.sqrt(sums / rows)
    spread = high - low
    large = np.flatnonzero(rms > LARGE_COLUMN_RMS)
    small = np.flatnonzero((spread > 0) & (spread < SMALL_COLUMN_RANGE))
    if not (large.size or small.size):
        return
    found = []
    if large.size:
        worst = large[np.argmax(rms[large])]
        found.append(
            f"{large.size} column(s) with a root mean square above "
            f"{LARGE_COLUMN_RMS:g} (column {worst}: {rms[worst]:.3g})"
        )
    if small.size:
        worst = small[np.argmin(spread[small])]
        found.append(
            f"{small.size} varying column(s) spanning less than "
            f"{SMALL_COLUMN_RANGE:g} (column {worst}: {spread[worst]:.3g})"
        )
    warn(
        f"X is far from standardised: {' and '.join(found)}. The fit is tuned "
        f"for columns of mean 0 and variance 1 and will likely be poor. {advice}",
        InputScaleWarning,
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

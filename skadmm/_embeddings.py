"""Numeric feature embeddings: how each input column enters the network.

The lifting layer sees ``[E(X), 1]`` instead of ``[X, 1]``, where ``E`` maps
each column ``x`` to its standardised value ``z = (x - mean) / std`` followed
by a code of ``x`` (see the user guide, "Numeric embeddings"):

* ``"piecewise"``: piecewise-linear encoding on quantile bins. With the edges
  ``b_0 < ... < b_T`` (weighted quantiles of the training rows, duplicates
  removed), component ``e_t`` is ``clip((x - b_{t-1}) / (b_t - b_{t-1}), 0, 1)``:
  1 on the bins left of ``x``, the fraction of its own bin, 0 right of it.
  Values outside the training range clip (all 0 below ``b_0``, all 1 above
  ``b_T``): the code stays bounded, and ``z`` beside it extrapolates linearly.
* ``"hat"``: the same piecewise-linear functions in the hat (linear
  B-spline) basis, ``h_t = e_t - e_{t+1}``, the first hat left to the bias:
  a CSR matrix with at most two entries per column and row beside ``z``.
* ``"onehot"``: the indicator of the quantile bin holding ``x`` (values
  outside the range fall in the first or the last bin), a CSR matrix with two
  stored entries per column and row (``z`` and the indicator).
* ``"periodic"``: ``sin(2 pi f z)`` and ``cos(2 pi f z)`` for fixed
  frequencies ``f`` spaced geometrically.
* ``"none"``: ``X`` itself, unchanged.
* ``"auto"`` (an estimator's parameter, not an encoder): ``"none"`` or
  ``AUTO_CODE``, chosen inside ``fit`` on its training rows.

The encoders are fitted on the rows given to ``fit`` (with their sample
weights: a row of weight 2 counts as a repeated row, so weighted quantiles use
the inverted empirical distribution function), never on the rows they
transform later, so cross-validation of an estimator stays honest. A column
with fewer than two bins (constant or binary) keeps ``z`` alone: its code
would be an affine function of ``z``.
"""

import numpy as np
import scipy.sparse as sp

#: The encodings (an encoder's ``kind``).
KINDS = ("none", "piecewise", "hat", "onehot", "periodic")
#: ``embedding="auto"``: ``"none"`` or this code, whichever the fit's own
#: training rows validate better (see ``BaseADMMResidual._fit``): the one-hot
#: bins were the best and the cheapest code on every Wine table (user guide,
#: "Numeric embeddings").
AUTO_CODE = "onehot"
#: Values of the estimators' ``embedding`` parameter.
PARAMETER_VALUES = (*KINDS, "auto")
#: Factor of the code's columns (see :class:`_StandardisedEmbedding`): 0.5
#: and 0.25 took both the gain on Wine and the loss on diabetes away
#: together (user guide, "Numeric embeddings").
CODE_SCALE = 1.0
#: ``n_bins="auto"``: about ``ROWS_PER_BIN`` rows per bin, between
#: ``MIN_AUTO_BINS`` and ``MAX_AUTO_BINS`` (the one-hot code was best at 80
#: to 120 rows per bin on Wine red and white).
ROWS_PER_BIN = 80
MIN_AUTO_BINS = 4
MAX_AUTO_BINS = 32


def resolve_n_bins(n_bins, n_rows):
    """``n_bins`` with ``"auto"`` resolved on ``n_rows`` training rows (the sum
    of the sample weights, so that integer weights equal repeated rows)."""
    if n_bins == "auto":
        n_bins = int(np.clip(n_rows // ROWS_PER_BIN, MIN_AUTO_BINS, MAX_AUTO_BINS))
    return int(n_bins)


def make_embedding(kind, n_bins, code_scale=None, params=None):
    """An unfitted encoder of a resolved ``kind`` (see :func:`resolve_embedding`).

    ``code_scale``: the factor of the code's columns (``None``:
    ``CODE_SCALE``); see :class:`_StandardisedEmbedding`. ``params``: the
    estimator's ``(embedding, n_bins)`` it was made from (``None``: ``(kind,
    None)``), which a warm start must repeat.
    """
    encoder = _make_encoder(kind, n_bins, code_scale)
    encoder.params = (kind, None) if params is None else params
    return encoder


def _make_encoder(kind, n_bins, code_scale):
    code_scale = CODE_SCALE if code_scale is None else code_scale
    if kind == "none":
        return NoEmbedding()
    if kind == "periodic":
        return PeriodicEmbedding(max(1, n_bins // 2), code_scale)
    binned = {
        "piecewise": PiecewiseLinearEmbedding,
        "hat": HatEmbedding,
        "onehot": OneHotBinEmbedding,
    }
    return binned[kind](n_bins, code_scale)


def encoded_shape(kind, n_bins, X):
    """``(n_columns, nnz)`` of the encoded ``X``, at most (``nnz`` None: dense).

    For the memory guard, before anything is fitted: every column taken as
    having all its bins (duplicate edges only remove some).
    """
    n, d = X.shape
    if kind == "auto":
        kind = AUTO_CODE  # the wider of its two candidates
    if kind == "none":
        return d, (X.nnz if sp.issparse(X) else None)
    if kind == "periodic":
        return d * (1 + 2 * max(1, n_bins // 2)), None
    if kind == "onehot":
        return d * (1 + n_bins), 2 * n * d
    if kind == "hat":
        return d * (1 + n_bins), 3 * n * d
    return d * (1 + n_bins), None


def _dense(X):
    return X.toarray() if sp.issparse(X) else np.asarray(X)


def _standardise_fit(X, sample_weight):
    """Weighted mean and scale of the columns (scale 1 for a constant one)."""
    mean = np.average(X, axis=0, weights=sample_weight)
    var = np.average((X - mean) ** 2, axis=0, weights=sample_weight)
    scale = np.sqrt(var)
    # As StandardScaler: a (nearly) constant column is centred, not scaled.
    scale[scale < 10 * np.finfo(X.dtype).eps * np.maximum(np.abs(mean), 1.0)] = 1.0
    return mean.astype(X.dtype), scale.astype(X.dtype)


class NoEmbedding:
    """``X`` as it is (``embedding="none"``)."""

    kind = "none"

    def fit(self, X, sample_weight=None):
        self.n_features_in_ = X.shape[1]
        self.n_output_features_ = X.shape[1]
        return self

    def transform(self, X):
        return X


class _StandardisedEmbedding:
    """``z = (x - mean) / std`` of every column, then each column's code.

    The code's columns are multiplied by ``code_scale``: the ridge penalty
    ``alpha`` on a weight of the first layer then acts as ``alpha /
    code_scale**2`` on the code's own scale, so the network leans on ``z``
    unless a code column earns its weight.
    """

    kind = None

    def fit(self, X, sample_weight=None):
        X = _dense(X)
        self.n_features_in_ = X.shape[1]
        self.mean_, self.scale_ = _standardise_fit(X, sample_weight)
        self._fit_codes(X, sample_weight)
        return self

    def _standardise(self, X):
        return (X - self.mean_) / self.scale_


class _BinnedEmbedding(_StandardisedEmbedding):
    def __init__(self, n_bins, code_scale=1.0):
        self.n_bins = n_bins
        self.code_scale = code_scale

    def _fit_codes(self, X, sample_weight):
        levels = np.linspace(0.0, 1.0, self.n_bins + 1)
        # inverted_cdf: the only method for which a weight of k equals k rows.
        q = np.quantile(
            X.astype(np.float64),
            levels,
            axis=0,
            method="inverted_cdf",
            weights=None if sample_weight is None else np.asarray(sample_weight),
        )
        # One short loop over the columns (never over rows): their numbers of
        # distinct edges differ.
        edges = [np.unique(q[:, j]) for j in range(X.shape[1])]
        #: Edges of each column (empty: no code, ``z`` alone).
        self.bin_edges_ = [(e if len(e) >= 3 else e[:0]).astype(X.dtype) for e in edges]
        self.n_bins_ = np.array([max(len(e) - 1, 0) for e in self.bin_edges_])
        self.n_output_features_ = X.shape[1] + int(self.n_bins_.sum())


class PiecewiseLinearEmbedding(_BinnedEmbedding):
    """``z`` and the piecewise-linear code of every column (dense)."""

    kind = "piecewise"

    def transform(self, X):
        X = _dense(X)
        n, d = X.shape
        out = np.empty((n, self.n_output_features_), dtype=X.dtype)
        out[:, :d] = self._standardise(X)
        start = d
        for j, edges in enumerate(self.bin_edges_):
            if not len(edges):
                continue
            stop = start + len(edges) - 1
            block = out[:, start:stop]
            np.subtract(X[:, j, None], edges[:-1], out=block)
            block /= np.diff(edges)
            np.clip(block, 0.0, 1.0, out=block)
            block *= self.code_scale
            start = stop
        return out


class OneHotBinEmbedding(_BinnedEmbedding):
    """``z`` and the indicator of the quantile bin of every column (CSR)."""

    kind = "onehot"

    def transform(self, X):
        X = _dense(X)
        n, d = X.shape
        binned = np.flatnonzero(self.n_bins_)
        k = d + len(binned)
        offsets = d + np.concatenate([[0], np.cumsum(self.n_bins_[binned])[:-1]])
        indices = np.empty((n, k), dtype=np.int32)
        data = np.full((n, k), self.code_scale, dtype=X.dtype)
        indices[:, :d] = np.arange(d)
        data[:, :d] = self._standardise(X)
        for i, j in enumerate(binned):
            interior = self.bin_edges_[j][1:-1]
            # The bin [b_{t-1}, b_t) holding x; outside the range, the first or last.
            indices[:, d + i] = offsets[i] + np.searchsorted(
                interior, X[:, j], side="right"
            )
        big = n * k >= np.iinfo(np.int32).max
        indptr = np.arange(0, n * k + 1, k, dtype=np.int64 if big else np.int32)
        return sp.csr_matrix(
            (data.ravel(), indices.ravel(), indptr),
            shape=(n, self.n_output_features_),
        )


class PeriodicEmbedding(_StandardisedEmbedding):
    """``z`` and ``sin(2 pi f z), cos(2 pi f z)`` of every column (dense).

    The frequencies are fixed (geometric from 1/16 to 1 cycle per standard
    deviation), so the code depends on the training rows only through the
    standardisation.
    """

    kind = "periodic"

    def __init__(self, n_frequencies, code_scale=1.0):
        self.n_frequencies = n_frequencies
        self.code_scale = code_scale

    def _fit_codes(self, X, sample_weight):
        self.frequencies_ = np.geomspace(1 / 16, 1.0, self.n_frequencies).astype(
            X.dtype
        )
        self.n_output_features_ = X.shape[1] * (1 + 2 * self.n_frequencies)

    def transform(self, X):
        X = _dense(X)
        n, d = X.shape
        z = self._standardise(X)
        angles = (2 * np.pi * z[:, :, None] * self.frequencies_).reshape(n, -1)
        code = np.hstack([np.sin(angles), np.cos(angles)]) * self.code_scale
        return np.hstack([z, code]).astype(X.dtype)


class HatEmbedding(_BinnedEmbedding):
    """``z`` and the hat (linear B-spline) functions on the edges (CSR).

    The same functions as the piecewise-linear code (its component ``t`` is
    the sum of the hats ``t`` to ``T``; the first hat, one minus the others'
    sum, is left to the bias), with at most two nonzeros per column and row.
    """

    kind = "hat"

    def transform(self, X):
        X = _dense(X)
        n, d = X.shape
        binned = np.flatnonzero(self.n_bins_)
        offsets = d + np.concatenate([[0], np.cumsum(self.n_bins_[binned])[:-1]])
        k = d + 2 * len(binned)
        indices = np.empty((n, k), dtype=np.int32)
        data = np.empty((n, k), dtype=X.dtype)
        indices[:, :d] = np.arange(d)
        data[:, :d] = self._standardise(X)
        for i, j in enumerate(binned):
            edges = self.bin_edges_[j]
            bin_ = np.searchsorted(edges[1:-1], X[:, j], side="right")
            lo = edges[bin_]
            frac = np.clip((X[:, j] - lo) / (edges[bin_ + 1] - lo), 0.0, 1.0)
            # Hat t (t >= 1) is column offset + t - 1; in bin t + 1 the row has
            # 1 - frac on hat t and frac on hat t + 1 (hat 0 is dropped: its
            # entry goes, as 0, to the column of hat 1).
            left = 2 * i + d
            indices[:, left] = offsets[i] + np.maximum(bin_ - 1, 0)
            data[:, left] = np.where(bin_ >= 1, 1.0 - frac, 0.0) * self.code_scale
            indices[:, left + 1] = offsets[i] + bin_
            data[:, left + 1] = frac * self.code_scale
        rows = np.repeat(np.arange(n), k)
        out = sp.csr_matrix(
            (data.ravel(), (rows, indices.ravel())),
            shape=(n, self.n_output_features_),
        )
        out.sum_duplicates()
        return out

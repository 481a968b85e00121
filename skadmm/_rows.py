"""Weighted per-row reductions used by every block update, and row blocks.

Every per-row term of L_rho carries the normalised sample weight ``s_i`` (``1/N``
without sample weights), so ``sum_i s_i = 1``. The uniform case keeps scalars to
avoid an ``N x n`` temporary per Gram matrix.

The block updates stream their elementwise work over *row blocks* small enough to
stay in cache (:func:`row_chunks`); a reduction over a whole array is then the sum,
in block order, of the reductions of its blocks (``rows=`` below). The blocks depend
on the array's shape only; how the matrix products are grouped into chunks and how
the dot products are split depend on whether BLAS is threaded, which a fit fixes
from its data shape and number of regions. Nothing depends on the worker threads,
so the rounding is reproducible for any ``n_jobs``.
"""

import copy

import numpy as np
import scipy.sparse as sp

#: Elements of one row block (256 KiB of float64): the few blocks that an update
#: touches at once (inputs, outputs, temporaries of its fused elementwise passes)
#: stay in cache.
BLOCK_ELEMENTS = 32768
#: Fewest rows of a block, so that the matrix products on a block keep BLAS busy.
MIN_BLOCK_ROWS = 256
#: Elements per dot product of a reduction with threaded BLAS: below OpenBLAS's
#: threshold (10000) for threading ``ddot``, so that the hundreds of small
#: reductions of an update never wait for BLAS threads to wake up (which can cost
#: milliseconds each on a loaded machine).
DOT_ELEMENTS = 8192


def block_rows(width):
    """Rows of a row block of an array with ``width`` columns."""
    return max(MIN_BLOCK_ROWS, BLOCK_ELEMENTS // max(1, width))


def feature_chunk_rows(width, dtype):
    """Rows of a chunk of a forward pass into ``[U, 1]`` arrays of ``width``
    columns (see :func:`~skadmm._network.augmented_hidden_into`): a row
    block's bytes, so twice the rows in float32 (fewer Python steps between
    the chunks, which hold the GIL while the fit's threads share it)."""
    return block_rows(width) * blocks_per_group(dtype)


#: Bytes of a chunk of the products over a row block's kept features (the
#: read-out's gradient ``A^T (P - Y)``, whose ``P`` comes from ``A W``): the
#: chunk's ``A`` stays in the core's L2 cache (2 MiB on the benchmark
#: machines) from the first product to the second, so each is read from
#: memory once instead of twice.
PRODUCT_CHUNK_BYTES = 768 * 1024


def product_chunk_rows(width, dtype):
    """Rows of a chunk of ``PRODUCT_CHUNK_BYTES`` of an array of ``width``
    columns of ``dtype`` (at least ``MIN_BLOCK_ROWS``)."""
    row_bytes = max(1, width) * np.dtype(dtype).itemsize
    return max(MIN_BLOCK_ROWS, PRODUCT_CHUNK_BYTES // row_bytes)


def blocks_per_group(dtype):
    """Row blocks whose elementwise work runs as one numpy call: a float64
    block's bytes, so two float32 blocks (see :func:`chunk_groups`)."""
    return max(1, 8 // np.dtype(dtype).itemsize)


def chunk_groups(chunks, per_group):
    """The chunks of :func:`row_chunks` planned for an update's elementwise
    passes in groups of ``per_group`` row blocks.

    Returns ``[(span, products, groups), ...]``: ``products`` the chunks whose
    products fill a buffer of the rows ``span``, then ``groups`` as
    ``(rows, parts)``, the rows of one group of elementwise passes and its
    row blocks (``parts`` as in :func:`row_chunks`). With a chunk per row
    block a span is ``per_group`` chunks and one group; with one chunk of all
    the rows (threaded BLAS) the span is the chunk and its blocks are grouped.

    An update computes each chunk's products and each row block's reductions
    as before, so nothing rounds differently, and runs its exact elementwise
    passes once per group. With the fit's threads sharing the GIL each numpy
    call costs a hand-over on top of its work: a float32 row block's passes
    (326 rows of width 100) were so short that two threads ran them barely
    faster than one (1.06x), twice the rows 1.53x.
    """
    plan = []
    if all(len(parts) == 1 for _, parts in chunks):
        for i in range(0, len(chunks), per_group):
            members = chunks[i : i + per_group]
            span = slice(members[0][0].start, members[-1][0].stop)
            parts = [part for _, ps in members for part in ps]
            plan.append((span, [chunk for chunk, _ in members], [(span, parts)]))
        return plan
    for chunk, parts in chunks:
        groups = []
        for j in range(0, len(parts), per_group):
            ps = parts[j : j + per_group]
            groups.append((slice(ps[0][0].start, ps[-1][0].stop), ps))
        plan.append((chunk, [chunk], groups))
    return plan


def rows_of(A, rows):
    """``A[rows]`` for a slice ``rows``; ``A`` itself when that is all its rows.

    Slicing a scipy.sparse matrix copies it, whatever the slice: a fit whose
    rows are one block (one region, no row blocks) copied its whole sparse
    input at every forward pass (a 40-row fit: a fifth of its time, a
    20,000-row one a ninth).
    """
    if rows.indices(A.shape[0]) == (0, A.shape[0], 1):
        return A
    return A[rows]


def window_of(ranks, start, m, n_rows):
    """Whether each row of rank ``ranks`` (its place in a permutation of
    ``n_rows`` rows) is among the ``m`` ranks from ``start`` on, wrapping
    around: the rows of a stage of a progressive fit (``skadmm._stages``),
    also where only some rows' ranks are known (a shard of a sharded fit)."""
    return (ranks - start) % n_rows < m


def within(rows, outer):
    """The rows ``rows`` as a slice of an array that holds the rows ``outer``."""
    return slice(rows.start - outer.start, rows.stop - outer.start)


def row_chunks(n_rows, width, whole):
    """Row chunks for the matrix products of a block update, with their row blocks.

    Returns ``(chunk_rows, [(chunk, parts), ...])``: ``chunk`` a slice of rows and
    ``parts`` the row blocks of that chunk as ``(rows, local)`` pairs (slices of
    all rows, and of the chunk). A chunk is one row block, or all rows when
    ``whole``. The row blocks have :func:`block_rows` rows either way, so the
    reductions add the same partial sums in the same order.
    """
    step = block_rows(width)
    size = max(n_rows, 1) if whole else step
    chunks = []
    for start in range(0, n_rows, size):
        chunk = slice(start, min(start + size, n_rows))
        parts = [
            (
                slice(lo, min(lo + step, chunk.stop)),
                slice(lo - start, min(lo + step, chunk.stop) - start),
            )
            for lo in range(start, chunk.stop, step)
        ]
        chunks.append((chunk, parts))
    return min(size, max(n_rows, 1)), chunks


class RowWeights:
    """Normalised sample weights ``s`` and the reductions ``A^T S B``, ``||A||_S^2``.

    Parameters
    ----------
    sample_weight : ndarray of shape (n_samples,) or None
        Positive weights; ``None`` means all rows weigh the same.
    n_samples : int
        Number of rows.
    dtype : numpy dtype
        Floating dtype of the computation.
    """

    def __init__(self, sample_weight, n_samples, dtype):
        self.n_samples = n_samples
        #: Split the dot products of the reductions (see ``DOT_ELEMENTS``): set
        #: when BLAS is threaded.
        self.split_dots = False
        if sample_weight is None or np.all(sample_weight == sample_weight[0]):
            self.s = None
            self.scale = dtype.type(1.0 / n_samples)
        else:
            s = np.asarray(sample_weight, dtype=dtype)
            self.s = (s / s.sum())[:, None]
            self.sqrt_s = np.sqrt(self.s)

    @classmethod
    def part_of(cls, sample_weight, n_rows, dtype, norm):
        """Row weights of ``n_rows`` rows that are part of a larger table,
        normalised over all its rows: ``norm`` is ``("uniform", N)`` (every
        row ``1/N``) or ``("weighted", total)`` (``sample_weight / total``), as
        the whole table's own row weights would be."""
        rw = cls(None, max(n_rows, 1), dtype)
        rw.n_samples = n_rows
        kind, value = norm
        if kind == "uniform":
            rw.scale = dtype.type(1.0 / value)
        else:
            s = np.asarray(sample_weight, dtype=dtype)
            rw.s = (s / dtype.type(value))[:, None]
            rw.sqrt_s = np.sqrt(rw.s)
        return rw

    def set_split_dots(self, split):
        """Split the reductions' dot products from now on (threaded BLAS)."""
        self.split_dots = bool(split)

    def restrict(self, rows):
        """The weights of the rows ``rows`` (a slice), normalised as here.

        Reductions over a restricted copy are the terms of the rows ``rows``
        in this one's reductions, so the sums of all blocks' reductions are
        the whole rows' reductions (up to rounding).
        """
        part = copy.copy(self)
        part.n_samples = len(range(*rows.indices(self.n_samples)))
        if self.s is not None:
            part.s, part.sqrt_s = self.s[rows], self.sqrt_s[rows]
        return part

    def gram(self, A):
        """``A^T S A`` (dense, also for a sparse ``A``: the input ``[X, 1]``)."""
        if sp.issparse(A):
            As = A if self.s is None else sp.csr_matrix(A.multiply(self.sqrt_s))
            G = np.asarray((As.T @ As).toarray())
            if self.s is None:
                G *= self.scale
            return G
        if self.s is None:
            G = A.T @ A
            G *= self.scale
            return G
        As = A * self.sqrt_s
        return As.T @ As

    def cross(self, A, B, rows=None):
        """``A^T S B``; ``A`` and ``B`` hold the rows ``rows`` (default: all).

        A sparse ``A`` gives a dense result.
        """
        if sp.issparse(A):
            if self.s is None:
                C = np.asarray(A.T @ B)
                C *= self.scale
                return C
            s = self.s if rows is None else self.s[rows]
            return np.asarray(A.T @ (B * s))
        if self.s is None:
            C = A.T @ B
            C *= self.scale
            return C
        s = self.s if rows is None else self.s[rows]
        return (A * s).T @ B

    def sq_norm(self, A, rows=None):
        """``sum_i s_i ||A_i||^2``; ``A`` holds the rows ``rows`` (default: all)."""
        if sp.issparse(A):
            per_row = np.asarray(A.multiply(A).sum(axis=1)).ravel()
            if self.s is None:
                return float(per_row.sum()) * float(self.scale)
            s = self.s[:, 0] if rows is None else self.s[rows, 0]
            return float(per_row @ s)
        if self.s is None:
            return _dot(A, A, self.split_dots) * float(self.scale)
        s = self.s[:, 0] if rows is None else self.s[rows, 0]
        return float(np.einsum("ij,ij->i", A, A) @ s)

    def row_weights(self):
        """The normalised weights ``s`` as an array of shape ``(n_samples,)``."""
        if self.s is None:
            return np.full(self.n_samples, float(self.scale))
        return self.s[:, 0]

    def total(self, v):
        """``sum_i s_i v_i`` of per-row values ``v``."""
        if self.s is None:
            return float(np.sum(v, dtype=np.float64)) * float(self.scale)
        return float(v @ self.s[:, 0])

    def inner(self, A, B, rows=None):
        """``sum_i s_i <A_i, B_i>``; ``A`` and ``B`` hold the rows ``rows``."""
        if self.s is None:
            return _dot(A, B, self.split_dots) * float(self.scale)
        s = self.s[:, 0] if rows is None else self.s[rows, 0]
        return float(np.einsum("ij,ij->i", A, B) @ s)


def _dot(A, B, split):
    """``sum(A * B)``; with ``split``, a sum of dots of at most ``DOT_ELEMENTS``."""
    a, b = A.reshape(-1), B.reshape(-1)
    if not split or a.size <= DOT_ELEMENTS:
        return float(np.vdot(a, b))
    return sum(
        float(np.vdot(a[i : i + DOT_ELEMENTS], b[i : i + DOT_ELEMENTS]))
        for i in range(0, a.size, DOT_ELEMENTS)
    )

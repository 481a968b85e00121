"""Scratch buffers of the block updates, and augmented arrays ``[U, 1]``."""

import threading

import numpy as np

from .._rows import block_rows


class ScratchPool:
    """Named scratch arrays, allocated on first use and kept between iterations."""

    def __init__(self, dtype):
        self.dtype = dtype
        self.arrays = {}

    def get(self, name, shape, augmented=False):
        """The array ``name`` of ``shape`` (``augmented``: one more column, of ones)."""
        A = self.arrays.get(name)
        full = (shape[0], shape[1] + 1) if augmented else shape
        if A is None or A.shape != full:
            if augmented:
                A = augmented_empty(shape[0], shape[1], self.dtype)
            else:
                A = np.empty(shape, self.dtype)
            self.arrays[name] = A
        return A

    def block(self, name, width):
        """A buffer for one row block of an array with ``width`` columns."""
        return self.get(name, (block_rows(width), width))

    def chunk(self, name, rows, width):
        """A buffer for one row chunk (``rows`` rows, as from ``chunks``)."""
        return self.get(name, (rows, width))

    def swap(self, name, A):
        """Put ``A`` in the pool as ``name``; return the array it replaces."""
        old, self.arrays[name] = self.arrays[name], A
        return old


def augmented_empty(n_rows, width, dtype):
    """An ``n_rows x (width + 1)`` array whose last column is ones: ``[U, 1]``
    with ``U`` still to be written."""
    A = np.empty((n_rows, width + 1), dtype=dtype)
    A[:, -1] = 1.0
    return A


class RowArrays:
    """Row arrays kept from call to call, one per name (and dtype), with the
    most rows asked so far: :meth:`rows` hands out their first rows (a
    C-contiguous view, so every product sees the layout of a fresh array).

    The arrays of one owner, whichever thread asks: a row shard's held
    features (:meth:`~skadmm._shard.StreamedRowShard.hold_features`), which
    one task at a time reads or writes. :class:`Workspace` keeps them per
    thread instead.
    """

    def __init__(self):
        self.arrays = {}
        self.pools = {}

    def rows(self, name, n_rows, width, dtype, augmented=False):
        """The first ``n_rows`` rows of array ``name`` (``width`` columns,
        ``augmented``: one more, of ones), contents undefined."""
        cols = width + 1 if augmented else width
        key = (name, np.dtype(dtype).str, augmented)
        A = self.arrays.get(key)
        if A is None or A.shape[0] < n_rows or A.shape[1] != cols:
            if augmented:
                A = augmented_empty(n_rows, width, dtype)
            else:
                A = np.empty((n_rows, cols), dtype=dtype)
            self.arrays[key] = A
        return A[:n_rows]

    def augment(self, name, X):
        """``[X, 1]`` of a dense ``X`` in array ``name``."""
        A = self.rows(name, X.shape[0], X.shape[1], X.dtype, augmented=True)
        A[:, :-1] = X
        return A

    def pools_for(self, dtype):
        """The scratch pools (by region) of relaxations in ``dtype``."""
        return self.pools.setdefault(np.dtype(dtype).str, {})


class Workspace(RowArrays, threading.local):
    """Row arrays kept for relaxations built one after another, per thread.

    A streamed row shard (:class:`~skadmm._shard.StreamedRowShard`) builds a
    chunk's relaxation at every call and drops it. Fresh arrays of that size
    each time cost page faults on every first touch, and far more where the
    allocator hands large blocks back to the system at each free (Dask's worker
    processes set ``MALLOC_TRIM_THRESHOLD_``): measured there, 2.8x the time per
    iteration of the same arithmetic in process. A workspace keeps one array
    per name, with the most rows asked so far, and hands out its first rows (a
    C-contiguous view, so every product sees the layout of a fresh array).

    Each thread has its own arrays (``threading.local``), so the shards of an
    in-process fit may run on any of its threads; the arrays of a thread hold
    one chunk's state at a time, and go when the workspace does. The caller
    must not keep two relaxations of one thread's workspace alive at once.
    """

"""Scratch buffers of the block updates, and augmented arrays ``[U, 1]``."""

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

"""Uniform level sets of pdADMM-G-Q (``solver="pdadmm"``, ``quantize``).

A level set is ``{offset + c * step : c = 0 .. 2**bits - 1}``; a value on it is
sent across a layer boundary as its integer code ``c`` (``uint8`` or
``uint16``) plus a header ``[offset, step]`` in the data's dtype. Two kinds:

* :class:`UniformLevels`, one per link, fixed for the whole fit: its range is
  that of the initial iterate, widened by ``MARGIN`` times its span on either
  side. The first quantized ``p`` and ``q`` (of the forward pass) lie on it.
* :class:`StepLevels`, the levels of one *change* of ``p`` or ``q``: the
  receiver adds ``offset + c * step`` to the copy it already holds. Its step
  is re-chosen every iteration from the largest element of the proposed
  change and sent in the header, and code ``2**(bits - 1) - 1`` is the zero
  change, so the grid refines as the iterates settle (see
  ``doc/pdadmm.rst``).
"""

import numpy as np

#: Widening of the initial range on either side, as a fraction of its span.
MARGIN = 0.5

CODE_DTYPES = {8: np.uint8, 16: np.uint16}


class UniformLevels:
    """The level set ``offset + step * {0, ..., 2**bits - 1}`` in ``dtype``.

    Parameters
    ----------
    low, high : float
        Range of the values it must cover; widened by ``MARGIN`` times
        ``high - low`` (by 1 when the range is a point) on either side.
    bits : {8, 16}
    dtype : numpy dtype of the values
    """

    def __init__(self, low, high, bits, dtype):
        span = float(high) - float(low)
        if not span > 0:
            span = 1.0
        low = float(low) - MARGIN * span
        high = float(high) + MARGIN * span
        self.bits = bits
        self.dtype = np.dtype(dtype)
        self.code_dtype = CODE_DTYPES[bits]
        self.top = 2**bits - 1
        self.offset = self.dtype.type(low)
        self.step = self.dtype.type((high - low) / self.top)
        self.header = np.array([self.offset, self.step], dtype=self.dtype)

    @classmethod
    def covering(cls, values, bits):
        """The level set over the range of ``values`` (widened)."""
        return cls(values.min(), values.max(), bits, values.dtype)

    def codes(self, x):
        """Integer codes of the levels nearest to ``x`` (clipped to the range)."""
        c = np.subtract(x, self.offset, dtype=self.dtype)
        c /= self.step
        np.rint(c, out=c)
        np.clip(c, 0, self.top, out=c)
        return c.astype(self.code_dtype)

    def values(self, codes, out=None):
        """``offset + codes * step`` in ``dtype`` (into ``out``)."""
        out = np.empty(codes.shape, self.dtype) if out is None else out
        np.multiply(codes, self.step, out=out, dtype=self.dtype)
        out += self.offset
        return out

    def project(self, x, out=None):
        """The nearest level to every element of ``x`` (into ``out``, may be x).

        For a separable convex quadratic with its minimiser at ``x``, this is
        the exact minimiser over the level set (round, then clip).
        """
        return self.values(self.codes(x), out=x if out is None else out)

    def encode(self, x):
        """What crosses a boundary for ``x`` (on the level set): codes, header."""
        return self.codes(x), self.header.copy()

    def decode(self, codes, header):
        """The values of ``encode``'s arrays."""
        out = np.empty(codes.shape, header.dtype)
        np.multiply(codes, header[1], out=out, dtype=header.dtype)
        out += header[0]
        return out


class StepLevels:
    """Levels of a change of ``p`` or ``q``: ``offset + step * {0, ..., 2**bits - 1}``
    with ``offset = -zero * step``, ``zero = 2**(bits - 1) - 1``.

    Code ``zero`` is the change ``0`` exactly (``offset`` is the negated
    product ``zero * step`` that the decoding forms), so a row can always
    stay where it is. The changes run from ``-zero * step`` to ``(zero + 1)
    * step``; :meth:`covering` sets ``step`` so that the largest element of a
    proposed change is ``zero`` levels away from ``0``.

    Parameters
    ----------
    step : float
        The distance between neighbouring levels (``> 0``).
    bits : {8, 16}
    dtype : numpy dtype of the values
    """

    def __init__(self, step, bits, dtype):
        self.bits = bits
        self.dtype = np.dtype(dtype)
        self.code_dtype = CODE_DTYPES[bits]
        self.top = 2**bits - 1
        self.zero = 2 ** (bits - 1) - 1
        self.step = self.dtype.type(step)
        self.offset = -np.multiply(self.zero, self.step, dtype=self.dtype)
        self.header = np.array([self.offset, self.step], dtype=self.dtype)

    @classmethod
    def covering(cls, change, bits):
        """Levels whose ``zero`` levels either side of ``0`` reach
        ``max |change|`` (step 1 when ``change`` is zero or not finite)."""
        largest = float(np.max(np.abs(change))) if change.size else 0.0
        step = largest / (2 ** (bits - 1) - 1)
        if not (np.isfinite(step) and step > 0):
            step = 1.0
        levels = cls(step, bits, change.dtype)
        if not levels.step > 0:  # below the dtype's smallest normal
            levels = cls(1.0, bits, change.dtype)
        return levels

    def codes(self, change):
        """Integer codes of the levels nearest to ``change`` (clipped)."""
        c = np.divide(change, self.step, dtype=self.dtype)
        np.rint(c, out=c)
        c += self.zero
        np.clip(c, 0, self.top, out=c)
        return c.astype(self.code_dtype)

    def values(self, codes, out=None):
        """The changes of ``codes``: ``offset + codes * step`` in ``dtype``."""
        return _decode(codes, self.step, self.offset, self.dtype, out)

    def encode(self, codes):
        """What crosses a boundary for a change given by its ``codes``."""
        return codes, self.header.copy()

    @staticmethod
    def decode(codes, header):
        """The changes of ``encode``'s arrays (to add to the copy held)."""
        return _decode(codes, header[1], header[0], header.dtype)


def _decode(codes, step, offset, dtype, out=None):
    out = np.empty(codes.shape, dtype) if out is None else out
    np.multiply(codes, step, out=out, dtype=dtype)
    out += offset
    return out


__all__ = ["CODE_DTYPES", "MARGIN", "StepLevels", "UniformLevels"]

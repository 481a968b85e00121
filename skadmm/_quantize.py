"""Uniform level sets of pdADMM-G-Q (``solver="pdadmm"``, ``quantize``).

A level set is ``{offset + c * step : c = 0 .. 2**bits - 1}``; a value on it is
sent across a layer boundary as its integer code ``c`` (``uint8`` or
``uint16``) plus a header ``[offset, step]`` in the data's dtype. The level
sets are fixed for the whole fit (the projections are then onto fixed sets, so
every quantized block step is a step of one fixed constrained problem): each
link's range is that of the initial iterate, widened by ``MARGIN`` times its
span on either side (see ``doc/pdadmm.rst``).
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


__all__ = ["CODE_DTYPES", "MARGIN", "UniformLevels"]

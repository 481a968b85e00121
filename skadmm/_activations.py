"""Activations and their elementwise z-step solvers.

Each activation ``s`` provides the forward map, its derivative written in terms of
the *output* ``s(z)`` (so the splittings can keep ``s(z)`` and drop ``z``), and the
solver of the elementwise problem of the three-splitting z-step::

    min_z  f(z) = (z - a)**2 + (b - s(z))**2 + c * (z - z_old)**2,    c >= 0.

For the piecewise-linear activations the minimiser is exact; for the smooth ones a
safeguarded Newton method returns a stationary point that is never worse than
``z_old``, which keeps the block update a descent step for L_rho.
"""

import math

import numpy as np
from scipy.special import expit

from ._rows import BLOCK_ELEMENTS

# Slope of leaky_relu on the negative half-line (PyTorch's default).
LEAKY_SLOPE = 0.01


def _one_plus_square(d):
    """``1 + d^2``, in place of ``d``."""
    d *= d
    d += 1.0
    return d


class _PiecewiseLinear:
    """``s(z) = z`` for ``z >= 0`` and ``slope * z`` below; relu has slope 0."""

    def __init__(self, name, slope):
        self.name = name
        self.slope = slope
        # He et al.: keeps the forward variance of the lifting layer near 1.
        self.gain = np.sqrt(2.0 / (1.0 + slope**2))
        #: Largest slope (the Lipschitz constant ``S``).
        self.lipschitz = max(1.0, slope)
        #: ``s(1) == 1``: the column of ones of an augmented array ``[U, 1]``
        #: survives the activation, which can then run on the whole
        #: (contiguous) array instead of its strided view ``U``.
        self.keeps_one = True

    def preimage(self, lo, hi, tol=0.0):
        """``[B1, B2]``, the ``z`` with ``lo <= s(z) <= hi`` (``-inf``/``inf``
        where a side does not constrain ``z``).

        relu's preimage jumps at ``lo = 0`` (from every ``z`` to ``z >= lo``):
        a ``lo`` within the rounding ``tol`` of zero counts as zero, so that a
        point on the flat part that satisfies the band up to rounding is not
        moved to zero.
        """
        if self.slope == 0.0:
            return np.where(lo > tol, lo, -np.inf), hi.copy()
        k = self.slope
        return np.where(lo >= 0, lo, lo / k), np.where(hi >= 0, hi, hi / k)

    def __call__(self, z, out=None):
        if self.slope == 0.0:
            if not isinstance(z, np.ndarray):
                return np.maximum(z, 0.0, out=out)
            if out is None:
                out = np.empty_like(z)
            # Row chunks against read-only zeros: numpy's maximum with a scalar
            # zero takes a loop that is 3-4x slower than with an array of
            # zeros (8,192 x 100 float32: 250 us against 70 us).
            for rows in _zero_chunks(z):
                np.maximum(z[rows], _zeros_like(z[rows]), out=out[rows])
            return out
        if out is z:
            return np.maximum(z, z * self.slope, out=z)
        out = np.multiply(z, self.slope, out=out)
        return np.maximum(z, out, out=out)

    def derivative_from_output(self, s):
        # s > 0 exactly where z > 0, for both relu and leaky_relu. Scalars of
        # s's dtype: Python floats would make a float64 array to cast back.
        one, slope = s.dtype.type(1.0), s.dtype.type(self.slope)
        return np.where(s > 0, one, slope)

    def first_order_gain(self, s):
        """``1 + s'(z)^2`` from ``s = s(z)``, in ``s``'s dtype: the factor of
        the first-order targets (see ``skadmm._splitting._three``)."""
        if self.slope == 0.0:
            # s'(z) is 0 or 1, so 1 + s'(z)^2 = 1 + s'(z): one pass from the
            # mask (2 ms against 0.14 ms for 4,096 x 100 float32 through where).
            return np.add(s > 0, 1, dtype=s.dtype)
        return _one_plus_square(self.derivative_from_output(s))

    def mul_derivative(self, g, s):
        """``g *= s'(z)`` in place, with the derivative taken from ``s = s(z)``."""
        if self.slope == 0.0:
            # Multiplying by the 0/1 mask is exactly ``g * where(s > 0, 1, 0)``.
            return np.multiply(g, s > 0, out=g)
        g *= self.derivative_from_output(s)
        return g

    def z_step(self, a, b, z_old, c, out=None):
        """Exact minimiser, computed over row blocks that stay in cache.

        The dozen elementwise passes of :meth:`z_step_block` are memory bound on
        whole ``n_samples x width`` arrays; on blocks that fit in cache they run
        several times faster. Blocks do not change any value: every element is
        exact. ``out`` may be ``z_old``.
        """
        if out is None:
            out = np.empty_like(a)
        if a.ndim != 2:
            return self.z_step_block(a, b, z_old, c, out)
        step = max(1, BLOCK_ELEMENTS // max(1, a.shape[1]))
        work = self.z_step_work((min(step, a.shape[0]), a.shape[1]), a.dtype)
        for start in range(0, a.shape[0], step):
            rows = slice(start, start + step)
            m = len(range(*rows.indices(a.shape[0])))
            self.z_step_block(
                a[rows], b[rows], z_old[rows], c, out[rows], [w[:m] for w in work]
            )
        return out

    @staticmethod
    def z_step_work(shape, dtype):
        """Scratch buffers of :meth:`z_step_block` for blocks of ``shape``."""
        return [np.empty(shape, dtype) for _ in range(3)]

    def z_step_block(self, a, b, z_old, c, out, work=None):
        """Exact minimiser: the better of the two one-sided quadratic minimisers.

        On each half-line ``f`` is a quadratic ``w (z - m)^2 + const`` with the
        same constant part, so its minimum over the half-line is
        ``const - w * clip(m)^2``: the side with the larger ``w * clip(m)^2`` wins
        (ties go to ``z >= 0``). No objective value is ever formed. ``work`` holds
        scratch buffers of ``a``'s shape (:meth:`z_step_work`); ``out`` may be
        ``z_old`` (read once, first) but no other input.
        """
        if work is None:
            work = self.z_step_work(a.shape, a.dtype)
        p, q, cz = work
        k = self.slope
        zeros = _zeros_like(a)
        # c = 0 (the forward-reset mode's z-steps): no proximal term, three
        # passes over the block fewer.
        if c:
            np.multiply(z_old, c, out=cz)
        # Minimiser over z >= 0: max(p, 0), curvature 2 + c.
        np.add(a, b, out=p)
        if c:
            p += cz
        p *= 1.0 / (2.0 + c)
        np.maximum(p, zeros, out=p)
        # Minimiser over z <= 0: min(q, 0), curvature 1 + k^2 + c.
        if k == 0.0 and not c:
            np.minimum(a, zeros, out=q)
        else:
            if k == 0.0:
                np.add(a, cz, out=q)
            else:
                np.multiply(b, k, out=q)
                np.add(a, q, out=q)
                if c:
                    q += cz
            q *= 1.0 / (1.0 + k * k + c)
            np.minimum(q, zeros, out=q)
        # (2 + c) p^2 >= (1 + k^2 + c) q^2 with p >= 0 >= q, as p >= -q sqrt(ratio).
        np.multiply(q, -math.sqrt((1.0 + k * k + c) / (2.0 + c)), out=cz)
        plus = np.greater_equal(p, cz, out=cz)
        # out = p where plus, q elsewhere, by multiplying with the 0/1 mask (exact:
        # one of the two terms is a signed zero; a masked copy is much slower).
        p *= plus
        np.subtract(1.0, plus, out=plus)
        q *= plus
        np.add(p, q, out=out)
        return out


# Read-only zeros, one flat array per dtype: ``maximum(x, zeros)`` runs about twice
# as fast as ``maximum(x, 0.0)`` on a cache-sized block.
_ZEROS = {}
_ZEROS_MAX_ELEMENTS = 4 * BLOCK_ELEMENTS


def _zeros_like(x):
    """Read-only zeros of ``x``'s shape for a block, else the scalar zero."""
    if not isinstance(x, np.ndarray) or x.size > _ZEROS_MAX_ELEMENTS:
        return 0.0
    zeros = _ZEROS.get(x.dtype)
    if zeros is None:
        zeros = np.zeros(_ZEROS_MAX_ELEMENTS, x.dtype)
        zeros.flags.writeable = False
        _ZEROS[x.dtype] = zeros
    return zeros[: x.size].reshape(x.shape)


def relu_zeros(x):
    """Read-only zeros of the shape of ``x``, a block of rows, for
    ``np.maximum(x, zeros)`` (see :func:`_zeros_like`)."""
    zeros = _zeros_like(x)
    if not isinstance(zeros, np.ndarray):
        zeros = np.zeros_like(x)
        zeros.flags.writeable = False
    return zeros


def _zero_chunks(z):
    """Row slices of ``z`` of at most ``8 * BLOCK_ELEMENTS`` bytes each (one
    slice of everything when ``z`` is that small or not an array of rows)."""
    if not isinstance(z, np.ndarray) or z.ndim < 2 or z.size <= _ZEROS_MAX_ELEMENTS:
        return (slice(None),)
    # A float64 block's bytes: fewer numpy calls per pass in float32, each
    # a hand-over of the GIL when the fit's threads share it.
    row_bytes = max(1, z.size // z.shape[0]) * z.itemsize
    step = max(1, BLOCK_ELEMENTS * 8 // row_bytes)
    return (slice(start, start + step) for start in range(0, z.shape[0], step))


# The Newton iterations drop their converged elements once fewer than this
# fraction of the working set still moves.
_COMPACT_BELOW = 0.75


def _z_objective(z, a, b, z_old, c, s):
    return (z - a) ** 2 + (b - s) ** 2 + c * (z - z_old) ** 2


class _Smooth:
    """Smooth sigmoidal activation; z-step by safeguarded Newton iterations."""

    max_newton = 8
    max_halvings = 30

    def __init__(self, name, fun, first, second, gain, inverse, bounds, lipschitz):
        self.name = name
        self._fun = fun
        self._first = first  # s' as a function of s
        self._second = second  # s'' as a function of s
        self.gain = gain
        self._inverse = inverse
        self._bounds = bounds  # the open range of s
        #: Largest slope (the Lipschitz constant ``S``).
        self.lipschitz = lipschitz
        #: ``s(1) != 1``: see :attr:`_PiecewiseLinear.keeps_one`.
        self.keeps_one = False

    def preimage(self, lo, hi, tol=0.0):
        """``[B1, B2]``, the ``z`` with ``lo <= s(z) <= hi`` (``-inf``/``inf``
        where a side does not constrain ``z``; ``tol`` is unused)."""
        low, high = self._bounds
        with np.errstate(divide="ignore", invalid="ignore"):
            B1 = np.where(lo > low, self._inverse(np.clip(lo, low, high)), -np.inf)
            B2 = np.where(hi < high, self._inverse(np.clip(hi, low, high)), np.inf)
        return B1, B2

    def __call__(self, z, out=None):
        return self._fun(z, out=out)

    def derivative_from_output(self, s):
        return self._first(s)

    def first_order_gain(self, s):
        """``1 + s'(z)^2`` from ``s = s(z)`` (see :class:`_PiecewiseLinear`)."""
        return _one_plus_square(self._first(s))

    def mul_derivative(self, g, s):
        """``g *= s'(z)`` in place, with the derivative taken from ``s = s(z)``."""
        g *= self._first(s)
        return g

    @staticmethod
    def z_step_work(shape, dtype):
        """No scratch: the Newton iterations work on the active elements only."""
        return None

    def z_step_block(self, a, b, z_old, c, out, work=None):
        """:meth:`z_step` on one row block (``out`` may be ``z_old``)."""
        return self.z_step(a, b, z_old, c, out=out)

    def z_step(self, a, b, z_old, c, out=None):
        """Safeguarded Newton iterations on ``f`` from ``z_old``.

        The first step is a gradient step with curvature ``2 + 2c + 2 s'^2 +
        2|b - s||s''|`` (a local bound on ``|f''|``); later steps are Newton steps
        wherever ``f''`` is safely positive. A step that does not lower ``f`` is
        halved, and dropped after ``max_halvings`` halvings, so the result is never
        worse than ``z_old`` nor than the first (proximal-gradient) step.
        """
        shape = np.shape(z_old)
        z = np.array(z_old, copy=True).reshape(-1)
        s = self._fun(z)
        a, b, z_old = (np.reshape(arr, -1) for arr in (a, b, z_old))
        f = _z_objective(z, a, b, z_old, c, s)
        # Relative step tolerance; float32 cannot resolve 1e-10.
        tol = max(1e-10, 8 * float(np.finfo(z.dtype).eps))
        # Working copies of the elements still moving, and their positions in
        # ``z`` (None: all of them). Converged elements are dropped only when
        # they are many: gathering every array costs more than a zero step.
        out_z, idx = z, None
        for it in range(self.max_newton):
            d1 = self._first(s)
            r_d2 = (b - s) * self._second(s)
            grad = 2.0 * ((z - a) - (b - s) * d1 + c * (z - z_old))
            curv = 2.0 * (1.0 + c + d1 * d1 + np.abs(r_d2))
            if it > 0:
                newton = 2.0 * (1.0 + c + d1 * d1 - r_d2)
                curv = np.where(newton > 1e-2 * (1.0 + c), newton, curv)
            step = np.divide(-grad, curv, out=grad)
            keep = np.abs(step) > tol * (1.0 + np.abs(z))
            n_keep = int(np.count_nonzero(keep))
            if n_keep == 0:
                break
            if n_keep < _COMPACT_BELOW * z.size:
                if idx is None:
                    out_z, idx = z, np.flatnonzero(keep)
                else:
                    out_z[idx[~keep]] = z[~keep]
                    idx = idx[keep]
                z, s, f, a, b, z_old, step = (
                    arr[keep] for arr in (z, s, f, a, b, z_old, step)
                )
            else:
                step[~keep] = 0.0
            z, s, f = self._descend(z, f, a, b, z_old, c, step, tol)
            if idx is None:
                out_z = z
        if idx is not None:
            out_z[idx] = z
        result = out_z.reshape(shape)
        if out is None:
            return result
        out[...] = result
        return out

    def _descend(self, z, f, a, b, z_old, c, step, tol):
        """Halve ``step`` where it does not lower ``f``; zero it after the
        limit, or once it is below the relative step tolerance ``tol`` (the
        element is then as converged as a zero Newton step says: there the
        rounding of ``f`` alone decides, and each halving is another pass)."""
        z_new = z + step
        s_new = self._fun(z_new)
        f_new = _z_objective(z_new, a, b, z_old, c, s_new)
        bad = np.flatnonzero(~(f_new <= f))
        # Elements that keep z: steps halved below tol, then any left bad.
        stay = []
        for _ in range(self.max_halvings):
            small = np.abs(step[bad]) <= 2.0 * tol * (1.0 + np.abs(z[bad]))
            stay.append(bad[small])
            bad = bad[~small]
            if bad.size == 0:
                break
            step[bad] *= 0.5
            z_new[bad] = z[bad] + step[bad]
            s_new[bad] = self._fun(z_new[bad])
            f_new[bad] = _z_objective(
                z_new[bad], a[bad], b[bad], z_old[bad], c, s_new[bad]
            )
            bad = bad[~(f_new[bad] <= f[bad])]
        stay = np.concatenate([*stay, bad])
        if stay.size:
            z_new[stay] = z[stay]
            s_new[stay] = self._fun(z[stay])
            f_new[stay] = f[stay]
        return z_new, s_new, f_new


def _tanh_first(s):
    return 1.0 - s * s


def _tanh_second(s):
    return -2.0 * s * (1.0 - s * s)


def _sigmoid_first(s):
    return s * (1.0 - s)


def _sigmoid_second(s):
    return s * (1.0 - s) * (1.0 - 2.0 * s)


def _logit(s):
    return np.log(s) - np.log1p(-s)


ACTIVATIONS = {
    "relu": _PiecewiseLinear("relu", 0.0),
    "leaky_relu": _PiecewiseLinear("leaky_relu", LEAKY_SLOPE),
    "tanh": _Smooth(
        "tanh",
        np.tanh,
        _tanh_first,
        _tanh_second,
        gain=1.0,
        inverse=np.arctanh,
        bounds=(-1.0, 1.0),
        lipschitz=1.0,
    ),
    "sigmoid": _Smooth(
        "sigmoid",
        expit,
        _sigmoid_first,
        _sigmoid_second,
        gain=1.0,
        inverse=_logit,
        bounds=(0.0, 1.0),
        lipschitz=0.25,
    ),
}


def get_activation(name):
    """Return the activation object registered under ``name``."""
    return ACTIVATIONS[name]

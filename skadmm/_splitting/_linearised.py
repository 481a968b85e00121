"""Blocks shared by dlADMM and mDLAM: exact biases and backtracked,
linearised weight steps on the three-splitting's variables.

Both modes minimise quadratic links ``c/2 ||T - A_k W_k||_S^2`` (``T``: the
layer's target, ``c`` its weight; see :meth:`LinearisedRelaxation.layer_target`)
plus the L2 term without solving a linear system: the bias is the exact row
mean, the other weights take one prox-gradient step whose weight is doubled
until the block's sufficient-decrease test holds. Each mode adds its own
output, auxiliary and pre-activation blocks and its merit.
"""

import numpy as np

from ._three import ThreeSplitRelaxation

#: Doublings of a backtracked weight before a block gives up (and stays put).
MAX_DOUBLINGS = 200


class LinearisedRelaxation(ThreeSplitRelaxation):
    """A three-splitting relaxation whose weight blocks are linearised steps.

    Parameters are those of :class:`~skadmm._splitting.SplitRelaxation`; ``tau`` is
    the first trial of every backtracked proximal weight and ``update`` is
    ignored (every step is linearised).
    """

    def __init__(self, X, Y, sample_weight, weights, activation, **params):
        params["update"] = "linearized"
        super().__init__(X, Y, sample_weight, weights, activation, **params)
        #: Backtracking trials of the last iteration (for tests and progress).
        self.trials = 0
        #: Size of the merit's terms, set by ``objective`` (the unit of its
        #: rounding, for the monotone-merit guard).
        self.merit_scale = 0.0

    def start_iteration(self):
        """Reset the per-iteration counters."""
        self.trials = 0

    def record_links(self, k, z_link, u_link):
        """The links of layer ``k`` its forward-sweep steps returned."""
        self.link_sq[k] = (z_link, u_link)

    def layer_target(self, k):
        """Target and weight of the linear link of layer ``k`` (``H``: read-out)."""
        raise NotImplementedError

    # ------------------------------------------------------------ reductions
    def _mean(self, E):
        """Weighted mean of the rows of ``E`` (the exact bias of a block)."""
        if self.rw.s is None:
            return E.mean(axis=0)
        return (self.rw.s * E).sum(axis=0)

    def _weight(self, t0, curvature):
        """Smallest ``t0 * 2^j`` that passes the sufficient-decrease test.

        ``curvature`` is the block's curvature along the step: the test
        ``f(x + D) <= f(x) + <g, D> + t/2 |D|^2`` of the quadratic ``f`` holds
        exactly when ``t >= curvature``. Returns ``None`` if no trial passes.
        """
        t = t0
        for _ in range(MAX_DOUBLINGS):
            self.trials += 1
            if curvature <= t:
                return t
            t *= 2.0
        return None

    # ---------------------------------------------------------------- blocks
    def bias_step(self, k, P=None):
        """Exact bias ``b_k``: the weighted row mean of ``target - A' W'``.

        ``P`` is ``A' W'`` if known. Returns ``A_k W_k`` in a fresh array.
        """
        A, W = self.input_of(k), self.W[k]
        target, _ = self.layer_target(k)
        if P is None:
            P = A[:, :-1] @ W[:-1]
        W[-1] = self._mean(target - P)
        P += W[-1]
        return P

    def weight_step(self, k, P=None):
        """Linearised, backtracked step of ``W_k`` without its bias.

        ``f(W') = c/2 ||T - A' W' - b||_S^2`` (``c``: ``nu``, or ``rho`` for the
        read-out, ``T`` its target) plus ``alpha/2 ||W'||^2`` taken exactly (the
        prox of the L2 term): ``W' <- (t W' - g) / (t + alpha)``, i.e. the step
        ``D = -(g + alpha W') / (t + alpha)``. ``P`` is ``A_k W_k`` if known.
        Returns ``A_k W_k`` after the step.
        """
        A, W = self.input_of(k), self.W[k]
        Ap = A[:, :-1]
        target, c = self.layer_target(k)
        if P is None:
            P = A @ W
        E = np.subtract(target, P, out=P)  # P is reused for the residual
        d = self.rw.cross(Ap, E)
        d *= -c
        d += self.alpha * W[:-1]
        d_sq = float(np.vdot(d, d))
        if d_sq > 0.0:
            Ad = Ap @ d
            t = self._weight(self.tau, c * self.rw.sq_norm(Ad) / d_sq)
            if t is not None:
                scale = 1.0 / (t + self.alpha)
                W[:-1] -= scale * d
                Ad *= scale
                E += Ad  # the residual after the step
        # A W = target - E
        return np.subtract(target, E, out=E)

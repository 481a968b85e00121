"""Two-splitting relaxation: auxiliaries ``U_k`` only (no pre-activations).

Penalty per hidden layer ``k``::

    ||U_k - U_{k-1}[k>=1] - s(A_k W_k)||_S^2

``W_k`` and the inner ``U_k`` sit inside ``s``, so their blocks take one proximal
gradient step with a backtracked step weight ``t >= tau`` (sufficient decrease
``f(x_new) <= f(x) - t/2 ||x_new - x||^2``); the last hidden ``U``, the read-out,
``O`` and ``Lam`` are the quadratic blocks of the base class.
"""

import numpy as np

from .._network import affine
from ._base import Splitting

_MAX_BACKTRACK = 60


class TwoSplitting(Splitting):
    """Proximal-linearized ADMM on the two-splitting relaxation."""

    name = "two"
    # U (augmented) and s(A_k W_k).
    arrays_per_layer = 2

    def _init_hidden(self):
        # sH[k] = s(A_k W_k) for the current A_k, kept valid across the sweep.
        self.sH = []
        for k in range(self.H):
            sH = self.act(self.input_of(k) @ self.W[k])
            U = self.U[k][:, :-1]
            U[...] = sH
            if k > 0:
                U += self.skip_of(k)
            self.sH.append(sH)
        # Last accepted step weight of each backtracked block (W_k, U_k).
        self._t = np.full((self.H, 2), self.tau)

    def _sweep_layer(self, k, with_output=True):
        self._update_weights(k)
        if not with_output:
            return
        if k == self.H - 1:
            target = self.sH[k].copy() if k == 0 else self.sH[k] + self.skip_of(k)
            self._update_last_hidden(target)  # overwrites target
            self.link_sq[k, 0] = self.rw.sq_norm(self._link_gap(k, self.sH[k]))
        else:
            self._update_inner(k)

    def _update_boundary(self, k):
        # A boundary is never the last hidden layer; _update_inner refreshes the
        # links of layers k and k + 1.
        self._update_inner(k)

    def _link_gap(self, k, sH):
        """``U_k - U_{k-1}[k>=1] - sH``."""
        gap = self.U[k][:, :-1] - sH
        if k > 0:
            gap -= self.skip_of(k)
        return gap

    def _update_weights(self, k):
        """``W_k``: backtracked proximal-gradient step on its penalty + L2."""
        A = self.input_of(k)
        W = self.W[k]
        act, rw, alpha, beta = self.act, self.rw, self.alpha, self.beta
        gap = self._link_gap(k, self.sH[k])
        f_old = 0.5 * beta * rw.sq_norm(gap) + 0.5 * alpha * np.vdot(W[:-1], W[:-1])
        gap *= act.derivative_from_output(self.sH[k])
        grad = rw.cross(A, gap)
        grad *= -beta
        grad[:-1] += alpha * W[:-1]

        def trial(step):
            W_new = W - step
            sH = act(A @ W_new)
            f = 0.5 * beta * rw.sq_norm(self._link_gap(k, sH))
            return f + 0.5 * alpha * np.vdot(W_new[:-1], W_new[:-1]), (W_new, sH)

        accepted = self._backtrack(k, 0, grad, f_old, trial, np.vdot)
        if accepted is not None:
            self.W[k], self.sH[k] = accepted
        self.link_sq[k, 0] = rw.sq_norm(self._link_gap(k, self.sH[k]))

    def _update_inner(self, k):
        """Inner ``U_k``: it enters its own link and, through ``s``, the next one."""
        act, rw, beta = self.act, self.rw, self.beta
        U = self.U[k][:, :-1]
        W_next = self.W[k + 1]
        own = self._link_gap(k, self.sH[k])
        nxt = self._link_gap(k + 1, self.sH[k + 1])
        own_sq, nxt_sq = rw.sq_norm(own), rw.sq_norm(nxt)
        f_old = 0.5 * beta * (own_sq + nxt_sq)
        # Gradient in the S-metric (the row weights cancel per row).
        grad = own - nxt
        nxt *= act.derivative_from_output(self.sH[k + 1])
        grad -= nxt @ W_next[:-1].T
        grad *= beta
        U_next = self.U[k + 1][:, :-1]

        def trial(step):
            U_new = U - step
            sH_next = act(affine(U_new, W_next))
            own_new = U_new - self.sH[k]
            nxt_new = U_next - U_new - sH_next
            if k > 0:
                own_new -= self.skip_of(k)
            sq = rw.sq_norm(own_new), rw.sq_norm(nxt_new)
            return 0.5 * beta * (sq[0] + sq[1]), (U_new, sH_next, sq)

        accepted = self._backtrack(k, 1, grad, f_old, trial, rw.inner)
        if accepted is not None:
            U_new, self.sH[k + 1], (own_sq, nxt_sq) = accepted
            U[...] = U_new
        self.link_sq[k, 0] = own_sq
        self.link_sq[k + 1, 0] = nxt_sq

    def _backtrack(self, k, block, grad, f_old, trial, inner):
        """Smallest tried ``t`` (doubling from the last one) with sufficient decrease.

        Returns what ``trial`` returned for the accepted step, or ``None`` when no
        step passes (the block then stays put, which is still a descent step).
        """
        gg = inner(grad, grad)
        if not gg > 0:
            return None
        t = max(self.tau, 0.5 * self._t[k, block])
        for _ in range(_MAX_BACKTRACK):
            f_new, result = trial(grad / t)
            # With d = -grad/t: f_new <= f_old - t/2 |d|^2 = f_old - |grad|^2/(2t).
            if f_new <= f_old - 0.5 * gg / t:
                self._t[k, block] = t
                return result
            t *= 2.0
        return None

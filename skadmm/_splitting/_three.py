"""Three-splitting relaxation: auxiliaries ``Z_k`` (pre-activations) and ``U_k``.

Penalty per hidden layer ``k``::

    ||Z_k - A_k W_k||_S^2 + ||U_k - U_{k-1}[k>=1] - s(Z_k)||_S^2

Every block is a closed form or an elementwise problem (ALGORITHM.md, section 3).
"""

import numpy as np

from ._base import Splitting, spd_inverse


class ThreeSplitting(Splitting):
    """Proximal (or linearized) ADMM on the three-splitting relaxation."""

    name = "three"
    # U (augmented), Z and s(Z).
    arrays_per_layer = 3

    def _init_hidden(self):
        self.Z, self.sZ = [], []
        for k in range(self.H):
            A = self.input_of(k)
            Z = A @ self.W[k]
            sZ = self.act(Z)
            U = self.U[k][:, :-1]
            U[...] = sZ
            if k > 0:
                U += self.skip_of(k)
            self.Z.append(Z)
            self.sZ.append(sZ)

    def _sweep_layer(self, k, with_output=True):
        self._update_weights(k)
        self._update_preactivation(k)
        if with_output:
            self._update_hidden(k)

    def _update_boundary(self, k):
        self._update_hidden(k)
        # U_k is the input and the skip of layer k + 1: refresh its cached links.
        gap = self.input_of(k + 1) @ self.W[k + 1]
        gap -= self.Z[k + 1]
        self.link_sq[k + 1, 0] = self.rw.sq_norm(gap)
        gap = self.U[k + 1][:, :-1] - self.skip_of(k + 1)
        gap -= self.sZ[k + 1]
        self.link_sq[k + 1, 1] = self.rw.sq_norm(gap)

    def _update_weights(self, k):
        """Ridge block: ``(beta A^T S A + diag) W = beta A^T S Z + tau W_old``."""
        A = self.input_of(k)
        rw = self.rw
        self._ridge_step(k, rw.gram(A), self.beta * rw.cross(A, self.Z[k]), self.beta)

    def _update_preactivation(self, k):
        """Elementwise ``Z_k`` step given ``a = A_k W_k`` and ``b = U_k - U_{k-1}``."""
        a = self.input_of(k) @ self.W[k]
        b = self.U[k][:, :-1]
        if k > 0:
            b = b - self.skip_of(k)
        Z = self.act.z_step(a, b, self.Z[k], self.tau / self.beta, out=self.Z[k])
        a -= Z
        self.link_sq[k, 0] = self.rw.sq_norm(a)
        self.act(Z, out=self.sZ[k])

    def _update_hidden(self, k):
        """``U_k`` block: a quadratic with an ``n x n`` system per layer."""
        target = self.sZ[k].copy() if k == 0 else self.sZ[k] + self.skip_of(k)
        if k == self.H - 1:
            self._update_last_hidden(target)
        else:
            self._update_inner(k, target)
        # The solves may have used target's buffer: recompute the link gap.
        gap = np.subtract(self.U[k][:, :-1], self.sZ[k], out=target)
        if k > 0:
            gap -= self.skip_of(k)
        self.link_sq[k, 1] = self.rw.sq_norm(gap)

    def _update_inner(self, k, target):
        """Solve ``U ((2 + c) I + V V^T) = RHS`` with ``c = tau/beta``.

        ``RHS = target + (Z_{k+1} - b) V^T + (U_{k+1} - s(Z_{k+1})) + c U_old``
        where ``V, b`` are the next layer's weights and bias. ``target`` may be
        overwritten.
        """
        U = self.U[k][:, :-1]
        V, b = self.W[k + 1][:-1], self.W[k + 1][-1]
        M = V @ V.T
        diag = np.einsum("ii->i", M)
        if self.linearized:
            rhs = (self.Z[k + 1] - b) @ V.T
            rhs += target
            rhs += self.U[k + 1][:, :-1]
            rhs -= self.sZ[k + 1]
            diag += 2.0
            grad = U @ M
            grad -= rhs
            grad *= self.beta
            M *= self.beta
            U -= grad / self._lipschitz_step(M)
            return
        c = self.tau / self.beta
        diag += 2.0 + c
        # U = (target + U_{k+1} - s(Z_{k+1}) + c U) M^-1 + Z_{k+1} V^T M^-1 - b V^T M^-1
        inv = spd_inverse(M)
        pull = V.T @ inv
        rhs = np.add(target, self.U[k + 1][:, :-1], out=target)
        rhs -= self.sZ[k + 1]
        rhs += c * U
        new = rhs @ inv
        new += self.Z[k + 1] @ pull
        new -= b @ pull
        U[...] = new

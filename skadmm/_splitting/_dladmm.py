"""dlADMM (Wang et al., KDD 2019) on the residual network: the relaxed problem.

The variables are those of the three-splitting relaxation (``Z_k``, ``U_k``,
the output ``O`` and one multiplier ``Lam`` on the read-out constraint), with
the relaxation weight ``nu`` (the estimator's ``beta``)::

    L_rho = l(O; Y) + alpha/2 sum_k ||W_k without bias||^2
          + nu/2 sum_k ( ||Z_k - A_k W_k||_S^2 + ||U_k - U_{k-1}[k>=1] - s(Z_k)||_S^2 )
          + <Lam, O - R>_S + rho/2 ||O - R||_S^2,      R = [U_{H-1}, 1] W_H

What differs from the proximal ADMM of the three-splitting is the update order
and the blocks (see ``doc/dladmm.rst``): a backward sweep (``O``, read-out bias
and weights, then for ``k = H-1 .. 0``: ``U_k``, ``Z_k``, ``b_k``, ``W_k``),
then a forward sweep (``W_k``, ``b_k``, ``Z_k``, ``U_k`` for ``k = 0 .. H-1``,
then ``W_H``, ``b_H``, ``O``), then the multiplier step. The outputs ``U_k``
and the weights without bias take one linearised gradient step whose
proximal weight is backtracked (doubled) until the sufficient-decrease test of
the block holds; no block solves a linear system. Biases, ``Z_k`` (relu,
leaky_relu) and ``O`` are exact block minimisers.

Every linearised block is a quadratic (the loss only touches ``O``), so the
sufficient-decrease test ``f(x - g/t) <= f(x) - |g|^2 / (2t)`` is evaluated
exactly from the curvature of the block along the step, ``<d, H d> / |d|^2``
(one matrix product), instead of by differencing two large values of ``f``
at every trial: the accepted weight is the one the trial loop of the paper's
code finds, at the cost of one trial.
"""

import numpy as np

from .._linalg import outer_product
from .._network import l2_penalty
from .._rows import BLOCK_ELEMENTS
from ._linearised import LinearisedRelaxation


def check_rho(rho, loss, mode):
    """Raise if ``rho`` does not make the augmented Lagrangian decrease.

    Two exact output steps per iteration and one multiplier step give the
    decrease condition ``rho (rho + m) > 4 H^2`` (``H``: the curvature of the
    loss, ``m``: its strong convexity, 1 for the squared loss and 0 otherwise);
    with ``m = 0`` it is the paper's bound ``rho > 2H``.
    """
    H = float(loss.curvature)
    m = float(loss.strong_convexity)
    if not rho * (rho + m) > 4.0 * H * H:
        bound = 0.5 * (-m + np.sqrt(m * m + 16.0 * H * H))
        raise ValueError(
            f"solver={mode!r} needs rho > {bound:.4g} for the {loss.name} loss "
            f"(rho (rho + {m:g}) > 4 H^2 with H = {H:g}, the Lipschitz constant of "
            f"the loss gradient; the paper's bound rho > 2H = {2 * H:g} without "
            f"strong convexity); got rho={rho!r}. Otherwise the augmented "
            "Lagrangian can increase. Raise rho."
        )


class DLADMMRelaxation(LinearisedRelaxation):
    """The dlADMM relaxation of the residual network with its current iterate.

    Parameters are those of :class:`~skadmm._splitting.SplitRelaxation`; ``beta`` is
    the relaxation weight ``nu``, ``tau`` the first trial of every backtracked
    proximal weight and ``update`` is ignored (every step is linearised).
    """

    name = "dladmm"
    mode = "dladmm"

    def __init__(self, X, Y, sample_weight, weights, activation, **params):
        super().__init__(X, Y, sample_weight, weights, activation, **params)
        check_rho(self.rho, self.loss, self.mode)
        N, n = self.rw.n_samples, self.W[0].shape[1]
        self._g = np.empty((N, n), self.dtype)
        self._p = np.empty((N, n), self.dtype)
        self._q = np.empty((N, n), self.dtype)

    @classmethod
    def scratch_arrays(
        cls, n_samples, width, chunk_rows, linearized, reset=False, group_blocks=1
    ):
        # Three n_samples x width buffers, the z-step's row-block work arrays.
        return {
            "step buffers": 3 * n_samples * width,
            "z-step work": 3 * BLOCK_ELEMENTS,
        }

    # ---------------------------------------------------------------- blocks
    def output_step(self):
        self.loss.output_step(self.R, self.Lam, self.Y, self.rho, self.O)

    def layer_target(self, k):
        """Target and curvature of the linear link of layer ``k`` (``H``: read-out)."""
        if k == self.H:
            T = self.Lam / self.rho
            T += self.O
            return T, self.rho
        return self.Z[k], self.beta

    def _output_links(self, k):
        """Gradient of the terms of ``U_k`` at the current point, into ``self._g``.

        Returns ``(g, T, g_sq, curvature)``: the gradient in the S-metric, the
        link target ``T``, ``|g|_S^2`` and the block's curvature along ``g``.
        """
        U, skip = self.U[k][:, :-1], self.skip_of(k)
        nu, rw = self.beta, self.rw
        T = self.sZ[k] if skip is None else np.add(self.sZ[k], skip, out=self._q)
        g = np.subtract(U, T, out=self._g)
        g *= nu
        W_next = self.W[k + 1]
        V = W_next[:-1]
        if k == self.H - 1:
            # Read-out: -(Lam + rho (O - U V - b)) V^T
            np.matmul(self.U[k], W_next, out=self.R)
            E = self.O - self.R
            E *= self.rho
            E += self.Lam
            g -= outer_product(E, V.T)
            weights = (nu, self.rho, V)
        else:
            P = np.matmul(self.U[k], W_next, out=self._p)
            np.subtract(self.Z[k + 1], P, out=P)
            g -= outer_product(P, V.T) * nu
            # -(U_{k+1} - U_k - s(Z_{k+1}))
            g -= nu * (self.U[k + 1][:, :-1] - U - self.sZ[k + 1])
            weights = (2.0 * nu, nu, V)
        g_sq = rw.sq_norm(g)
        if g_sq == 0.0:
            return g, T, 0.0, 0.0
        diag, cross, V = weights
        curvature = (diag * g_sq + cross * rw.sq_norm(g @ V)) / g_sq
        return g, T, g_sq, curvature

    def hidden_step(self, k):
        """Linearised, backtracked step of ``U_k``; returns its new link."""
        U = self.U[k][:, :-1]
        g, T, g_sq, curvature = self._output_links(k)
        if g_sq > 0.0:
            t = self._weight(self.tau, curvature)
            if t is not None:
                U -= g * (1.0 / t)
        if k == self.H - 1:
            self.set_readout_output()
        return self.rw.sq_norm(U - T)

    def z_step(self, k, a=None):
        """Exact ``Z_k`` (relu, leaky_relu) or a descent step (tanh, sigmoid).

        ``min_z (z - a)^2 + (b - s(z))^2`` elementwise, ``a = A_k W_k`` and
        ``b = U_k - U_{k-1}``. Returns the link ``||a - Z_k||_S^2``.
        """
        if a is None:
            a = self.input_of(k) @ self.W[k]
        U, skip = self.U[k][:, :-1], self.skip_of(k)
        b = U if skip is None else np.subtract(U, skip, out=self._q)
        Z = self.Z[k]
        self.act.z_step(a, b, Z, 0.0, out=Z)
        self.act(Z, out=self.sZ[k])
        a -= Z
        return self.rw.sq_norm(a)

    def objective(self):
        """``L_rho`` and the residual; also sets ``merit_scale`` (its terms' size)."""
        rw = self.rw
        gap = self.O - self.R
        loss = self.loss.value(self.O, self.Y, rw)
        reg = 0.5 * self.alpha * l2_penalty(self.W)
        penalty = float(self.link_sq.sum())
        inner = rw.inner(self.Lam, gap)
        gap_sq = rw.sq_norm(gap)
        terms = (loss, reg, 0.5 * self.beta * penalty, inner, 0.5 * self.rho * gap_sq)
        self.merit_scale = float(sum(abs(x) for x in terms))
        return float(sum(terms)), float(np.sqrt(gap_sq + penalty))

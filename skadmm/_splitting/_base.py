"""State and block updates shared by the relaxations of the residual network.

Indexing is 0-based: hidden layer ``k = 0 .. H-1`` has weights ``W[k]`` and input
``A_k = [U_{k-1}, 1]`` (``[X, 1]`` for ``k = 0``); ``W[H]`` is the read-out. The
hidden outputs ``U[k]`` are stored *augmented*, as ``N x (n + 1)`` buffers whose last
column is one, so ``A_k`` is a buffer and never a concatenation.

L_rho (with normalised row weights ``s``, ``||.||_S`` the weighted norm)::

    1/2 ||O - Y||_S^2 + alpha/2 sum_k ||W_k without bias||^2
    + beta/2 * (relaxation penalties of the splitting)
    + <Lam, O - R>_S + rho/2 ||O - R||_S^2,        R = [U_{H-1}, 1] W_H
"""

from functools import partial

import numpy as np
from scipy.linalg import cho_factor, cho_solve, eigvalsh

from ._rows import RowWeights


class Splitting:
    """Base class: a relaxed training problem together with its current iterate.

    Subclasses define the hidden-layer blocks (``_sweep_layer``), the relaxation
    penalty, and how the state is built from weights (``_init_hidden``).

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    Y : ndarray of shape (n_samples, n_outputs)
    sample_weight : ndarray of shape (n_samples,) or None
    weights : list of ndarray
        Initial weights, ``(fan_in + 1, fan_out)`` each, bias last; copied.
    activation : activation object from ``skadmm._activations``
    beta, rho, tau, alpha : float
        Penalty weight, multiplier penalty (``> 1``), proximal weight (``> 0``)
        and L2 strength.
    update : {"proximal", "linearized"}
        Exact proximal block solves, or one proximal-gradient step per block.
    """

    name = None
    #: arrays of shape (n_samples, width) held per hidden layer
    arrays_per_layer = None

    def __init__(
        self, X, Y, sample_weight, weights, activation, *, beta, rho, tau, alpha, update
    ):
        dtype = X.dtype
        self.dtype = dtype
        self.act = activation
        self.beta, self.rho, self.tau, self.alpha = beta, rho, tau, alpha
        self.linearized = update == "linearized"
        self.rw = RowWeights(sample_weight, X.shape[0], dtype)
        self.Y = Y
        self.W = [np.array(W, dtype=dtype, order="C") for W in weights]
        self.H = len(self.W) - 1
        self.X_aug = _augment(X)
        N, m = Y.shape
        self.O = np.empty((N, m), dtype=dtype)
        self.Lam = np.empty((N, m), dtype=dtype)
        self.R = np.empty((N, m), dtype=dtype)
        self.U = [_augment_empty(N, W.shape[1], dtype) for W in self.W[:-1]]
        # Cached ||.||_S^2 of each relaxation link, valid after every sweep.
        self.link_sq = np.zeros((self.H, 2))
        self.set_regions([(0, self.H + 1)])
        self._init_hidden()
        self._set_readout_output()
        self.O[...] = self.R
        np.subtract(self.Y, self.O, out=self.Lam)

    # ---------------------------------------------------------------- helpers
    def input_of(self, k):
        """``A_k``: the augmented input of layer ``k``."""
        return self.X_aug if k == 0 else self.U[k - 1]

    def skip_of(self, k):
        """``U_{k-1}`` for residual blocks, ``None`` for the lifting layer."""
        return None if k == 0 else self.U[k - 1][:, :-1]

    def weights(self):
        """Copies of the current weights."""
        return [W.copy() for W in self.W]

    def _ridge_step(self, k, G, rhs, curvature):
        """Block ``W_k`` given ``G = A^T S A`` and the linear term ``rhs``.

        Minimises ``curvature/2 <W, G W> - <rhs, W> + alpha/2 ||W'||^2`` plus the
        proximal term ``tau/2 ||W - W_old||^2`` (exact), or takes one proximal
        gradient step on it (linearized).
        """
        W = self.W[k]
        Hm = curvature * G
        diag = np.einsum("ii->i", Hm)
        diag[:-1] += self.alpha
        if self.linearized:
            grad = Hm @ W - rhs
            self.W[k] = W - grad / self._lipschitz_step(Hm)
            return
        diag += self.tau
        self.W[k] = cho_solve(
            cho_factor(Hm, overwrite_a=True, check_finite=False),
            rhs + self.tau * W,
            check_finite=False,
        )

    def _lipschitz_step(self, hessian):
        """Proximal weight ``t = max(tau, lambda_max(hessian))`` of a quadratic block.

        With ``t`` at least the largest curvature the backtracking test
        ``f(x - g/t) <= f(x) - |g|^2/(2t)`` always holds, so no trial evaluation
        is needed. The step depends on the Hessian only (not on the gradient's
        direction), which keeps the iteration insensitive to rounding.
        """
        n = hessian.shape[0]
        top = eigvalsh(hessian, subset_by_index=[n - 1, n - 1], check_finite=False)[0]
        return max(self.tau, float(top))

    # ------------------------------------------------------ read-out & output
    def _update_last_hidden(self, target):
        """Block ``U_{H-1}`` given ``target = U_{H-2}[H>1] + s(.)`` (a quadratic).

        ``target`` is a scratch buffer of the caller and is overwritten.

        Solves ``U ((beta + tau) I + rho V V^T) = beta target
        + (Lam + rho (O - b)) V^T + tau U_old`` with ``V, b`` the read-out.
        """
        k = self.H - 1
        U = self.U[k][:, :-1]
        V, b = self.W[-1][:-1], self.W[-1][-1]
        pull = self.O - b
        pull *= self.rho
        pull += self.Lam
        M = self.rho * (V @ V.T)
        diag = np.einsum("ii->i", M)
        if self.linearized:
            rhs = pull @ V.T
            rhs += self.beta * target
            diag += self.beta
            grad = U @ M
            grad -= rhs
            U -= grad / self._lipschitz_step(M)
            return
        diag += self.beta + self.tau
        # U = (beta target + tau U) M^-1 + pull V^T M^-1, two matrix products.
        inv = spd_inverse(M)
        rhs = np.multiply(target, self.beta, out=target)
        rhs += self.tau * U
        new = rhs @ inv
        new += pull @ (V.T @ inv)
        U[...] = new

    def _update_readout(self):
        """Block ``W_H``: ridge on ``A = [U_{H-1}, 1]`` with target ``O + Lam/rho``."""
        A = self.input_of(self.H)
        rhs = self.rw.cross(A, self.rho * self.O + self.Lam)
        self._ridge_step(self.H, self.rw.gram(A), rhs, self.rho)
        self._set_readout_output()

    def _set_readout_output(self):
        np.matmul(self.input_of(self.H)[:, :-1], self.W[-1][:-1], out=self.R)
        self.R += self.W[-1][-1]

    def _update_output(self):
        """Exact ``O`` step: ``O = (Y - Lam + rho R) / (1 + rho)``."""
        O = self.O
        np.subtract(self.Y, self.Lam, out=O)
        O += self.rho * self.R
        O /= 1.0 + self.rho

    def _update_multiplier(self):
        """``Lam += rho (O - R)``; after the ``O`` step this gives ``Lam = Y - O``."""
        self.Lam += self.rho * (self.O - self.R)

    # ------------------------------------------------------------ iteration
    def set_regions(self, regions):
        """Use the regions ``[(start, stop), ...]`` of layers ``0 .. H`` (read-out H).

        The last hidden output of every region but the last is a *boundary*: it
        is updated in a second phase, once all the regions have been swept.
        """
        self.regions = list(regions)
        self.boundaries = [stop - 1 for _, stop in self.regions[:-1]]

    def iterate(self, run=None):
        """One iteration of the parallel regional update.

        Phase A sweeps every region's interior blocks (hidden layers forward,
        then, in the last region, read-out and ``O``) with the boundaries held
        fixed; phase B updates every boundary given both neighbours; then the
        multiplier. The tasks of a phase touch disjoint terms of L_rho, so each
        phase is an exact block step whatever order they run in. ``run`` executes
        a list of tasks (default: in order). One region is the serial sweep.
        """
        run = _run_in_order if run is None else run
        run([partial(self._sweep_region, *region) for region in self.regions])
        if self.boundaries:
            run([partial(self._update_boundary, k) for k in self.boundaries])
        self._update_multiplier()

    def _sweep_region(self, start, stop):
        owns_readout = stop > self.H
        for k in range(start, min(stop, self.H)):
            self._sweep_layer(k, with_output=owns_readout or k < stop - 1)
        if owns_readout:
            self._update_readout()
            self._update_output()

    def objective(self):
        """``L_rho`` of the current iterate and the RMS relaxation residual.

        Returns
        -------
        value : float
            L_rho.
        residual : float
            ``sqrt(||O - R||_S^2 + sum of the penalty links)``: zero exactly when
            the auxiliaries are the forward pass of the weights.
        """
        rw = self.rw
        gap = self.O - self.R
        gap_sq = rw.sq_norm(gap)
        penalty = float(self.link_sq.sum())
        reg = sum(float(np.vdot(W[:-1], W[:-1])) for W in self.W)
        value = (
            0.5 * rw.sq_norm(self.O - self.Y)
            + 0.5 * self.alpha * reg
            + 0.5 * self.beta * penalty
            + rw.inner(self.Lam, gap)
            + 0.5 * self.rho * gap_sq
        )
        return value, float(np.sqrt(gap_sq + penalty))

    # ------------------------------------------------------------ interface
    def _init_hidden(self):
        raise NotImplementedError

    def _sweep_layer(self, k, with_output=True):
        """Blocks of hidden layer ``k``; its output ``U_k`` only if ``with_output``."""
        raise NotImplementedError

    def _update_boundary(self, k):
        """Phase B: the boundary ``U_k`` and the cached links that depend on it."""
        raise NotImplementedError

    @classmethod
    def state_nbytes(cls, n_samples, n_features, width, n_hidden, n_outputs, itemsize):
        """Bytes held by the state, with one layer's worth of temporaries."""
        per_layer = n_samples * (width + 1)
        floats = (
            n_samples * (n_features + 1)
            + cls.arrays_per_layer * n_hidden * per_layer
            + 5 * n_samples * n_outputs
            + 4 * per_layer
        )
        return int(floats) * itemsize


def spd_inverse(M):
    """Inverse of a symmetric positive definite matrix through its Cholesky factor.

    The hidden-layer systems ``U M = RHS`` have ``M = a I + b V V^T`` with ``a > 0``
    (eigenvalues at least ``a``): well conditioned, so the ``n x n`` inverse is
    accurate, and ``RHS @ inv`` is one matrix product (threaded BLAS) where two
    triangular solves would be twice slower.
    """
    factor = cho_factor(M, overwrite_a=True, check_finite=False)
    return cho_solve(factor, np.eye(M.shape[0], dtype=M.dtype), check_finite=False)


def _run_in_order(tasks):
    for task in tasks:
        task()


def _augment(X):
    A = np.empty((X.shape[0], X.shape[1] + 1), dtype=X.dtype)
    A[:, :-1] = X
    A[:, -1] = 1.0
    return A


def _augment_empty(n_rows, width, dtype):
    A = np.empty((n_rows, width + 1), dtype=dtype)
    A[:, -1] = 1.0
    return A

"""Two-splitting relaxation: auxiliaries ``U_k`` only (no pre-activations).

Penalty per hidden layer ``k``::

    ||U_k - U_{k-1}[k>=1] - s(A_k W_k)||_S^2

``W_k`` and the inner ``U_k`` sit inside ``s``, so their blocks take one proximal
gradient step with a backtracked step weight ``t >= tau`` (sufficient decrease
``f(x_new) <= f(x) - t/2 ||x_new - x||^2``); the last hidden ``U``, the read-out,
``O`` and ``Lam`` are the quadratic blocks of the base class.

The elementwise work runs row block by row block, fused with the matrix products
of each block; a trial point is built in a scratch array that becomes the state
(by swapping buffers) when the step is accepted. The forward-reset mode
(``solver="reset"``) drives the same blocks through the hooks
``reset_to_forward``, ``backward_sweep`` and ``reset_w_step``, with trial points
built row chunk by row chunk instead (less memory; see the user guide).
"""

import math

import numpy as np

from .._linalg import dense_product, spd_solve
from .._rows import block_rows
from .._wide import DualRidge, use_dual
from ._base import SplitRelaxation

_MAX_BACKTRACK = 60
# Most doublings of the step weight skipped at once.
_MAX_JUMP = 64
# Units of rounding of the block objective below which no decrease is sought.
_ROUNDING = 16


class TwoSplitRelaxation(SplitRelaxation):
    """Proximal-linearized ADMM on the two-splitting relaxation."""

    name = "two"

    @classmethod
    def state_arrays(cls, n_samples, n_features, width, n_hidden, n_outputs):
        arrays = super().state_arrays(n_samples, n_features, width, n_hidden, n_outputs)
        arrays["s(A W)"] = n_hidden * n_samples * width
        return arrays

    @classmethod
    def scratch_arrays(
        cls, n_samples, width, chunk_rows, linearized, reset=False, group_blocks=1
    ):
        arrays = super().scratch_arrays(
            n_samples, width, chunk_rows, linearized, reset, group_blocks
        )
        if reset:
            # The inner U steps' gradient; their trials use the chunk buffers.
            arrays["gradient array"] = n_samples * width
        else:
            # The gradient and the trial point of the backtracked blocks, whole.
            arrays["gradient and trial arrays"] = 3 * n_samples * (width + 1)
        return arrays

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
        #: Objective evaluations (backtracking trials) of each block so far.
        self.n_trials = np.zeros((self.H, 2), dtype=np.int64)

    def reset_to_forward(self, run=None):
        self.run_row_blocks(self._forward_rows, run)
        self.link_sq[...] = 0.0
        self.set_readout_output()

    def _forward_rows(self, rows):
        for k in range(self.H):
            sH = self.sH[k][rows]
            if k == 0:
                # The accepted trial's product, when the line search kept it.
                self.first_layer_product(rows, sH)
            else:
                dense_product(self.input_of(k)[rows], self.W[k], sH)
            self.act(sH, out=sH)
            U = self.U[k][rows, :-1]
            if k > 0:
                np.add(sH, self.skip_of(k)[rows], out=U)
            else:
                U[...] = sH

    def _backward_sweep(self):
        # Not row-separable: the inner U_k steps are backtracked on all rows at
        # once. Each inner U_k takes one backtracked step whose gradient, from the
        # reset state, is the error of U_{k+1} carried back through the residual
        # block; its weight starts at beta (the curvature of its own link).
        self.link_sq[self.H - 1, 0] = self._descend_last_hidden()
        for k in range(self.H - 2, -1, -1):
            self._update_inner(k, floor=float(self.beta), keep=False)

    def reset_w_step(self, k, eta, mu):
        """One backtracked step of ``W_k`` on its link + L2, whitened.

        The objective is the three-splitting's ridge fit scaled by ``beta = 1 /
        eta``. The gradient is taken in the metric ``P = A^T S A + mu_k I`` of
        the three-splitting's proximal ridge system (``mu_k`` is ``mu`` times the
        mean diagonal): a plain gradient step crawls along the ill-conditioned
        directions of the layer's input (sigmoid outputs, all positive, are the
        worst case). ``s(A_k W_k)`` is not kept: the reset that follows
        recomputes it.
        """
        A = self.input_of(k)
        if use_dual(*A.shape):
            # A wide input: P^-1 in the dual form (trace(A^T S A) = ||A||_S^2).
            shift = mu * self.rw.sq_norm(A) / A.shape[1]
            if shift > 0:
                metric = DualRidge(A, self.rw, 1.0, shift, shift).solve
                self._update_weights(
                    k, floor=float(self.beta), keep=False, metric=metric
                )
                return
        P = self.input_gram(k)
        diag = np.einsum("ii->i", P)
        diag += mu * float(diag.sum()) / diag.size

        def metric(grad):
            return spd_solve(P, grad, overwrite_a=True)

        # At weight beta the step is the three-splitting's proximal ridge step
        # for a linear activation: never longer than that (longer first steps
        # stalled some folds of the sine benchmark on a poor plateau).
        self._update_weights(k, floor=float(self.beta), keep=False, metric=metric)

    @classmethod
    def reset_step_arrays(cls, n_samples, width, chunk_rows):
        # A row chunk of the gap and one of the trial activation.
        return {"weight step": 2 * chunk_rows * width}

    def sweep_layer(self, k, with_output=True):
        self._update_weights(k)
        if not with_output:
            return
        if k == self.H - 1:
            self.link_sq[k, 0] = self._update_last_hidden(self.sH[k])
        else:
            self._update_inner(k)

    def update_boundary(self, k):
        # A boundary is never the last hidden layer; _update_inner refreshes the
        # links of layers k and k + 1.
        self._update_inner(k)

    def _update_weights(self, k, floor=None, keep=True, metric=None):
        """``W_k``: backtracked proximal-gradient step on its penalty + L2.

        ``floor`` is the smallest step weight (default ``tau``). With ``keep``
        the accepted trial's ``s(A W)`` becomes the state; without it the step
        uses no scratch pool (its buffers are its own), so steps of different
        layers may run at once, and ``sH[k]`` is left stale. ``metric`` maps the
        gradient to the step direction (default: the gradient itself).
        """
        A, W = self.input_of(k), self.W[k]
        U, skip, sH = self.U[k][:, :-1], self.skip_of(k), self.sH[k]
        act, rw, alpha, beta = self.act, self.rw, self.alpha, self.beta
        n = sH.shape[1]
        size, chunks = self.chunks(n)
        if keep:
            pool = self.scratch(k)
            gap = pool.get("g", sH.shape)
            u_buf = pool.block("u", n)
            trial_sH = pool.get("sH", sH.shape)
        else:
            # Row chunks only: the gradient is summed chunk by chunk.
            gap = np.empty((size, n), self.dtype)
            h_buf = np.empty_like(gap)
            u_buf = np.empty((min(size, block_rows(n)), n), self.dtype)
        # gap = U - sH - U_{k-1}, then gap * s'(.) for the gradient A^T S (.).
        sq = 0.0
        grad = None
        for chunk, parts in chunks:
            gap_c = gap[chunk] if keep else gap[: chunk.stop - chunk.start]
            for rows, local in parts:
                g = np.subtract(U[rows], sH[rows], out=gap_c[local])
                if skip is not None:
                    g -= skip[rows]
                sq += rw.sq_norm(g, rows)
                act.mul_derivative(g, sH[rows])
            if not keep:
                part = rw.cross(A[chunk], gap_c, rows=chunk)
                grad = part if grad is None else grad + part
        f_old = 0.5 * beta * sq + 0.5 * alpha * np.vdot(W[:-1], W[:-1])
        if keep:
            grad = rw.cross(A, gap)
        grad *= -beta
        grad[:-1] += alpha * W[:-1]

        def trial(t):
            W_new = W - direction / t
            sq = 0.0
            for chunk, parts in chunks:
                if keep:
                    out = trial_sH[chunk]
                else:
                    out = h_buf[: chunk.stop - chunk.start]
                dense_product(A[chunk], W_new, out)
                for rows, local in parts:
                    h = out[local]
                    act(h, out=h)
                    g = np.subtract(U[rows], h, out=u_buf[: rows.stop - rows.start])
                    if skip is not None:
                        g -= skip[rows]
                    sq += rw.sq_norm(g, rows)
            f = 0.5 * beta * sq + 0.5 * alpha * np.vdot(W_new[:-1], W_new[:-1])
            return f, (W_new, sq)

        direction = grad if metric is None else metric(grad)
        grad_dot = float(np.vdot(grad, direction))
        # The objective is a difference of terms of the size of beta |U|^2:
        # its rounding, hence what a step can certify, is relative to that.
        scale = 0.5 * beta * rw.sq_norm(self.U[k][:, :-1])
        accepted = self._backtrack(k, 0, grad_dot, f_old, trial, floor, scale)
        if accepted is not None:
            self.W[k], sq = accepted
            if keep:
                self.sH[k] = pool.swap("sH", sH)
        self.link_sq[k, 0] = sq

    def _update_inner(self, k, floor=None, keep=True):
        """Inner ``U_k``: it enters its own link and, through ``s``, the next one.

        ``floor`` is the smallest step weight (default ``tau``). With ``keep``
        each trial is built in whole scratch arrays that become the state when
        accepted; without it the trials use row chunks and the accepted step is
        applied in place (one more product, two ``n_samples x width`` arrays
        less).
        """
        act, rw, beta = self.act, self.rw, self.beta
        U, skip, sH = self.U[k][:, :-1], self.skip_of(k), self.sH[k]
        W_next, sH_next = self.W[k + 1], self.sH[k + 1]
        V, b = W_next[:-1], W_next[-1]
        U_next = self.U[k + 1][:, :-1]
        n = U.shape[1]
        pool = self.scratch(k)
        grad = pool.get("g", sH.shape)
        own_buf, nxt_buf = pool.block("t", n), pool.block("u", n)
        size, chunks = self.chunks(n)
        if keep:
            trial_U = pool.get("U", U.shape, augmented=True)
            trial_sH = pool.get("sH", sH.shape)
        else:
            tU, tH = pool.chunk("c0", size, n), pool.chunk("c1", size, n)
        # Gradient in the S-metric (the row weights cancel per row):
        # beta (own - nxt - (nxt * s'(.)) V^T). With one chunk of all rows the
        # trials' buffers hold nxt * s'(.) and its product with V^T meanwhile.
        if not keep:
            next_buf, back_buf = tH, tU
        elif self.whole_products:
            next_buf, back_buf = trial_sH, trial_U[:, :-1]
        else:
            next_buf, back_buf = pool.chunk("c0", size, n), pool.chunk("c1", size, n)
        own_sq = nxt_sq = grad_dot = 0.0
        for chunk, parts in chunks:
            m = chunk.stop - chunk.start
            for rows, local in parts:
                own = np.subtract(
                    U[rows], sH[rows], out=own_buf[: rows.stop - rows.start]
                )
                if skip is not None:
                    own -= skip[rows]
                nxt = np.subtract(U_next[rows], sH_next[rows], out=next_buf[local])
                nxt -= U[rows]
                own_sq += rw.sq_norm(own, rows)
                nxt_sq += rw.sq_norm(nxt, rows)
                np.subtract(own, nxt, out=grad[rows])
                act.mul_derivative(nxt, sH_next[rows])
            back = np.matmul(next_buf[:m], V.T, out=back_buf[:m])
            for rows, local in parts:
                g = grad[rows]
                g -= back[local]
                g *= beta
                grad_dot += rw.inner(g, g, rows)
        f_old = 0.5 * beta * (own_sq + nxt_sq)

        def new_rows(t, chunk, parts, Uc, Hc):
            # U - grad/t into Uc (or in place), then s(U_new V + b) into Hc.
            for rows, local in parts:
                step = np.divide(grad[rows], t, out=own_buf[: rows.stop - rows.start])
                if Uc is None:
                    U[rows] -= step
                else:
                    np.subtract(U[rows], step, out=Uc[local])
            np.matmul(U[chunk] if Uc is None else Uc, V, out=Hc)
            for _, local in parts:
                h = Hc[local]
                h += b
                act(h, out=h)

        def trial(t):
            own_sq = nxt_sq = 0.0
            for chunk, parts in chunks:
                m = chunk.stop - chunk.start
                Uc = trial_U[chunk, :-1] if keep else tU[:m]
                Hc = trial_sH[chunk] if keep else tH[:m]
                new_rows(t, chunk, parts, Uc, Hc)
                for rows, local in parts:
                    m = rows.stop - rows.start
                    own, nxt = own_buf[:m], nxt_buf[:m]
                    U_new, h = Uc[local], Hc[local]
                    np.subtract(U_new, sH[rows], out=own)
                    if skip is not None:
                        own -= skip[rows]
                    np.subtract(U_next[rows], U_new, out=nxt)
                    nxt -= h
                    own_sq += rw.sq_norm(own, rows)
                    nxt_sq += rw.sq_norm(nxt, rows)
            return 0.5 * beta * (own_sq + nxt_sq), (own_sq, nxt_sq, t)

        scale = 0.5 * beta * (rw.sq_norm(U) + rw.sq_norm(U_next))
        accepted = self._backtrack(k, 1, grad_dot, f_old, trial, floor, scale)
        if accepted is not None:
            own_sq, nxt_sq, t = accepted
            if keep:
                self.U[k] = pool.swap("U", self.U[k])
                self.sH[k + 1] = pool.swap("sH", sH_next)
            else:
                for chunk, parts in chunks:
                    new_rows(t, chunk, parts, None, sH_next[chunk])
        self.link_sq[k, 0] = own_sq
        self.link_sq[k + 1, 0] = nxt_sq

    def _backtrack(self, k, block, grad_dot, f_old, trial, floor=None, scale=0.0):
        """Smallest tried ``t`` (doubling from the last one) with sufficient decrease.

        ``grad_dot = ||grad||^2`` in the block's metric and ``trial(t)`` evaluates the
        block objective at ``x - grad/t``; ``t`` never starts below ``floor``
        (default ``tau``). Returns what ``trial`` returned with it for the
        accepted step, or ``None`` when no step passes, or when the decrease
        a step must certify falls below the rounding of the objective, whose
        terms have the size ``scale`` (the block then stays put, which is
        still a descent step).
        """
        if not grad_dot > 0:
            return None
        floor = self.tau if floor is None else floor
        # A Python float: a numpy float64 step would upcast float32 weights.
        t = float(max(floor, 0.5 * self._t[k, block]))
        # A decrease below the rounding of f cannot be certified: larger t
        # only asks for less, so the search stops there (it cost up to
        # _MAX_BACKTRACK trials per block near convergence).
        rounding = _ROUNDING * np.finfo(self.dtype).eps * (abs(f_old) + scale)
        for _ in range(_MAX_BACKTRACK):
            if not (math.isfinite(t) and 0.5 * grad_dot / t > rounding):
                return None
            self.n_trials[k, block] += 1
            f_new, result = trial(t)
            # With d = -grad/t: f_new <= f_old - t/2 |d|^2 = f_old - |grad|^2/(2t).
            if f_new <= f_old - 0.5 * grad_dot / t:
                self._t[k, block] = t
                return result
            # The failed trial's curvature along the gradient: the test needs
            # t >= c on a quadratic, so the doublings below c are skipped
            # (t stays on the grid of doublings of its start).
            curvature = 2.0 * (f_new - f_old + grad_dot / t) * t * t / grad_dot
            if not math.isfinite(curvature):  # an overflowing trial: just double
                curvature = t
            jump = math.ceil(math.log2(max(curvature / t, 1.0)))
            t *= 2.0 ** min(max(1, jump), _MAX_JUMP)
        return None

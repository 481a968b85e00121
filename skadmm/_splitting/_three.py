"""Three-splitting relaxation: auxiliaries ``Z_k`` (pre-activations) and ``U_k``.

Penalty per hidden layer ``k``::

    ||Z_k - A_k W_k||_S^2 + ||U_k - U_{k-1}[k>=1] - s(Z_k)||_S^2

Every block is a closed form or an elementwise problem (user guide, "One iteration").
The ``Z`` and ``U`` blocks are row-separable: they run row block by row block, each
block's elementwise work and link norms together while it is in cache, right after
its matrix products (see ``Relaxation.chunks``); with single-threaded BLAS no
``n_samples x width`` temporary is made.
"""

import numpy as np

from .._linalg import dense_product, spd_inverse
from .._rows import within
from .._wide import use_dual
from ._base import SplitRelaxation
from ._output_factor import move_gram


class ThreeSplitRelaxation(SplitRelaxation):
    """Proximal (or linearized) ADMM on the three-splitting relaxation."""

    name = "three"
    row_arrays = (*SplitRelaxation.row_arrays, "Z", "sZ")
    row_separable_sweep = True
    #: Reset mode: scale each move of the sweep's z-steps by ``1 + s'(a)^2``
    #: (see ``ResetSolver.first_order_targets``).
    first_order_targets = False
    #: Reset mode: alternations of the top layer's U and Z steps in a sweep
    #: (see ``ResetSolver.top_alternations``).
    top_alternations = 1
    #: Reset mode: the output factors of the W steps
    #: (:class:`~skadmm._splitting._output_factor.OutputFactor`; ``None``:
    #: none; see ``ResetSolver.output_damping``).
    output_factor = None

    @classmethod
    def state_arrays(cls, n_samples, n_features, width, n_hidden, n_outputs):
        arrays = super().state_arrays(n_samples, n_features, width, n_hidden, n_outputs)
        arrays["Z, s(Z)"] = 2 * n_hidden * n_samples * width
        return arrays

    def _init_hidden(self):
        hidden = list(enumerate(self.W[:-1]))
        self.Z = [self._row_array(f"Z{k}", W.shape[1]) for k, W in hidden]
        self.sZ = [self._row_array(f"sZ{k}", W.shape[1]) for k, W in hidden]
        self._forward_auxiliaries()

    def reset_to_forward(self, run=None):
        """Set ``Z_k``, ``s(Z_k)``, ``U_k`` and ``R`` to the forward pass.

        Every relaxation penalty is then zero (the links are reset too). With
        ``run``, the rows are computed as one task per row block.
        """
        self._forward_auxiliaries(run)
        self.set_readout_output()

    def _backward_sweep(self):
        top = self.H - 1
        self.link_sq[top, 1] = self._descend_last_hidden()
        self.update_preactivation(top)
        # Further alternations of the top pair approach its joint minimiser:
        # the U step again, its link's target now s(Z) (+ skip), then Z.
        for _ in range(self.top_alternations - 1):
            U = self.U[top][:, :-1]
            np.copyto(U, self.sZ[top])
            if top:
                U += self.skip_of(top)
            self.link_sq[top, 1] = self._descend_last_hidden()
            self.update_preactivation(top)
        for k in range(top, 0, -1):
            self._update_inner(k - 1)
            self.update_preactivation(k - 1)

    def reset_w_step(self, k, eta, mu):
        """Ridge fit of ``Z_k`` on its auxiliary input, ridge weight ``alpha eta``."""
        A = self.input_of(k)
        rw = self.rw
        # A wide input's step never forms G: trace(G) = ||A||_S^2.
        G = None if use_dual(*A.shape) else self.input_gram(k)
        rhs = rw.cross(A, self.Z[k])
        trace = rw.sq_norm(A) if G is None else float(np.trace(G))
        prox = mu * trace / A.shape[1]
        factor, old = self.output_factor, self.W[k]
        gram = self.output_gram(k) if factor is not None and factor.due else None
        self._ridge_step(k, A, rhs, 1.0, alpha=self.alpha * eta, tau=prox, G=G)
        if factor is not None:
            self.W[k] = factor.change(k, old, self.W[k], gram)

    def output_gram(self, k):
        """``D^T S D`` of the sweep's moves ``D = Z_k - A_k W_k`` of layer
        ``k``'s pre-activations, ``W_k`` before its W step (see
        :mod:`skadmm._splitting._output_factor`)."""
        chunk_rows, _ = self.chunks(self.W[k].shape[1])
        return move_gram(self.rw, self.input_of(k), self.W[k], self.Z[k], chunk_rows)

    def _forward_auxiliaries(self, run=None):
        self.run_row_blocks(self._forward_rows, run)
        self.link_sq[...] = 0.0
        if self.H:
            self.mark_forward_z0()

    def _forward_rows(self, rows):
        for k in range(self.H):
            Z, sZ = self.Z[k][rows], self.sZ[k][rows]
            if k == 0:
                # The accepted trial's product, when the line search kept it.
                self.first_layer_product(rows, Z)
            else:
                dense_product(self.input_of(k)[rows], self.W[k], Z)
            self.act(Z, out=sZ)
            U = self.U[k][rows, :-1]
            if k > 0:
                np.add(sZ, self.skip_of(k)[rows], out=U)
            else:
                U[...] = sZ

    def sweep_layer(self, k, with_output=True):
        self._update_weights(k)
        self.update_preactivation(k)
        if with_output:
            self.update_hidden(k)

    def update_boundary(self, k):
        # U_k is the input and the skip of layer k + 1: its links are refreshed
        # on the fly (a boundary is never the last hidden layer).
        self._update_inner(k, refresh_next=True)

    def _update_weights(self, k):
        """Ridge block: ``(beta A^T S A + diag) W = beta A^T S Z + tau W_old``."""
        A = self.input_of(k)
        rw = self.rw
        cross = rw.cross(A, self.Z[k])
        cross *= self.beta
        G = None if use_dual(*A.shape) else self.input_gram(k)
        self._ridge_step(k, A, cross, self.beta, G=G)

    def update_preactivation(self, k):
        """Elementwise ``Z_k`` step given ``a = A_k W_k`` and ``b = U_k - U_{k-1}``.

        Per row chunk: ``a`` (one matrix product); then per row block ``b``, the
        z-step, the link ``||a - Z||^2`` and ``s(Z)``.
        """
        A, W = self.input_of(k), self.W[k]
        U, skip = self.U[k][:, :-1], self.skip_of(k)
        Z, sZ = self.Z[k], self.sZ[k]
        act, rw = self.act, self.rw
        c = self.tau / self.beta
        n = Z.shape[1]
        pool = self.scratch(k)
        span_rows, group_rows, plan = self.groups(n)
        a_buf = pool.chunk("z-step a", span_rows, n)
        b_buf = pool.chunk("z-step b", group_rows, n)
        work = act.z_step_work(b_buf.shape, self.dtype)
        # Right after a reset, Z_1 is the product [X, 1] W_1 itself: the first
        # z-step of the sweep copies it (each span before its rows are
        # overwritten) instead of multiplying again.
        forward = k == 0 and self.take_forward_z0()
        link = 0.0
        # The products chunk by chunk, the exact elementwise passes once per
        # group, the reductions block by block: the values of one pass per
        # row block.
        for span, products, groups in plan:
            if forward:
                np.copyto(a_buf[: span.stop - span.start], Z[span])
            else:
                for chunk in products:
                    dense_product(A[chunk], W, a_buf[within(chunk, span)])
            for group, parts in groups:
                m = group.stop - group.start
                a = a_buf[within(group, span)]
                if skip is None:
                    b = U[group]
                else:
                    b = np.subtract(U[group], skip[group], out=b_buf[:m])
                Zg = Z[group]
                if self.first_order_targets:
                    # From the reset state s(Z) is still s(a).
                    gain = act.first_order_gain(sZ[group])
                act.z_step_block(
                    a, b, Zg, c, Zg, None if work is None else [w[:m] for w in work]
                )
                if self.first_order_targets:
                    Zg -= a
                    Zg *= gain
                    Zg += a
                a -= Zg
                for rows, _ in parts:
                    link += rw.sq_norm(a[within(rows, group)], rows)
                act(Zg, out=sZ[group])
        self.link_sq[k, 0] = link

    def update_hidden(self, k):
        """``U_k`` block: a quadratic with an ``n x n`` system per layer."""
        if k == self.H - 1:
            self.link_sq[k, 1] = self._update_last_hidden(self.sZ[k])
        else:
            self._update_inner(k)

    def _update_inner(self, k, refresh_next=False):
        """Solve ``U ((2 + c) I + V V^T) = RHS`` with ``c = tau/beta``.

        ``RHS = target + (Z_{k+1} - b) V^T + (U_{k+1} - s(Z_{k+1})) + c U_old``
        where ``target = s(Z_k) + U_{k-1}[k>=1]`` and ``V, b`` are the next
        layer's weights and bias. Each row is its own system, so the rows are
        solved chunk by chunk: ``Z_{k+1} V^T``, then ``RHS`` per row block, then
        ``RHS M^-1`` and the link ``||U - target||^2`` per row block. With
        ``refresh_next`` the links of layer ``k + 1``, whose input and skip
        ``U_k`` is, are refreshed from the same chunks.
        """
        U, skip = self.U[k][:, :-1], self.skip_of(k)
        W_next = self.W[k + 1]
        V, b = W_next[:-1], W_next[-1]
        Z_next, sZ, sZ_next = self.Z[k + 1], self.sZ[k], self.sZ[k + 1]
        U_next = self.U[k + 1][:, :-1]
        U_aug = self.U[k]
        rw = self.rw
        M = V @ V.T
        diag = np.einsum("ii->i", M)
        if self.linearized:
            diag += 2.0
            # The block's Hessian is beta M; the step is taken on beta * grad.
            step = self._lipschitz_step(self.beta * M)
        else:
            c = self.tau / self.beta
            diag += 2.0 + c
            inv = spd_inverse(M)
        bias = b @ V.T
        n = U.shape[1]
        pool = self.scratch(k)
        size, chunks = self.chunks(n)
        R, T = pool.chunk("c0", size, n), pool.chunk("c1", size, n)
        u_buf = pool.block("u", n)
        link = link_a = link_b = 0.0
        for chunk, parts in chunks:
            m = chunk.stop - chunk.start
            Rc, Tc = R[:m], T[:m]
            # Rc = RHS without c U_old:
            # (Z_{k+1} - b) V^T + target + U_{k+1} - s(Z_{k+1}).
            np.matmul(Z_next[chunk], V.T, out=Rc)
            for rows, local in parts:
                r, t = Rc[local], Tc[local]
                r -= bias
                if skip is None:
                    t[...] = sZ[rows]
                else:
                    np.add(sZ[rows], skip[rows], out=t)
                r += t
                r += U_next[rows]
                r -= sZ_next[rows]
                if not self.linearized:
                    u = np.multiply(U[rows], c, out=u_buf[: rows.stop - rows.start])
                    r += u
            if self.linearized:
                # U -= beta (U M - RHS) / step
                G = np.matmul(U[chunk], M, out=pool.chunk("c2", size, n)[:m])
                G -= Rc
                G *= self.beta
                G /= step
                U[chunk] -= G
            else:
                np.matmul(Rc, inv, out=U[chunk])
            for rows, local in parts:
                u = np.subtract(U[rows], Tc[local], out=u_buf[: rows.stop - rows.start])
                link += rw.sq_norm(u, rows)
            if refresh_next:
                a_chunk = np.matmul(U_aug[chunk], W_next, out=Rc)
                for rows, local in parts:
                    a = a_chunk[local]
                    a -= Z_next[rows]
                    link_a += rw.sq_norm(a, rows)
                    gap = np.subtract(
                        U_next[rows], U[rows], out=u_buf[: rows.stop - rows.start]
                    )
                    gap -= sZ_next[rows]
                    link_b += rw.sq_norm(gap, rows)
        self.link_sq[k, 1] = link
        if refresh_next:
            self.link_sq[k + 1] = link_a, link_b

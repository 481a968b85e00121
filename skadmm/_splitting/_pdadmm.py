"""The p/q relaxation of pdADMM (Wang et al., ICDM 2020) for residual networks.

Every layer ``l = 0 .. H`` (``H`` hidden layers, read-out ``H``) has its own
input ``p_l`` (``p_0 = X``, fixed) and, for a hidden layer, its pre-activation
``z_l`` and output ``q_l``; the read-out's pre-activation is the output ``O``.
The only hard constraints are the *linear* links ``p_{l+1} = q_l`` between
consecutive layers, with multipliers ``u_l``; everything else is a penalty of
weight ``nu`` (the estimator's ``beta``). With normalised row weights ``s`` and
``||.||_S`` the weighted norm, the augmented Lagrangian is::

    l(O; Y) + alpha/2 sum_l ||W_l without bias||^2
    + nu/2 sum_{l<H} ( ||z_l - [p_l, 1] W_l||_S^2
                       + ||q_l - p_l [l>=1] - s(z_l)||_S^2 )
    + nu/2 ||O - [p_H, 1] W_H||_S^2
    + sum_{l<H} ( <u_l, p_{l+1} - q_l>_S + rho/2 ||p_{l+1} - q_l||_S^2 )

(a residual block's output is its input plus ``s(z_l)``; the lifting layer has
no skip). One iteration, every layer at once (Jacobi) in two phases:

* phase A: every ``p_l`` (``l >= 1``), given its own layer and ``q_{l-1},
  u_{l-1}``: a quadratic, one ``n x n`` system per layer for all rows;
* phase B: per layer, ``W_l`` (ridge, with the proximal term ``tau``), then
  ``z_l`` (elementwise, proximal weight ``nu``, the activations' z-step), then
  ``q_l`` (closed form) and ``u_l += rho (p_{l+1} - q_l)``; for the read-out
  ``W_H`` and ``O`` (the loss's prox). Given the ``p`` of phase A, a layer's
  phase B reads nothing another layer writes.

Every layer is a task of each phase. No term of L_rho holds two blocks of the
same phase, so each phase is an exact block step and the result does not
depend on the order of the tasks nor on the threads that run them. See
``doc/pdadmm.rst``.

pdADMM-G-Q (``quantize``): the first quantized ``p_{l+1}``, ``q_l`` lie on a
fixed uniform level set per link (``skadmm._quantize``). With
``quantize_levels="fixed"`` (the paper's) they stay on it for the whole fit:
the q step rounds its minimiser onto it (exact over the levels), the p step is
the projected linearised step, and the codes alone cross the boundary (both
sides hold the level set). With ``"step"`` every later change of them lies on
uniform levels around zero re-chosen each iteration from the size of the
proposed change: the q step rounds its change (exact over those levels); the p
step takes per row the better of the rounded projected gradient step and the
rounded exact step, each kept only where it lowers its block enough, or stays;
the codes and a two-value header cross. What each layer sends is measured by
``encode``.
"""

import threading

import numpy as np

from .._linalg import augment, dense_product, largest_eigenvalue, spd_inverse, spd_solve
from .._network import l2_penalty
from .._quantize import StepLevels, UniformLevels
from .._rows import block_rows
from .._wide import dual_ridge_solve, use_dual
from ._base import Relaxation
from ._buffers import ScratchPool, augmented_empty

#: Weight of the proximal term of the z-steps, relative to ``nu`` (the paper's).
Z_PROX = 1.0


class PQRelaxation(Relaxation):
    """State and block updates of pdADMM on a residual network.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    Y : ndarray of shape (n_samples, n_outputs)
    sample_weight : ndarray of shape (n_samples,) or None
    weights : list of ndarray
        Initial weights, ``(fan_in + 1, fan_out)`` each, bias last; copied.
    activation : activation object from ``skadmm._activations``
    beta : float
        ``nu``, the weight of the penalties (``> 0``).
    rho : float
        Penalty of the links ``p_{l+1} = q_l``.
    tau : float
        Proximal weight of the ``W`` steps.
    alpha : float
        L2 strength.
    update : {"proximal"}
        Only exact block solves are implemented.
    loss : loss object from ``skadmm._losses``, default=None
        The data-fitting term (``None``: the squared loss).
    quantize : {None, "p", "q", "pq"}, default=None
        pdADMM-G-Q: send every ``p_{l+1}`` (``"p"``), every ``q_l``
        (``"q"``), or both (``"pq"``) as integer codes. They start on a fixed
        uniform level set per link (the rounded forward pass); each change of
        them lies on the levels of :class:`~skadmm._quantize.StepLevels`,
        chosen per iteration from the size of the unconstrained change. The
        ``q`` step is the exact minimiser over ``q`` plus those levels (its
        change rounded and clipped); the ``p`` step, per row, the better of
        the rounded projected gradient step and the rounded exact step, each
        kept only where it lowers its block enough (or no change).
    quantize_bits : {8, 16}, default=8
        Levels: ``2**quantize_bits``.
    quantize_levels : {"step", "fixed"}, default="step"
        ``"fixed"``: the quantized variables stay on their link's level set
        for the whole fit; the ``q`` step is its unconstrained minimiser
        rounded onto it, the ``p`` step the projected linearised step
        ``Pi(p - grad / (2 lambda_max))``, kept per row where it gives the
        decrease the descent of ``L_rho`` needs. ``"step"``: as described
        under ``quantize``.
    """

    name = "pq"

    def __init__(
        self,
        X,
        Y,
        sample_weight,
        weights,
        activation,
        *,
        update="proximal",
        quantize=None,
        quantize_bits=8,
        quantize_levels="step",
        **penalties,
    ):
        if update != "proximal":
            raise ValueError(
                "solver='pdadmm' solves every block exactly; "
                f"update={update!r} is not supported. Use update='proximal'."
            )
        dtype = X.dtype
        super().__init__(X, Y, sample_weight, weights, activation, **penalties)
        if quantize not in (None, "p", "q", "pq"):
            raise ValueError(
                f"quantize must be None, 'p', 'q' or 'pq'; got {quantize!r}."
            )
        if quantize_levels not in ("step", "fixed"):
            raise ValueError(
                f"quantize_levels must be 'step' or 'fixed'; got {quantize_levels!r}."
            )
        self.quantize = quantize
        self.quantize_bits = quantize_bits
        self.quantize_levels = quantize_levels
        # Per link l: the level set of the first quantized q_l, p_{l+1}, fixed
        # at the first forward pass (see skadmm._quantize).
        self.levels = [None] * self.H
        # What a quantized p_k (k >= 1) and q_k last sent: the codes and header
        # of its change ("step") or its codes ("fixed"); None before the first.
        self.p_steps = [None] * (self.H + 1)
        self.q_steps = [None] * self.H
        H = self.H
        N, m = Y.shape
        # P[l] = [p_l, 1], the augmented input of layer l (P[0] = [X, 1]).
        self.P = [augment(X)] + [
            augmented_empty(N, W.shape[1], dtype) for W in self.W[:-1]
        ]
        self.Z = [np.empty((N, W.shape[1]), dtype) for W in self.W[:-1]]
        self.Q = [np.empty_like(Z) for Z in self.Z]
        self.Mu = [np.zeros_like(Z) for Z in self.Z]
        self.O = np.empty((N, m), dtype)
        self.R = np.empty((N, m), dtype)
        self.zero_multiplier = np.zeros((N, m), dtype)
        # Per layer: ||z - a||^2, ||q - p - s(z)||^2, the coupling
        # <u, p_next - q> + rho/2 ||p_next - q||^2 and ||p_next - q||^2
        # (read-out: ||O - R||^2 in the first column). Valid after each phase B.
        self.links = np.zeros((H + 1, 4))
        # Bytes each layer sent across its boundaries in the last iteration,
        # per variable (see exchange_bytes).
        self.sent = [dict() for _ in range(H + 1)]
        self._pools = threading.local()
        self.set_regions([(0, H + 1)])
        self.reset_to_forward()

    @classmethod
    def layer_shell(cls, state, threaded_blas=False):
        """A problem holding one layer's part of the state (``state``: names to
        values, the other layers' entries ``None``), whose blocks of that layer
        run as in the whole problem (for a layer kept on its own worker)."""
        shell = cls.__new__(cls)
        for name, value in state.items():
            setattr(shell, name, value)
        shell._pools = threading.local()
        shell._chunk_cache = {}
        shell.set_threaded_blas(threaded_blas)
        shell.sent = [dict() for _ in range(shell.H + 1)]
        shell.regions = [(0, shell.H + 1)]
        return shell

    # ---------------------------------------------------------------- helpers
    def set_regions(self, regions):
        """Accept the estimator's regions of layers.

        Every layer is a task of each phase whatever the regions, and the
        iterates do not depend on them; the regions only set how many workers
        run the tasks (and the BLAS threads of each, see ``_parallel``).
        """
        self.regions = list(regions)

    def scratch(self, k):
        """Scratch buffers of the thread that runs the update of layer ``k``.

        One pool per thread: the workers pull the layers' tasks from a shared
        counter (a worker slowed by another process simply takes fewer), so
        two layers of one thread never run at once. Buffers are overwritten
        before use, so which pool a task gets never changes a value.
        """
        pool = getattr(self._pools, "pool", None)
        if pool is None:
            pool = self._pools.pool = ScratchPool(self.dtype)
        return pool

    def reset_to_forward(self):
        """Auxiliaries from the forward pass of the weights; multipliers zero.

        Every link is then satisfied and L_rho equals the training objective;
        the multiplier identity ``u_l = nu (q_l - p_l - s(z_l))`` holds.

        With ``quantize``, each ``q_l`` of the forward pass is projected onto
        its link's level set (fixed here, from the range of the first forward
        pass, widened), and ``p_{l+1}`` copies it: the links hold, the output
        links ``q_l = p_l + s(z_l)`` only up to the rounding.
        """
        for k in range(self.H):
            Z, Q = self.Z[k], self.Q[k]
            dense_product(self.P[k], self.W[k], Z)
            self.act(Z, out=Q)
            if k:
                Q += self.P[k][:, :-1]
            if self.quantize:
                if self.levels[k] is None:
                    self.levels[k] = UniformLevels.covering(Q, self.quantize_bits)
                if self.quantize == "p":
                    # q_k stays exact: only the next layer's input is rounded.
                    self.levels[k].project(Q, out=self.P[k + 1][:, :-1])
                else:
                    self.levels[k].project(Q)
            if self.quantize != "p":
                self.P[k + 1][:, :-1] = Q
            self.Mu[k][...] = 0.0
        dense_product(self.P[self.H], self.W[-1], self.R)
        self.O[...] = self.R
        self.links[...] = 0.0
        self.p_steps = [None] * (self.H + 1)
        self.q_steps = [None] * self.H
        # nu of the multiplier identity u = nu * (residual link).
        self.multiplier_nu = self.beta

    def sync_penalties(self):
        """Make the state consistent with the current ``beta``, ``rho``.

        A warm start may set new penalties on a kept state: the multipliers
        then no longer equal ``nu`` times their residual links (the identity
        the descent rests on), and the cached terms of L_rho used the old
        ``rho``. Rebuilds the multipliers if ``nu`` changed (which changes no
        bit otherwise) and recomputes every cached term from the state.
        """
        if self.beta != self.multiplier_nu:
            for k in range(self.H):
                r = self._residual_link(k, self.Mu[k])
                r *= self.beta
            self.multiplier_nu = self.beta
        rw = self.rw
        for k in range(self.H):
            a = self.P[k] @ self.W[k]
            a -= self.Z[k]
            r = self._residual_link(k, np.empty_like(self.Q[k]))
            g = self.P[k + 1][:, :-1] - self.Q[k]
            sq = rw.sq_norm(g)
            coupling = rw.inner(self.Mu[k], g) + 0.5 * self.rho * sq
            self.links[k] = rw.sq_norm(a), rw.sq_norm(r), coupling, sq
        dense_product(self.P[self.H], self.W[-1], self.R)
        self.links[self.H] = rw.sq_norm(self.O - self.R), 0.0, 0.0, 0.0

    def _residual_link(self, k, out):
        """``q_k - p_k[k>=1] - s(z_k)`` into ``out``."""
        self.act(self.Z[k], out=out)
        np.subtract(self.Q[k], out, out=out)
        if k:
            out -= self.P[k][:, :-1]
        return out

    # -------------------------------------------------------------- iteration
    def objective(self):
        """``L_rho`` of the current iterate and the RMS of all the links."""
        links = self.links
        reg = l2_penalty(self.W)
        penalty = float(links[:, 0].sum() + links[:, 1].sum())
        value = (
            self.loss.value(self.O, self.Y, self.rw)
            + 0.5 * self.alpha * reg
            + 0.5 * self.beta * penalty
            + float(links[:, 2].sum())
        )
        return value, float(np.sqrt(penalty + links[:, 3].sum()))

    # ---------------------------------------------------------------- phase A
    def update_input(self, k):
        """Block ``p_k`` (``k >= 1``), exact: ``p M = RHS`` row by row.

        Hidden layer: ``M = nu V V^T + (nu + rho) I`` and ``RHS = nu (z - b) V^T
        + nu (q - s(z)) - u_{k-1} + rho q_{k-1}``; read-out: ``M = nu V V^T +
        rho I`` and ``RHS = nu (O - b) V^T - u_{H-1} + rho q_{H-1}``, with
        ``V, b`` the layer's weights and bias.
        """
        if k == 0:
            return
        nu, rho = self.beta, self.rho
        hidden = k < self.H
        W = self.W[k]
        V = W[:-1]
        M = V @ V.T
        M *= nu
        np.einsum("ii->i", M)[...] += rho + (nu if hidden else 0.0)
        projected = self.quantize in ("p", "pq")
        if projected:
            # Step 1 / (2 lambda_max(M)) per row (the row weight cancels).
            step = 0.5 / largest_eigenvalue(M)
            inv = spd_inverse(M.copy())
            # The decrease per unit ||dp||^2 the descent argument needs.
            needed = 0.5 * (rho + (nu if hidden else 0.0))
        else:
            inv = spd_inverse(M)
        bias = W[-1] @ V.T
        bias *= nu
        target = self.Z[k] if hidden else self.O
        p = self.P[k][:, :-1]
        q_prev, u_prev = self.Q[k - 1], self.Mu[k - 1]
        n = p.shape[1]
        pool = self.scratch(k)
        size, chunks = self.chunks(n)
        if projected:
            # The quantized step needs every row's right-hand side: its levels
            # are chosen from the proposed change of the whole boundary.
            R = pool.chunk("p_rhs", p.shape[0], n)
        else:
            R = pool.chunk("c0", size, n)
        t_buf = pool.block("t", n)
        for chunk, parts in chunks:
            rows_out = R[chunk] if projected else R[: chunk.stop - chunk.start]
            Rc = np.matmul(target[chunk], V.T, out=rows_out)
            for rows, local in parts:
                r = Rc[local]
                r *= nu
                r -= bias
                t = t_buf[: rows.stop - rows.start]
                if hidden:
                    self.act(self.Z[k][rows], out=t)
                    np.subtract(self.Q[k][rows], t, out=t)
                    t *= nu
                    r += t
                r -= u_prev[rows]
                np.multiply(q_prev[rows], rho, out=t)
                r += t
            if not projected:
                np.matmul(Rc, inv, out=p[chunk])
        if projected and self.quantize_levels == "fixed":
            self._fixed_input_step(k, p, R, M, step, needed)
        elif projected:
            self._projected_input_step(k, p, R, M, step, inv, needed)
        self._record_sent(k, "p")

    def _fixed_input_step(self, k, p, rhs, M, step, needed):
        """Quantized ``p`` on its link's fixed levels (``quantize_levels=
        "fixed"``): the projected linearised step.

        Per row, the block is ``f(p) = p M p^T / 2 - rhs p^T`` (times the row
        weight) and ``p`` lies on the levels. The step is ``p + d`` with ``p +
        d = Pi(p - (p M - rhs) / tau)``, ``Pi`` the nearest level (elementwise:
        the levels are a grid) and ``tau = 2 lambda_max(M)``. ``d`` minimises
        ``grad d^T + tau/2 ||d||^2`` over the levels, where ``d = 0`` is one,
        and ``f`` lies below its linearisation plus ``lambda_max/2 ||d||^2``,
        so ``f`` falls by at least ``lambda_max/2 ||d||^2 >= needed ||d||^2``
        (``lambda_max >= nu + rho``): the decrease the descent of ``L_rho``
        rests on, with no backtracking since ``lambda_max`` is computed. Rows
        where rounding errors break it keep their ``p``. A row whose step is
        below half a level stays where it is (see ``doc/pdadmm.rst``).
        """
        levels = self.levels[k - 1]
        grad = p @ M
        grad -= rhs
        trial = np.multiply(grad, -step)
        trial += p
        codes = levels.codes(trial)
        change = levels.values(codes, out=trial)
        change -= p
        gain = _change_gain(change, M, grad)
        np.square(change, out=change)
        keep = gain <= -needed * change.sum(axis=1)
        p[keep] = levels.values(codes[keep])
        self.p_steps[k] = (levels.codes(p),)

    def _projected_input_step(self, k, p, rhs, M, step, inv, needed):
        """Quantized ``p`` (``quantize="p"``, ``"pq"``): a safeguarded step on
        the levels of the change (:class:`~skadmm._quantize.StepLevels`).

        Per row, the block is ``f(p) = p M p^T / 2 - rhs p^T`` (times the row
        weight). The levels of this iteration's change are chosen from the
        exact change ``d = rhs M^-1 - p`` of all rows (its largest element is
        ``2**(bits-1) - 1`` levels from zero); ``Pi`` rounds a change to them.
        Two candidates:

        * the projected gradient step ``p + Pi(-step (p M - rhs))``, kept
          where ``f`` does not increase. With ``step = 1 / (2 lambda_max(M))``
          and the zero change among the levels it lowers ``f`` by at least
          ``lambda_max / 2 ||dp||^2`` (so its test only guards against
          rounding);
        * the rounded exact step ``p + Pi(d)``, kept where it lowers ``f`` by
          at least ``needed ||dp||^2``: the decrease of the exact step that
          the descent of ``L_rho`` rests on.

        Each row takes the kept candidate of lower ``f``, or the zero change.
        What is sent is the chosen codes and the header of the levels; the
        receiver adds their values to its copy of ``p`` as done here. The
        levels follow the size of the change, so a ``p`` whose exact step
        shrinks keeps moving (with levels fixed over the range of ``p`` it
        stopped once the step was below half a level, see ``doc/pdadmm.rst``).
        """
        grad = p @ M
        grad -= rhs
        exact = rhs @ inv
        exact -= p
        levels = StepLevels.covering(exact, self.quantize_bits)
        exact_codes = levels.codes(exact)
        exact = levels.values(exact_codes, out=exact)
        exact_gain = _change_gain(exact, M, grad)
        trial = np.multiply(grad, -step)
        trial_codes = levels.codes(trial)
        trial = levels.values(trial_codes, out=trial)
        gain = _change_gain(trial, M, grad)
        np.square(exact, out=exact)
        sufficient = exact_gain <= -needed * exact.sum(axis=1)
        use_exact = sufficient & (exact_gain <= gain)
        use_trial = ~use_exact & (gain <= 0.0)
        codes = np.full(p.shape, levels.zero, dtype=levels.code_dtype)
        codes[use_trial] = trial_codes[use_trial]
        codes[use_exact] = exact_codes[use_exact]
        p += levels.values(codes, out=trial)
        self.p_steps[k] = levels.encode(codes)

    # ------------------------------------------------------------- exchanges
    def encode(self, name, k):
        """The arrays layer ``k`` sends for variable ``name`` each iteration.

        ``"p"``: ``p_k`` (``k >= 1``) to layer ``k - 1``; ``"q"``, ``"u"``:
        ``q_k``, ``u_k`` (``k < H``) to layer ``k + 1``. A quantized variable
        is the integer codes and the header ``[offset, step]`` of its last
        change (the receiver adds their values to the copy it holds), or of
        the variable on its link's levels before the first; any other is its
        float array.
        """
        if name == "p":
            if self.quantize in ("p", "pq") and self.p_steps[k] is not None:
                return self.p_steps[k]
            x = self.P[k][:, :-1]
            quantized = self.quantize in ("p", "pq")
            levels = self.levels[k - 1]
        else:
            quantized = name == "q" and self.quantize in ("q", "pq")
            if quantized and self.q_steps[k] is not None:
                return self.q_steps[k]
            x = self.Q[k] if name == "q" else self.Mu[k]
            levels = self.levels[k]
        if quantized and self.quantize_levels == "fixed":
            return (levels.codes(x),)
        if quantized:
            return levels.encode(x)
        return (x,)

    def store_sent(self, name, k, sent):
        """Store what layer ``k`` sent for ``name`` (``"p"`` or ``"q"``,
        :meth:`encode`'s arrays) into this problem's copy of the variable, as
        the sender holds it: the values of the codes on the link's fixed levels
        (``quantize_levels="fixed"``), the copy plus the decoded change
        (``"step"``), or the float array."""
        if name == "p":
            x, levels = self.P[k][:, :-1], self.levels[k - 1]
            quantized = self.quantize in ("p", "pq")
        else:
            x, levels = self.Q[k], self.levels[k]
            quantized = self.quantize in ("q", "pq")
        if not quantized:
            x[...] = sent[0]
        elif self.quantize_levels == "fixed":
            levels.values(sent[0], out=x)
        else:
            x += StepLevels.decode(*sent)

    def _record_sent(self, k, name):
        self.sent[k][name] = sum(a.nbytes for a in self.encode(name, k))

    def exchange_bytes(self):
        """Bytes sent across layer boundaries in the last iteration, by variable."""
        total = {"p": 0, "q": 0, "u": 0}
        for sent in self.sent:
            for name, nbytes in sent.items():
                total[name] += nbytes
        return total

    # ---------------------------------------------------------------- phase B
    def _ridge(self, k, target):
        """Block ``W_k``: ``(nu A^T S A + alpha' + tau) W = nu A^T S T + tau W``.

        A wide input (:func:`~skadmm._wide.use_dual`) is solved in the dual form.
        """
        A, nu, tau = self.P[k], self.beta, self.tau
        if use_dual(*A.shape):
            rhs = self.rw.cross(A, target)
            rhs *= nu
            rhs += tau * self.W[k]
            solved = dual_ridge_solve(A, self.rw, nu, self.alpha, tau, rhs)
            if solved is not None:
                self.W[k] = solved
                return
        G = self.rw.gram(A)
        G *= nu
        diag = np.einsum("ii->i", G)
        diag[:-1] += self.alpha
        diag += tau
        rhs = self.rw.cross(A, target)
        rhs *= nu
        rhs += tau * self.W[k]
        self.W[k] = spd_solve(G, rhs, overwrite_a=True)

    def update_layer(self, k):
        if k == self.H:
            self.update_readout()
        else:
            self.update_hidden(k)

    def update_readout(self):
        """``W_H`` (ridge on ``O``), then ``O``: the loss's prox at ``R``."""
        H = self.H
        self._ridge(H, self.O)
        dense_product(self.P[H], self.W[H], self.R)
        self.loss.output_step(self.R, self.zero_multiplier, self.Y, self.beta, self.O)
        self.links[H] = self.rw.sq_norm(self.O - self.R), 0.0, 0.0, 0.0

    def update_hidden(self, k):
        """``W_k``, then per row block ``z_k``, ``q_k``, ``u_k`` and the links.

        ``z``: the elementwise ``min (z - a)^2 + (b - s(z))^2 + (z - z_old)^2``
        with ``a = [p_k, 1] W_k`` and ``b = q_k - p_k[k>=1]``; ``q = (nu (p_k[k>=1]
        + s(z)) + u + rho p_{k+1}) / (nu + rho)``; ``u += rho (p_{k+1} - q)``.
        """
        self._ridge(k, self.Z[k])
        nu, rho, rw, act = self.beta, self.rho, self.rw, self.act
        A, W = self.P[k], self.W[k]
        skip = self.P[k][:, :-1] if k else None
        p_next = self.P[k + 1][:, :-1]
        Z, Q, Mu = self.Z[k], self.Q[k], self.Mu[k]
        n = Z.shape[1]
        pool = self.scratch(k)
        size, chunks = self.chunks(n)
        a_buf = pool.chunk("c0", size, n)
        b_buf, s_buf, g_buf = (pool.block(name, n) for name in ("b", "s", "g"))
        work = act.z_step_work(b_buf.shape, self.dtype)
        link_z = link_r = coupling = gap_sq = 0.0
        quantized = self.quantize in ("q", "pq")
        fixed = quantized and self.quantize_levels == "fixed"
        if fixed:
            # The codes of q on its link's levels, every row (what is sent).
            codes = np.empty(Q.shape, self.levels[k].code_dtype)
            quantized = False
        if quantized:
            # The unconstrained change of q, every row: its levels are chosen
            # from all of them (see _quantized_output_step).
            change = pool.chunk("q_change", Z.shape[0], n)
        for chunk, parts in chunks:
            a_chunk = dense_product(A[chunk], W, a_buf[: chunk.stop - chunk.start])
            for rows, local in parts:
                m = rows.stop - rows.start
                a, z, q, u = a_chunk[local], Z[rows], Q[rows], Mu[rows]
                b, s, g = b_buf[:m], s_buf[:m], g_buf[:m]
                if skip is None:
                    b[...] = q
                else:
                    np.subtract(q, skip[rows], out=b)
                act.z_step_block(
                    a, b, z, Z_PROX, z, None if work is None else [w[:m] for w in work]
                )
                a -= z
                link_z += rw.sq_norm(a, rows)
                # s = p_k[k>=1] + s(z): the layer's forward output.
                act(z, out=s)
                if skip is not None:
                    s += skip[rows]
                pn = p_next[rows]
                # The unconstrained minimiser (quantized: into g, q stays).
                qs = g if quantized else q
                np.multiply(s, nu, out=qs)
                qs += u
                np.multiply(pn, rho, out=b)
                qs += b
                qs /= nu + rho
                if quantized:
                    np.subtract(qs, q, out=change[rows])
                    continue
                if fixed:
                    # The exact minimiser over the fixed levels (separable,
                    # equal curvature): the unconstrained one rounded.
                    codes[rows] = self.levels[k].codes(q)
                    self.levels[k].values(codes[rows], out=q)
                np.subtract(q, s, out=s)
                link_r += rw.sq_norm(s, rows)
                np.subtract(pn, q, out=g)
                np.multiply(g, rho, out=b)
                u += b
                sq = rw.sq_norm(g, rows)
                gap_sq += sq
                coupling += rw.inner(u, g, rows) + 0.5 * rho * sq
        if quantized:
            link_r, coupling, gap_sq = self._quantized_output_step(k, change)
        if fixed:
            self.q_steps[k] = (codes,)
        self.links[k] = link_z, link_r, coupling, gap_sq
        self._record_sent(k, "q")
        self._record_sent(k, "u")

    def _quantized_output_step(self, k, change):
        """Quantized ``q`` (``quantize="q"``, ``"pq"``): ``q_k`` plus the
        unconstrained ``change`` rounded to the levels of the change
        (:class:`~skadmm._quantize.StepLevels`, chosen from its largest
        element), then ``u_k`` and the links; returns ``(||q - p - s(z)||^2,
        coupling, ||p_next - q||^2)``.

        The block is a separable quadratic of equal curvature, so the rounded
        change is its exact minimiser over ``q_k`` plus those levels; what is
        sent is their codes and header, which the receiver adds to its copy.
        """
        rho, rw, act = self.rho, self.rw, self.act
        skip = self.P[k][:, :-1] if k else None
        p_next = self.P[k + 1][:, :-1]
        Z, Q, Mu = self.Z[k], self.Q[k], self.Mu[k]
        levels = StepLevels.covering(change, self.quantize_bits)
        codes = levels.codes(change)
        Q += levels.values(codes, out=change)
        self.q_steps[k] = levels.encode(codes)
        pool = self.scratch(k)
        n = Z.shape[1]
        b_buf, s_buf, g_buf = (pool.block(name, n) for name in ("b", "s", "g"))
        link_r = coupling = gap_sq = 0.0
        blocks = [rows for _, parts in self.chunks(n)[1] for rows, _ in parts]
        for rows in blocks:
            m = rows.stop - rows.start
            q, u, b, s, g = Q[rows], Mu[rows], b_buf[:m], s_buf[:m], g_buf[:m]
            act(Z[rows], out=s)
            if skip is not None:
                s += skip[rows]
            np.subtract(q, s, out=s)
            link_r += rw.sq_norm(s, rows)
            np.subtract(p_next[rows], q, out=g)
            np.multiply(g, rho, out=b)
            u += b
            sq = rw.sq_norm(g, rows)
            gap_sq += sq
            coupling += rw.inner(u, g, rows) + 0.5 * rho * sq
        return link_r, coupling, gap_sq

    # ------------------------------------------------------------------ memory
    @classmethod
    def state_arrays(cls, n_samples, n_features, width, n_hidden, n_outputs):
        """Elements of the arrays the state holds for its whole life, by name."""
        return {
            "augmented input [X, 1]": n_samples * (n_features + 1),
            "O, R and a zero multiplier": 3 * n_samples * n_outputs,
            "p (augmented)": n_hidden * n_samples * (width + 1),
            "z, q, u": 3 * n_hidden * n_samples * width,
        }

    @classmethod
    def scratch_arrays(
        cls, n_samples, width, chunk_rows, linearized, reset=False, group_blocks=1
    ):
        """Elements of one task's scratch pool, by name.

        Without ``quantize``: a quantized ``p`` step also takes an
        ``n_samples x width`` right-hand side and about four temporaries of
        that size, a quantized ``q`` step an ``n_samples x width`` change and
        its codes (their levels are chosen over all rows), not counted here.
        """
        return {
            "chunk buffers": chunk_rows * width,
            # b, s, g, the p-step's t and the relu z-step's three work arrays.
            "block buffers": 7 * block_rows(width) * width,
        }


def _change_gain(d, M, grad):
    """Per row, ``f(p + d) - f(p)`` of ``f(p) = p M p^T / 2 - rhs p^T``
    (``grad``: ``p M - rhs``): ``d (grad + d M / 2)^T``."""
    change = d @ M
    change *= 0.5
    change += grad
    change *= d
    return change.sum(axis=1)


__all__ = ["PQRelaxation", "Z_PROX"]

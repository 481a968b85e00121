"""State and block updates shared by the relaxations of the residual network.

Indexing is 0-based: hidden layer ``k = 0 .. H-1`` has weights ``W[k]`` and input
``A_k = [U_{k-1}, 1]`` (``[X, 1]`` for ``k = 0``); ``W[H]`` is the read-out. The
hidden outputs ``U[k]`` are stored *augmented*, as ``N x (n + 1)`` buffers whose last
column is one, so ``A_k`` is a buffer and never a concatenation.

L_rho (with normalised row weights ``s``, ``||.||_S`` the weighted norm)::

    l(O; Y) + alpha/2 sum_k ||W_k without bias||^2    (l: the loss, weighted)
    + beta/2 * (relaxation penalties of the splitting)
    + <Lam, O - R>_S + rho/2 ||O - R||_S^2,        R = [U_{H-1}, 1] W_H
"""

import copy
from abc import ABC, abstractmethod
from functools import partial

import numpy as np
import scipy.sparse as sp
from sklearn.utils import gen_even_slices

from .._linalg import (
    augment,
    dense_product,
    largest_eigenvalue,
    outer_product,
    spd_inverse,
    spd_solve,
)
from .._losses import SquaredLoss
from .._network import l2_penalty
from .._rows import (
    RowWeights,
    block_rows,
    blocks_per_group,
    chunk_groups,
    row_chunks,
    within,
)
from .._wide import (
    dual_hessian_product,
    dual_largest_eigenvalue,
    dual_ridge_solve,
    use_dual,
)
from ._buffers import ScratchPool, augmented_empty
from ._reset_hooks import LocalResetHooks


class Relaxation:
    """What every relaxed training problem holds, whatever its splitting.

    Data, weights, loss and penalties (the constructor), copies of
    the weights and the row chunks of the matrix products (:meth:`chunks`).
    """

    def __init__(
        self,
        X,
        Y,
        sample_weight,
        weights,
        activation,
        *,
        beta,
        rho,
        tau,
        alpha,
        loss=None,
        threaded_blas=False,
        row_weights=None,
        workspace=None,
    ):
        """Set ``dtype``, ``act``, ``loss`` (``None``: the squared loss), the
        penalties by name, ``rw`` (row weights), ``Y``, ``W`` (C-ordered copies
        in the data's dtype) and ``H`` (hidden layers).

        ``threaded_blas``: the fit's products run on several BLAS threads
        (decided once per fit, see :meth:`set_threaded_blas`). ``row_weights``:
        the rows' :class:`~skadmm._rows.RowWeights` when they are part of a
        larger set (a shard of a sharded fit: normalised over all its rows);
        by default those of ``sample_weight``.
        """
        dtype = X.dtype
        self.dtype = dtype
        self.act = activation
        self.loss = SquaredLoss() if loss is None else loss
        self.beta, self.rho, self.tau, self.alpha = beta, rho, tau, alpha
        self.rw = (
            RowWeights(sample_weight, X.shape[0], dtype)
            if row_weights is None
            else row_weights
        )
        self.Y = Y
        self.W = [np.array(W, dtype=dtype, order="C") for W in weights]
        self.H = len(self.W) - 1
        self._chunk_cache = {}
        self._workspace = workspace
        self.set_threaded_blas(threaded_blas)

    def _row_array(self, name, width, augmented=False):
        """A new ``n_samples x width`` array (``augmented``: ``[., 1]``), or
        one of the workspace's (see :class:`~skadmm._splitting._buffers.Workspace`)."""
        n, space = self.rw.n_samples, self._workspace
        if space is not None:
            return space.rows(name, n, width, self.dtype, augmented)
        if augmented:
            return augmented_empty(n, width, self.dtype)
        return np.empty((n, width), dtype=self.dtype)

    def set_threaded_blas(self, threaded):
        """Multiply whole arrays (threaded BLAS) or row chunks from now on.

        Every BLAS call wakes all its threads: with threaded BLAS, hundreds of
        small products per update cost far more than the cache misses of whole
        ones. A kept problem (``warm_start``) takes the new fit's setting.
        """
        #: Matrix products over all rows at once, or per row chunk.
        self.whole_products = bool(threaded)
        self.rw.set_split_dots(self.whole_products)

    def set_weights(self, weights):
        """Replace the weights by copies of ``weights`` (in the data's dtype)."""
        self.W[:] = [np.array(W, dtype=self.dtype, order="C") for W in weights]

    def set_layer_weights(self, k, W):
        """Replace the weights of layer ``k`` by a copy of ``W``."""
        self.W[k] = np.array(W, dtype=self.dtype, order="C")

    def set_penalties(self, **penalties):
        """New penalties (``alpha``, ``beta``, ...) on the kept state of a
        warm-started fit; a relaxation whose state depends on them brings it
        in line."""
        for name, value in penalties.items():
            setattr(self, name, value)

    def weights(self):
        """Copies of the current weights."""
        return [W.copy() for W in self.W]

    def chunks(self, width):
        """Row chunks of an ``n_samples x width`` array for the products.

        Returns ``(chunk_rows, [(chunk, parts), ...])`` (see
        :func:`~skadmm._rows.row_chunks`). The row-separable updates
        compute each chunk's matrix products, then run their elementwise work and
        reductions over the chunk's row blocks, which stay in cache. With
        single-threaded BLAS a chunk is one row block, so a product's output is
        used while still in cache; with threaded BLAS (``whole_products``) it is
        all the rows: every BLAS call wakes all its threads, and hundreds of
        small calls per update cost far more than the cache misses, above all on
        a loaded machine. Both give the same values up to the rounding of the
        products.
        """
        key = (width, self.whole_products)
        found = self._chunk_cache.get(key)
        if found is None:
            found = row_chunks(self.rw.n_samples, width, self.whole_products)
            self._chunk_cache[key] = found
        return found

    def groups(self, width):
        """The chunks of :meth:`chunks` planned for the elementwise passes.

        Returns ``(span_rows, group_rows, plan)``: the largest span and group
        and the plan of :func:`~skadmm._rows.chunk_groups`, groups of a
        float64 row block's bytes.
        """
        key = ("groups", width, self.whole_products)
        found = self._chunk_cache.get(key)
        if found is None:
            size, chunks = self.chunks(width)
            plan = chunk_groups(chunks, blocks_per_group(self.dtype))
            spans = [span.stop - span.start for span, _, _ in plan]
            groups = [g.stop - g.start for _, _, gs in plan for g, _ in gs]
            found = (max(spans, default=size), max(groups, default=size), plan)
            self._chunk_cache[key] = found
        return found


class SplitRelaxation(LocalResetHooks, Relaxation, ABC):
    """Base class: a relaxed training problem together with its current iterate.

    Subclasses define the hidden-layer blocks (``sweep_layer``), the relaxation
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
    loss : loss object from ``skadmm._losses``, default=None
        The data-fitting term (``None``: the squared loss).
    threaded_blas : bool, default=False
        The fit's products run on several BLAS threads (whole products).
    augmented_input : ndarray or sparse matrix, default=None
        ``[X, 1]``, of shape ``(n_samples, n_features + 1)``, when the caller
        keeps it (a streamed row shard, which builds a relaxation of its rows
        at every call); used, not copied.
    """

    name = None
    #: Per-row state arrays (each of shape ``(n_samples, ...)``, or lists of
    #: them), which a row view (:meth:`_row_view`) takes the rows of.
    row_arrays = ("X_aug", "Y", "O", "Lam", "R", "U")
    #: Every block of :meth:`backward_sweep` is solved row by row, so the sweep
    #: can run on row blocks as separate tasks.
    row_separable_sweep = False

    def __init__(
        self,
        X,
        Y,
        sample_weight,
        weights,
        activation,
        *,
        update,
        augmented_input=None,
        **penalties,
    ):
        dtype = X.dtype
        super().__init__(X, Y, sample_weight, weights, activation, **penalties)
        self.linearized = update == "linearized"
        space = self._workspace
        if augmented_input is not None:
            self.X_aug = augmented_input
        elif space is None or sp.issparse(X):
            self.X_aug = augment(X)
        else:
            self.X_aug = space.augment("X_aug", X)
        m = Y.shape[1]
        self.O = self._row_array("O", m)
        self.Lam = self._row_array("Lam", m)
        self.R = self._row_array("R", m)
        self.U = [
            self._row_array(f"U{k}", W.shape[1], augmented=True)
            for k, W in enumerate(self.W[:-1])
        ]
        # Cached ||.||_S^2 of each relaxation link, valid after every sweep.
        self.link_sq = np.zeros((self.H, 2))
        # Scratch buffers of each region's tasks (see ``scratch``).
        self._pools = {} if space is None else space.pools_for(dtype)
        # Scratch pools and row chunks of the row views, by row block.
        self._block_scratch = {}
        self.set_regions([(0, self.H + 1)])
        self._init_hidden()
        self.set_readout_output()
        self.O[...] = self.R
        # The multiplier identity Lam = -grad l(O) holds from the start.
        self.loss.gradient(self.O, self.Y, out=self.Lam)
        np.negative(self.Lam, out=self.Lam)

    # ---------------------------------------------------------------- helpers
    def input_of(self, k):
        """``A_k``: the augmented input of layer ``k``."""
        return self.X_aug if k == 0 else self.U[k - 1]

    def run_row_blocks(self, task, run=None):
        """``task(rows)`` for one row block per region, as one phase of ``run``.

        The blocks are fixed by the regions (not by the workers), so results do
        not depend on ``n_jobs``; without ``run``, or with one region, ``task``
        sees all the rows at once.
        """
        n_blocks = len(self.regions)
        if run is None or n_blocks == 1:
            task(slice(None))
            return
        blocks = gen_even_slices(self.rw.n_samples, n_blocks)
        run([partial(task, rows) for rows in blocks])

    def input_gram(self, k):
        """``A_k^T S A_k`` (a new array the caller may modify).

        The lifting layer's input ``[X, 1]`` never changes, so its Gram matrix
        is computed once per problem: ``O(n_samples * n_features^2)`` saved on
        every weight step, the largest saving on wide inputs.
        """
        A = self.input_of(k)
        if k > 0:
            return self.rw.gram(A)
        cached = getattr(self, "_input_gram_cache", None)
        if cached is None or cached[0] is not self.rw:
            cached = self._input_gram_cache = (self.rw, self.rw.gram(A))
        return cached[1].copy()

    def skip_of(self, k):
        """``U_{k-1}`` for residual blocks, ``None`` for the lifting layer."""
        return None if k == 0 else self.U[k - 1][:, :-1]

    def scratch(self, k):
        """Scratch buffers for the updates of layer ``k``.

        One pool per region: the tasks of a phase (one per region, or one per
        boundary, which belongs to the region it ends) never share a pool, so
        they may run on any threads. Buffers are overwritten before use; which
        buffer an update gets never changes a value.
        """
        key = self._region_of[k]
        pool = self._pools.get(key)
        if pool is None:
            pool = self._pools[key] = ScratchPool(self.dtype)
        return pool

    def _ridge_step(self, k, A, rhs, curvature, alpha=None, tau=None, G=None):
        """Block ``W_k`` given its input ``A`` and the linear term ``rhs``.

        Minimises ``curvature/2 <W, G W> - <rhs, W> + alpha/2 ||W'||^2`` plus the
        proximal term ``tau/2 ||W - W_old||^2`` (exact), or takes one proximal
        gradient step on it (linearized), with ``G = A^T S A`` (passed if
        known). ``alpha`` and ``tau`` default to the problem's. An input much
        wider than its rows (:func:`~skadmm._wide.use_dual`) takes the dual
        form, which never forms ``G``.
        """
        alpha = self.alpha if alpha is None else alpha
        tau = self.tau if tau is None else tau
        W = self.W[k]
        if use_dual(*A.shape) and self._dual_ridge_step(
            k, A, rhs, curvature, alpha, tau
        ):
            return
        if G is None:
            G = self.rw.gram(A)
        self.W[k] = ridge_block(W, G, rhs, curvature, alpha, tau, self.linearized)

    def _dual_ridge_step(self, k, A, rhs, curvature, alpha, tau):
        """:meth:`_ridge_step` on a wide input, in ``N x N`` systems; ``False``
        when the step has no penalty at all (the primal step then runs)."""
        W, rw = self.W[k], self.rw
        if self.linearized:
            grad = dual_hessian_product(A, rw, curvature, alpha, W)
            grad -= rhs
            top = dual_largest_eigenvalue(A, rw, curvature, alpha)
            self.W[k] = W - grad / max(self.tau, top)
            return True
        solved = dual_ridge_solve(A, rw, curvature, alpha, tau, rhs + tau * W)
        if solved is None:
            return False
        self.W[k] = solved
        return True

    def _lipschitz_step(self, hessian):
        """Proximal weight of a quadratic block (see :func:`lipschitz_step`)."""
        return lipschitz_step(hessian, self.tau)

    # ------------------------------------------------------ read-out & output
    def _update_last_hidden(self, S):
        """Block ``U_{H-1}``, a quadratic; returns its link ``||U - target||_S^2``.

        ``target = S + U_{H-2}[H>1]`` with ``S`` the activation output of the
        layer (``s(Z)`` or ``s(A W)``). Solves ``U ((beta + tau) I + rho V V^T)
        = beta target + (Lam + rho (O - b)) V^T + tau U_old`` with ``V, b`` the
        read-out, chunk by chunk of rows (each row is its own system).
        """
        k = self.H - 1
        U, skip = self.U[k][:, :-1], self.skip_of(k)
        V, b = self.W[-1][:-1], self.W[-1][-1]
        beta, tau, rw = self.beta, self.tau, self.rw
        pull = self.O - b
        pull *= self.rho
        pull += self.Lam
        M = self.rho * (V @ V.T)
        diag = np.einsum("ii->i", M)
        if self.linearized:
            diag += beta
            step = self._lipschitz_step(M)
        else:
            diag += beta + tau
            # U = (beta target + tau U) M^-1 + pull V^T M^-1, two matrix products.
            inv = spd_inverse(M)
            pull_inv = V.T @ inv
        n = U.shape[1]
        pool = self.scratch(k)
        size, chunks = self.chunks(n)
        T, R = pool.chunk("c0", size, n), pool.chunk("c1", size, n)
        u_buf = pool.block("u", n)
        link = 0.0
        for chunk, parts in chunks:
            m = chunk.stop - chunk.start
            Tc, Rc = T[:m], R[:m]
            if self.linearized:
                # U -= (U M - rhs) / step with rhs = pull V^T + beta target.
                outer_product(pull[chunk], V.T, out=Rc)
            for rows, local in parts:
                t = Tc[local]
                if skip is None:
                    t[...] = S[rows]
                else:
                    np.add(S[rows], skip[rows], out=t)
                u = u_buf[: rows.stop - rows.start]
                np.multiply(t, beta, out=u)
                if self.linearized:
                    Rc[local] += u
                else:
                    np.multiply(U[rows], tau, out=Rc[local])
                    Rc[local] += u
            if self.linearized:
                G = np.matmul(U[chunk], M, out=pool.chunk("c2", size, n)[:m])
                G -= Rc
                G /= step
                U[chunk] -= G
            else:
                np.matmul(Rc, inv, out=U[chunk])
                np.matmul(pull[chunk], pull_inv, out=Rc)
            for rows, local in parts:
                Ub = U[rows]
                if not self.linearized:
                    Ub += Rc[local]
                u = np.subtract(Ub, Tc[local], out=u_buf[: rows.stop - rows.start])
                link += rw.sq_norm(u, rows)
        return link

    def update_readout(self):
        """Block ``W_H``: ridge on ``A = [U_{H-1}, 1]`` with target ``O + Lam/rho``."""
        A = self.input_of(self.H)
        rhs = self.rw.cross(A, self.rho * self.O + self.Lam)
        self._ridge_step(self.H, A, rhs, self.rho)
        self.set_readout_output()

    def set_readout_output(self):
        dense_product(self.input_of(self.H)[:, :-1], self.W[-1][:-1], self.R)
        self.R += self.W[-1][-1]

    def update_output(self):
        """Exact ``O`` step: the loss's per-row prox at ``R - Lam / rho``."""
        self.loss.output_step(self.R, self.Lam, self.Y, self.rho, self.O)

    def update_multiplier(self):
        """``Lam += rho (O - R)``; after the ``O`` step, ``Lam = -grad l(O)``."""
        self.Lam += self.rho * (self.O - self.R)

    # ------------------------------------------------------------ iteration
    def set_regions(self, regions):
        """Use the regions ``[(start, stop), ...]`` of layers ``0 .. H`` (read-out H).

        The last hidden output of every region but the last is a *boundary*: it
        is updated in a second phase, once all the regions have been swept.
        """
        self.regions = list(regions)
        self.boundaries = [stop - 1 for _, stop in self.regions[:-1]]
        self._region_of = {
            k: start for start, stop in self.regions for k in range(start, stop)
        }

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
        reg = l2_penalty(self.W)
        value = (
            self.loss.value(self.O, self.Y, rw)
            + 0.5 * self.alpha * reg
            + 0.5 * self.beta * penalty
            + rw.inner(self.Lam, gap)
            + 0.5 * self.rho * gap_sq
        )
        return value, float(np.sqrt(gap_sq + penalty))

    # ------------------------------------------------- forward-reset hooks
    def _descend_last_hidden(self):
        """Reset mode: block ``U_{H-1}`` against the loss, the read-out held.

        Minimises ``l(U V + b; Y) + beta/2 ||U - T||_S^2`` where ``T`` is the
        forward value of ``U`` (the reset state), with the loss replaced by its
        quadratic majoriser at ``T`` (curvature ``c``; exact for the squared
        loss). The minimiser is ``T - E K V^T`` with ``E`` the loss gradient at
        the forward output and ``K = (beta I + c V^T V)^-1`` (Woodbury):
        ``O(n_samples * width * n_outputs)`` instead of a ``width x width``
        solve applied to every row. Returns the link ``||U - T||_S^2``.
        """
        k = self.H - 1
        U_aug = self.U[k]
        U = U_aug[:, :-1]
        readout = self.W[-1]
        V = readout[:-1]
        K = V.T @ V
        if self.loss.curvature != 1.0:
            K *= self.loss.curvature
        K[np.diag_indices_from(K)] += self.beta
        M = spd_solve(K, V.T, overwrite_a=True)
        # Chunk by chunk, so that each row block's correction is applied and
        # measured while in cache (five passes over every row otherwise); the
        # exact elementwise passes once per group of blocks (see ``groups``).
        width, pool = U.shape[1], self.scratch(k)
        span_rows, group_rows, plan = self.groups(width)
        E_buf = pool.chunk("e", span_rows, readout.shape[1])
        D_buf = pool.chunk("d", group_rows, width)
        # A single output's E V^T is a broadcast product, exact elementwise:
        # once per group; wider ones are products, block by block.
        broadcast = readout.shape[1] == 1
        link = 0.0
        for span, products, groups in plan:
            E = E_buf[: span.stop - span.start]
            for chunk in products:
                np.matmul(U_aug[chunk], readout, out=E[within(chunk, span)])
            self.loss.gradient(E, self.Y[span], out=E)
            for group, parts in groups:
                D = D_buf[: group.stop - group.start]
                if broadcast:
                    outer_product(E[within(group, span)], M, out=D)
                else:
                    for rows, _ in parts:
                        outer_product(
                            E[within(rows, span)], M, out=D[within(rows, group)]
                        )
                U[group] -= D
                for rows, _ in parts:
                    link += self.rw.sq_norm(D[within(rows, group)], rows)
        return link

    @abstractmethod
    def reset_to_forward(self):
        """Set the auxiliaries and ``R`` to the forward pass of the weights.

        Every relaxation penalty is then zero (the links are reset too).
        """

    def backward_sweep(self, beta, run=None):
        """Reset mode: move the auxiliaries from the reset state, top layer first.

        ``beta``: the relaxation weight of this sweep (the mode's ``1 / eta``).

        ``U_{H-1}`` against the loss (:meth:`_descend_last_hidden`), then the
        splitting's blocks of every lower layer, each seeing the blocks just
        moved above it, so the output error reaches every layer in one sweep.

        With ``run`` and a row-separable sweep (``row_separable_sweep``), the
        sweep runs as one task per row block, one block per region: the blocks
        are fixed by the regions, as in :meth:`run_row_blocks`, and every row
        gets the values of the sweep over all rows (only the links, summed
        block by block, round differently).
        """
        self.beta = beta
        if run is None or len(self.regions) == 1 or not self.row_separable_sweep:
            self._backward_sweep()
            return
        blocks = gen_even_slices(self.rw.n_samples, len(self.regions))
        views = [self._row_view(rows, i) for i, rows in enumerate(blocks)]
        run([view._backward_sweep for view in views])
        np.sum([view.link_sq for view in views], axis=0, out=self.link_sq)

    @abstractmethod
    def _backward_sweep(self):
        """The backward sweep over all the rows of this problem (or row view)."""

    def _row_view(self, rows, block):
        """This problem restricted to the rows ``rows``: views of its arrays.

        The weights and penalties are this problem's (the same list of
        weights), the row weights are restricted (:meth:`RowWeights.restrict`),
        and the view updates its rows of the state in place. Row block
        ``block`` keeps one scratch pool and its row chunks across iterations.
        """
        view = copy.copy(self)
        view.rw = self.rw.restrict(rows)
        for name in self.row_arrays:
            value = getattr(self, name)
            if isinstance(value, list):
                setattr(view, name, [A[rows] for A in value])
            else:
                setattr(view, name, value[rows])
        view.link_sq = np.zeros_like(self.link_sq)
        pools, chunks = self._block_scratch.setdefault(block, ({}, {}))
        view._pools, view._chunk_cache = pools, chunks
        # One pool for all the layers of the block: its sweep is sequential.
        view._region_of = dict.fromkeys(self._region_of, 0)
        return view

    @abstractmethod
    def reset_w_step(self, k, eta, mu):
        """Reset mode: weights of hidden layer ``k`` against its new target.

        ``eta`` is the step (``beta = 1 / eta``) and ``mu`` the proximal weight
        relative to the input's scale. The steps of different layers read and
        write disjoint state (no scratch pool), so they may run at once.
        """

    @classmethod
    def reset_step_arrays(cls, n_samples, width, chunk_rows):
        """Elements of the temporaries of one :meth:`reset_w_step`, by name."""
        return {}

    # ------------------------------------------------------------ interface
    @abstractmethod
    def _init_hidden(self):
        """See the class docstring."""

    @abstractmethod
    def sweep_layer(self, k, with_output=True):
        """Blocks of hidden layer ``k``; its output ``U_k`` only if ``with_output``."""

    @abstractmethod
    def update_boundary(self, k):
        """Phase B: the boundary ``U_k`` and the cached links that depend on it."""

    @classmethod
    def state_arrays(cls, n_samples, n_features, width, n_hidden, n_outputs):
        """Elements of the arrays the state holds for its whole life, by name.

        The memory guard (``skadmm._memory``) sums these before anything is
        allocated, so a subclass that adds a state array must declare it here.
        """
        return {
            "augmented input [X, 1]": n_samples * (n_features + 1),
            "O, Lam, R": 3 * n_samples * n_outputs,
            "U (augmented)": n_hidden * n_samples * (width + 1),
        }

    @classmethod
    def scratch_arrays(
        cls, n_samples, width, chunk_rows, linearized, reset=False, group_blocks=1
    ):
        """Elements of one region's scratch pool (see :meth:`scratch`), by name.

        ``chunk_rows`` is the height of a row chunk (:meth:`chunks`): one row
        block with single-threaded BLAS, all the rows with threaded BLAS.
        ``reset``: the pool of the forward-reset mode (``solver="reset"``).
        ``group_blocks``: row blocks per group of elementwise passes
        (:func:`~skadmm._rows.blocks_per_group` of the fit's dtype).
        """
        group = min(n_samples, block_rows(width) * group_blocks) * width
        return {
            "chunk buffers": (3 if linearized else 2) * chunk_rows * width,
            # The z-step's products, a span of chunks (see ``groups``).
            "z-step products": min(n_samples, chunk_rows * group_blocks) * width,
            # Group buffers and the z-step's work arrays (the reset mode: and
            # the last hidden block's correction, see _descend_last_hidden,
            # whose output errors, a few columns, are not counted).
            "group buffers": (6 if reset else 5) * group,
        }


def ridge_block(W, G, rhs, curvature, alpha, tau, linearized):
    """The new weights of a ridge block from the Gram matrix ``G = A^T S A``.

    Minimises ``curvature/2 <W, G W> - <rhs, W> + alpha/2 ||W'||^2 + tau/2
    ||W - W_old||^2`` (``W'``: the weights without the bias row), exactly, or
    by one proximal-gradient step (``linearized``). A relaxation in this
    process and the driver of a sharded fit (whose ``G`` and ``rhs`` are sums
    gathered from its shards) solve their blocks with it.
    """
    Hm = curvature * G
    diag = np.einsum("ii->i", Hm)
    diag[:-1] += alpha
    if linearized:
        grad = Hm @ W - rhs
        return W - grad / lipschitz_step(Hm, tau)
    diag += tau
    return spd_solve(Hm, rhs + tau * W, overwrite_a=True)


def lipschitz_step(hessian, tau):
    """Proximal weight ``t = max(tau, lambda_max(hessian))`` of a quadratic block.

    With ``t`` at least the largest curvature the backtracking test
    ``f(x - g/t) <= f(x) - |g|^2/(2t)`` always holds, so no trial evaluation
    is needed. The step depends on the Hessian only (not on the gradient's
    direction), which keeps the iteration insensitive to rounding.
    """
    return max(tau, largest_eigenvalue(hessian))

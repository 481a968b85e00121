"""One fit sharded over the row chunks of a Dask collection (driver side).

Every weight step of the forward-reset mode and of RADMM is a ridge system
whose data enter only through sums over rows (``A^T S A``, ``A^T S B``), and
every auxiliary step is row by row. So the rows stay on the Dask workers that
hold them (:class:`~skadmm._shard.RowShard`, pinned by
:mod:`skadmm._pinned`), each chunk with its auxiliaries and multipliers, and
per iteration only weights go out while ``width x width`` sums and scalars
come back. :class:`ShardedProblem` sums them *per chunk, in chunk order*
(whatever the workers), solves on the driver with the in-process problem's
own ridge step, and is driven by the unchanged solvers: the iterates are the
in-process fit's up to the rounding of the sums (see the page "Scaling out").
"""

import numpy as np

from ._linalg import spd_factor, spd_solve
from ._losses import SquaredLoss, newton_readout
from ._monitor import ForwardMonitor
from ._network import l2_penalty
from ._splitting._base import ridge_block
from ._splitting._output_factor import OutputFactor
from ._targets import RegressionTarget
from ._wide import use_dual

#: Solver modes that run sharded (the others' blocks make row-coupled
#: decisions, see the page "Scaling out").
SHARDED_SOLVERS = ("reset", "radmm")


class ShardSet:
    """The pinned row shards and the fixed order of their chunks.

    ``chunks[i]``: the chunk indices shard ``i`` holds (increasing), and
    ``validation``: the validation chunk indices. A call returns, per shard, a
    list over its training (or validation, or all) chunks; :meth:`gather`
    turns that into one list in increasing chunk order, which is the order of
    every sum, so results do not depend on the workers.
    """

    def __init__(self, pinned, chunks, validation, count_bytes=True):
        self.pinned, self.chunks = pinned, chunks
        self.validation = set(validation)
        #: Whether to count the bytes sent and received (shards in other
        #: processes; in-process row blocks exchange nothing).
        self.count_bytes = count_bytes
        self.sent = self.received = 0

    def call(self, method, *args, kind="train"):
        """``method(*args)`` on every shard; the per-chunk results in chunk order."""
        results = self.pinned.call(method, *args)
        if self.count_bytes:
            self.sent += len(self.pinned) * _nbytes(args)
            self.received += _nbytes(results)
        if all(result is None for result in results):  # a command, no sums
            return None
        return self.gather(results, kind)

    def gather(self, results, kind):
        pairs = []
        for held, result in zip(self.chunks, results, strict=True):
            if kind == "train":
                held = [c for c in held if c not in self.validation]
            elif kind == "validation":
                held = [c for c in held if c in self.validation]
            pairs.extend(zip(held, result, strict=True))
        return [r for _, r in sorted(pairs, key=lambda pair: pair[0])]

    def total(self, method, *args, kind="train"):
        """The sum over chunks, in chunk order, of ``method(*args)``'s results."""
        return sum_in_order(self.call(method, *args, kind=kind))


def sum_in_order(items):
    """``items[0] + items[1] + ...`` left to right (tuples elementwise)."""
    items = list(items)
    first = items[0]
    if isinstance(first, tuple):
        return tuple(
            sum_in_order([item[i] for item in items]) for i in range(len(first))
        )
    if first is None:
        return None
    total = np.array(first, copy=True) if isinstance(first, np.ndarray) else first
    for item in items[1:]:
        total = total + item
    return total


def _nbytes(obj):
    """Bytes of the arrays and numbers in ``obj`` (what crosses the network)."""
    if isinstance(obj, np.ndarray):
        return obj.nbytes
    if isinstance(obj, list | tuple):
        return sum(_nbytes(o) for o in obj)
    if isinstance(obj, dict):
        return sum(_nbytes(o) for o in obj.values())
    if isinstance(obj, float | int | np.floating | np.integer):
        return 8
    return 0


def fit_readout(shards, key, loss, alpha, init=None, max_iter=None):
    """The read-out of ``loss`` on the features ``key`` of the shards' rows.

    As ``loss.fit_readout`` in process (squared: the ridge solution;
    cross-entropy: ``max_iter`` majorised steps from ``init``, or Newton-CG to
    convergence), with every sum over rows gathered from the shards.
    """
    if isinstance(loss, SquaredLoss):
        G, C = shards.total("gram_cross", key)
        diag = np.einsum("ii->i", G)
        diag[:-1] += alpha
        return spd_solve(G, C, overwrite_a=True)
    if max_iter is not None:
        W = np.array(init, copy=True)
        M = shards.total("gram", key)
        M *= loss.curvature
        M[np.diag_indices(M.shape[0] - 1)] += alpha
        solve = spd_factor(M, overwrite_a=True)
        for _ in range(max_iter):
            grad = shards.total("loss_gradient", key, W, loss)
            grad[:-1] += alpha * W[:-1]
            W -= solve(grad)
        return loss.canonical(W)
    return _newton_readout(shards, key, loss, alpha, init)


def refit_readout_on(shards, weights, loss, alpha, max_iter=None):
    """The read-out minimising the loss on the forward features of ``weights``
    (``refit_readout`` on the shards' rows; ``max_iter``: a cross-entropy's
    majorised steps from ``weights[-1]`` instead, see :func:`fit_readout`)."""
    # The ridge read-out reads the features twice (its sums, then its loss).
    passes = 2 if isinstance(loss, SquaredLoss) else None
    shards.pinned.call("refit_features", weights[:-1], passes)
    try:
        return fit_readout(
            shards, "refit", loss, alpha, init=weights[-1], max_iter=max_iter
        )
    finally:
        shards.pinned.call("drop_features", "refit")


def _newton_readout(shards, key, loss, alpha, init):
    """The cross-entropy read-out to convergence (``_CrossEntropy.fit_readout``),
    from sums gathered from the shards."""

    def terms(W):
        return shards.total("newton_terms", key, W, loss)

    def hessian_product(W, D):
        return shards.total("hessian_product", key, W, D, loss)

    def hessian(W):
        return shards.total("newton_hessian", key, W, loss)

    W = newton_readout(
        terms,
        hessian_product,
        alpha,
        init.shape,
        init,
        hessian=hessian,
        shift_invariant=loss.shift_invariant,
    )
    return loss.canonical(W).astype(init.dtype)


class _Shape:
    """Stands for an array of which only the shape is read."""

    def __init__(self, shape):
        self.shape = shape


class _RowCount:
    """Stands for the row weights of which only the row count is read."""

    def __init__(self, n_samples):
        self.n_samples = n_samples


class ShardedProblem:
    """A three-splitting whose rows live on the shards (driver side).

    Holds the weights and penalties; implements what
    :class:`~skadmm._solvers._reset.ResetSolver` (the hooks of
    :mod:`skadmm._splitting._reset_hooks`) and
    :class:`~skadmm._solvers._radmm.RADMMSolver` (``iterate``, ``objective``)
    ask of a problem. The weight blocks are solved here by the in-process
    problem's own :func:`~skadmm._splitting._base.ridge_block`, from the
    gathered sums.
    """

    def __init__(self, shards, weights, n_samples, n_outputs, loss, update, **params):
        self.shards = shards
        self.W = [np.array(W, copy=True) for W in weights]
        self.H = len(self.W) - 1
        self.dtype = self.W[0].dtype
        self.loss = loss
        self.linearized = update == "linearized"
        for name, value in params.items():
            setattr(self, name, value)
        self.rw = _RowCount(n_samples)
        self.Y = _Shape((n_samples, n_outputs))
        self._input_gram = None
        self._lrho = None
        self._slot = 0
        self._pending = None
        #: Whether the shards keep each line-search trial's features until
        #: the cross-entropy's read-out refit reads them (seven reads), at
        #: the cost of two copies of every row's features: a short run in
        #: float64 on a large table redoes them instead (see
        #: ``skadmm._base``).
        self.hold_trials = True
        widths = [W.shape[0] for W in self.W]
        if any(use_dual(n_samples, cols) for cols in widths):
            raise ValueError(
                f"A sharded fit needs more rows than the layers' inputs are wide "
                f"({n_samples} rows for inputs of {max(widths)} columns): fit "
                "such a small table in process (pass NumPy arrays)."
            )

    def weights(self):
        return [W.copy() for W in self.W]

    def _ridge(self, k, G, rhs, curvature, alpha=None, tau=None):
        alpha = self.alpha if alpha is None else alpha
        tau = self.tau if tau is None else tau
        self.W[k] = ridge_block(
            self.W[k], G, rhs, curvature, alpha, tau, self.linearized
        )

    # ----------------------------------------------------- forward reset mode
    def prepare_reset(self, first_order_targets, top_alternations, output_damping):
        # The shards' problems take the same settings (prepare_reset).
        self.rho, self.tau = 1.0, 0.0
        self.output_factor = (
            None if output_damping is None else OutputFactor(output_damping)
        )
        self.shards.call("prepare_reset", first_order_targets, top_alternations)
        self._slot = 0

    def reset_to_forward(self, run=None):
        self.shards.call("reset_to_forward", self.W)

    def reset_sweep(self, beta, run):
        # The W steps' sums come back with the links (the solver's next call).
        self.beta = beta
        factor = self.output_factor
        out = self.shards.call(
            "reset_sweep_sums",
            beta,
            self._input_gram is None,
            factor is not None and factor.due,
        )
        self._w_sums = [sums for _, sums in out]
        links = sum_in_order([links for links, _ in out])
        return float(np.sqrt(links.sum()))

    def reset_w_steps(self, eta, mu, run):
        sums, self._w_sums = self._w_sums, None
        for k in range(self.H):
            if k == 0 and self._input_gram is None:
                self._input_gram = sum_in_order([s[0][0] for s in sums])
            G = (
                self._input_gram.copy()
                if k == 0
                else sum_in_order([s[k][0] for s in sums])
            )
            rhs = sum_in_order([s[k][1] for s in sums])
            prox = mu * float(np.trace(G)) / G.shape[0]
            old = self.W[k]
            self._ridge(k, G, rhs, 1.0, alpha=self.alpha * eta, tau=prox)
            factor = self.output_factor
            if factor is not None:
                gram = sum_in_order([s[k][2] for s in sums])
                self.W[k] = factor.change(k, old, self.W[k], gram)
        if self.output_factor is not None:
            self.output_factor.step_done()

    def objective_of(self, hidden, readout, run):
        loss = sum_in_order(
            self.shards.call(
                "objective_terms", hidden, readout, self._slot, self.hold_trials
            )
        )
        return self._objective_value(loss, (*hidden, readout))

    def readout_for(self, hidden, max_iter, run, kept=False):
        key = f"slot{self._slot}"
        if not kept:
            self.shards.call("forward_slot", hidden, self._slot)
        # The ridge read-out reads the features twice; the cross-entropy's
        # majorised steps seven times, so streamed shards keep them meanwhile.
        hold = self.hold_trials and not isinstance(self.loss, SquaredLoss)
        if hold:
            self.shards.call("hold_features", key)
        try:
            readout = fit_readout(
                self.shards, key, self.loss, self.alpha, self.W[-1], max_iter
            )
            loss = self.shards.total("loss_value", key, readout, self.loss)
        finally:
            if hold:
                self.shards.call("release_features", key)
        return readout, self._objective_value(loss, (*hidden, readout))

    def swap_features(self):
        self._slot = 1 - self._slot

    def _objective_value(self, loss, weights):
        return loss + 0.5 * self.alpha * l2_penalty(weights)

    # ------------------------------------------------------------------ RADMM
    # One region, so RADMMSolver.iterate sweeps the layers in order; each
    # block's sums come back with the exchange that ran the blocks before it:
    # H + 2 exchanges per iteration.
    regions = property(lambda self: [(0, self.H + 1)])
    boundaries = ()

    def sweep_layer(self, k, with_output=True):
        """``W_k`` from the gathered sums; the shards then run layer ``k``'s
        Z and U blocks and return the next block's sums."""
        if k == 0:
            self._pending = self.shards.call("radmm_begin")
        G, rhs = sum_in_order(self._pending)
        self._ridge(k, G, rhs, self.beta)
        self._pending = self.shards.call("radmm_advance", k, self.W[k])

    def update_readout(self):
        if self.H == 0:
            self._pending = self.shards.call("radmm_begin")
        G, rhs = sum_in_order(self._pending)
        self._ridge(self.H, G, rhs, self.rho)

    def update_output(self):
        """The shards' ``O`` and multiplier steps, in the same exchange (which
        also returns their terms of ``L_rho``)."""
        self._lrho = self.shards.call("radmm_finish", self.W[-1])

    def update_boundary(self, k):  # pragma: no cover - one region, no boundary
        raise NotImplementedError

    def update_multiplier(self):
        """Nothing left: the shards took the step with :meth:`update_output`."""

    def objective(self):
        terms = self._lrho
        if terms is None:
            terms = self.shards.call("lrho_terms")
        self._lrho = None
        loss, links, inner, gap_sq = sum_in_order(terms)
        penalty = float(links.sum())
        reg = l2_penalty(self.W)
        value = (
            loss
            + 0.5 * self.alpha * reg
            + 0.5 * self.beta * penalty
            + inner
            + 0.5 * self.rho * gap_sq
        )
        return value, float(np.sqrt(gap_sq + penalty))

    def set_regions(self, regions):
        """Nothing: the rows, not the layers, are split (one region)."""

    def exchange_bytes(self):
        """Bytes sent to and received from the shards over the whole fit
        (``None`` for in-process row blocks)."""
        if not self.shards.count_bytes:
            return None
        return {"to workers": self.shards.sent, "from workers": self.shards.received}


class ShardedMonitor(ForwardMonitor):
    """:class:`~skadmm._monitor.ForwardMonitor` whose losses and scores are
    gathered from the shards (training and validation chunks)."""

    def __init__(
        self,
        shards,
        activation,
        early_stopping,
        tol,
        n_iter_no_change,
        target,
        callbacks=None,
        attributes=None,
    ):
        super().__init__(
            None,
            None,
            None,
            "validation chunks" if early_stopping else None,
            tol,
            n_iter_no_change,
            target,
            predict=None,
            callbacks=callbacks,
            attributes=attributes,
        )
        self.shards = shards
        self._spread = None
        if early_stopping and isinstance(target, RegressionTarget):
            weight, first = sum_in_order(
                shards.call("validation_sums", kind="validation")
            )
            self._spread = sum_in_order(
                shards.call("validation_spread", first / weight, kind="validation")
            )

    def _train_loss(self, weights):
        loss, weight, _ = sum_in_order(self.shards.call("curve_terms", weights, False))
        return loss / weight

    def _validation_scores(self, weights):
        loss, weight, score = sum_in_order(
            self.shards.call("curve_terms", weights, True, kind="validation")
        )
        if self._spread is not None:
            with np.errstate(divide="ignore", invalid="ignore"):
                r2 = 1.0 - score / self._spread
            score = float(np.mean(np.where(self._spread > 0, r2, 0.0)))
        else:
            score = score / weight
        return loss / weight, score

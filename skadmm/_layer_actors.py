"""pdADMM with every layer's state on its own Dask worker (Dask actors).

The p/q relaxation of ``solver="pdadmm"`` (:mod:`skadmm._splitting._pdadmm`)
couples layer ``k`` to its neighbours only through ``q_{k-1}, u_{k-1}`` (read
by its phase A) and ``p_{k+1}`` (read by its phase B). Here each layer is a
:class:`LayerActor` holding only its own variables (``W_k``, ``p_k``, ``z_k``,
``q_k``, ``u_k``; the read-out: ``W_H``, ``p_H``, ``O``, ``R`` and the target),
copies of what it reads from its neighbours, and handles to its neighbour
actors. One iteration is two "go" commands per layer from the driver:

1. every actor ``k >= 1`` runs its phase A and hands ``p_k``, encoded (its
   codes, and the header of a change with ``quantize_levels="step"``, when
   quantized; the float array otherwise), to actor ``k - 1`` itself, waiting
   until it is stored there;
2. every actor runs its phase B, hands ``q_k, u_k`` encoded to actor ``k + 1``
   the same way, and returns its terms of ``L_rho`` and its weights ``W_k``.

So the row-sized boundary variables go from worker to worker and never
through the driver, which sends commands and receives scalars and the
weights (``width x width`` per layer, whatever the rows: its monitor
evaluates them after every iteration, for the curves, early stopping and the
callbacks). The driver waits for every phase A before it starts any phase B:
a layer's phase B must not start before its neighbour's ``p`` has arrived.

The actors run the very block updates of the in-process problem on the same
arrays, so with the same BLAS threads the iterates are bit-identical to
:meth:`~skadmm._solvers._pdadmm.PDADMMSolver.iterate` (tested).
:class:`LayerActorsProblem` is the driver's side: it stands for the problem
in :meth:`~skadmm._solvers._base.BaseSolver.solve`, so the estimator's
``layer_workers="dask"`` runs the unchanged solver, monitor and callbacks
(:func:`solve_on_dask`).

Why the receiving methods of :class:`DaskLayerActor` are coroutines: a
worker runs its actors' ordinary methods on one thread, so an actor waiting
in its phase for a neighbour on another worker to store what it sent, while
that neighbour's worker thread waits the same way for the first worker
(two workers holding layers ``0, 2`` and ``1, 3``), would deadlock. A
coroutine method runs on the worker's event loop, which stays free.
"""

import copy
import inspect
from contextlib import nullcontext

import numpy as np
from threadpoolctl import threadpool_limits

from ._network import l2_penalty
from ._parallel import run_in_order
from ._pinned import PinnedActors, active_client, cluster_workers
from ._rows import RowWeights
from ._splitting._pdadmm import PQRelaxation

#: What a layer's shell keeps of the whole problem (everything else is None).
_SCALARS = (
    "dtype",
    "act",
    "loss",
    "beta",
    "rho",
    "tau",
    "alpha",
    "rw",
    "H",
    "quantize",
    "quantize_bits",
    "quantize_levels",
    "multiplier_nu",
)

#: The variables that cross layer boundaries.
VARIABLES = ("p", "q", "u")


def layer_state(problem, k):
    """The part of ``problem`` that layer ``k`` owns, plus its neighbours' copies.

    A dict of arrays and scalars (copies), from which :class:`LayerActor`
    rebuilds a shell of :class:`~skadmm._splitting._pdadmm.PQRelaxation` whose
    other layers' entries are ``None``.
    """
    H = problem.H
    none = [None] * (H + 1)
    state = {name: getattr(problem, name) for name in _SCALARS}
    P, Q, Mu, Z, W, levels = (list(none) for _ in range(6))
    # np.copy keeps the memory order (a solve may return Fortran order), on
    # which the products' rounding depends.
    W[k] = np.copy(problem.W[k])
    P[k] = problem.P[k].copy()
    if k < H:
        P[k + 1] = problem.P[k + 1].copy()
        Z[k], Q[k], Mu[k] = (A[k].copy() for A in (problem.Z, problem.Q, problem.Mu))
        levels[k] = problem.levels[k]
    if k >= 1:
        Q[k - 1], Mu[k - 1] = problem.Q[k - 1].copy(), problem.Mu[k - 1].copy()
        levels[k - 1] = problem.levels[k - 1]
    p_steps, q_steps = list(none), list(none)
    p_steps[k] = problem.p_steps[k]
    if k < H:
        q_steps[k] = problem.q_steps[k]
    state.update(P=P, Q=Q, Mu=Mu, Z=Z, W=W, levels=levels, k=k)
    state.update(p_steps=p_steps, q_steps=q_steps)
    if k == H:
        state.update(
            O=problem.O.copy(),
            R=problem.R.copy(),
            Y=problem.Y,
            zero_multiplier=problem.zero_multiplier,
        )
    state["links"] = problem.links.copy()
    return state


class LayerActor:
    """One layer of pdADMM on a Dask worker (or in process).

    Parameters
    ----------
    state : dict
        :func:`layer_state` of the layer.
    whole_products : bool, default=False
        Multiply whole arrays (threaded BLAS) rather than row chunks, as the
        in-process problem of the fit does.
    blas_threads : int or None, default=None
        BLAS threads of the layer's updates (``None``: the process's own).
    """

    def __init__(self, state, whole_products=False, blas_threads=None):
        # A worker process has its own BLAS threads: fix them, or the products
        # (and so the iterates) may differ from the driver's in the last bit.
        self.blas_threads = blas_threads
        self.shell = PQRelaxation.layer_shell(
            {name: _fresh(value) for name, value in state.items() if name != "k"},
            whole_products,
        )
        self.k = state["k"]
        self.previous = self.next = None
        # Payload bytes: sent in the last iteration (the fitted record) and
        # received over the whole run (what the test compares it with).
        self.sent = dict.fromkeys(VARIABLES, 0)
        self.received = dict.fromkeys(VARIABLES, 0)

    def connect(self, previous, next):
        """Handles of the actors of layers ``k - 1`` and ``k + 1`` (``None`` at
        the ends), to which this layer hands its boundary variables."""
        self.previous, self.next = previous, next

    def _blas(self):
        if self.blas_threads is None:
            return nullcontext()
        return threadpool_limits(self.blas_threads, user_api="blas")

    def phase_a(self):
        """Update ``p_k`` (``k >= 1``) and hand it to layer ``k - 1``."""
        with self._blas():
            self.shell.update_input(self.k)
        sent = self.shell.encode("p", self.k)
        self.sent["p"] = _payload_bytes(sent)
        _deliver(self.previous, "receive_p", *sent)

    def receive_p(self, *sent):
        """``p_{k+1}`` from layer ``k + 1`` (encoded)."""
        k = self.k
        self.received["p"] += _payload_bytes(sent)
        # Stored as layer k + 1 holds it (a quantized change is added to the
        # copy here exactly as layer k + 1 added it to its own).
        self.shell.store_sent("p", k + 1, sent)

    def phase_b(self):
        """Update ``W_k, z_k, q_k, u_k`` (read-out: ``W_H, O``); hand ``q_k,
        u_k`` to layer ``k + 1``.

        Returns ``(links row, ||W_k'||^2, loss, W_k)``: this layer's terms of
        ``L_rho`` (the loss only for the read-out, ``None`` otherwise) and its
        weights.
        """
        s, k = self.shell, self.k
        with self._blas():
            s.update_layer(k)
        W = s.W[k]
        reg = l2_penalty([W])
        if k == s.H:
            return s.links[k].copy(), reg, s.loss.value(s.O, s.Y, s.rw), np.copy(W)
        q_sent, u_sent = s.encode("q", k), s.encode("u", k)
        self.sent["q"] = _payload_bytes(q_sent)
        self.sent["u"] = _payload_bytes(u_sent)
        _deliver(self.next, "receive_qu", q_sent, u_sent)
        return s.links[k].copy(), reg, None, np.copy(W)

    def receive_qu(self, q_sent, u_sent):
        """``q_{k-1}, u_{k-1}`` from layer ``k - 1`` (encoded)."""
        s, k = self.shell, self.k
        self.received["q"] += _payload_bytes(q_sent)
        self.received["u"] += _payload_bytes(u_sent)
        s.store_sent("q", k - 1, q_sent)
        s.Mu[k - 1][...] = u_sent[0]

    def sent_bytes(self):
        """Payload bytes this layer sent in the last iteration, by variable."""
        return dict(self.sent)

    def received_bytes(self):
        """Payload bytes this layer received over the run, by variable."""
        return dict(self.received)

    def get(self):
        """This layer's own arrays: ``W_k`` and ``p_k, z_k, q_k, u_k`` (or
        ``O, R``), and its row of the cached terms of ``L_rho``."""
        s, k = self.shell, self.k
        own = {"W": s.W[k], "p": s.P[k][:, :-1], "links": s.links[k]}
        if k < s.H:
            own.update(z=s.Z[k], q=s.Q[k], u=s.Mu[k])
        else:
            own.update(O=s.O, R=s.R)
        return {name: np.copy(A) for name, A in own.items()}


class DaskLayerActor(LayerActor):
    """:class:`LayerActor` on a Dask worker: its receiving methods run on the
    worker's event loop (see the module), its neighbours are actor handles."""

    def connect(self, previous, next):
        # A handle made on the driver (or on another worker) is bound to where
        # it was made; a copy (rebuilt by its __reduce__) binds to this worker.
        handles = (None if h is None else copy.copy(h) for h in (previous, next))
        super().connect(*handles)

    async def receive_p(self, *sent):
        LayerActor.receive_p(self, *sent)

    async def receive_qu(self, q_sent, u_sent):
        LayerActor.receive_qu(self, q_sent, u_sent)


def _deliver(neighbour, method, *args):
    """``neighbour.method(*args)``, waited for.

    The neighbour is a plain object (in process), a Dask actor handle (the
    call returns a future), or, when it lives on this same worker, what Dask
    hands for an actor method called there: the method itself, a coroutine
    function, whose body runs here.
    """
    call = getattr(neighbour, method)
    if inspect.iscoroutinefunction(call):
        return getattr(LayerActor, method)(call.__self__, *args)
    out = call(*args)
    return out.result() if hasattr(out, "result") else out


def _payload_bytes(arrays):
    """Bytes of the arrays of one variable as sent (codes and header, or floats)."""
    return sum(a.nbytes for a in arrays)


def _fresh(value):
    """``value`` with its arrays copied into new allocations.

    Arrays unpickled on a worker may lie at another alignment than numpy's
    own allocations, and numpy's vectorised loops round the last bit of a
    reduction differently with the alignment: fresh copies make a worker's
    arithmetic that of the driver.
    """
    if isinstance(value, np.ndarray):
        return np.array(value, copy=True)
    if isinstance(value, list):
        return [_fresh(v) for v in value]
    if isinstance(value, RowWeights):
        value = copy.copy(value)
        for name in ("s", "sqrt_s"):
            if getattr(value, name, None) is not None:
                setattr(value, name, np.array(getattr(value, name), copy=True))
    return value


def merit(alpha, beta, outputs):
    """``(L_rho, residual)`` from the layers' phase B outputs, summed as
    ``PQRelaxation.objective`` sums them (so the merit is bit-identical)."""
    links = np.array([o[0] for o in outputs])
    penalty = float(links[:, 0].sum() + links[:, 1].sum())
    value = (
        outputs[-1][2]
        + 0.5 * alpha * sum(o[1] for o in outputs)
        + 0.5 * beta * penalty
        + float(links[:, 2].sum())
    )
    return value, float(np.sqrt(penalty + links[:, 3].sum()))


def connect(actors, wait):
    """Give every actor the handles of its neighbours."""
    H = len(actors) - 1
    calls = [
        actor.connect(actors[k - 1] if k else None, actors[k + 1] if k < H else None)
        for k, actor in enumerate(actors)
    ]
    for call in calls:
        wait(call)


def run_layers(actors, n_iter, wait, alpha, beta):
    """Iterate ``actors`` (layer order, connected) ``n_iter`` times; the merits.

    ``wait`` turns a method call's return value into its result (identity in
    process, ``.result()`` for Dask actor futures). Every call of a phase is
    issued before any is waited for, so on Dask the layers run at once.
    """
    merits = []
    for _ in range(n_iter):
        for call in [a.phase_a() for a in actors[1:]]:
            wait(call)
        outputs = [wait(call) for call in [a.phase_b() for a in actors]]
        merits.append(merit(alpha, beta, outputs)[0])
    return merits


def run_in_process(problem, n_iter, whole_products=False):
    """The layer actors as plain objects in this process: ``(actors, merits)``."""
    actors = [
        LayerActor(layer_state(problem, k), whole_products)
        for k in range(problem.H + 1)
    ]
    connect(actors, lambda r: r)
    merits = run_layers(actors, n_iter, lambda r: r, problem.alpha, problem.beta)
    return actors, merits


def dask_workers(client):
    """The addresses of the workers of ``client``'s cluster, sorted."""
    return sorted(cluster_workers(client))


def place_layers(problem, client, whole_products=False, blas_threads=1):
    """One :class:`DaskLayerActor` per layer of ``problem`` (its current
    state), round robin over the workers, connected to its neighbours: a
    :class:`~skadmm._pinned.PinnedActors` (close it to release them)."""
    workers = dask_workers(client)
    places = [workers[k % len(workers)] for k in range(problem.H + 1)]
    # Each layer's state goes to its worker as data (scattered), not inside
    # the task that creates the actor: a task carrying arrays of the size of
    # the rows is what Dask warns about ("Large object ... in task graph").
    states = [
        client.scatter([layer_state(problem, k)], workers=[worker], hash=False)[0]
        for k, worker in enumerate(places)
    ]
    pinned = PinnedActors(
        client,
        DaskLayerActor,
        [(state, whole_products, blas_threads) for state in states],
        places,
        what="a layer's state",
    )
    # The actors hold their own copies: the scattered states can go (not by
    # cancelling them, which would cancel the actors made from them too).
    del states
    try:
        connect(pinned.actors, lambda f: f.result())
    except BaseException:
        pinned.close()
        raise
    return pinned


def run_on_dask(problem, client, n_iter, whole_products=False, blas_threads=1):
    """Each layer an actor on its own worker (round robin over the workers).

    ``blas_threads``: the BLAS threads of every layer's updates (``None``:
    the workers' own); with those of the in-process run the iterates are
    bit-identical to it. Returns ``(pinned, merits)``: the
    :class:`~skadmm._pinned.PinnedActors` (``pinned.actors[k].get().result()``
    for a layer's arrays; close it to release them: on error or Ctrl-C
    nothing is left on the workers) and the merits.
    """
    pinned = place_layers(problem, client, whole_products, blas_threads)
    try:
        merits = run_layers(
            pinned.actors, n_iter, lambda f: f.result(), problem.alpha, problem.beta
        )
    except BaseException:
        # A failed or interrupted run leaves nothing on the workers.
        pinned.close()
        raise
    return pinned, merits


class LayerActorsProblem:
    """The driver's side of a pdADMM run whose layers are Dask actors.

    Implements what :class:`~skadmm._solvers._pdadmm.PDADMMSolver` and the
    monitor ask of a problem: ``update_input(k)`` and ``update_layer(k)``
    issue layer ``k``'s phases (every ``update_layer`` first waits for the
    phases A issued), ``objective`` gathers the phases B, and ``W`` holds the
    weights the actors returned with them. ``problem``: the in-process problem
    the layers were placed from (its penalties synchronised and its merit
    computed, :func:`solve_on_dask`), of which it keeps the scalars.
    """

    def __init__(self, problem, pinned):
        self.pinned = pinned
        self.actors = pinned.actors
        for name in ("H", "dtype", "act", "alpha", "beta", "rho", "rw", "Y"):
            setattr(self, name, getattr(problem, name))
        self.W = [np.copy(W) for W in problem.W]
        self._value = problem.objective()
        self._phase_a, self._phase_b = [], {}
        self._sent = None

    def _wait(self, k, call):
        return self.pinned.wait(call, k)

    def sync_penalties(self):
        """Nothing: the in-process problem was synchronised before the layers
        were placed (:func:`solve_on_dask`)."""

    def update_input(self, k):
        self._phase_a.append((k, self.actors[k].phase_a()))

    def update_layer(self, k):
        if self._phase_a:
            # Every p must have reached its neighbour before any phase B.
            pending, self._phase_a = self._phase_a, []
            for j, call in pending:
                self._wait(j, call)
        self._phase_b[k] = self.actors[k].phase_b()

    def objective(self):
        """``(L_rho, residual)`` of the last iteration (at first: the placed
        problem's)."""
        if self._phase_b:
            pending, self._phase_b = self._phase_b, {}
            outputs = [self._wait(k, pending[k]) for k in range(self.H + 1)]
            self._value = merit(self.alpha, self.beta, outputs)
            # The weights change only once the whole iteration has arrived, so
            # an interrupt leaves those of the last completed one.
            self.W = [o[3] for o in outputs]
        return self._value

    def weights(self):
        return [W.copy() for W in self.W]

    def collect(self):
        """Ask the actors what they sent in the last iteration (before they
        are released)."""
        sent = [self._wait(k, a.sent_bytes()) for k, a in enumerate(self.actors)]
        self._sent = {name: sum(s[name] for s in sent) for name in VARIABLES}

    def exchange_bytes(self):
        """Payload bytes the actors sent to their neighbours in the last
        iteration, by variable (as ``PQRelaxation.exchange_bytes``)."""
        return self._sent

    def copy_into(self, problem):
        """The actors' state into the in-process ``problem`` (so that
        ``warm_start`` goes on from it exactly)."""
        H = self.H
        layers = [self._wait(k, a.get()) for k, a in enumerate(self.actors)]
        for k, own in enumerate(layers):
            problem.W[k] = own["W"]
            problem.links[k] = own["links"]
            if k:
                problem.P[k][:, :-1] = own["p"]
            if k < H:
                problem.Z[k][...] = own["z"]
                problem.Q[k][...] = own["q"]
                problem.Mu[k][...] = own["u"]
            else:
                problem.O[...] = own["O"]
                problem.R[...] = own["R"]


def solve_on_dask(solver, problem, monitor, client, plan, keep=False, **solve):
    """``solver.solve`` on ``problem`` with every layer on a Dask worker.

    ``plan``: the fit's parallel plan (its BLAS threads and whole-array
    products, which the layers take so that the iterates are those of the
    in-process fit); ``keep``: copy the final state back into ``problem``
    (``warm_start``) after a completed run; ``solve``: keyword arguments of
    :meth:`~skadmm._solvers._base.BaseSolver.solve`. Returns ``(result,
    remote)``, ``remote`` the :class:`LayerActorsProblem` (its
    ``exchange_bytes``). Nothing stays on the workers, whatever happens.
    """
    # What PDADMMSolver.setup does to the state (new penalties of a warm
    # start), before the state is copied to the workers.
    problem.sync_penalties()
    with place_layers(problem, client, plan.threaded_blas, plan.blas_threads) as pinned:
        if solver.verbose:
            n_workers = len(set(pinned.workers))
            print(
                f"{solver.label}: {problem.H + 1} layers on {n_workers} Dask "
                "workers (one actor a layer)",
                flush=True,
            )
        remote = LayerActorsProblem(problem, pinned)
        result = solver.solve(remote, monitor, run=run_in_order, **solve)
        if not result.interrupted:
            remote.collect()
            if keep and result.completed:
                remote.copy_into(problem)
    return result, remote


def layer_client(engine):
    """The Dask client of ``layer_workers=engine``; clear errors, before any
    work, when Dask is missing, no client is active or its cluster has no
    workers."""
    return active_client(
        f"layer_workers={engine!r} (the layers on Dask workers)",
        "leave layer_workers=None (the layers run in this process)",
    )


__all__ = [
    "DaskLayerActor",
    "LayerActor",
    "LayerActorsProblem",
    "layer_client",
    "layer_state",
    "run_in_process",
    "run_on_dask",
    "solve_on_dask",
]

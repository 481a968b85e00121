"""pdADMM with every layer's state on its own Dask worker (Dask actors).

The p/q relaxation of ``solver="pdadmm"`` (:mod:`skadmm._splitting._pdadmm`)
couples layer ``k`` to its neighbours only through ``q_{k-1}, u_{k-1}`` (read
by its phase A) and ``p_{k+1}`` (read by its phase B). Here each layer is a
:class:`LayerActor` holding only its own variables (``W_k``, ``p_k``, ``z_k``,
``q_k``, ``u_k``; the read-out: ``W_H``, ``p_H``, ``O``, ``R`` and the target)
and copies of what it reads from its neighbours. One iteration:

1. every actor ``k >= 1`` runs its phase A and returns ``p_k`` encoded (codes
   and header when quantized), which the driver hands to actor ``k - 1``;
2. every actor runs its phase B and returns ``q_k, u_k`` encoded, handed to
   actor ``k + 1``, and its terms of ``L_rho``.

The actors run the very block updates of the in-process problem on the same
arrays, so with the same BLAS threads the iterates are bit-identical to
:meth:`~skadmm._solvers._pdadmm.PDADMMSolver.iterate` (tested); only encoded
boundary variables travel between workers. This is a building block (no
estimator option runs it yet): :func:`run_on_dask` iterates a problem built by
the estimator's machinery.
"""

import copy
from contextlib import nullcontext

import numpy as np
from threadpoolctl import threadpool_limits

from ._network import l2_penalty
from ._pinned import PinnedActors
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
    "multiplier_nu",
)


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
    W[k] = problem.W[k].copy()
    P[k] = problem.P[k].copy()
    if k < H:
        P[k + 1] = problem.P[k + 1].copy()
        Z[k], Q[k], Mu[k] = (A[k].copy() for A in (problem.Z, problem.Q, problem.Mu))
        levels[k] = problem.levels[k]
    if k >= 1:
        Q[k - 1], Mu[k - 1] = problem.Q[k - 1].copy(), problem.Mu[k - 1].copy()
        levels[k - 1] = problem.levels[k - 1]
    state.update(P=P, Q=Q, Mu=Mu, Z=Z, W=W, levels=levels, k=k)
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
    """One layer of pdADMM on a Dask worker (or in process)."""

    def __init__(self, state, whole_products=False, blas_threads=None):
        # A worker process has its own BLAS threads: fix them, or the products
        # (and so the iterates) may differ from the driver's in the last bit.
        self.blas_threads = blas_threads
        self.shell = PQRelaxation.layer_shell(
            {name: _fresh(value) for name, value in state.items() if name != "k"},
            whole_products,
        )
        self.k = state["k"]

    def _blas(self):
        if self.blas_threads is None:
            return nullcontext()
        return threadpool_limits(self.blas_threads, user_api="blas")

    def phase_a(self):
        """Update ``p_k`` (``k >= 1``); return what goes to layer ``k - 1``."""
        with self._blas():
            self.shell.update_input(self.k)
            return self.shell.encode("p", self.k)

    def receive_p(self, *sent):
        """``p_{k+1}`` from layer ``k + 1``."""
        k = self.k
        self.shell.P[k + 1][:, :-1] = _decode(sent, self.shell.levels[k])

    def phase_b(self):
        """Update ``W_k, z_k, q_k, u_k`` (read-out: ``W_H, O``).

        Returns ``(q_k sent, u_k sent, links row, ||W_k'||^2, loss)``: what
        goes to layer ``k + 1`` (empty for the read-out) and this layer's terms
        of ``L_rho`` (the loss only for the read-out).
        """
        s, k = self.shell, self.k
        with self._blas():
            s.update_layer(k)
        W = s.W[k]
        reg = l2_penalty([W])
        if k == s.H:
            return (), (), s.links[k].copy(), reg, s.loss.value(s.O, s.Y, s.rw)
        return s.encode("q", k), s.encode("u", k), s.links[k].copy(), reg, None

    def receive_qu(self, q_sent, u_sent):
        """``q_{k-1}, u_{k-1}`` from layer ``k - 1``."""
        s, k = self.shell, self.k
        s.Q[k - 1][...] = _decode(q_sent, s.levels[k - 1])
        s.Mu[k - 1][...] = _decode(u_sent, None)

    def sent_bytes(self):
        """Bytes this layer sent in the last iteration, by variable."""
        return dict(self.shell.sent[self.k])

    def get(self):
        """This layer's own arrays: ``W_k`` and ``p_k, z_k, q_k, u_k`` (or ``O``)."""
        s, k = self.shell, self.k
        own = {"W": s.W[k], "p": s.P[k][:, :-1]}
        if k < s.H:
            own.update(z=s.Z[k], q=s.Q[k], u=s.Mu[k])
        else:
            own["O"] = s.O
        return {name: A.copy() for name, A in own.items()}


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


def _decode(sent, levels):
    if len(sent) == 2:
        return levels.decode(*sent)
    return sent[0]


def merit(problem_alpha, beta, links, regs, loss_value):
    """``L_rho`` from the layers' terms, summed as ``PQRelaxation.objective``."""
    penalty = float(links[:, 0].sum() + links[:, 1].sum())
    return (
        loss_value
        + 0.5 * problem_alpha * sum(regs)
        + 0.5 * beta * penalty
        + float(links[:, 2].sum())
    )


def run_layers(actors, n_iter, wait, alpha, beta):
    """Iterate ``actors`` (layer order) ``n_iter`` times; the merits.

    ``wait`` turns a method call's return value into its result (identity in
    process, ``.result()`` for Dask actor futures). Every call of a phase is
    issued before any is waited for, so on Dask the layers run at once.
    """
    H = len(actors) - 1
    merits = []
    for _ in range(n_iter):
        sent = [wait(f) for f in [a.phase_a() for a in actors[1:]]]
        wait_all(wait, [actors[k].receive_p(*sent[k]) for k in range(H)])
        out = [wait(f) for f in [a.phase_b() for a in actors]]
        wait_all(wait, [actors[k + 1].receive_qu(*out[k][:2]) for k in range(H)])
        links = np.array([o[2] for o in out])
        merits.append(merit(alpha, beta, links, [o[3] for o in out], out[H][4]))
    return merits


def wait_all(wait, calls):
    for call in calls:
        wait(call)


def run_in_process(problem, n_iter, whole_products=False):
    """The layer actors as plain objects in this process: ``(actors, merits)``."""
    actors = [
        LayerActor(layer_state(problem, k), whole_products)
        for k in range(problem.H + 1)
    ]
    merits = run_layers(actors, n_iter, lambda r: r, problem.alpha, problem.beta)
    return actors, merits


def run_on_dask(problem, client, n_iter, whole_products=False, blas_threads=1):
    """Each layer an actor on its own worker (round robin over the workers).

    ``blas_threads``: the BLAS threads of every layer's updates (``None``:
    the workers' own); with those of the in-process run the iterates are
    bit-identical to it. Returns ``(actors, merits)``; ``actors`` are Dask
    actor handles (call ``.get().result()`` for a layer's arrays), placed and
    released by :class:`~skadmm._pinned.PinnedActors` (on error or Ctrl-C
    nothing is left on the workers; on success the handles keep them).
    """
    workers = sorted(client.scheduler_info()["workers"])
    pinned = PinnedActors(
        client,
        LayerActor,
        [
            (layer_state(problem, k), whole_products, blas_threads)
            for k in range(problem.H + 1)
        ],
        [workers[k % len(workers)] for k in range(problem.H + 1)],
        what="a layer's state",
    )
    try:
        merits = run_layers(
            pinned.actors, n_iter, lambda f: f.result(), problem.alpha, problem.beta
        )
    except BaseException:
        # A failed or interrupted run leaves nothing on the workers.
        pinned.close()
        raise
    actors = pinned.actors
    return actors, merits


__all__ = ["LayerActor", "layer_state", "run_in_process", "run_on_dask"]

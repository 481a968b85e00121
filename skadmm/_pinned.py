"""State pinned in Dask workers' memory: objects placed where their data lie.

A sharded fit (:mod:`skadmm._sharded`) keeps each worker's rows, auxiliaries
and multipliers in that worker's memory across iterations, and the layer-
parallel pdADMM (:mod:`skadmm._layer_actors`) keeps each layer's state on its
own worker. Both use :class:`PinnedActors`: one object per worker (a Dask
actor) created on the worker that holds its data, called by the driver with
small arguments (weights), returning small results (Gram matrices, scalars).

Why actors and not pinned long-running tasks (xgboost.dask's design): an
actor's method call goes from the client to the worker directly, bypassing the
scheduler. On this project's 2-core machine (``distributed`` 2026.8, process
workers) an empty actor call took 1.3 ms and an empty task 13 ms; a
long-running task would still have to receive each iteration's weights through
the scheduler (a ``Queue`` or ``Variable``). The ADMM iterations need several
such exchanges each, so the actor's round trip is the one that matters.

Dask is imported only inside these functions: it is an optional dependency.
"""

import time
from contextlib import contextmanager

from .exceptions import WorkerLostError

#: Seconds :meth:`PinnedActors.close` waits for the workers to drop the state.
RELEASE_TIMEOUT = 5.0

#: What the error of a lost worker tells the user to do.
_REMEDY = (
    "Its state (rows, auxiliaries, multipliers) lived only in that worker's "
    "memory, so the fit cannot go on; the estimator was left unchanged and the "
    "other workers' state was released. Check why the worker died (most often "
    "its memory limit: give the workers more memory, or use more workers or "
    "smaller row chunks; a Ctrl-C in the terminal that started a LocalCluster "
    "stops its workers too), then call fit again."
)


def active_client(purpose, fallback):
    """The active dask.distributed Client, whose cluster has workers.

    Clear errors before any work: ``purpose`` says what needs Dask (as the
    start of a sentence), ``fallback`` what to do instead.
    """
    try:
        from distributed import get_client
    except ImportError as exc:
        raise ImportError(
            f"{purpose} needs dask.distributed: pip install "
            f"'skadmm[distributed]', or {fallback}."
        ) from exc
    try:
        client = get_client()
    except ValueError as exc:
        raise ValueError(
            f"{purpose} runs on the workers of the active dask.distributed "
            "Client, but none is active: create one first (distributed.Client"
            f"(...) or LocalCluster), or {fallback}."
        ) from exc
    if not cluster_workers(client):
        raise ValueError(
            f"{purpose} runs on the workers of the active dask.distributed "
            f"Client, but its cluster ({client.scheduler.address}) has no "
            "workers: start them, or wait for them (client.wait_for_workers(n)) "
            f"before the fit, or {fallback}."
        )
    return client


def cluster_workers(client):
    """``{address: info}`` of the workers of ``client``'s cluster, asked of the
    scheduler now.

    ``Client.scheduler_info`` returns its last cached copy when the scheduler
    does not answer at once, and that copy lists no workers: under load a
    cluster of two workers was seen as empty. Asking the scheduler directly
    raises instead.
    """
    return client.sync(client.scheduler.identity, n_workers=-1)["workers"]


def placement(client, futures):
    """The worker address holding each of ``futures`` (one of them if several),
    once they are computed (an error computing them is raised here)."""
    from distributed import wait

    wait(futures)
    for future in futures:
        if future.status == "error":
            future.result()
    holders = client.who_has(futures)
    workers = []
    for future in futures:
        held = sorted(holders.get(future.key, ()))
        if not held:
            raise WorkerLostError(
                f"No worker holds the data chunk {future.key!r}: its worker was "
                "lost. Check the workers (memory limits), then call fit again."
            )
        workers.append(held[0])
    return workers


class PinnedActors:
    """One object per worker, created next to its data and called together.

    Parameters
    ----------
    client : distributed.Client
    cls : type
        The class of the objects; ``cls(*args)`` runs on the worker.
    args : list of tuple
        The constructor arguments of each object (futures in them are resolved
        on the worker: pass the futures of the data the worker holds).
    workers : list of str
        The worker address of each object.
    what : str
        What the objects hold, for error messages ("row shards").

    The objects live until :meth:`close` (also on error and Ctrl-C when used
    as a context manager), after which no state is left on the workers.
    """

    def __init__(self, client, cls, args, workers, what="state"):
        self.client, self.what = client, what
        self.workers = list(workers)
        self._lost = set()
        self._futures = [
            client.submit(
                cls,
                *arg,
                actor=True,
                workers=[worker],
                allow_other_workers=False,
                pure=False,
            )
            for arg, worker in zip(args, self.workers, strict=True)
        ]
        try:
            self.actors = [self.wait(f, i) for i, f in enumerate(self._futures)]
        except BaseException:
            self.close()
            raise

    def __len__(self):
        return len(self._futures)

    def call(self, method, *args):
        """``method(*args)`` on every object at once; the results in order."""
        return self.call_each(method, [args] * len(self))

    def call_each(self, method, args):
        """``method(*args[i])`` on object ``i``, all at once; the results in order."""
        calls = []
        for i, (actor, arg) in enumerate(zip(self.actors, args, strict=True)):
            # An actor whose worker is gone (client.restart(), a dead
            # process) may refuse the call itself, before any future exists.
            with self._lost_as_error(i):
                calls.append(getattr(actor, method)(*arg))
        return [self.wait(call, i) for i, call in enumerate(calls)]

    def wait(self, call, i):
        """The result of ``call`` (a future) on object ``i``; a lost worker
        raises :class:`~skadmm.exceptions.WorkerLostError`."""
        with self._lost_as_error(i):
            return call.result()

    @contextmanager
    def _lost_as_error(self, i):
        """Dask's errors of a lost worker of object ``i`` as a
        :class:`~skadmm.exceptions.WorkerLostError` that says what to do."""
        try:
            yield
        except (OSError, RuntimeError) as exc:
            if isinstance(exc, RuntimeError) and "lost" not in str(exc).lower():
                raise
            self._lost.add(self.workers[i])
            raise WorkerLostError(
                f"The Dask worker {self.workers[i]} holding {self.what} was lost "
                f"during the fit ({type(exc).__name__}: {exc}). {_REMEDY}"
            ) from exc

    def close(self):
        """Release every object, and wait (up to ``RELEASE_TIMEOUT`` seconds)
        until the workers have dropped their state."""
        futures, self._futures, self.actors = self._futures, [], []
        if not futures:
            return
        keys = [f.key for f in futures]
        try:
            self.client.cancel(futures)
            # A lost worker holds nothing (and would not answer).
            alive = set(cluster_workers(self.client))
            workers = sorted(set(self.workers) - self._lost & alive)
            deadline = time.monotonic() + RELEASE_TIMEOUT
            while workers and time.monotonic() < deadline:
                held = self.client.run(
                    _held_actors, keys, workers=workers, on_error="return"
                )
                if not any(v for v in held.values() if isinstance(v, list)):
                    break
                time.sleep(0.01)
        except Exception:  # a closed client or lost worker holds nothing
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


def _held_actors(keys, dask_worker):
    """Which of ``keys`` are actors still held by ``dask_worker``."""
    return [key for key in keys if key in dask_worker.state.actors]

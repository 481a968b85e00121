"""Regions of layers, and the threads that update them in parallel.

The parallel regional update (documentation page "Parallel regional updates")
splits the layers into contiguous regions and runs each iteration as *phases* of
independent tasks (all region interiors, then all boundaries). A :class:`Team`
runs those phases on the caller's thread plus ``n_workers - 1`` threads obtained
from joblib once per fit: one ``Parallel`` call whose tasks are long-lived loops
that wait for the next phase, so the ~10 ms cost of a ``Parallel`` call is paid
once per fit instead of once per iteration.

Tasks are pulled from a shared counter, so which thread runs which region never
matters: every task writes only its own blocks and reads nothing another task of
the same phase writes. The BLAS thread count of a fit depends on the data shape
and the number of regions only (see :func:`plan_parallelism`), so the iterates
are bit-identical for any number of workers. The caller's thread leads: it
runs the solver loop between phases, so Ctrl-C reaches it directly, and no wait
depends on a worker ever starting.
"""

import threading
from dataclasses import dataclass

import numpy as np
from joblib import cpu_count, effective_n_jobs
from joblib.parallel import get_active_backend
from sklearn import config_context, get_config
from sklearn.utils.parallel import Parallel, delayed

from ._blas import blas_thread_budget, blas_threads_for, small_products


def split_layers(n_layers, n_regions, per_region=2):
    """Contiguous regions ``[(start, stop), ...]`` covering ``range(n_layers)``.

    Sizes differ by at most one; with more than one region each has at least
    ``per_region`` layers: two where regions update their layers in parallel,
    so that no two boundaries are adjacent; one for a mode whose every layer
    is a task anyway (pdADMM), where the regions only count its workers.
    """
    if n_regions > 1 and per_region * n_regions > n_layers:
        raise ValueError(
            f"n_regions={n_regions} needs at least {per_region * n_regions} layers "
            f"({per_region} per region) but the network has {n_layers}: the "
            "lifting layer, n_blocks residual blocks and the read-out. Lower "
            f"n_regions to at most {max(1, n_layers // per_region)} or raise "
            "n_blocks."
        )
    bounds = np.cumsum(
        [0] + [len(s) for s in np.array_split(range(n_layers), n_regions)]
    )
    return [(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


@dataclass(frozen=True)
class ParallelPlan:
    """How one fit runs: regions, worker threads and BLAS threads per call."""

    n_regions: int
    n_workers: int
    blas_threads: int
    #: Row blocks of the fit's problem (``skadmm._row_blocks``); 1: none.
    row_blocks: int = 1

    @property
    def forward_blocks(self):
        """Row blocks of the forward passes that score the fit's iterates."""
        return self.row_blocks if self.row_blocks > 1 else self.n_regions

    @property
    def threaded_blas(self):
        """Whether the fit's products run on several BLAS threads (then the
        block updates multiply whole arrays, not row chunks)."""
        return self.blas_threads > 1


def run_in_order(tasks):
    """Run the tasks of a phase one after the other, in this thread (the
    serial counterpart of :meth:`Team.run`)."""
    for task in tasks:
        task()


def plan_parallelism(
    n_jobs,
    n_regions,
    n_layers,
    n_samples,
    width,
    n_features,
    row_blocks=1,
    per_region=2,
):
    """Resolve ``n_jobs`` and ``n_regions`` for a network of ``n_layers`` layers.

    The cores a fit may use (its *budget*) are the BLAS threads in effect when
    ``fit`` starts, capped by :func:`joblib.cpu_count`: all cores by default, fewer
    inside a ``GridSearchCV(n_jobs=...)`` worker or a ``threadpool_limits``
    block. At most ``min(n_jobs, n_regions, budget)`` workers run and every BLAS
    call gets ``budget // n_regions`` threads (at least one), or one thread when
    the products of ``n_samples`` rows, ``width`` and ``n_features`` are too
    small to gain from more (:func:`~skadmm._blas.blas_threads_for`). So workers
    times BLAS threads never exceed the budget, and the BLAS thread count depends
    on the data shape and the regions but not on ``n_jobs``, which is what keeps
    results independent of ``n_jobs`` (OpenBLAS rounds differently with
    different thread counts).

    A fit whose rows are split into ``row_blocks > 1`` blocks (see
    :mod:`skadmm._row_blocks`) runs them on ``min(n_jobs, budget, row_blocks)``
    workers, each block on one BLAS thread; ``n_jobs=None`` then means the
    whole budget, the cores its BLAS threads would use otherwise.

    ``per_region``: the fewest layers of a region (see :func:`split_layers`).
    """
    regions = 1 if n_regions is None else n_regions
    split_layers(n_layers, regions, per_region)  # validates before any work
    budget = max(1, min(blas_thread_budget(), cpu_count()))
    if row_blocks > 1:
        requested = budget if n_jobs is None else effective_n_jobs(n_jobs)
        workers = max(1, min(requested, budget, row_blocks))
        return ParallelPlan(regions, workers, 1, row_blocks)
    workers = max(1, min(effective_n_jobs(n_jobs), regions, budget))
    blas = blas_threads_for(max(1, budget // regions), n_samples, width, n_features)
    return ParallelPlan(regions, workers, blas)


def search_workers(n_jobs, n_samples, width, n_features):
    """Worker processes for the independent fits of ``alpha="auto"``'s search.

    The candidates' fits share nothing, so with ``n_jobs > 1`` they run on
    joblib's process workers, each fit and its predictions on one BLAS thread.
    As with the regions (:func:`plan_parallelism`), at most the fit's budget of
    cores run, the BLAS threads in effect when ``fit`` is called: one inside a
    worker of ``GridSearchCV(n_jobs=...)`` or of a Dask cluster, so nested
    searches do not oversubscribe the machine. Their results equal the
    in-process ones only while the products are small enough to run on one
    BLAS thread anyway (see :func:`~skadmm._blas.blas_threads_for`), so larger
    ones stay in-process. So does a search under a thread-based joblib backend
    (a nested call from joblib's thread workers, or
    ``parallel_config(backend="threading")``): the fits hold the GIL most of
    the time, and they change the process-wide warning filters. Under joblib's
    Dask backend the fits are the cluster's tasks, ``n_jobs`` of them at once
    whatever this process's own BLAS threads.

    Returns
    -------
    n_workers : int
        ``1``: run the fits in this process, in order.
    """
    if not small_products(n_samples, width, n_features):
        return 1
    backend, _ = get_active_backend(prefer="processes")
    if getattr(backend, "uses_threads", False):
        return 1
    if _on_a_cluster(backend):
        # The fits run on the cluster's workers, not on this process's cores:
        # its BLAS threads (one, say, by OMP_NUM_THREADS) do not bound them.
        return effective_n_jobs(n_jobs)
    budget = max(1, min(blas_thread_budget(), cpu_count()))
    return min(effective_n_jobs(n_jobs), budget)


def _on_a_cluster(backend):
    """Whether joblib's active ``backend`` runs tasks on a Dask cluster."""
    return type(backend).__module__ == "joblib._dask"


def run_search(tasks, n_workers):
    """Results of the callables ``tasks``, in order, as each arrives (see
    :func:`search_workers`): a generator, so progress can be reported."""
    if n_workers == 1:
        return (task() for task in tasks)
    return Parallel(n_jobs=n_workers, prefer="processes", return_as="generator")(
        delayed(task)() for task in tasks
    )


class Team:
    """Run phases of independent tasks on the caller's thread and worker threads.

    Use as a context manager around the solver loop; :meth:`run` executes one
    phase and returns when all of its tasks are done. The first exception raised
    by a task (in any thread) is re-raised by :meth:`run` in the caller's thread,
    with its type, message and traceback, once the tasks in flight have finished;
    the rest of that phase is skipped.

    Parameters
    ----------
    n_workers : int
        Threads taking part, the caller's included. With 1 the tasks run in
        order in the caller's thread and no thread is started.
    """

    def __init__(self, n_workers):
        self.n_workers = n_workers
        self._cond = threading.Condition()
        self._phase = 0
        self._tasks = ()
        self._next = 0
        self._in_flight = 0
        self._error = None
        self._errstate = None
        self._closing = False
        self._launcher = None
        self._launch_error = None

    def __enter__(self):
        if self.n_workers > 1:
            # joblib's thread pool is opened from a helper thread so that the
            # caller stays free to lead; sklearn's config is thread-local, so it
            # is handed over explicitly.
            self._launcher = threading.Thread(
                target=self._launch,
                args=(get_config(),),
                name="skadmm-team",
                daemon=True,
            )
            self._launcher.start()
        return self

    def __exit__(self, *exc_info):
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        if self._launcher is not None:
            self._launcher.join()
        if self._launch_error is not None and exc_info[0] is None:
            raise self._launch_error
        return False

    def run(self, tasks):
        """Run the callables ``tasks`` (one phase); return when all are done."""
        if self._launcher is None or len(tasks) <= 1:
            # A phase of one task runs here: waking the other threads for it
            # only costs them and this thread the GIL's hand-overs.
            for task in tasks:
                task()
            return
        with self._cond:
            self._tasks = tasks
            self._next = 0
            self._error = None
            self._errstate = np.geterr()
            self._phase += 1
            phase = self._phase
            self._cond.notify_all()
        self._work(phase)
        with self._cond:
            while self._in_flight:
                self._cond.wait()
            error, self._error = self._error, None
        if error is not None:
            raise error

    # ----------------------------------------------------------- workers
    def _launch(self, config):
        try:
            with config_context(**config):
                Parallel(n_jobs=self.n_workers - 1, require="sharedmem")(
                    delayed(self._follow)() for _ in range(self.n_workers - 1)
                )
        except BaseException as exc:  # reported by __exit__
            self._launch_error = exc

    def _follow(self):
        seen = 0
        while True:
            with self._cond:
                while self._phase == seen and not self._closing:
                    self._cond.wait()
                if self._closing:
                    return
                seen = self._phase
            self._work(seen)

    def _work(self, phase):
        cond = self._cond
        while True:
            with cond:
                if (
                    self._phase != phase
                    or self._closing
                    or self._error is not None
                    or self._next >= len(self._tasks)
                ):
                    return
                task = self._tasks[self._next]
                self._next += 1
                self._in_flight += 1
                errstate = self._errstate
            try:
                # np.errstate is per thread: apply the leader's.
                with np.errstate(**errstate):
                    task()
            except BaseException as exc:
                with cond:
                    if self._error is None:
                        self._error = exc
            finally:
                with cond:
                    self._in_flight -= 1
                    if not self._in_flight:
                        cond.notify_all()

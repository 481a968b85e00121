"""pdADMM's layer-parallel (Jacobi) iteration: 2 workers against 1.

One problem (synthetic, N=20000, width 128, 32 residual blocks; ``--quick``:
N=2000, width 32, 6 blocks), ``solver="pdadmm"`` with ``n_regions=2`` (two
workers at most, one BLAS thread each; every layer is a task of each phase), in
one process run:

* ``1 worker``: ``n_jobs=1`` under a BLAS limit of one thread;
* ``2 workers``: ``n_jobs=2`` under a limit of two, which the parallel plan
  splits into one BLAS thread per worker.

The two give bit-identical iterates (checked). The runs come in pairs (1
worker, then 2), each pair reported on its own with the load average and a
*control*: the speed-up of two threads over one on independent matrix products
of the same size, measured around the pair, which says what the shared machine
offered a second thread then. Seconds per iteration are the median of the
per-iteration wall-clock times (``time_curve_``, the monitor's forward pass
included) after the first iteration. A last row times single iterations of
one problem run alternately by a 1-worker and a 2-worker team (median of the
ratios of adjacent iterations, monitor excluded), which a load that changes
within a minute affects less than whole fits.

The 1-worker runs also record CPU times (``time.thread_time``, which the load
does not inflate): of every task of every phase, of the rest of each step and
of the monitor. ``free_core_estimate`` is the speed-up they imply for 2
workers that each have a core of their own: the phases' tasks scheduled as the
team does (each to the next free worker), the rest of the step serial, the
monitor's forward pass on two row blocks.

Usage::

    python benchmarks/bench_pdadmm_parallel.py            # the full problem
    python benchmarks/bench_pdadmm_parallel.py --quick    # small sizes, a smoke run
"""

import argparse
import os
import threading
import time
import warnings
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from skadmm import ADMMResidualRegressor
from skadmm._activations import get_activation
from skadmm._monitor import ForwardMonitor
from skadmm._network import init_weights
from skadmm._parallel import Team
from skadmm._solvers import PDADMMSolver
from skadmm._splitting._pdadmm import PQRelaxation

from _common import RESULTS, SEED, write_results

#: Penalties inside the monotone region (rho > 4 beta for relu).
PENALTIES = dict(beta=1.0, rho=5.0)


def problem(quick):
    rng = np.random.default_rng(SEED)
    n = 2000 if quick else 20000
    X = rng.standard_normal((n, 16))
    y = np.sin(2 * X[:, 0]) + X[:, 1] * X[:, 2] + 0.1 * rng.standard_normal(n)
    params = dict(width=32 if quick else 128, n_blocks=6 if quick else 32)
    return X, y, params


def fit(X, y, params, max_iter, workers, mode=None):
    """A fit of ``max_iter`` iterations on ``workers`` workers, one BLAS thread
    each; ``mode``: the solver's parameters (default pdADMM at ``PENALTIES``)."""
    mode = dict(solver="pdadmm", **PENALTIES) if mode is None else mode
    est = ADMMResidualRegressor(
        **mode,
        **params,
        alpha=1e-3,
        max_iter=max_iter,
        tol=0.0,
        refit_readout=False,
        n_regions=2,
        n_jobs=workers,
        random_state=SEED,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with threadpool_limits(workers, user_api="blas"):
            est.fit(X, y)
    return est


class Clock:
    """CPU seconds (``time.thread_time``) of the tasks, steps and monitor calls.

    ``phases`` holds, per phase of ``PQRelaxation.iterate``, the CPU time of
    each task (whichever thread ran it); ``step`` and ``monitor`` the leader
    thread's CPU time in ``PDADMMSolver.step`` (the phases' tasks it ran
    included) and in the monitor's evaluation of the forward network.
    """

    def __init__(self):
        self.phases = []
        self.step = self.monitor = 0.0
        self.lock = threading.Lock()

    def wrap(self, run):
        def timed_run(tasks):
            phase = []
            self.phases.append(phase)

            def timed(task):
                def call():
                    start = time.thread_time()
                    task()
                    spent = time.thread_time() - start
                    with self.lock:
                        phase.append(spent)

                return call

            run([timed(task) for task in tasks])

        return timed_run

    def free_core_estimate(self, workers=2):
        """Speed-up of an iteration if each of ``workers`` had its own core.

        Phases: the tasks in their order, each to the first free worker (what
        the shared counter of the team does); the rest of the step stays
        serial; the monitor's forward pass runs on ``workers`` row blocks.
        """
        tasks = sum(sum(p) for p in self.phases)
        makespan = 0.0
        for phase in self.phases:
            free = [0.0] * workers
            for spent in phase:
                i = free.index(min(free))
                free[i] += spent
            makespan += max(free)
        serial = self.step - tasks
        total = self.step + self.monitor
        return total / (serial + makespan + self.monitor / workers)


def clocked_fit(X, y, params, max_iter, workers):
    clock = Clock()
    iterate, step, update = (
        PDADMMSolver.iterate,
        PDADMMSolver.step,
        ForwardMonitor.update,
    )

    def timed_iterate(problem, run=None):
        return iterate(problem, clock.wrap(run))

    def timed_step(self, problem, run):
        start = time.thread_time()
        try:
            return step(self, problem, run)
        finally:
            clock.step += time.thread_time() - start

    def timed_update(self, problem, iteration, *args, **kwargs):
        start = time.thread_time()
        try:
            return update(self, problem, iteration, *args, **kwargs)
        finally:
            clock.monitor += time.thread_time() - start

    PDADMMSolver.iterate = staticmethod(timed_iterate)
    PDADMMSolver.step = timed_step
    ForwardMonitor.update = timed_update
    try:
        est = fit(X, y, params, max_iter, workers)
    finally:
        PDADMMSolver.iterate, PDADMMSolver.step = staticmethod(iterate), step
        ForwardMonitor.update = update
    return est, clock


def load():
    return "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


def control(n_rows, width, seconds=1.0):
    """Speed-up of two threads over one on independent BLAS products.

    The same ``n_rows x width`` times ``width x width`` products as the layers,
    one BLAS thread each, no synchronisation: what the machine offers a
    second thread at that moment (about 2 on two idle cores).
    """
    rng = np.random.default_rng(SEED)
    A, B = rng.random((n_rows, width)), rng.random((width, width))
    outs = [np.empty((n_rows, width)) for _ in range(2)]

    def work(i, reps):
        for _ in range(reps):
            np.matmul(A, B, out=outs[i])

    with threadpool_limits(1, user_api="blas"):
        start = time.perf_counter()
        reps = 0
        while time.perf_counter() - start < seconds / 2:
            work(0, 2)
            reps += 2
        one = time.perf_counter() - start
        threads = [threading.Thread(target=work, args=(i, reps // 2)) for i in (0, 1)]
        start = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        two = time.perf_counter() - start
    return one / two


def interleaved(X, y, params, n_pairs):
    """Seconds of single iterations run alternately by 1 and 2 workers.

    One problem (``PQRelaxation``, the estimator's initialisation), one BLAS
    thread per worker; iteration ``2i`` runs on a 1-worker team, ``2i + 1`` on a
    2-worker team, so both see the same load within seconds. The Jacobi
    iteration does not depend on which team runs it. Returns the pairs of
    seconds.
    """
    act = get_activation("relu")
    rng = np.random.default_rng(SEED)
    Y = ((y - y.mean()) / y.std())[:, None]
    W = init_weights(
        X.shape[1], params["width"], params["n_blocks"], 1, act, rng, X.dtype
    )
    pairs = []
    with threadpool_limits(1, user_api="blas"):
        problem = PQRelaxation(X, Y, None, W, act, alpha=1e-3, tau=1e-3, **PENALTIES)
        for workers in (1, 2):
            with Team(workers) as team:
                PDADMMSolver.iterate(problem, team.run)
        for _ in range(n_pairs):
            seconds = []
            for workers in (1, 2):
                # A team per iteration (its start costs about 10 ms).
                with Team(workers) as team:
                    start = time.perf_counter()
                    PDADMMSolver.iterate(problem, team.run)
                    seconds.append(time.perf_counter() - start)
            pairs.append(seconds)
            print(
                f"   interleaved: 1 worker {seconds[0]:.3f} s, 2 workers "
                f"{seconds[1]:.3f} s, load {load()}",
                flush=True,
            )
    return pairs


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--iterations", type=int, default=None)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    X, y, params = problem(args.quick)
    max_iter = args.iterations or (4 if args.quick else 5)
    width, blocks = params["width"], params["n_blocks"]
    name = f"synthetic N={X.shape[0]}, width {width}, {blocks} blocks"
    print(f"== {name}, {os.cpu_count()} cores, load average {load()}", flush=True)
    rows, estimates, reference = [], [], None
    for repeat in range(1, args.repeats + 1):
        before, machine = load(), control(X.shape[0], width)
        seconds = {}
        for workers in (1, 2):
            est, clock = clocked_fit(X, y, params, max_iter, workers)
            seconds[workers] = float(np.median(np.diff(est.time_curve_)))
            if workers == 1:
                estimates.append(clock.free_core_estimate(2))
            print(
                f"   {workers} worker(s): {np.diff(est.time_curve_).round(3)} s, "
                f"load {load()}",
                flush=True,
            )
            if reference is None:
                reference = est
            else:
                assert all(
                    np.array_equal(a, b)
                    for a, b in zip(est.coefs_, reference.coefs_, strict=True)
                ), "results differ between n_jobs"
        machine = (machine + control(X.shape[0], width)) / 2
        rows.append(
            dict(
                problem=name,
                pair=repeat,
                seconds_1_worker=round(seconds[1], 4),
                seconds_2_workers=round(seconds[2], 4),
                speedup=round(seconds[1] / seconds[2], 2),
                control_speedup=round(machine, 2),
                free_core_estimate=round(estimates[-1], 2),
                load_average_before=before,
                load_average_after=load(),
            )
        )
        print("   ", rows[-1], flush=True)
    before, machine = load(), control(X.shape[0], width)
    pairs = np.asarray(interleaved(X, y, params, 3 if args.quick else 6))
    machine = (machine + control(X.shape[0], width)) / 2
    ratios = pairs[:, 0] / pairs[:, 1]
    rows.append(
        dict(
            problem=name,
            pair=f"interleaved iterations x {len(pairs)} (median)",
            seconds_1_worker=round(float(np.median(pairs[:, 0])), 4),
            seconds_2_workers=round(float(np.median(pairs[:, 1])), 4),
            speedup=round(float(np.median(ratios)), 2),
            control_speedup=round(machine, 2),
            free_core_estimate="",
            load_average_before=before,
            load_average_after=load(),
        )
    )
    print("   ", rows[-1], flush=True)
    best = max(rows, key=lambda r: r["speedup"])
    pairs = ", ".join(str(r["speedup"]) for r in rows)
    print(
        f"speed-up of 2 workers over 1 (wall clock): {pairs} by pair, "
        f"best {best['speedup']}x "
        f"(control {best['control_speedup']}x); estimated with a free core per "
        f"worker: {np.median(estimates):.2f}x",
        flush=True,
    )
    preamble = (
        f"solver='pdadmm', beta={PENALTIES['beta']}, rho={PENALTIES['rho']}, "
        f"n_regions=2, one BLAS thread per worker. Each pair: a 1-worker fit, "
        f"then a 2-worker fit, {max_iter} iterations each; median seconds per "
        "iteration after the first (monitor included); iterates bit-identical. "
        "control_speedup: two threads over one on independent products of the "
        "same size, measured before and after the pair (what the shared machine "
        "offered a second thread). free_core_estimate: the speed-up implied by "
        "the CPU times of the 1-worker fit's tasks (see the script)."
    )
    if not args.quick:
        write_results(args.out, "pdadmm_parallel", rows, preamble)


if __name__ == "__main__":
    main()

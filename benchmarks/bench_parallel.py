"""Parallel regional updates: seconds per iteration against the number of workers.

For each problem, in one process run (the machines are shared and noisy, so only
ratios measured side by side are reported):

* ``serial``: the plain fit, ``n_regions=1``, BLAS free to use every core (what
  ``n_jobs=None`` gives; it uses them when the products are large enough, see
  ``bench_load.py``: the Wine Quality problem gets one thread);
* ``1 worker, 1 BLAS``: the same algorithm on one thread;
* for k = 2, 4, 8 up to the cores present: ``n_regions=k`` run by one worker with
  one BLAS thread (same arithmetic as below, bit for bit), and by ``n_jobs=k``
  workers with one BLAS thread each.

Seconds per iteration are the median of the per-iteration wall-clock times
(``time_curve_``; forward-network evaluation included) after the first
iteration. The synchronisation cost is measured separately: three phases of
empty tasks per iteration, the number an iteration pays.

Usage::

    python benchmarks/bench_parallel.py            # large problem and Wine Quality
    python benchmarks/bench_parallel.py --quick    # small sizes, a smoke run
"""

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
from joblib import cpu_count
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from skadmm._parallel import Team
from skadmm.datasets import load_wine_quality

from _common import RESULTS, radmm, write_results


def problems(quick):
    rng = np.random.default_rng(0)
    n = 2000 if quick else 20000
    X = rng.standard_normal((n, 16))
    y = np.sin(2 * X[:, 0]) + X[:, 1] * X[:, 2] + 0.1 * rng.standard_normal(n)
    large = dict(width=32 if quick else 128, n_blocks=6 if quick else 32)
    X_wine, y_wine = load_wine_quality("white", return_X_y=True)
    X_wine = StandardScaler().fit_transform(X_wine)
    return [
        (
            f"synthetic N={n}, width {large['width']}, {large['n_blocks']} blocks",
            X,
            y,
            large,
            3 if quick else 4,
        ),
        (
            "Wine Quality white (N=4898), width 64, 8 blocks",
            X_wine,
            y_wine,
            dict(width=64, n_blocks=8),
            6 if quick else 15,
        ),
    ]


def seconds_per_iteration(X, y, params, max_iter, blas, **parallel):
    est = radmm(**params, **parallel, max_iter=max_iter, tol=0.0, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with threadpool_limits(blas, user_api="blas"):
            est.fit(X, y)
    return float(np.median(np.diff(est.time_curve_))), est


def sync_cost(n_workers, repeats=300):
    """Seconds per iteration spent synchronising three phases of empty tasks."""
    with Team(n_workers) as team:
        tasks = [lambda: None] * n_workers
        for _ in range(20):
            team.run(tasks)
        start = time.perf_counter()
        for _ in range(repeats):
            for _ in range(3):
                team.run(tasks)
    return (time.perf_counter() - start) / repeats


def make_row(problem, config, workers, regions, seconds, one, serial, sync):
    row = dict(
        problem=problem,
        configuration=config,
        n_regions=regions,
        workers=workers,
        seconds_per_iteration=round(seconds, 4),
        speedup_vs_1_worker_1_blas=round(one / seconds, 2),
        speedup_vs_serial=round(serial / seconds, 2),
        sync_ms_per_iteration="" if sync is None else round(1e3 * sync, 3),
    )
    print("   ", {k: v for k, v in row.items() if k != "problem"}, flush=True)
    return row


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    cores = cpu_count()
    ks = [k for k in (2, 4, 8) if k <= cores]
    rows = []
    for name, X, y, params, max_iter in problems(args.quick):
        print(f"== {name}", flush=True)
        serial, _ = seconds_per_iteration(X, y, params, max_iter, None)
        one, _ = seconds_per_iteration(X, y, params, max_iter, 1)

        def row(
            config, workers, regions, seconds, sync=None, name=name, base=(one, serial)
        ):
            rows.append(make_row(name, config, workers, regions, seconds, *base, sync))

        row("serial (n_jobs=None, BLAS on all cores)", 1, 1, serial)
        row("1 worker, 1 BLAS thread", 1, 1, one)
        for k in ks:
            seq, a = seconds_per_iteration(
                X, y, params, max_iter, 1, n_regions=k, n_jobs=1
            )
            par, b = seconds_per_iteration(
                X, y, params, max_iter, k, n_regions=k, n_jobs=k
            )
            assert all(
                np.array_equal(p, q) for p, q in zip(a.coefs_, b.coefs_, strict=True)
            )
            row(f"{k} regions, 1 worker, 1 BLAS thread", 1, k, seq)
            row(f"{k} regions, {k} workers x 1 BLAS thread", k, k, par, sync_cost(k))
    write_results(args.out, "parallel", rows)


if __name__ == "__main__":
    main()

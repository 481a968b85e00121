"""Fit time on a busy machine: BLAS threads chosen by size against all threads.

The default fit on Wine Quality (red and white, features standardised,
``ADMMResidualRegressor(random_state=0)``) is timed with 0, 1 and 2 busy-loop
processes running beside it (started here with :mod:`multiprocessing`), under
three BLAS rules:

* ``default``: the rule of the package (one BLAS thread when the fit's largest
  product is below ``skadmm._blas.BLAS_MIN_PRODUCT``, else every thread);
* ``all threads``: the rule before it, every product on all the BLAS threads in
  effect (the threshold set to 0);
* ``1 thread``: OpenBLAS limited to one thread (``threadpool_limits(1)``), the
  reference of the ratios.

The machines are shared and noisy, so the runs are interleaved: each repeat
goes round every load level, data set and rule in turn, and the table reports
medians over the repeats, with the 1-minute load average (``os.getloadavg``)
seen during each group of fits.

Usage::

    python benchmarks/bench_load.py            # 3 repeats, 10-25 min (shared machine)
    python benchmarks/bench_load.py --quick    # red wine, short fits: a smoke run
"""

import argparse
import multiprocessing
import os
import time
import warnings
from contextlib import contextmanager

import numpy as np
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

import skadmm._blas
from skadmm import ADMMResidualRegressor
from skadmm._parallel import plan_parallelism

from _common import RESULTS, SEED, wine, write_results

RULES = ("default", "all threads", "1 thread")
#: Iterations of each data set's fits (None: the default fit, which runs all 200
#: of its iterations on both). White's fits are cut: beside busy processes on a
#: shared 2-core machine one fit with all threads took minutes. Every rule runs
#: the same iterations, so the ratios compare like with like.
MAX_ITER = {"red": None, "white": 40}
#: Target: under load the default fit is at most this many times the 1-thread fit.
TARGET_RATIO = 1.5


def _spin(parent):
    # Busy until stopped, or until the benchmark dies without stopping it.
    while os.getppid() == parent:
        for _ in range(10**6):
            pass


@contextmanager
def busy_processes(n):
    """Run ``n`` busy-loop processes for the duration of the block."""
    context = multiprocessing.get_context("spawn")
    procs = [
        context.Process(target=_spin, args=(os.getpid(),), daemon=True)
        for _ in range(n)
    ]
    for p in procs:
        p.start()
    try:
        time.sleep(0.2 if n else 0.0)  # let them reach the loop
        yield
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.join()


@contextmanager
def rule(name):
    """The BLAS rule ``name`` (see the module docstring) for the block."""
    threshold = skadmm._blas.BLAS_MIN_PRODUCT
    if name == "all threads":
        skadmm._blas.BLAS_MIN_PRODUCT = 0
    try:
        with threadpool_limits(1 if name == "1 thread" else None, user_api="blas"):
            yield
    finally:
        skadmm._blas.BLAS_MIN_PRODUCT = threshold


def make_model(max_iter):
    params = {} if max_iter is None else {"max_iter": max_iter}
    return ADMMResidualRegressor(random_state=SEED, **params)


def fit_seconds(model, X, y):
    tick = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a short --quick fit does not converge
        model.fit(X, y)
    return time.perf_counter() - tick


def blas_threads(name, model, X):
    """BLAS threads the plan gives the fit under rule ``name``."""
    n_samples, n_features = X.shape
    with rule(name):
        plan = plan_parallelism(
            model.n_jobs,
            model.n_regions,
            model.n_blocks + 2,
            n_samples,
            model.width,
            n_features,
        )
    return plan.blas_threads


def report(times, load_avg, data, max_iter, repeats, out):
    """Write ``load.csv``, ``load.md`` and ``load_machine.txt``; return the rows."""
    rows = []
    met = True
    loads = sorted({n_busy for _, n_busy, _ in times})
    for variant, (X, _) in data.items():
        for n_busy in loads:
            reference = np.median(times[(variant, n_busy, "1 thread")])
            for name in RULES:
                key = (variant, n_busy, name)
                median = float(np.median(times[key]))
                ratio = median / reference
                if name == "default" and n_busy > 0:
                    met &= ratio <= TARGET_RATIO
                rows.append(
                    {
                        "data": f"{variant} ({X.shape[0]} x {X.shape[1]})",
                        "max_iter": max_iter[variant] or "default (200)",
                        "busy_processes": n_busy,
                        "rule": name,
                        "blas_threads": blas_threads(name, make_model(None), X),
                        "median_s": round(median, 3),
                        "min_s": round(float(np.min(times[key])), 3),
                        "max_s": round(float(np.max(times[key])), 3),
                        "ratio_to_1_thread": round(ratio, 2),
                        "load_avg_1min": round(float(np.mean(load_avg[key])), 1),
                    }
                )
    fit = ", ".join(
        f"{v}: " + ("the default fit" if n is None else f"max_iter={n}")
        for v, n in max_iter.items()
    )
    preamble = f"""
Wine Quality, features standardised, `ADMMResidualRegressor(random_state={SEED})`
({fit}), timed beside 0, 1 and 2 busy-loop processes. Rules: `default` (one BLAS
thread when the largest product, n_samples x max(width, n_features)^2
multiply-adds, is below `BLAS_MIN_PRODUCT` = {skadmm._blas.BLAS_MIN_PRODUCT:.3g},
else all threads), `all threads` (the rule before, threshold 0), `1 thread`
(`threadpool_limits(1)`, the reference of `ratio_to_1_thread`). {repeats} repeats,
interleaved (each repeat goes round every load, data set and rule); median, min
and max seconds per fit. `load_avg_1min`: mean 1-minute load average after those
fits (the machine is shared: it includes other users' processes). Target: with
1 and 2 busy processes the default fit within {TARGET_RATIO}x of the 1-thread fit:
**{"met" if met else "missed"}**.
"""
    write_results(out, "load", rows, preamble)
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run")
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument(
        "--max-iter", type=int, default=None, help="iterations of all fits"
    )
    parser.add_argument("--out", default=RESULTS)
    args = parser.parse_args(argv)
    repeats = args.repeats or (1 if args.quick else 3)
    variants = ["red"] if args.quick else ["red", "white"]
    max_iter = {v: MAX_ITER[v] for v in variants}
    if args.quick or args.max_iter is not None:
        max_iter = dict.fromkeys(variants, args.max_iter or 20)
    loads = [0, 1, 2]

    data = {}
    for variant in variants:
        X, y = wine(variant)
        data[variant] = (StandardScaler().fit_transform(X), y)
    fit_seconds(make_model(20), *data["red"])  # warm-up: imports, caches

    times = {}
    load_avg = {}
    for repeat in range(repeats):
        for n_busy in loads:
            with busy_processes(n_busy):
                for variant in variants:
                    X, y = data[variant]
                    # Rotated each repeat: no rule always runs first.
                    for name in RULES[repeat % 3 :] + RULES[: repeat % 3]:
                        with rule(name):
                            seconds = fit_seconds(make_model(max_iter[variant]), X, y)
                        key = (variant, n_busy, name)
                        times.setdefault(key, []).append(seconds)
                        load_avg.setdefault(key, []).append(os.getloadavg()[0])
                        print(
                            f"repeat {repeat + 1}/{repeats} {variant:5s} "
                            f"busy={n_busy} {name:11s} {seconds:7.2f} s "
                            f"load {load_avg[key][-1]:.1f}",
                            flush=True,
                        )

        # Written after every repeat: an interrupted run keeps what it measured.
        report(times, load_avg, data, max_iter, repeat + 1, args.out)


if __name__ == "__main__":
    main()

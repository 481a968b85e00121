"""Row blocks of one in-process fit on ``n_jobs`` threads.

Above 16,384 training rows the default mode splits its rows into fixed blocks
of about 8,192 rows and computes them on the fit's ``n_jobs`` threads,
each block on one BLAS thread, summing their reductions in block order (user
guide, "Large tables"). For each table size (``--rows``; Friedman #1 with 20
features, noise 1), in one run (the machine is shared and noisy, so the
ratios measured side by side are what to read), ``--iter`` iterations of the
run on all rows (no stages, no early stopping, ``tol=0``) of the defaults
otherwise, are timed:

* ``one block, 1 BLAS thread``: the rows in one problem (the fit before row
  blocks), on one BLAS thread;
* ``one block, 2 BLAS threads``: the same on two BLAS threads (what a large
  fit used of two cores before);
* ``blocks, n_jobs=1`` and ``blocks, n_jobs=2``: the row blocks on one and two
  threads, under a budget of two cores.

Reported: seconds per iteration, the speed-up of ``n_jobs=2`` over
``n_jobs=1`` and over the one-block fits, whether ``n_jobs=1`` and ``2`` give
bit-identical predictions, the largest difference from the one-block fit's
predictions (relative), and peak memory of the process. Then the whole
default fit (stages, early stopping) at ``--full-rows`` rows with
``n_jobs=1`` and ``n_jobs=2``: fit seconds and test MSE.

Outputs ``row_blocks.csv`` and ``row_blocks.md`` in ``--out``.

    python benchmarks/bench_row_blocks.py            # 50k, 200k, 1M rows (minutes)
    python benchmarks/bench_row_blocks.py --quick    # smoke run (seconds)
"""

import argparse
import resource
import time
import warnings

import numpy as np
from sklearn.datasets import make_friedman1
from threadpoolctl import threadpool_limits

import skadmm._row_blocks as row_blocks
from skadmm import ADMMResidualRegressor
from skadmm._solvers._reset import ResetSolver

from _common import SEED, rounded, write_results

TEST_ROWS = 20_000


def table(n_rows):
    X, y = make_friedman1(
        n_rows + TEST_ROWS, n_features=20, noise=1.0, random_state=SEED
    )
    # Friedman's features are uniform on [0, 1]: standardised, as a user would.
    X = (X - 0.5) * np.sqrt(12.0)
    return X[:n_rows], y[:n_rows], X[n_rows:], y[n_rows:]


def timed_fit(X, y, n_jobs, blas, blocks, **params):
    """``(model, seconds)`` of a fit with ``blas`` BLAS threads; ``blocks``:
    whether large tables are split into row blocks."""
    saved = row_blocks.MIN_BLOCKED_ROWS
    row_blocks.MIN_BLOCKED_ROWS = saved if blocks else 10**12
    try:
        with threadpool_limits(blas), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = ADMMResidualRegressor(random_state=SEED, n_jobs=n_jobs, **params)
            tick = time.perf_counter()
            model.fit(X, y)
            return model, time.perf_counter() - tick
    finally:
        row_blocks.MIN_BLOCKED_ROWS = saved


def per_iteration(model):
    last = model.stages_[-1]
    return last["seconds"] / max(1, last["n_iter"])


def peak_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


CONFIGS = (
    ("one block, 1 BLAS thread", 1, 1, False),
    ("one block, 2 BLAS threads", 1, 2, False),
    ("blocks, n_jobs=1", 1, 2, True),
    ("blocks, n_jobs=2", 2, 2, True),
)


def measure(n_rows, n_iter):
    """Per-iteration times of the run on all rows, stages off."""
    X, y, X_test, _ = table(n_rows)
    params = dict(max_iter=n_iter, tol=0.0, early_stopping=False)
    staged, ResetSolver.staged = ResetSolver.staged, False
    rows, outputs, times = [], {}, {}
    try:
        for name, n_jobs, blas, blocks in CONFIGS:
            model, _ = timed_fit(X, y, n_jobs, blas, blocks, **params)
            times[name] = per_iteration(model)
            outputs[name] = model.predict(X_test)
            rows.append(
                dict(
                    rows=n_rows,
                    config=name,
                    s_per_iter=times[name],
                    row_blocks=row_blocks.n_row_blocks(n_rows, X.shape[1]),
                    peak_mib=peak_mib(),
                )
            )
    finally:
        ResetSolver.staged = staged
    one = outputs["one block, 1 BLAS thread"]
    for row in rows:
        out = outputs[row["config"]]
        row["speedup_vs_n_jobs_1"] = times["blocks, n_jobs=1"] / row["s_per_iter"]
        row["max_rel_diff"] = float(np.max(np.abs(out - one)) / np.max(np.abs(one)))
        row["identical_to_n_jobs_1"] = bool(
            np.array_equal(out, outputs["blocks, n_jobs=1"])
        )
    return rows


def full_fit(n_rows):
    """The default fit (stages, early stopping) with n_jobs=1 and n_jobs=2."""
    X, y, X_test, y_test = table(n_rows)
    rows, outputs = [], {}
    for n_jobs in (1, 2):
        model, seconds = timed_fit(X, y, n_jobs, 2, True)
        outputs[n_jobs] = model.predict(X_test)
        rows.append(
            dict(
                rows=n_rows,
                config=f"default fit, n_jobs={n_jobs}",
                fit_s=seconds,
                n_iter=model.n_iter_,
                test_mse=float(np.mean((outputs[n_jobs] - y_test) ** 2)),
            )
        )
    same = bool(np.array_equal(outputs[1], outputs[2]))
    for row in rows:
        row["speedup"] = rows[0]["fit_s"] / row["fit_s"]
        row["identical"] = same
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", default="50000,200000,1000000")
    parser.add_argument("--iter", type=int, default=5)
    parser.add_argument("--full-rows", type=int, default=200_000)
    parser.add_argument("--out", default="benchmarks/results")
    parser.add_argument("--quick", action="store_true", help="smoke run")
    args = parser.parse_args(argv)
    sizes = [int(n) for n in args.rows.split(",")]
    n_iter, full = args.iter, args.full_rows
    if args.quick:
        sizes, n_iter, full = [2 * row_blocks.ROW_BLOCK_ROWS], 2, None
    rows = []
    for n in sizes:
        for row in measure(n, n_iter):
            rows.append(row)
            print(
                f"{n:9d} {row['config']:26s} {row['s_per_iter']:7.3f} s/iter "
                f"{row['speedup_vs_n_jobs_1']:.2f}x",
                flush=True,
            )
    preamble = (
        f"Friedman #1, 20 features; {n_iter} iterations of the run on all rows "
        "(no stages, no early stopping, tol=0) of the defaults; one run, so the "
        "ratios are what to read. `speedup_vs_n_jobs_1`: the row blocks on one "
        "thread over this row's time; `max_rel_diff`: largest difference from "
        "the one-block fit on one BLAS thread, over its largest magnitude."
    )
    write_results(args.out, "row_blocks", rounded(rows), preamble)
    if full:
        fits = full_fit(full)
        for row in fits:
            print(f"{row['config']:22s} {row['fit_s']:.1f} s", flush=True)
        write_results(
            args.out,
            "row_blocks_fit",
            rounded(fits),
            "The default fit (stages, early stopping) on Friedman #1 with 20 "
            "features, under a budget of two cores; one run.",
        )


if __name__ == "__main__":
    main()

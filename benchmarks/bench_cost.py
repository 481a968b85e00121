"""Where one iteration of the default mode spends its time, at 50k to 1M rows.

The default network (one hidden layer of 100 units) on Friedman #1 with 20
features, one BLAS thread, a run on all rows (no stages, no early stopping,
``alpha=1e-4``), profiled by cProfile over a few iterations. The phases are
the reset mode's own methods (``skadmm._solvers._reset``); the table gives
milliseconds per iteration and per 1,000 rows, the flops the update formulas
count, and one epoch of MLPRegressor on the same network, timed in the same
run. See the page "Large tables" for the cost model.

    python benchmarks/bench_cost.py            # about 3 minutes, 6 GB at 1M rows
    python benchmarks/bench_cost.py --quick
"""

import argparse
import cProfile
import pstats
import time
import warnings

from sklearn.datasets import make_friedman1
from sklearn.neural_network import MLPRegressor
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from skadmm import ADMMResidualRegressor, _stages

from _common import RESULTS, SEED, rounded, write_results

SIZES = (50_000, 200_000, 1_000_000)
ITERATIONS = 4
WIDTH, FEATURES = 100, 20
#: Phase name -> the functions (file suffix, name) whose cumulative time it is.
PHASES = {
    "line-search trials (forward passes)": ("_reset.py", "_objective"),
    "read-out refits (Gram + solve)": ("_reset.py", "_readout"),
    "reset to the forward pass": ("_three.py", "reset_to_forward"),
    "backward sweep": ("_reset.py", "_sweep"),
    "hidden W steps": ("_reset.py", "_w_steps"),
    "monitor (training loss)": ("_monitor.py", "update"),
}


def flops_per_row(d=FEATURES, n=WIDTH, m=1):
    """Flops per row of one iteration, from the update formulas (H = 1).

    Forward pass ``2 (d+1) n + 2 (n+1) m``; Gram ``(n+1)(n+2)`` (symmetric
    rank-k update); the W step's cross product ``2 (d+1) n``; the sweep's
    output error and top-layer step ``4 (n+1) m``. An iteration makes about
    five forward passes (the reset, two line-search trials, the
    extrapolation's trial and its reset) and two read-out Gram matrices.
    """
    forward = 2 * (d + 1) * n + 2 * (n + 1) * m
    gram = (n + 1) * (n + 2)
    return 5 * forward + 2 * gram + 2 * (d + 1) * n + 4 * (n + 1) * m


def mlp_flops_per_row(d=FEATURES, n=WIDTH, m=1):
    """Forward and backward pass of one hidden layer: about three forwards."""
    return 3 * 2 * (d * n + n * m)


def profile(n_rows):
    X, y = make_friedman1(n_rows, n_features=FEATURES, noise=1.0, random_state=SEED)
    X = StandardScaler().fit_transform(X)
    model = ADMMResidualRegressor(
        random_state=SEED,
        alpha=1e-4,
        max_iter=ITERATIONS,
        tol=0.0,
        early_stopping=False,
    )
    profiler = cProfile.Profile()
    # One run on all rows: no stage for either estimator (the switches are
    # put back, for a caller that goes on fitting in this process).
    saved = _stages.MIN_STAGED_ROWS, _stages.REGRESSOR_MIN_STAGED_ROWS
    _stages.MIN_STAGED_ROWS = _stages.REGRESSOR_MIN_STAGED_ROWS = 10**12
    try:
        with threadpool_limits(1), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            profiler.enable()
            model.fit(X, y)
            profiler.disable()
    finally:
        _stages.MIN_STAGED_ROWS, _stages.REGRESSOR_MIN_STAGED_ROWS = saved
    with threadpool_limits(1), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mlp = MLPRegressor(max_iter=1, random_state=SEED)
        tick = time.perf_counter()
        mlp.fit(X, y)
        epoch = time.perf_counter() - tick
    stats = pstats.Stats(profiler).stats
    row = dict(rows=n_rows)
    per_iter = model.time_curve_[-1] / model.n_iter_
    row["ms per iteration"] = 1e3 * per_iter
    for phase, (suffix, name) in PHASES.items():
        cum = sum(
            v[3]
            for (file, _, func), v in stats.items()
            if func == name and file.endswith(suffix)
        )
        row[phase] = 1e3 * cum / model.n_iter_
    row["us per row-iteration"] = 1e6 * per_iter / n_rows
    row["GFLOP/s"] = flops_per_row() * n_rows / per_iter / 1e9
    row["MLP epoch ms"] = 1e3 * epoch
    row["iteration / MLP epoch"] = per_iter / epoch
    return row


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", default=RESULTS)
    args = parser.parse_args(argv)
    sizes = (5_000,) if args.quick else SIZES
    rows = []
    for n in sizes:
        rows.append(profile(n))
        print(rounded([rows[-1]])[0], flush=True)
    note = (
        f"Flops per row of one iteration (update formulas, d={FEATURES}, "
        f"width {WIDTH}): {flops_per_row():,}; one MLP epoch: "
        f"{mlp_flops_per_row():,} ({flops_per_row() / mlp_flops_per_row():.1f}x). "
        "Phase columns: milliseconds per iteration (cProfile, cumulative; "
        "profiling overhead included)."
    )
    write_results(args.out, "cost", rounded(rows), preamble=note)


if __name__ == "__main__":
    main()

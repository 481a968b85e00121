"""Width and depth of the default network: accuracy, time, gain over random features.

For each architecture (``width``, ``n_blocks``), the defaults
``ADMMResidualRegressor(width=w, n_blocks=b, random_state=0)`` (``alpha="auto"``)
beside their own random features (the same network after one RADMM iteration,
``solver="radmm", max_iter=1``, which chooses its ``alpha="auto"`` the same
way) and ``MLPRegressor(max_iter=2000)``, on the regression suite of
``bench_suite.py`` with its 5-fold CV, seeds and one BLAS thread per fit.

What it answers: which architecture the defaults should have (test MSE against
MLP's, summed fit time against MLP's), and how much of the "gain over the
random features" target depends on the random features rather than on
training. Outputs in ``--out`` (default ``benchmarks/results``):
``architecture.csv`` and ``architecture.md``.

Usage::

    python benchmarks/bench_architecture.py --jobs 2    # about 50 minutes on 2 cores
    python benchmarks/bench_architecture.py --quick     # smoke run (seconds)
"""

import warnings

import numpy as np
from joblib import Parallel, delayed
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_limits

from skadmm import ADMMResidualRegressor

from _common import SEED, cross_validate, folds, rounded, write_results
from _datasets import DATASETS, load, suite_parser
from bench_suite import baselines

#: (width, n_blocks): the default (100, 0) first, then other widths, then depths.
ARCHITECTURES = ((100, 0), (50, 0), (150, 0), (200, 0), (100, 1), (100, 2))
MODELS = ("default", "random_features")


def model(name, architecture):
    """The suite's model ``name`` (the defaults: ``"default"``) at ``architecture``."""
    if name == "mlp":
        return baselines()["mlp"]
    width, n_blocks = architecture
    est = ADMMResidualRegressor(random_state=SEED)
    if name == "random_features":
        est = baselines()[name]
    return est.set_params(width=width, n_blocks=n_blocks)


def run(dataset, name, architecture, n_splits, max_rows):
    """Mean test MSE and fit time of one model over the folds of ``dataset``."""
    X, y = load(dataset)
    X, y = X[:max_rows], y[:max_rows]
    with threadpool_limits(1), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = model(name, architecture)
        scores = cross_validate(est, X, y, folds(X, n_splits))
    return (dataset, name, architecture), (
        scores["mse"].mean(),
        scores["fit_time"].mean(),
    )


def tabulate(results, datasets, architectures):
    """One row per (dataset, architecture): the defaults and their random features."""
    rows = []
    for dataset in datasets:
        mlp_mse, mlp_time = results[dataset, "mlp", None]
        for width, n_blocks in architectures:
            mse, time = results[dataset, "default", (width, n_blocks)]
            rf = results[dataset, "random_features", (width, n_blocks)][0]
            rows.append(
                dict(
                    dataset=dataset,
                    width=width,
                    n_blocks=n_blocks,
                    mse=mse,
                    random_features_mse=rf,
                    gain_over_random_features=1.0 - mse / rf,
                    vs_mlp=mse / mlp_mse,
                    fit_time=time,
                    time_vs_mlp=time / mlp_time,
                )
            )
    return rows


def summary(rows, results, datasets, architectures):
    """Per architecture, the suite's targets; per dataset, how much the defaults'
    and the random features' MSE move with the architecture."""
    mlp_time = sum(results[d, "mlp", None][1] for d in datasets)
    nonlinear = [d for d in datasets if DATASETS[d][1]]
    lines = []
    for width, n_blocks in architectures:
        sel = {
            r["dataset"]: r
            for r in rows
            if (r["width"], r["n_blocks"]) == (width, n_blocks)
        }
        geo = np.exp(np.mean([np.log(sel[d]["vs_mlp"]) for d in datasets]))
        time = sum(sel[d]["fit_time"] for d in datasets) / mlp_time
        gains = ", ".join(
            f"{d} {100 * sel[d]['gain_over_random_features']:+.1f} %" for d in nonlinear
        )
        learns = sum(sel[d]["gain_over_random_features"] >= 0.05 for d in nonlinear)
        lines.append(
            f"- width {width}, n_blocks {n_blocks}: geometric mean of MSE / MLP "
            f"{geo:.3f}, fit time {time:.2f}x MLP's (summed), >= 5 % over its "
            f"random features on {learns}/{len(nonlinear)} nonlinear datasets "
            f"({gains})"
        )
    lines.append("")
    for dataset in datasets:
        sel = [r for r in rows if r["dataset"] == dataset]

        def spread(key, sel=sel):
            values = [r[key] for r in sel]
            return 100 * (max(values) / min(values) - 1)

        lines.append(
            f"- {dataset}: across the architectures the defaults' MSE spans "
            f"{spread('mse'):.1f} %, their random features' "
            f"{spread('random_features_mse'):.1f} %"
        )
    return "\n".join(lines)


def main(argv=None):
    parser = suite_parser(__doc__, jobs="fits")
    args = parser.parse_args(argv)
    quick = ((8, 0), (16, 0), (8, 1))
    n_splits, max_rows, architectures = (
        (2, 200, quick) if args.quick else (5, None, ARCHITECTURES)
    )
    tasks = [delayed(run)(d, "mlp", None, n_splits, max_rows) for d in args.datasets]
    tasks += [
        delayed(run)(d, name, a, n_splits, max_rows)
        for d in args.datasets
        for a in architectures
        for name in MODELS
    ]
    results = dict(Parallel(n_jobs=args.jobs)(tasks))
    rows = tabulate(results, args.datasets, architectures)
    text = summary(rows, results, args.datasets, architectures)
    print(text, flush=True)
    preamble = (
        f"{n_splits}-fold shuffled CV (random_state={SEED}), StandardScaler in "
        "front of every model, one BLAS thread, fit time in seconds (mean over "
        "folds). `mse`: the defaults with that architecture; "
        "`random_features_mse`: the same network after one RADMM iteration; "
        "`vs_mlp`, `time_vs_mlp`: against MLPRegressor(max_iter=2000).\n\n" + text
    )
    write_results(args.out, "architecture", rounded(rows), preamble)


if __name__ == "__main__":
    main()

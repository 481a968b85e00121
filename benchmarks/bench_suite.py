"""The regression suite: every training mode beside its own random features and
the usual baselines, on eight tables (``_datasets.py``).

For each dataset, 5-fold shuffled cross-validation (``random_state=0``) of
``make_pipeline(StandardScaler(), model)``, one BLAS thread per process, for the
models (keys for ``--models``):

* ``default``: ``ADMMResidualRegressor(random_state=0)``, the estimator's
  defaults (forward-reset mode);
* ``radmm``: the paper's RADMM with the same defaults otherwise
  (``solver="radmm"``);
* ``random_features``: the default network after one RADMM iteration
  (``solver="radmm", max_iter=1``): the random initial hidden layers with a
  ridge read-out, the bar a mode must clear to show that its hidden layers
  learn;
* ``embedding_<kind>``: the defaults with ``embedding=<kind>`` (``none``,
  the network on the standardised columns alone; ``piecewise``, ``hat``,
  ``onehot``, ``periodic``; ``auto``, the choice between ``none`` and
  ``onehot`` made inside each fit), ``n_bins="auto"``;
* ``mlp``: ``MLPRegressor(max_iter=2000, random_state=0)``;
* ``mlp_<kind>``: the same MLP behind the numeric embedding ``<kind>`` (the
  estimators' encoder as a transformer, ``_embedding.EmbeddingTransformer``),
  fitted on each fold's training rows;
* ``hgb``: ``HistGradientBoostingRegressor(random_state=0)``;
* ``ridge``: ``Ridge()``.

``--mode NAME=JSON`` adds an ADMM configuration (parameters as JSON, e.g.
``--mode 'wide={"width": 200}'``), compared like the defaults; its
``random_state`` replaces the suite's seed (``--mode 'seed1={"random_state":
1}'``: the defaults at another initialisation). ``--switches NAME=JSON`` sets
measurement switches, not estimator parameters, while the model ``NAME`` is
fitted, its ``alpha="auto"`` selection included: ``ResetSolver`` attributes and
``alpha_grid``, the candidates of ``alpha="auto"`` (e.g. ``--mode 'fo={}'
--switches 'fo={"first_order_targets": true, "alpha_grid": [0.001, 0.01]}'``).

Outputs in ``--out`` (default ``benchmarks/results``): ``suite.csv`` and
``suite.md`` (CV MSE mean and std, mean fit time, ratios to MLP and to the
random features, and the targets: the defaults beat their random features by
5 % on every nonlinear dataset, are no worse than MLP on two thirds of the
datasets with a geometric mean of the MSE ratios at most 1, and fit in at most
3x MLP's summed time; and against HistGradientBoosting: no worse on 6 of the
8 tables with a geometric mean of the MSE ratios at most 1), and
``suite_time.csv``/``suite_time.png``: test MSE
against fit time on the first fold, for fits of the defaults and of MLP
stopped after increasing numbers of iterations (time to accuracy).

Usage::

    python benchmarks/bench_suite.py                  # about 15 minutes on 2 cores
    python benchmarks/bench_suite.py --quick          # smoke run (seconds)
    python benchmarks/bench_suite.py --datasets sine,diabetes --models default,mlp
"""

import time
import warnings

import numpy as np
from sklearn.base import clone
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Ridge
from sklearn.metrics import mean_squared_error
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from skadmm import ADMMResidualRegressor

from _common import (
    SEED,
    add_switches_argument,
    comma_list,
    folds,
    mode_switches,
    panel_grid,
    parse_mode,
    rounded,
    run_cv,
    save_panels,
    switched,
    switches_note,
    write_results,
)
from _datasets import DATASETS, load, suite_parser
from _embedding import ADMM_MODES, EMBEDDINGS, EmbeddingTransformer

#: Models run when ``--models`` is not given (the other embeddings on request).
DEFAULT_MODELS = (
    "default",
    "radmm",
    "embedding_onehot",
    "random_features",
    "mlp",
    "mlp_onehot",
    "hgb",
    "ridge",
)
GAIN_TARGET = 0.05


def baselines():
    return {
        "random_features": ADMMResidualRegressor(
            solver="radmm", max_iter=1, random_state=SEED
        ),
        "mlp": MLPRegressor(max_iter=2000, random_state=SEED),
        **{
            f"mlp_{kind}": make_pipeline(
                EmbeddingTransformer(kind),
                MLPRegressor(max_iter=2000, random_state=SEED),
            )
            for kind in EMBEDDINGS[1:]
        },
        "hgb": HistGradientBoostingRegressor(random_state=SEED),
        "ridge": Ridge(),
    }


def make_models(modes):
    # A mode may set its own random_state (the seed spread of the defaults).
    models = {
        name: ADMMResidualRegressor(**{"random_state": SEED, **params})
        for name, params in modes.items()
    }
    return {**models, **baselines()}


def run_suite(datasets, models, n_splits, max_rows=None, switches=None):
    """CV rows of ``models`` (fitted with their solver ``switches``) on
    ``datasets``, the first ``max_rows`` rows of each."""
    switches = switches or {}
    models = {name: switched(m, switches.get(name)) for name, m in models.items()}

    def row(dataset, name, scores):
        mses, times, iters = scores["mse"], scores["fit_time"], scores["n_iter"]
        print(
            f"{dataset:11s} {name:16s} MSE {mses.mean():.4g} "
            f"+- {mses.std():.2g}  fit {times.mean():.2f} s",
            flush=True,
        )
        return dict(
            dataset=dataset,
            model=name,
            mse_mean=mses.mean(),
            mse_std=mses.std(),
            fit_time=times.mean(),
            n_iter=np.nanmean(iters) if np.isfinite(iters).any() else "",
        )

    def table(dataset):
        X, y = load(dataset)
        return (X, y) if max_rows is None else (X[:max_rows], y[:max_rows])

    return run_cv(datasets, models, row, load=table, n_splits=n_splits)


def add_ratios(rows):
    """Ratios of each row's MSE to MLP's and to the random features', per dataset."""
    ref = {(r["dataset"], r["model"]): r for r in rows}
    for r in rows:
        mlp = ref.get((r["dataset"], "mlp"))
        rf = ref.get((r["dataset"], "random_features"))
        r["vs_mlp"] = r["mse_mean"] / mlp["mse_mean"] if mlp else ""
        r["vs_random_features"] = r["mse_mean"] / rf["mse_mean"] if rf else ""
        hgb = ref.get((r["dataset"], "hgb"))
        r["vs_hgb"] = r["mse_mean"] / hgb["mse_mean"] if hgb else ""
    return rows


def targets(rows, modes):
    """One line per training mode: the suite's targets, measured."""
    by = {(r["dataset"], r["model"]): r for r in rows}
    datasets = list(dict.fromkeys(r["dataset"] for r in rows))
    lines = []
    for mode in modes:
        have = [d for d in datasets if (d, mode) in by and (d, "mlp") in by]
        if not have:
            continue
        ratios = np.array([by[d, mode]["vs_mlp"] for d in have])
        wins = int((ratios <= 1.0).sum())
        time_ratio = sum(by[d, mode]["fit_time"] for d in have) / sum(
            by[d, "mlp"]["fit_time"] for d in have
        )
        with_hgb = [d for d in have if (d, "hgb") in by]
        hgb = np.array([by[d, mode]["vs_hgb"] for d in with_hgb])
        hgb_line = (
            f"; <= HGB on {int((hgb <= 1.0).sum())}/{len(with_hgb)} (target >= "
            f"{int(np.ceil(3 * len(with_hgb) / 4))}), geometric mean of MSE / HGB "
            f"{np.exp(np.log(hgb).mean()):.3f} (target <= 1)"
            if with_hgb
            else ""
        )
        nonlinear = [d for d in have if DATASETS[d][1] and (d, "random_features") in by]
        gains = {d: 1.0 - by[d, mode]["vs_random_features"] for d in nonlinear}
        learns = [d for d, g in gains.items() if g >= GAIN_TARGET]
        lines.append(
            f"- `{mode}`: <= MLP on {wins}/{len(have)} datasets "
            f"(target >= {int(np.ceil(2 * len(have) / 3))}); geometric mean of "
            f"MSE / MLP {np.exp(np.log(ratios).mean()):.3f} (target <= 1); "
            f"fit time {time_ratio:.2f}x MLP's, summed (target <= 3); beats its "
            f"random features by >= 5 % on {len(learns)}/{len(nonlinear)} "
            "nonlinear datasets ("
            + ", ".join(f"{d} {100 * g:+.1f} %" for d, g in gains.items())
            + ")"
            + hgb_line
        )
    return "\n".join(lines)


def time_to_accuracy(datasets, iterations, mlp_iterations, max_rows=None):
    """Test MSE against fit seconds on the first fold, fits stopped early."""
    rows = []
    for dataset in datasets:
        X, y = load(dataset)
        if max_rows is not None:
            X, y = X[:max_rows], y[:max_rows]
        train, test = folds(X)[0]
        runs = [
            ("default", ADMMResidualRegressor(random_state=SEED), iterations),
            ("mlp", MLPRegressor(random_state=SEED), mlp_iterations),
        ]
        for name, model, grid in runs:
            rows += stopped_fits(X, y, (train, test), dataset, name, model, grid)
    return rows


def stopped_fits(X, y, split, dataset, name, model, grid):
    """Test MSE and fit seconds of ``model`` stopped after each ``max_iter`` of
    ``grid``, fitted on ``split = (train, test)``."""
    train, test = split
    rows = []
    for n in grid:
        pipe = make_pipeline(StandardScaler(), clone(model))
        pipe.set_params(**{f"{pipe.steps[-1][0]}__max_iter": n})
        tick = time.perf_counter()
        pipe.fit(X[train], y[train])
        seconds = time.perf_counter() - tick
        rows.append(
            dict(
                dataset=dataset,
                model=name,
                max_iter=n,
                n_iter=getattr(pipe[-1], "n_iter_", n),
                fit_time=seconds,
                mse=mean_squared_error(y[test], pipe.predict(X[test])),
            )
        )
    return rows


def finish_panel(ax, suite_rows, dataset):
    """A time-to-accuracy panel's reference lines (the CV MSE of Ridge and of
    the random features on ``dataset``), log axes and labels."""
    for r in suite_rows:
        if r["dataset"] == dataset and r["model"] in ("ridge", "random_features"):
            ridge = r["model"] == "ridge"
            ax.axhline(
                r["mse_mean"],
                ls=":" if ridge else "-.",
                color="grey" if ridge else "tab:red",
                lw=1,
                label="Ridge (CV)" if ridge else "random features (CV)",
            )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_title(dataset, fontsize=9)
    ax.set_xlabel("fit time (s)", fontsize=8)
    ax.tick_params(labelsize=7)


def plot_time(rows, suite_rows, path):
    datasets = list(dict.fromkeys(r["dataset"] for r in rows))
    fig, axes = panel_grid(len(datasets))
    for ax, dataset in zip(axes.flat, datasets, strict=False):
        for name, style in (("default", "o-"), ("mlp", "s--")):
            pts = [r for r in rows if r["dataset"] == dataset and r["model"] == name]
            ax.plot(
                [p["fit_time"] for p in pts],
                [p["mse"] for p in pts],
                style,
                ms=3,
                label="skadmm defaults" if name == "default" else "MLPRegressor",
            )
        finish_panel(ax, suite_rows, dataset)
    save_panels(fig, axes, "test MSE (first fold)", path)


def main(argv=None):
    parser = suite_parser(__doc__)
    parser.add_argument(
        "--models",
        type=str,
        default=None,
        help="comma list of models to run (default: all)",
    )
    parser.add_argument(
        "--mode",
        type=parse_mode,
        action="append",
        default=[],
        help="extra ADMM configuration NAME=JSON",
    )
    add_switches_argument(parser)
    parser.add_argument(
        "--no-time", action="store_true", help="skip the time-to-accuracy fits"
    )
    args = parser.parse_args(argv)

    modes = {**ADMM_MODES, **dict(args.mode)}
    switches = mode_switches(parser, args, modes)
    models = make_models(modes)
    chosen = args.models
    if chosen is None:
        chosen = ",".join([*DEFAULT_MODELS, *(name for name, _ in args.mode)])
    models = {k: models[k] for k in comma_list(list(models))(chosen)}
    n_splits, max_rows = (2, 300) if args.quick else (5, None)
    iterations = (1, 3) if args.quick else (1, 3, 10, 30, 100, 200)
    mlp_iterations = (1, 3) if args.quick else (1, 3, 10, 30, 100, 300, 1000, 2000)

    warnings.simplefilter("ignore", ConvergenceWarning)
    with threadpool_limits(1):
        rows = run_suite(args.datasets, models, n_splits, max_rows, switches)
        rows = add_ratios(rows)
        summary = targets(rows, [m for m in modes if m in models])
        print(summary, flush=True)
        preamble = (
            f"{n_splits}-fold shuffled CV (random_state={SEED}), "
            "StandardScaler in front of every model, one BLAS thread, fit time "
            "in seconds (mean over folds)."
            + switches_note(switches, models)
            + (f" Targets:\n\n{summary}" if summary else "")
        )
        fmt = rounded(rows)
        write_results(args.out, "suite", fmt, preamble)
        if not args.no_time:
            curve = time_to_accuracy(
                args.datasets, iterations, mlp_iterations, max_rows
            )
            write_results(args.out, "suite_time", curve)
            plot_time(curve, rows, args.out / "suite_time.png")


if __name__ == "__main__":
    main()

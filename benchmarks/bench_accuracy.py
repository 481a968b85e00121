"""Accuracy and time to accuracy on Wine Quality: skadmm against the baselines.

Two parts, both on Wine Quality red and white (targets are the raw quality
scores; every model sees inputs standardised by a ``StandardScaler`` fitted on
its own training rows).

**1. Accuracy** (``accuracy.csv``, ``accuracy.md``, ``accuracy.png``). 5-fold
shuffled cross-validation (``_common.folds``, ``random_state=0``) of
``make_pipeline(StandardScaler(), model)`` for the models (keys for
``--models``):

* ``admm``: ``_common.radmm()``, the paper's RADMM with the estimator's
  defaults from before the forward-reset mode (width 64, 4 blocks,
  ``alpha=1e-4``, three-splitting); ``bench_suite.py`` measures the current
  defaults;
* ``admm_tuned``: the same pipeline in ``GridSearchCV(cv=KFold(3, shuffle=True,
  random_state=0), scoring="neg_mean_squared_error")``, a nested CV (the
  inner 3 folds split each outer training part), over the grid
  ``{"n_blocks": [2, 4], "alpha": [1e-4, 1e-1]}`` at width 64. The grid is
  small on purpose: a skadmm fit with ``alpha=0.1`` runs its 200 iterations
  (1.5 to 6 s on 2/3 of a white training fold, one thread), and this 2 x 2 grid
  already costs about 5 minutes for both datasets (15 inner training sets of
  each); adding width 128 or a third alpha more than doubles it (width 128 with
  4 blocks and ``alpha=0.1``: 17 s a fit on white);
* ``ridge``: ``Ridge()``;
* ``mlp``: ``MLPRegressor(max_iter=2000, random_state=0)``, defaults otherwise;
* ``mlp_tuned``: ``GridSearchCV`` as above over ``{"hidden_layer_sizes":
  [(100,), (64, 64)], "alpha": [1e-4, 1e-2, 1e-1]}`` (``max_iter=2000``,
  ``random_state=0``); MLP fits are cheaper, so its grid is larger (6 points
  against 4) for about the same time, which only makes ``ADMM tuned <= MLP
  tuned`` harder to meet;
* ``hgb``: ``HistGradientBoostingRegressor(random_state=0)``;
* ``torch``: ``torch_residual.TorchResidualRegressor(random_state=0)``: the
  same residual network as skadmm's defaults (width 64, 4 blocks, same initial
  weights) trained by backpropagation, Adam with its defaults (learning rate
  1e-3, minibatches of 200, 200 epochs at most, scikit-learn's stopping rule).
  Skipped, with a note, when PyTorch is not installed
  (``pip install torch==2.13.0``).

For each (dataset, model): the mean and standard deviation (``ddof=0``) of the
test MSE over the 5 outer folds, the mean fit time (for the tuned models, the
whole grid search: inner fits and refit), the mean number of iterations /
epochs of the fitted model (``n_iter_``), the best parameters of every outer
fold for the tuned models, and the ratios ``vs_MLP_default`` (mean MSE / mean
MSE of the MLP default) and ``fit_time_vs_MLP_default`` (ratio of mean fit
times). The "targets" block (printed and in the Markdown preamble) checks the
project's goals: ADMM default MSE <= MLP default on both datasets, ADMM tuned
<= MLP tuned, stretch: ADMM tuned within 5 % of HistGradientBoosting, and the
ADMM default fit on white at most 3 times as long as the MLP default fit.

**2. Time to accuracy** (``time_to_accuracy.csv``, ``.md``, ``.png``). On the
first outer fold of each dataset (training part for training, test part for
validation), the validation MSE against wall-clock training seconds of:

* ``ADMM three-splitting (default)`` and ``ADMM two-splitting``: skadmm
  defaults (``splitting="two"`` for the second) fitted with ``warm_start=True,
  max_iter=1, tol=0`` in a loop (a warm start keeps the whole solver state, so
  the loop runs the iterations of one long fit), the validation MSE evaluated
  after every call. Each call refits the read-out (``refit_readout=True``), so
  the MSE after ``k`` calls is that of ``fit(max_iter=k)``. The time axis is
  what that fit would cost: ``time_curve_`` (the iterations, with the solver's
  own forward evaluation) plus the cost of one call outside its iterations
  (input checks, initialisation, the initial and final read-out refits),
  measured as the first call's wall time minus its ``time_curve_`` (on red,
  one thread: about 15 ms; fresh fits of 1 and 5 iterations took their
  ``time_curve_`` plus 13 to 15 ms, for both splittings). The time
  the later calls spend outside their iteration (checks, hashing of the data
  for the warm start, the refits) is an artefact of the loop and not counted;
  the evaluation on the validation part is never counted. A marker shows the
  iteration at which a fit with the default ``tol`` would have stopped;
* ``backprop Adam`` and ``backprop SGD``: ``TorchResidualRegressor`` (Adam
  defaults; SGD with its defaults, learning rate 1e-3 and momentum 0.9) run for
  all their epochs (``tol=0``), ``eval_set`` giving the validation MSE after
  each epoch and ``time_curve_`` the seconds (training-set evaluation
  included, validation excluded);
* ``MLP (partial_fit)``: ``MLPRegressor(random_state=0)`` trained one epoch per
  ``partial_fit`` call, each call timed here (validation excluded).

Dashed lines: ``Ridge()`` and ``HistGradientBoostingRegressor(random_state=0)``
fitted on the same fold; dotted: the MLP default fit (``max_iter=2000``), whose
validation MSE is the bar of the "time to reach MLP default" column.

Threads: everything runs on ``--threads`` threads (default 1: BLAS and OpenMP
through ``threadpoolctl``, PyTorch through ``n_threads``). One thread is
needed for sane timings on a shared 2-core machine: with the libraries'
defaults and a loaded machine, a skadmm fit on white took 32 s instead of 1.5
s, HistGradientBoosting 45 s instead of 0.2 s and the PyTorch baseline 122 s
instead of 14 s (oversubscribed thread pools). ``--threads 0`` leaves the
libraries' defaults.

A partial run (``--models``, ``--skip-tuned``, or one dataset) remeasures part
of the accuracy table: the rows of an existing ``accuracy.csv`` in ``--out``
that it does not redo, measured with the same setting (full or ``--quick``),
are kept and listed in the preamble, so one model can be remeasured without
redoing the grid searches. ``--skip-tuned`` leaves out the two grid searches
(about 11 of the 15 minutes); ``--parts accuracy`` or ``--parts time`` runs one
part.

Usage::

    python benchmarks/bench_accuracy.py            # both parts, about 15 minutes
    python benchmarks/bench_accuracy.py --quick    # subsamples, tiny grids: seconds
    python benchmarks/bench_accuracy.py --models admm,mlp --parts accuracy
"""

import argparse
import csv
import importlib.util
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Ridge
from sklearn.metrics import mean_squared_error
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from _common import (
    RESULTS,
    SEED,
    admm_default_stop,
    comma_list,
    folds,
    machine,
    markdown_table,
    pyplot,
    radmm,
    wine,
    write_results,
)
from _common import (
    cross_validate as run_folds,
)
from torch_residual import TorchResidualRegressor, import_torch

#: Model keys (for --models), in the order of the tables and plots.
LABELS = {
    "admm": "ADMM default",
    "admm_tuned": "ADMM tuned",
    "ridge": "Ridge",
    "mlp": "MLP default",
    "mlp_tuned": "MLP tuned",
    "hgb": "HistGradientBoosting",
    "torch": "Torch ResNet Adam",
}
TUNED = ("admm_tuned", "mlp_tuned")
ADMM_GRID = {"n_blocks": [2, 4], "alpha": [1e-4, 1e-1]}
MLP_GRID = {"hidden_layer_sizes": [(100,), (64, 64)], "alpha": [1e-4, 1e-2, 1e-1]}
# --quick: tiny grids, few epochs, subsampled data, 2 folds.
QUICK = dict(rows=300, n_splits=2, inner_cv=2, mlp_iter=200, torch_epochs=20)
QUICK_ADMM_GRID = {"alpha": [1e-4, 1e-1]}
QUICK_MLP_GRID = {"alpha": [1e-4, 1e-1]}
# Time to accuracy: iterations of each method (full run, --quick).
CURVE_ITERATIONS = dict(admm=(60, 5), torch=(200, 10), mlp=(1000, 20))
# Solver defaults, for the iteration at which a default fit would stop.
TOL, N_ITER_NO_CHANGE = 1e-4, 10


def torch_available():
    return importlib.util.find_spec("torch") is not None


def warm_up_torch(threads):
    """Import PyTorch and run a tiny fit: one-time costs (about a second) that
    would otherwise land in the first timed fit."""
    import_torch()
    X = np.random.default_rng(SEED).standard_normal((64, 4))
    est = TorchResidualRegressor(8, 1, max_iter=2, random_state=SEED, n_threads=threads)
    fit_quietly(est, X, X[:, 0], eval_set=(X, X[:, 0]))


def build(key, quick, torch_threads):
    """The unfitted model ``key``: a pipeline, or a grid search over one."""
    mlp_iter = QUICK["mlp_iter"] if quick else 2000
    if key in ("admm", "admm_tuned"):
        model = radmm()
    elif key == "ridge":
        model = Ridge()
    elif key in ("mlp", "mlp_tuned"):
        model = MLPRegressor(max_iter=mlp_iter, random_state=SEED)
    elif key == "hgb":
        model = HistGradientBoostingRegressor(random_state=SEED)
    elif key == "torch":
        model = TorchResidualRegressor(
            random_state=SEED,
            n_threads=torch_threads,
            **(dict(max_iter=QUICK["torch_epochs"]) if quick else {}),
        )
    else:
        raise ValueError(f"unknown model {key!r}; choose from {', '.join(LABELS)}")
    pipeline = make_pipeline(StandardScaler(), model)
    if key not in TUNED:
        return pipeline
    if key == "admm_tuned":
        grid = QUICK_ADMM_GRID if quick else ADMM_GRID
    else:
        grid = QUICK_MLP_GRID if quick else MLP_GRID
    step = pipeline.steps[-1][0]
    inner = KFold(QUICK["inner_cv"] if quick else 3, shuffle=True, random_state=SEED)
    return GridSearchCV(
        pipeline,
        {f"{step}__{name}": values for name, values in grid.items()},
        cv=inner,
        scoring="neg_mean_squared_error",
    )


def fit_quietly(model, X, y, **fit_params):
    """Fit, hiding ConvergenceWarnings (max_iter reached); return the seconds."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        tick = time.perf_counter()
        model.fit(X, y, **fit_params)
        return time.perf_counter() - tick


def compact_params(per_fold):
    """``"alpha=0.1 n_blocks=4 (folds 1,3); ..."`` from the best params per fold."""
    texts = [
        " ".join(
            f"{name.split('__')[-1]}={_short(value)}"
            for name, value in sorted(params.items())
        )
        for params in per_fold
    ]
    groups = {}
    for fold, text in enumerate(texts, start=1):
        groups.setdefault(text, []).append(str(fold))
    return "; ".join(f"{text} (folds {','.join(f)})" for text, f in groups.items())


def _short(value):
    if isinstance(value, tuple):
        return "x".join(map(str, value))
    return f"{value:g}" if isinstance(value, float) else str(value)


def cross_validate(key, X, y, splits, quick, torch_threads):
    """Test MSE, fit seconds, n_iter_ and best params of ``key`` on every fold."""
    best = []

    def fit(model, X_train, y_train):
        fit_quietly(model, X_train, y_train)
        if isinstance(model, GridSearchCV):
            best.append(model.best_params_)
            return model.best_estimator_  # what the search predicts with
        return model

    scores = run_folds(
        lambda fold: build(key, quick, torch_threads),
        X,
        y,
        splits,
        scale=False,  # build() puts the scaler in front
        fit=fit,
    )
    n_iter = scores["n_iter"]
    return dict(
        mse=scores["mse"],
        seconds=scores["fit_time"],
        n_iter=None if np.isnan(n_iter).any() else float(np.mean(n_iter)),
        best=compact_params(best) if best else "",
    )


def accuracy_rows(results, setting):
    """One row per (dataset, model); the ratio columns are set by add_ratios."""
    rows = []
    for (dataset, key), r in results.items():
        rows.append(
            dict(
                dataset=dataset,
                model=LABELS[key],
                cv=setting,
                mse_mean=round(float(r["mse"].mean()), 4),
                mse_std=round(float(r["mse"].std()), 4),
                fit_seconds_mean=round(float(r["seconds"].mean()), 3),
                vs_MLP_default="",
                fit_time_vs_MLP_default="",
                n_iter_mean="" if r["n_iter"] is None else round(r["n_iter"], 1),
                best_params=r["best"],
                fold_mse=" ".join(f"{m:.4f}" for m in r["mse"]),
                key=key,
            )
        )
    return rows


def add_ratios(rows):
    """Set ``vs_MLP_default`` and ``fit_time_vs_MLP_default`` of every row."""
    mlp = {r["dataset"]: r for r in rows if r["key"] == "mlp"}
    for r in rows:
        ref = mlp.get(r["dataset"])
        if ref is None:
            r["vs_MLP_default"] = r["fit_time_vs_MLP_default"] = ""
            continue
        r["vs_MLP_default"] = round(float(r["mse_mean"]) / float(ref["mse_mean"]), 3)
        r["fit_time_vs_MLP_default"] = round(
            float(r["fit_seconds_mean"]) / float(ref["fit_seconds_mean"]), 2
        )
    return rows


def targets(rows, datasets):
    """Lines "met"/"missed" for the project's targets, with the numbers."""
    table = {(r["dataset"], r["key"]): r for r in rows}

    def mean(dataset, key, column="mse_mean"):
        r = table.get((dataset, key))
        return None if r is None else float(r[column])

    def check(name, a, b, factor=1.0, unit="MSE", fmt="{:.4f}"):
        if a is None or b is None:
            return f"- {name}: n/a (not run)"
        verdict = "met" if a <= factor * b else "missed"
        return (
            f"- {name}: **{verdict}** ({fmt.format(a)} vs {fmt.format(b)} {unit}, "
            f"ratio {a / b:.3f}, target <= {factor:g})"
        )

    lines = []
    for d in datasets:
        lines.append(
            check(f"ADMM default <= MLP default, {d}", mean(d, "admm"), mean(d, "mlp"))
        )
    for d in datasets:
        lines.append(
            check(
                f"ADMM tuned <= MLP tuned, {d}",
                mean(d, "admm_tuned"),
                mean(d, "mlp_tuned"),
            )
        )
    for d in datasets:
        lines.append(
            check(
                f"stretch: ADMM tuned within 5% of HistGradientBoosting, {d}",
                mean(d, "admm_tuned"),
                mean(d, "hgb"),
                factor=1.05,
            )
        )
    if "white" in datasets:
        lines.append(
            check(
                "ADMM default fit time on white <= 3x MLP default",
                mean("white", "admm", "fit_seconds_mean"),
                mean("white", "mlp", "fit_seconds_mean"),
                factor=3.0,
                unit="s",
                fmt="{:.2f}",
            )
        )
    return lines


def plot_accuracy(rows, datasets, path):
    """Bar chart of the CV MSE (std error bars), one panel per dataset."""
    plt = pyplot()
    keys = [k for k in LABELS if any(r["key"] == k for r in rows)]
    fig, axes = plt.subplots(
        1, len(datasets), figsize=(5.5 * len(datasets), 4.2), squeeze=False
    )
    for ax, dataset in zip(axes[0], datasets, strict=True):
        by_key = {r["key"]: r for r in rows if r["dataset"] == dataset}
        shown = [k for k in keys if k in by_key]
        means = [float(by_key[k]["mse_mean"]) for k in shown]
        stds = [float(by_key[k]["mse_std"]) for k in shown]
        colours = [f"C{list(LABELS).index(k)}" for k in shown]
        x = np.arange(len(shown))
        ax.bar(x, means, yerr=stds, capsize=4, color=colours)
        for xi, m, sd in zip(x, means, stds, strict=True):
            ax.text(xi, m + sd, f"{m:.3f}", ha="center", va="bottom", fontsize=8)
        ax.set_xticks(x, [LABELS[k] for k in shown], rotation=35, ha="right")
        ax.set_ylabel("CV test MSE (mean, std over folds)")
        ax.set_title(f"Wine Quality {dataset}")
        ax.grid(True, axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    print(f"Wrote {path}", flush=True)


def merge_previous(rows, out):
    """Add the rows of an existing ``accuracy.csv`` that this run did not redo.

    Only rows measured with the same setting (``cv`` column: full or quick) are
    kept. Returns the merged rows and the (dataset, model) pairs kept.
    """
    path = Path(out) / "accuracy.csv"
    if not path.exists():
        return rows, []
    with open(path, newline="") as f:
        previous = list(csv.DictReader(f))
    fresh = {(r["dataset"], r["key"]) for r in rows}
    setting = rows[0]["cv"]
    kept = [
        r
        for r in previous
        if r.get("key") in LABELS
        and r.get("cv") == setting
        and r.get("dataset") in ("red", "white")
        and (r["dataset"], r["key"]) not in fresh
    ]
    order = list(LABELS)
    merged = sorted(
        rows + kept, key=lambda r: (r["dataset"] != "red", order.index(r["key"]))
    )
    return merged, [(r["dataset"], r["model"]) for r in kept]


def run_accuracy(data, keys, args, torch_threads):
    results = {}
    for dataset, (X, y) in data.items():
        splits = folds(X, QUICK["n_splits"] if args.quick else 5)
        for key in keys:
            tick = time.perf_counter()
            results[dataset, key] = r = cross_validate(
                key, X, y, splits, args.quick, torch_threads
            )
            print(
                f"{dataset:5s} {LABELS[key]:22s} MSE {r['mse'].mean():.4f} "
                f"+- {r['mse'].std():.4f}, fit {r['seconds'].mean():.2f} s"
                f"{'  best: ' + r['best'] if r['best'] else ''}"
                f"  ({time.perf_counter() - tick:.0f} s)",
                flush=True,
            )
    n_splits = QUICK["n_splits"] if args.quick else 5
    inner = QUICK["inner_cv"] if args.quick else 3
    setting = (
        f"quick: {QUICK['rows']} rows, {n_splits}-fold" if args.quick else "5-fold"
    )
    rows = accuracy_rows(results, setting)
    kept = []
    partial = args.models or args.skip_tuned or len(data) < 2
    if partial:
        rows, kept = merge_previous(rows, args.out)
    rows = add_ratios(rows)
    datasets = [d for d in ("red", "white") if any(r["dataset"] == d for r in rows)]
    lines = targets(rows, datasets)
    print("Targets:\n" + "\n".join(lines), flush=True)
    subsample = f", subsampled to {QUICK['rows']} rows" if args.quick else ""
    preamble = (
        f"Wine Quality ({', '.join(datasets)}{subsample}), "
        f"{n_splits}-fold shuffled CV (random_state={SEED}); every model is "
        "`make_pipeline(StandardScaler(), model)` with random_state=0; "
        f"{_threads_text(args.threads)}. Tuned models: nested CV, "
        f"GridSearchCV with inner shuffled {inner}-fold, grids "
        f"ADMM {QUICK_ADMM_GRID if args.quick else ADMM_GRID} (width 64), "
        f"MLP {QUICK_MLP_GRID if args.quick else MLP_GRID}; their fit time is "
        "the whole search. MSE on the raw quality scores, std over folds "
        "(ddof=0); `n_iter_mean`: ADMM iterations or epochs of the fitted model; "
        "ratios to the MLP default of the same dataset.\n\n"
        "Targets:\n\n" + "\n".join(lines)
    )
    if kept:
        preamble += (
            "\n\nKept from an earlier run of this script (not remeasured in "
            "this partial run): " + ", ".join(f"{d} {m}" for d, m in kept) + "."
        )
    write_results(args.out, "accuracy", rows, preamble)
    plot_accuracy(rows, datasets, Path(args.out) / "accuracy.png")


def _threads_text(threads):
    if threads:
        return f"{threads} thread(s) (BLAS, OpenMP and PyTorch)"
    return "the libraries' default threads"


# ---------------------------------------------------------------- part 2


def admm_curve(X, y, X_val, y_val, n_iter, **params):
    """Validation MSE and honest training seconds of skadmm, iteration by iteration.

    See the module docstring: ``time_curve_`` plus the non-iteration cost of one
    fit call (that of the first call of the loop).
    """
    # Warm-up (imports, BLAS buffers), so the first call's overhead is its own.
    fit_quietly(radmm(max_iter=1, **params), X, y)
    est = radmm(warm_start=True, max_iter=1, tol=0.0, **params)
    mse, overhead = [], 0.0
    for it in range(n_iter):
        wall = fit_quietly(est, X, y)
        if it == 0:
            overhead = max(wall - est.time_curve_[0], 0.0)
        if len(est.time_curve_) < it + 1:  # diverged: the curve ends here
            break
        mse.append(mean_squared_error(y_val, est.predict(X_val)))
    seconds = [t + overhead for t in est.time_curve_[: len(mse)]]
    return seconds, mse, admm_default_stop(est.objective_curve_, TOL, N_ITER_NO_CHANGE)


def torch_curve(X, y, X_val, y_val, n_epochs, threads, **params):
    est = TorchResidualRegressor(
        random_state=SEED,
        max_iter=n_epochs,
        tol=0.0,
        n_iter_no_change=n_epochs,
        n_threads=threads,
        **params,
    )
    fit_quietly(est, X, y, eval_set=(X_val, y_val))
    return list(est.time_curve_), list(est.eval_loss_curve_), None


def mlp_curve(X, y, X_val, y_val, n_epochs):
    est = MLPRegressor(random_state=SEED)
    seconds, mse, elapsed = [], [], 0.0
    for _ in range(n_epochs):
        tick = time.perf_counter()
        est.partial_fit(X, y)
        elapsed += time.perf_counter() - tick
        seconds.append(elapsed)
        mse.append(mean_squared_error(y_val, est.predict(X_val)))
    return seconds, mse, None


def reference(model, X, y, X_val, y_val):
    """Validation MSE and fit seconds of a model fitted once."""
    seconds = fit_quietly(model, X, y)
    return mean_squared_error(y_val, model.predict(X_val)), seconds


def run_curves(dataset, X, y, args, torch_threads, use_torch):
    """Curves and references of one dataset's first fold."""
    train, test = folds(X, QUICK["n_splits"] if args.quick else 5)[0]
    scaler = StandardScaler().fit(X[train])
    data = (scaler.transform(X[train]), y[train], scaler.transform(X[test]), y[test])
    pick = 1 if args.quick else 0
    n_admm, n_torch, n_mlp = (
        CURVE_ITERATIONS[k][pick] for k in ("admm", "torch", "mlp")
    )
    methods = {
        "ADMM three-splitting (default)": lambda: admm_curve(*data, n_admm),
        "ADMM two-splitting": lambda: admm_curve(*data, n_admm, splitting="two"),
    }
    if use_torch:
        methods["backprop Adam"] = lambda: torch_curve(
            *data, n_torch, torch_threads, optimizer="adam"
        )
        methods["backprop SGD"] = lambda: torch_curve(
            *data, n_torch, torch_threads, optimizer="sgd"
        )
    methods["MLP (partial_fit)"] = lambda: mlp_curve(*data, n_mlp)
    curves = {}
    for method, run in methods.items():
        tick = time.perf_counter()
        curves[method] = run()
        seconds, mse, _ = curves[method]
        print(
            f"{dataset:5s} {method:31s} {len(mse)} iterations, final validation "
            f"MSE {mse[-1]:.4f}, best {min(mse):.4f}, {seconds[-1]:.2f} s "
            f"training ({time.perf_counter() - tick:.0f} s)",
            flush=True,
        )
    mlp_iter = QUICK["mlp_iter"] if args.quick else 2000
    refs = {
        "Ridge": reference(Ridge(), *data),
        "HistGradientBoosting": reference(
            HistGradientBoostingRegressor(random_state=SEED), *data
        ),
        "MLP default": reference(
            MLPRegressor(max_iter=mlp_iter, random_state=SEED), *data
        ),
    }
    for name, (mse, seconds) in refs.items():
        print(f"{dataset:5s} {name:31s} MSE {mse:.4f}, fit {seconds:.2f} s", flush=True)
    return curves, refs


def first_time(seconds, mse, level):
    """Seconds at which the curve first reaches ``mse <= level`` (or None)."""
    hit = np.flatnonzero(np.asarray(mse) <= level)
    return float(seconds[hit[0]]) if hit.size else None


def curve_summary(dataset, curves, refs):
    mlp_final = refs["MLP default"][0]
    rows = []
    for method, (seconds, mse, stop) in curves.items():
        best = int(np.argmin(mse))
        within = first_time(seconds, mse, 1.02 * mse[best])
        to_mlp = first_time(seconds, mse, mlp_final)
        rows.append(
            dict(
                dataset=dataset,
                method=method,
                iterations=len(mse),
                training_seconds=round(seconds[-1], 2),
                first_validation_mse=round(mse[0], 4),
                final_validation_mse=round(mse[-1], 4),
                best_validation_mse=round(mse[best], 4),
                best_at_iteration=best + 1,
                seconds_to_within_2pct_of_best=round(within, 3),
                seconds_to_MLP_default_mse="never"
                if to_mlp is None
                else round(to_mlp, 3),
                default_stop_iteration="" if stop is None else stop,
            )
        )
    for name, (mse, seconds) in refs.items():
        rows.append(
            dict(
                dataset=dataset,
                method=f"{name} (reference, one fit)",
                iterations="",
                training_seconds=round(seconds, 2),
                first_validation_mse="",
                final_validation_mse=round(mse, 4),
                best_validation_mse="",
                best_at_iteration="",
                seconds_to_within_2pct_of_best="",
                seconds_to_MLP_default_mse="",
                default_stop_iteration="",
            )
        )
    return rows


def plot_curves(everything, path):
    """Validation MSE against seconds (log), one panel per dataset."""
    plt = pyplot()
    from matplotlib.ticker import NullFormatter

    datasets = list(everything)
    fig, axes = plt.subplots(
        1, len(datasets), figsize=(6.5 * len(datasets), 4.6), squeeze=False
    )
    for ax, dataset in zip(axes[0], datasets, strict=True):
        curves, refs = everything[dataset]
        for i, (method, (seconds, mse, stop)) in enumerate(curves.items()):
            (line,) = ax.plot(seconds, mse, c=f"C{i}", label=method)
            if stop is not None and stop <= len(mse):
                ax.plot(
                    seconds[stop - 1],
                    mse[stop - 1],
                    "o",
                    c=line.get_color(),
                    ms=6,
                    mfc="none",
                )
        styles = {
            "Ridge": ("0.5", "--"),
            "HistGradientBoosting": ("k", "--"),
            "MLP default": ("C9", ":"),
        }
        for name, (mse, _) in refs.items():
            colour, style = styles[name]
            ax.axhline(mse, c=colour, ls=style, lw=1.2, label=f"{name} {mse:.3f}")
        lowest = min(min(m) for _, m, _ in curves.values())
        lowest = min(lowest, *(m for m, _ in refs.values()))
        hgb = refs["HistGradientBoosting"][0]
        top = max(1.5 * hgb, 1.2 * lowest)
        ax.set_ylim(0.9 * lowest, top)
        ax.set_xscale("log")
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel("training seconds (log scale)")
        ax.set_ylabel("validation MSE")
        ax.set_title(f"Wine Quality {dataset}, first fold (circle: default stop)")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    print(f"Wrote {path}", flush=True)


def run_time_to_accuracy(data, args, torch_threads, use_torch):
    everything, long_rows, summary = {}, [], []
    for dataset, (X, y) in data.items():
        curves, refs = run_curves(dataset, X, y, args, torch_threads, use_torch)
        everything[dataset] = (curves, refs)
        for method, (seconds, mse, _) in curves.items():
            long_rows += [
                dict(
                    dataset=dataset,
                    method=method,
                    iteration=i,
                    seconds=round(s, 5),
                    validation_mse=round(m, 6),
                )
                for i, (s, m) in enumerate(zip(seconds, mse, strict=True), start=1)
            ]
        summary += curve_summary(dataset, curves, refs)
    n_admm, n_torch, n_mlp = (
        CURVE_ITERATIONS[k][1 if args.quick else 0] for k in ("admm", "torch", "mlp")
    )
    preamble = (
        f"First outer fold of the 5-fold CV of Wine Quality "
        f"({', '.join(data)}{', subsampled' if args.quick else ''}; "
        "StandardScaler fitted on the training part, validation = the fold's "
        f"test part), {_threads_text(args.threads)}. ADMM: {n_admm} iterations by "
        "warm-started 1-iteration fits; seconds = `time_curve_` + the cost of "
        "one fit call outside its iterations (checks, initialisation, read-out "
        "refits), the validation MSE including the read-out refit of each call. "
        f"Backprop (PyTorch, same network and initial weights): {n_torch} epochs "
        f"by Adam and by SGD (momentum 0.9, learning rate 1e-3); MLP: {n_mlp} "
        "`partial_fit` epochs. Validation evaluation is never timed. "
        "`first_validation_mse`: after the first iteration or epoch; "
        "`seconds_to_within_2pct_of_best`: first time the curve is within 2% of "
        "its own best; `seconds_to_MLP_default_mse`: first time it reaches the "
        "validation MSE of `MLPRegressor(max_iter=2000, random_state=0).fit` "
        "(reference row); `default_stop_iteration`: where a fit with the "
        "default tol would have stopped."
    )
    write_results(args.out, "time_to_accuracy", long_rows)
    # The .md holds the per-method summary, not the long curves.
    (Path(args.out) / "time_to_accuracy.md").write_text(
        f"Measured on: {machine()}\n\n{preamble}\n\n{markdown_table(summary)}"
    )
    plot_curves(everything, Path(args.out) / "time_to_accuracy.png")


# ---------------------------------------------------------------- main


def load(datasets, quick):
    data = {}
    for dataset in datasets:
        X, y = wine(dataset)
        if quick:
            rows = np.random.default_rng(SEED).choice(
                len(y), QUICK["rows"], replace=False
            )
            X, y = X[rows], y[rows]
        data[dataset] = (X, y)
    return data


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="subsampled data, tiny grids (seconds)"
    )
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument(
        "--datasets", type=comma_list(("red", "white")), default=["red", "white"]
    )
    parser.add_argument(
        "--models",
        type=comma_list(tuple(LABELS)),
        default=None,
        help="comma list of model keys (part 1); other models' rows of an "
        f"existing accuracy.csv are kept. Keys: {', '.join(LABELS)}",
    )
    parser.add_argument("--skip-tuned", action="store_true")
    parser.add_argument(
        "--parts",
        type=comma_list(("accuracy", "time")),
        default=["accuracy", "time"],
        help="accuracy (part 1), time (part 2, time to accuracy)",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="threads of BLAS, OpenMP and PyTorch (0: libraries' defaults)",
    )
    args = parser.parse_args(argv)

    use_torch = torch_available()
    if use_torch:
        warm_up_torch(args.threads or None)
    else:
        print(
            "Note: PyTorch is not installed; the TorchResidualRegressor baseline "
            "is skipped (pip install torch==2.13.0).",
            flush=True,
        )
    keys = [k for k in (args.models or LABELS) if k != "torch" or use_torch]
    if args.skip_tuned:
        keys = [k for k in keys if k not in TUNED]
    torch_threads = args.threads or None
    data = load(args.datasets, args.quick)

    start = time.perf_counter()
    limits = threadpool_limits(args.threads) if args.threads else None
    try:
        if "accuracy" in args.parts and keys:
            run_accuracy(data, keys, args, torch_threads)
        if "time" in args.parts:
            run_time_to_accuracy(data, args, torch_threads, use_torch)
    finally:
        if limits is not None:
            limits.restore_original_limits()
    print(f"Total {time.perf_counter() - start:.0f} s", flush=True)


if __name__ == "__main__":
    main()

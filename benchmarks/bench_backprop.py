"""The forward-reset mode against backpropagation on the same training objective.

Every model here trains the estimator's default network, one hidden layer of
100 ReLU units, on standardised inputs and targets, with the same L2 penalty on
every weight matrix (biases excluded)::

    F(W) = 1/2 mean_i (f(x_i) - y_i)^2 + alpha/2 sum_l ||W_l||^2

``MLPRegressor`` minimises exactly this ``F`` when its ``alpha`` is ``alpha *
n_samples`` (scikit-learn divides its penalty by the number of rows). So ``F``
at the end of each fit, computed here from the fitted weights, compares the
optimisers, and the test MSE compares what they learn. ``alpha`` is the
estimator's ``alpha="auto"`` choice on each training fold. Models:

* ``reset``: ``ADMMResidualRegressor(alpha=alpha)``, defaults otherwise (one
  training run, so its fit time leaves out the choice of ``alpha``);
* ``reset_long``: the same with ``max_iter=1000, tol=0`` (how far ``F`` still
  falls after the stopping rule);
* ``reset_two``: the same with ``splitting="two"``;
* ``reset_first_order``: the three-splitting with first-order sweep targets
  (``ResetSolver.first_order_targets``, not a parameter of the estimator):
  each pre-activation's move of the exact z-step is scaled by ``1 + s'(Z)^2``,
  so that the weight step follows the gradient of ``F`` itself (see the design
  notes, "Which objective the sweep descends");
* ``reset_joint``: the three-splitting with five alternations of the hidden
  layer's ``U`` and ``Z`` steps per sweep (``ResetSolver.top_alternations``),
  towards their joint minimiser;
* ``lbfgs``: ``MLPRegressor(solver="lbfgs", max_iter=5000, tol=1e-10)``,
  full-batch backpropagation run to convergence;
* ``adam``: ``MLPRegressor(max_iter=2000)``, scikit-learn's default solver
  (minibatches of 200 rows, its own stopping rule).

The 5-fold CV, datasets and seeds are those of ``bench_suite.py``; one BLAS
thread per fit. ``--jobs 2`` runs the folds in two processes (fit times are
then measured side by side). Outputs in ``--out`` (default
``benchmarks/results``): ``backprop.csv`` and ``backprop.md`` (``--parts
table``), and ``backprop_curves.{csv,md,png}`` (``--parts curves``): F
against fit time on the first fold of each table, from the reset modes' own
``objective_curve_`` and ``time_curve_`` (read-out not refitted at the end)
and from backpropagation stopped after 1, 3, 10, ... 3000 iterations.
"""

import time
import warnings

import numpy as np
from joblib import Parallel, delayed
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPRegressor
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from skadmm import ADMMResidualRegressor

from _common import (
    SEED,
    comma_list,
    fold_tasks,
    folds,
    panel_grid,
    rounded,
    save_panels,
    switched,
    write_results,
)
from _datasets import load, suite_parser

WIDTH = 100
MODELS = (
    "reset",
    "reset_long",
    "reset_two",
    "reset_first_order",
    "reset_joint",
    "lbfgs",
    "adam",
)
#: The models of the F-against-time curves, and backpropagation's stops.
CURVE_MODELS = ("reset", "reset_first_order", "reset_joint", "lbfgs", "adam")
MLP_ITERATIONS = (1, 3, 10, 30, 100, 300, 1000, 3000)
#: Smallest relative excess of F shown in the curves' figure.
FLOOR = 1e-3
#: Solver switches (``ResetSolver`` attributes, not estimator parameters),
#: run as private solver classes (``_common.switched``).
SWITCHES = {
    "reset_first_order": {"first_order_targets": True},
    "reset_joint": {"top_alternations": 5},
}


def objective(model, X, y, alpha):
    """``F`` of a fitted model on ``(X, y)``: half the MSE plus the L2 penalty."""
    penalty = sum(float(np.sum(W * W)) for W in model.coefs_)
    return 0.5 * float(np.mean((model.predict(X) - y) ** 2)) + 0.5 * alpha * penalty


def make_model(name, alpha, n_samples, max_iter_scale=1.0):
    """The model ``name`` at the penalty ``alpha`` of ``F`` (see above)."""
    if name.startswith("reset"):
        params = {
            "reset_long": dict(max_iter=1000, tol=0.0),
            "reset_two": dict(splitting="two"),
        }.get(name, {})
        if max_iter_scale != 1.0:
            limit = params.get("max_iter", 200)
            params["max_iter"] = max(2, int(limit * max_iter_scale))
        model = ADMMResidualRegressor(
            width=WIDTH, alpha=alpha, random_state=SEED, **params
        )
        return switched(model, SWITCHES.get(name))
    sk_alpha = alpha * n_samples
    if name == "lbfgs":
        params = dict(solver="lbfgs", max_iter=5000, tol=1e-10)
    else:
        params = dict(max_iter=2000)
    if max_iter_scale != 1.0:
        params["max_iter"] = max(2, int(params["max_iter"] * max_iter_scale))
    return MLPRegressor(
        hidden_layer_sizes=(WIDTH,), alpha=sk_alpha, random_state=SEED, **params
    )


def timed_fit(name, model, X, y):
    """Fit ``model`` (``name``'s, its solver switches included); the seconds."""
    tick = time.perf_counter()
    model.fit(X, y)
    return time.perf_counter() - tick


def prepared_fold(X, y, train, test, max_iter_scale, seed=SEED):
    """Standardised training and test inputs, the standardised training
    target, its mean and scale, and the defaults (``random_state=seed``)
    fitted on it (with ``alpha="auto"``: their ``alpha_`` is the fold's
    penalty)."""
    scaler = StandardScaler().fit(X[train])
    X_train, X_test = scaler.transform(X[train]), scaler.transform(X[test])
    mean, std = y[train].mean(), y[train].std()
    y_train = (y[train] - mean) / std
    auto = ADMMResidualRegressor(width=WIDTH, random_state=seed)
    auto.set_params(max_iter=max(2, int(200 * max_iter_scale)))
    return X_train, X_test, y_train, mean, std, auto.fit(X_train, y_train)


def fold_row(dataset, fold, name, alpha, objective, pred, y_test, **extra):
    """The table row of one model on one fold: ``pred`` in the target's units."""
    test_mse = float(np.mean((pred - y_test) ** 2))
    return dict(
        dataset=dataset,
        fold=fold,
        model=name,
        alpha=alpha,
        objective=objective,
        test_mse=test_mse,
        **extra,
    )


def fold_rows(dataset, fold, train, test, X, y, max_iter_scale):
    """One CV fold: every model at the fold's ``alpha="auto"`` choice."""
    warnings.simplefilter("ignore", ConvergenceWarning)
    rows = []
    with threadpool_limits(1):
        X_train, X_test, y_train, mean, std, auto = prepared_fold(
            X, y, train, test, max_iter_scale
        )
        alpha = auto.alpha_
        for name in MODELS:
            model = make_model(name, alpha, len(train), max_iter_scale)
            seconds = timed_fit(name, model, X_train, y_train)
            pred = model.predict(X_test) * std + mean
            F = objective(model, X_train, y_train, alpha)
            rows.append(
                fold_row(
                    dataset,
                    fold,
                    name,
                    alpha,
                    F,
                    pred,
                    y[test],
                    fit_time=seconds,
                    n_iter=model.n_iter_,
                )
            )
    return rows


def curve_rows(dataset, X, y, max_iter_scale):
    """F against fit time on the first fold: the reset modes' own curves, and
    backpropagation stopped after ``MLP_ITERATIONS`` iterations."""
    warnings.simplefilter("ignore", ConvergenceWarning)
    train, test = folds(X)[0]
    rows = []
    with threadpool_limits(1):
        X_train, _, y_train, _, _, auto = prepared_fold(
            X, y, train, test, max_iter_scale
        )
        alpha = auto.alpha_
        for name in CURVE_MODELS:
            if name.startswith("reset"):
                model = make_model(name, alpha, len(train), max_iter_scale)
                model.set_params(refit_readout=False)
                timed_fit(name, model, X_train, y_train)
                points = zip(model.time_curve_, model.objective_curve_, strict=True)
            else:
                points = []
                for limit in MLP_ITERATIONS:
                    model = make_model(name, alpha, len(train))
                    model.set_params(max_iter=max(1, int(limit * max_iter_scale)))
                    seconds = timed_fit(name, model, X_train, y_train)
                    points.append((seconds, objective(model, X_train, y_train, alpha)))
            rows += [
                dict(dataset=dataset, model=name, seconds=t, objective=F)
                for t, F in points
            ]
    return rows


def plot_curves(rows, path):
    """One panel per table: F's excess over the lowest F reached (clipped at
    ``FLOOR``), against fit time."""
    datasets = list(dict.fromkeys(r["dataset"] for r in rows))
    fig, axes = panel_grid(len(datasets))
    styles = {
        "reset": "C0-",
        "reset_first_order": "C1-",
        "reset_joint": "C2-",
        "lbfgs": "C3o--",
        "adam": "C7s:",
    }
    for ax, dataset in zip(axes.flat, datasets, strict=False):
        mine = [r for r in rows if r["dataset"] == dataset]
        best = min(r["objective"] for r in mine)
        for name, style in styles.items():
            pts = [r for r in mine if r["model"] == name]
            ax.plot(
                [p["seconds"] for p in pts],
                [max(p["objective"] / best - 1.0, FLOOR) for p in pts],
                style,
                ms=3,
                lw=1,
                label=name,
            )
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_ylim(0.8 * FLOOR, 2.0)
        ax.set_title(dataset, fontsize=9)
        ax.tick_params(labelsize=7)
        ax.set_xlabel("fit time (s)", fontsize=8)
    save_panels(fig, axes, "F / lowest F - 1 (first fold)", path)


def summarise(fold_table):
    """Mean over folds per (dataset, model), with ratios to ``lbfgs``."""
    keys = list(dict.fromkeys((r["dataset"], r["model"]) for r in fold_table))
    rows = []
    for dataset, name in keys:
        sel = [r for r in fold_table if (r["dataset"], r["model"]) == (dataset, name)]
        ref = {
            r["fold"]: r
            for r in fold_table
            if r["dataset"] == dataset and r["model"] == "lbfgs"
        }
        row = dict(
            dataset=dataset,
            model=name,
            alpha=sorted({r["alpha"] for r in sel}),
            objective=np.mean([r["objective"] for r in sel]),
            test_mse=np.mean([r["test_mse"] for r in sel]),
            fit_time=np.mean([r["fit_time"] for r in sel]),
            n_iter=np.mean([r["n_iter"] for r in sel]),
        )
        if ref:
            # Ratios per fold, then their geometric mean: folds weigh alike.
            for key in ("objective", "test_mse", "fit_time"):
                ratios = [r[key] / ref[r["fold"]][key] for r in sel]
                row[f"{key}_vs_lbfgs"] = float(np.exp(np.mean(np.log(ratios))))
        rows.append(row)
    return rows


def overall(rows):
    """One line per model: geometric means of its ratios to ``lbfgs``."""
    lines = []
    for name in dict.fromkeys(r["model"] for r in rows):
        sel = [r for r in rows if r["model"] == name and "objective_vs_lbfgs" in r]
        if not sel or name == "lbfgs":
            continue
        geo = {
            key: float(np.exp(np.mean([np.log(r[f"{key}_vs_lbfgs"]) for r in sel])))
            for key in ("objective", "test_mse", "fit_time")
        }
        lines.append(
            f"- `{name}` against `lbfgs` (geometric means over {len(sel)} "
            f"datasets): F {geo['objective']:.3f}x, test MSE "
            f"{geo['test_mse']:.3f}x, fit time {geo['fit_time']:.3f}x"
        )
    return "\n".join(lines)


def run_table(args, tasks, n_splits):
    """The CV table: every model on every fold, summarised."""
    fold_table = [r for rows in Parallel(n_jobs=args.jobs)(tasks) for r in rows]
    rows = summarise(fold_table)
    for r in rows:
        print(
            f"{r['dataset']:11s} {r['model']:11s} F {r['objective']:.5g} "
            f"test {r['test_mse']:.4g} fit {r['fit_time']:.2f} s",
            flush=True,
        )
    summary = overall(rows)
    print(summary, flush=True)
    preamble = (
        f"{n_splits}-fold shuffled CV (random_state={SEED}); inputs and targets "
        "standardised on each training fold; one hidden layer of "
        f"{WIDTH} ReLU units; alpha: the estimator's alpha='auto' choice per "
        "fold; `objective`: F on the training fold (standardised target); "
        "`test_mse`: in the target's units; `fit_time`: seconds, one BLAS "
        f"thread ({args.jobs} process(es)); ratios: geometric means over the "
        "folds of the per-fold ratios to `lbfgs`.\n\n" + summary
    )
    fmt = rounded(
        [{**r, "alpha": " ".join(f"{a:g}" for a in r["alpha"])} for r in rows]
    )
    write_results(args.out, "backprop", fmt, preamble)


def main(argv=None):
    parser = suite_parser(__doc__, jobs="folds")
    parser.add_argument(
        "--parts",
        type=comma_list(["table", "curves"]),
        default=["table", "curves"],
        help="what to run: table (CV), curves (F against time, first fold)",
    )
    args = parser.parse_args(argv)
    n_splits, max_rows, scale = (2, 200, 0.02) if args.quick else (5, None, 1.0)

    tasks, data = fold_tasks(
        args.datasets, fold_rows, load, n_splits, max_rows, max_iter_scale=scale
    )
    if "table" in args.parts:
        run_table(args, tasks, n_splits)
    if "curves" in args.parts:
        tasks = [delayed(curve_rows)(d, *data[d], scale) for d in args.datasets]
        curves = [r for rows in Parallel(n_jobs=args.jobs)(tasks) for r in rows]
        write_results(args.out, "backprop_curves", curves)
        plot_curves(curves, args.out / "backprop_curves.png")


if __name__ == "__main__":
    main()

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
  so that the weight step follows the gradient of ``F`` itself (see the user
  guide, "Which objective the sweep descends");
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
``benchmarks/results``): ``backprop.csv`` and ``backprop.md``.
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
from skadmm._solvers._reset import ResetSolver

from _common import SEED, folds, write_results
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
#: Solver switches (``ResetSolver`` attributes, not estimator parameters).
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
        return ADMMResidualRegressor(
            width=WIDTH, alpha=alpha, random_state=SEED, **params
        )
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


def fold_rows(dataset, fold, train, test, X, y, max_iter_scale):
    """One CV fold: every model at the fold's ``alpha="auto"`` choice."""
    warnings.simplefilter("ignore", ConvergenceWarning)
    scaler = StandardScaler().fit(X[train])
    X_train, X_test = scaler.transform(X[train]), scaler.transform(X[test])
    mean, std = y[train].mean(), y[train].std()
    y_train = (y[train] - mean) / std
    rows = []
    with threadpool_limits(1):
        auto = ADMMResidualRegressor(width=WIDTH, random_state=SEED)
        auto.set_params(max_iter=max(2, int(200 * max_iter_scale)))
        alpha = auto.fit(X_train, y_train).alpha_
        for name in MODELS:
            model = make_model(name, alpha, len(train), max_iter_scale)
            switches = SWITCHES.get(name, {})
            defaults = {key: getattr(ResetSolver, key) for key in switches}
            for key, value in switches.items():
                setattr(ResetSolver, key, value)
            try:
                tick = time.perf_counter()
                model.fit(X_train, y_train)
                seconds = time.perf_counter() - tick
            finally:
                for key, value in defaults.items():
                    setattr(ResetSolver, key, value)
            pred = model.predict(X_test) * std + mean
            rows.append(
                dict(
                    dataset=dataset,
                    fold=fold,
                    model=name,
                    alpha=alpha,
                    objective=objective(model, X_train, y_train, alpha),
                    test_mse=float(np.mean((pred - y[test]) ** 2)),
                    fit_time=seconds,
                    n_iter=model.n_iter_,
                )
            )
    return rows


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


def main(argv=None):
    parser = suite_parser(__doc__)
    parser.add_argument("--jobs", type=int, default=1, help="processes for the folds")
    args = parser.parse_args(argv)
    n_splits, max_rows, scale = (2, 200, 0.02) if args.quick else (5, None, 1.0)

    tasks = []
    for dataset in args.datasets:
        X, y = load(dataset)
        if max_rows is not None:
            X, y = X[:max_rows], y[:max_rows]
        for fold, (train, test) in enumerate(folds(X, n_splits)):
            tasks.append(delayed(fold_rows)(dataset, fold, train, test, X, y, scale))
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
    fmt = [
        {
            k: (f"{v:.4g}" if isinstance(v, float) else v)
            for k, v in {**r, "alpha": " ".join(f"{a:g}" for a in r["alpha"])}.items()
        }
        for r in rows
    ]
    write_results(args.out, "backprop", fmt, preamble)


if __name__ == "__main__":
    main()

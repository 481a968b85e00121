"""Would a linear path from the inputs to the read-out help? Measured at the optimum.

The network would gain a penalised linear term ``X V`` beside its read-out::

    f(x) = [s([x, 1] W_1), 1] W_2 + x V
    F(W) = 1/2 mean_i (f(x_i) - y_i)^2 + alpha/2 (||W_1||^2 + ||W_2||^2 + ||V||^2)

(biases unpenalised, as in the estimator). To judge the architecture apart from
any trainer, both networks are trained by full-batch backpropagation (SciPy's
L-BFGS-B on ``F`` and its exact gradient) to convergence, from the same start:
the hidden weights of ``ADMMResidualRegressor(random_state=0)``'s initialisation
(``--seed`` sets another ``random_state``)
and the ridge read-out at ``alpha`` on them (with ``X`` beside them for the
linear path). Those starts are the networks' own random features. Models per
fold, all at the estimator's ``alpha="auto"`` choice on that training fold:

* ``default``: ``ADMMResidualRegressor`` at its defaults (the fit that chose
  ``alpha``, which it then uses);
* ``random_features`` and ``random_features_linear``: the two starts;
* ``lbfgs`` and ``lbfgs_linear``: the two networks trained to convergence.

The 5-fold CV, datasets and seeds are those of ``bench_suite.py``; inputs and
targets standardised on each training fold; one BLAS thread per fit. Outputs
in ``--out`` (default ``benchmarks/results``): ``linear_path.csv`` and
``linear_path.md``.
"""

import warnings

import numpy as np
from joblib import Parallel
from scipy.optimize import minimize
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_limits

from skadmm import ADMMResidualRegressor

from _common import SEED, fold_tasks, rounded, write_results
from _datasets import load, suite_parser
from bench_backprop import fold_row, objective, prepared_fold

WIDTH = 100
MODELS = (
    "default",
    "random_features",
    "random_features_linear",
    "lbfgs",
    "lbfgs_linear",
)
#: L-BFGS-B limits: run to convergence, as ``bench_backprop.py``'s ``lbfgs``.
LBFGS_OPTIONS = dict(maxiter=5000, maxcor=20, ftol=1e-13, gtol=1e-9)


class LinearPathNetwork:
    """One ReLU hidden layer with an optional linear path, as a flat vector.

    ``W1``: ``(d + 1, width)`` with the bias as last row (the estimator's
    layout), ``w2``: ``(width + 1,)`` likewise, ``V``: ``(d,)`` or empty.
    """

    def __init__(self, n_features, width, linear):
        self.shapes = [(n_features + 1, width), (width + 1,)]
        self.shapes.append((n_features,) if linear else (0,))
        self.sizes = [int(np.prod(s)) for s in self.shapes]

    def unpack(self, p):
        parts = np.split(p, np.cumsum(self.sizes)[:-1])
        pairs = zip(parts, self.shapes, strict=True)
        return [part.reshape(shape) for part, shape in pairs]

    @staticmethod
    def pack(W1, w2, V):
        return np.concatenate([W1.ravel(), w2, V])

    def predict(self, p, X):
        W1, w2, V = self.unpack(p)
        H = np.maximum(X @ W1[:-1] + W1[-1], 0.0)
        return H @ w2[:-1] + w2[-1] + (X @ V if V.size else 0.0)

    def objective(self, p, X, y, alpha):
        """``F`` and its gradient."""
        W1, w2, V = self.unpack(p)
        A = X @ W1[:-1] + W1[-1]
        H = np.maximum(A, 0.0)
        residual = H @ w2[:-1] + w2[-1] - y
        if V.size:
            residual += X @ V
        penalty = np.sum(W1[:-1] ** 2) + np.sum(w2[:-1] ** 2) + np.sum(V**2)
        F = 0.5 * np.mean(residual**2) + 0.5 * alpha * penalty
        g = residual / len(y)
        gA = np.outer(g, w2[:-1]) * (A > 0.0)
        gW1 = np.vstack([X.T @ gA + alpha * W1[:-1], gA.sum(axis=0)])
        gw2 = np.append(H.T @ g + alpha * w2[:-1], g.sum())
        gV = X.T @ g + alpha * V if V.size else V
        return F, self.pack(gW1, gw2, gV)

    def ridge_start(self, W1, X, y, alpha):
        """The start: hidden weights ``W1`` and the ridge read-out (and ``V``)
        minimising ``F`` with ``W1`` fixed."""
        features = np.maximum(X @ W1[:-1] + W1[-1], 0.0)
        if self.sizes[2]:
            features = np.hstack([features, X])
        mean, y_mean = features.mean(axis=0), y.mean()
        C = features - mean
        gram = C.T @ C / len(y) + alpha * np.eye(C.shape[1])
        coef = np.linalg.solve(gram, C.T @ (y - y_mean) / len(y))
        width = W1.shape[1]
        w2 = np.append(coef[:width], y_mean - mean @ coef)
        return self.pack(W1, w2, coef[width:])

    def train(self, p, X, y, alpha, options):
        """``p`` after L-BFGS-B on ``F``."""
        return minimize(
            self.objective,
            p,
            args=(X, y, alpha),
            jac=True,
            method="L-BFGS-B",
            options=options,
        ).x


def fold_rows(dataset, fold, train, test, X, y, max_iter_scale, seed=SEED):
    """One CV fold: every model at the fold's ``alpha="auto"`` choice, the
    networks initialised with ``random_state=seed``."""
    warnings.simplefilter("ignore", ConvergenceWarning)
    with threadpool_limits(1):
        # ``default``: the defaults, whose alpha="auto" choice is the fold's.
        X_train, X_test, y_train, mean, std, default = prepared_fold(
            X, y, train, test, max_iter_scale, seed
        )
        alpha = default.alpha_
        init = ADMMResidualRegressor(
            width=WIDTH, solver="radmm", max_iter=1, random_state=seed
        ).fit(X_train, y_train)
        W1 = np.vstack([init.coefs_[0], init.intercepts_[0]])
        F = objective(default, X_train, y_train, alpha)
        points = {"default": (F, default.predict)}
        options = dict(LBFGS_OPTIONS)
        options["maxiter"] = max(2, int(options["maxiter"] * max_iter_scale))
        for linear, suffix in ((False, ""), (True, "_linear")):
            net = LinearPathNetwork(X.shape[1], WIDTH, linear)
            start = net.ridge_start(W1, X_train, y_train, alpha)
            trained = net.train(start, X_train, y_train, alpha, options)
            for name, p in (("random_features", start), ("lbfgs", trained)):
                F = net.objective(p, X_train, y_train, alpha)[0]
                points[name + suffix] = (F, lambda Z, p=p, net=net: net.predict(p, Z))
    rows = []
    for name in MODELS:
        F, predict = points[name]
        pred = np.ravel(predict(X_test)) * std + mean
        rows.append(fold_row(dataset, fold, name, alpha, F, pred, y[test]))
    return rows


def summarise(fold_table):
    """Mean over folds per (dataset, model); the linear path's effect (per-fold
    ratios with and without it, geometric mean) and the gain over the
    network's own random features."""
    keys = list(dict.fromkeys((r["dataset"], r["model"]) for r in fold_table))
    by = {(r["dataset"], r["model"], r["fold"]): r for r in fold_table}
    rows = []
    for dataset, name in keys:
        sel = [r for r in fold_table if (r["dataset"], r["model"]) == (dataset, name)]
        row = dict(
            dataset=dataset,
            model=name,
            objective=np.mean([r["objective"] for r in sel]),
            test_mse=np.mean([r["test_mse"] for r in sel]),
            linear_vs_plain="",
            gain_over_random_features="",
        )
        if name.endswith("_linear"):
            plain = name.removesuffix("_linear")
            ref = {r["fold"]: by[dataset, plain, r["fold"]]["test_mse"] for r in sel}
            ratios = [r["test_mse"] / ref[r["fold"]] for r in sel]
            row["linear_vs_plain"] = float(np.exp(np.mean(np.log(ratios))))
        start = {"lbfgs": "random_features", "lbfgs_linear": "random_features_linear"}
        if name in start:
            rf = np.mean([by[dataset, start[name], r["fold"]]["test_mse"] for r in sel])
            row["gain_over_random_features"] = 1.0 - row["test_mse"] / rf
        rows.append(row)
    return rows


def overall(rows):
    """Geometric means over the datasets of the linear path's ratios."""
    lines = []
    for name in ("random_features_linear", "lbfgs_linear"):
        ratios = [r["linear_vs_plain"] for r in rows if r["model"] == name]
        worse = sum(r > 1.0 + 1e-6 for r in ratios)
        geo = float(np.exp(np.mean(np.log(ratios))))
        lines.append(
            f"- `{name}` against `{name.removesuffix('_linear')}`: test MSE "
            f"{geo:.3f}x (geometric mean over {len(ratios)} datasets), worse on "
            f"{worse}"
        )
    return "\n".join(lines)


def main(argv=None):
    parser = suite_parser(__doc__, jobs="folds")
    parser.add_argument(
        "--seed", type=int, default=SEED, help="random_state of the networks"
    )
    args = parser.parse_args(argv)
    n_splits, max_rows, scale = (2, 200, 0.02) if args.quick else (5, None, 1.0)
    tasks, _ = fold_tasks(
        args.datasets,
        fold_rows,
        load,
        n_splits,
        max_rows,
        max_iter_scale=scale,
        seed=args.seed,
    )
    fold_table = [r for rows in Parallel(n_jobs=args.jobs)(tasks) for r in rows]
    rows = summarise(fold_table)
    summary = overall(rows)
    print(summary, flush=True)
    preamble = (
        f"{n_splits}-fold shuffled CV (random_state={SEED}); inputs and targets "
        f"standardised on each training fold; one hidden layer of {WIDTH} ReLU "
        f"units initialised with random_state={args.seed}; alpha: the "
        "estimator's alpha='auto' choice per fold; "
        "`objective`: F on the training fold (standardised target); `test_mse`: "
        "in the target's units; `linear_vs_plain`: geometric mean over the folds "
        "of the test MSE ratio to the same model without the linear path; "
        "`gain_over_random_features`: 1 - test MSE / that of the network's own "
        "start.\n\n" + summary
    )
    fmt = rounded(rows)
    write_results(args.out, "linear_path", fmt, preamble)


if __name__ == "__main__":
    main()

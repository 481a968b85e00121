"""Read-out penalty: the fixed ``alpha_`` against one chosen by GCV per fit.

Does choosing the final read-out's ridge penalty from the data help? For every
fold of a 5-fold shuffled CV (``random_state=0``) one default
:class:`~skadmm.ADMMResidualRegressor` (``random_state=0``) is trained, and its
test MSE is compared with that of the same hidden layers whose read-out is
instead refitted by :class:`~sklearn.linear_model.RidgeCV` on the training
rows' last hidden features: generalised cross-validation (leave-one-out in
closed form, from one eigendecomposition) over ``alpha_ * n * 10**k``,
``k = -3 .. 3`` in steps of 0.25 (``RidgeCV``'s penalty is on the sum of squared
errors, skadmm's on the mean, hence the ``n``; ``k = 0`` is the default's own
penalty). Both variants share the training run, so the difference is the
read-out penalty alone.

Data: diabetes (``load_diabetes``), Friedman #1 (``make_friedman1``, 2000 rows,
noise 1, ``random_state=0``), Wine Quality red and white; ``X`` standardised
on each training fold. BLAS runs on one thread.

Usage::

    python benchmarks/bench_readout_penalty.py          # about 1.5 minutes on 2 cores
    python benchmarks/bench_readout_penalty.py --quick  # two data sets, a smoke run
"""

import argparse
import time
import warnings

import numpy as np
from sklearn.datasets import load_diabetes, make_friedman1
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import RidgeCV
from threadpoolctl import threadpool_limits

from skadmm import ADMMResidualRegressor
from skadmm._activations import get_activation
from skadmm._network import hidden_features, stack_weights

from _common import RESULTS, SEED, cross_validate, folds, wine, write_results

#: Penalty grid of the GCV read-out, relative to the default's (log10 steps).
GRID = 10.0 ** np.arange(-3.0, 3.01, 0.25)


def datasets(quick):
    X, y = load_diabetes(return_X_y=True)
    data = {"diabetes": (X, y)}
    data["friedman1"] = make_friedman1(n_samples=2000, noise=1.0, random_state=SEED)
    if not quick:
        data["wine red"] = wine("red")
        data["wine white"] = wine("white")
    return data


def gcv_readout(est, X_train, y_train):
    """Hidden features of ``est`` on ``X_train`` and the RidgeCV read-out on them."""
    activation = get_activation(est.activation)
    hidden = stack_weights(est.coefs_[:-1], est.intercepts_[:-1])
    U = hidden_features(X_train, hidden, activation)
    alphas = est.alpha_ * len(X_train) * GRID
    ridge = RidgeCV(alphas=alphas).fit(U, y_train)
    return hidden, activation, ridge


def fit_with_gcv(pipe, X_train, y_train):
    """Fit the defaults, then the GCV read-out on their hidden features (kept
    on the pipeline for the scorers)."""
    pipe.fit(X_train, y_train)
    est = pipe[-1]
    pipe.gcv = gcv_readout(est, pipe[0].transform(X_train), y_train)
    pipe.chosen = pipe.gcv[2].alpha_ / (est.alpha_ * len(X_train))


def default_mse(pipe, X, y):
    return np.mean((pipe.predict(X) - y) ** 2)


def gcv_mse(pipe, X, y):
    hidden, activation, ridge = pipe.gcv
    pred = ridge.predict(hidden_features(pipe[0].transform(X), hidden, activation))
    return np.mean((pred - y) ** 2)


def evaluate(X, y):
    """Per-fold test MSE of the default read-out and of the GCV read-out."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        scores = cross_validate(
            ADMMResidualRegressor(random_state=SEED),
            X,
            y,
            folds(X),
            {
                "default": default_mse,
                "gcv": gcv_mse,
                "chosen": lambda pipe, X, y: pipe.chosen,
            },
            fit=fit_with_gcv,
        )
    return scores["default"], scores["gcv"], scores["chosen"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", default=RESULTS)
    args = parser.parse_args()
    rows = []
    with threadpool_limits(1):
        for name, (X, y) in datasets(args.quick).items():
            tick = time.perf_counter()
            default, gcv, chosen = evaluate(np.asarray(X, float), np.asarray(y, float))
            wins = int(np.sum(gcv < default))
            rows.append(
                {
                    "data": name,
                    "MSE default": f"{default.mean():.4g}",
                    "MSE GCV read-out": f"{gcv.mean():.4g}",
                    "ratio GCV/default": f"{gcv.mean() / default.mean():.3f}",
                    "folds GCV better": f"{wins}/{len(gcv)}",
                    "chosen / default penalty (median)": f"{np.median(chosen):.3g}",
                }
            )
            print(rows[-1], f"{time.perf_counter() - tick:.0f}s", flush=True)
    preamble = (
        "5-fold shuffled CV test MSE (mean over folds) of ADMMResidualRegressor "
        "with its defaults, and of the same trained hidden layers with the "
        "read-out refitted by RidgeCV (GCV over 10^-3..10^3 times the default "
        "penalty). Produced by `benchmarks/bench_readout_penalty.py`."
    )
    write_results(args.out, "readout_penalty", rows, preamble)


if __name__ == "__main__":
    main()

"""How much of a model's cross-validated MSE comes from rows repeated between
the training and the test folds.

The Wine Quality tables repeat rows (red: 1,599 rows, 1,359 distinct ``x``;
white: 4,898 rows, 3,961 distinct). The suite's shuffled 5-fold
cross-validation puts copies of a row on both sides of a split, where a model
that memorises its training rows predicts them well. This script compares,
for the defaults (``embedding="none"``), the one-hot code, ``"auto"`` and
HistGradientBoosting, that split with a *grouped* one: 5 folds over the
distinct ``x`` (``skadmm._alpha_search.distinct_row_folds``, fixed seed),
every copy of a row in one fold, so each test row is new to the model.

``StandardScaler`` in front of the ADMM models, one BLAS thread, the
estimators' defaults otherwise. Outputs in ``--out`` (default
``benchmarks/results/embeddings``): ``repeated_rows.csv`` and ``.md``.

Usage::

    python benchmarks/bench_repeated_rows.py                 # about 5 minutes
    python benchmarks/bench_repeated_rows.py --datasets wine_red --models none,hgb
"""

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from skadmm import ADMMResidualRegressor
from skadmm._alpha_search import distinct_row_folds

from _common import RESULTS, SEED, comma_list, folds, rounded, write_results
from _datasets import load

DATASETS = ("wine_red", "wine_white")
MODELS = {
    "none": lambda: make_pipeline(
        StandardScaler(), ADMMResidualRegressor(random_state=SEED)
    ),
    "onehot": lambda: make_pipeline(
        StandardScaler(), ADMMResidualRegressor(embedding="onehot", random_state=SEED)
    ),
    "auto": lambda: make_pipeline(
        StandardScaler(), ADMMResidualRegressor(embedding="auto", random_state=SEED)
    ),
    "hgb": lambda: HistGradientBoostingRegressor(random_state=SEED),
}


def splits(X, kind, n_splits=5):
    """The suite's shuffled folds, or folds over the distinct rows of ``X``."""
    if kind == "shuffled":
        return folds(X, n_splits)
    part = distinct_row_folds(X, np.zeros((X.shape[0], 1)), n_splits)
    return [
        (np.flatnonzero(part != k), np.flatnonzero(part == k)) for k in range(n_splits)
    ]


def run(datasets, models):
    rows = []
    for dataset in datasets:
        X, y = load(dataset)
        n_distinct = len(np.unique(X, axis=0))
        for kind in ("shuffled", "grouped"):
            for name in models:
                mses, times = [], []
                for train, test in splits(X, kind):
                    model = MODELS[name]()
                    tick = time.perf_counter()
                    model.fit(X[train], y[train])
                    times.append(time.perf_counter() - tick)
                    mses.append(np.mean((model.predict(X[test]) - y[test]) ** 2))
                print(
                    f"{dataset:11s} {kind:9s} {name:7s} MSE {np.mean(mses):.4f}",
                    flush=True,
                )
                rows.append(
                    dict(
                        dataset=dataset,
                        rows=X.shape[0],
                        distinct_rows=n_distinct,
                        folds=kind,
                        model=name,
                        mse_mean=float(np.mean(mses)),
                        mse_std=float(np.std(mses)),
                        fit_time=float(np.mean(times)),
                    )
                )
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--datasets", type=comma_list(list(DATASETS)), default=list(DATASETS)
    )
    parser.add_argument("--models", type=comma_list(list(MODELS)), default=list(MODELS))
    parser.add_argument("--out", type=Path, default=RESULTS / "embeddings")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    with threadpool_limits(1):
        rows = run(args.datasets, args.models)
    preamble = (
        "5-fold CV (random_state=0): `shuffled`, the suite's folds; `grouped`, "
        "folds over the distinct rows of X (every copy of a row in one fold). "
        "StandardScaler in front of the ADMM models, one BLAS thread, fit time "
        "in seconds (mean over folds)."
    )
    write_results(args.out, "repeated_rows", rounded(rows), preamble)
    return rows


if __name__ == "__main__":
    main()

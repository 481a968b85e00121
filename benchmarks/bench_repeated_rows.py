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

``--classification``: the same for Wine Quality (white) in three classes, the
classification suite's table: its stratified shuffled folds against folds over
the distinct rows, for the classifier's defaults, its one-hot code,
HistGradientBoosting and the logistic regression (accuracy and log-loss);
outputs ``repeated_rows_classification.csv`` and ``.md``.

Usage::

    python benchmarks/bench_repeated_rows.py                 # about 5 minutes
    python benchmarks/bench_repeated_rows.py --datasets wine_red --models none,hgb
    python benchmarks/bench_repeated_rows.py --classification  # about 1 minute
"""

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.ensemble import (
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
)
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, log_loss
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from skadmm import ADMMResidualClassifier, ADMMResidualRegressor
from skadmm._alpha_search import distinct_row_folds

from _class_datasets import wine_quality
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


CLASSIFIERS = {
    "none": lambda: make_pipeline(
        StandardScaler(), ADMMResidualClassifier(random_state=SEED)
    ),
    "onehot": lambda: make_pipeline(
        StandardScaler(),
        ADMMResidualClassifier(embedding="onehot", random_state=SEED),
    ),
    "hgb": lambda: HistGradientBoostingClassifier(random_state=SEED),
    "logistic": lambda: make_pipeline(
        StandardScaler(), LogisticRegression(max_iter=2000)
    ),
}


def splits(X, kind, n_splits=5, y=None):
    """The suite's shuffled folds (stratified on ``y`` if given), or folds over
    the distinct rows of ``X``."""
    if kind == "shuffled" and y is not None:
        cv = StratifiedKFold(n_splits, shuffle=True, random_state=SEED)
        return list(cv.split(X, y))
    if kind == "shuffled":
        return folds(X, n_splits)
    part = distinct_row_folds(X, np.zeros((X.shape[0], 1)), n_splits)
    return [
        (np.flatnonzero(part != k), np.flatnonzero(part == k)) for k in range(n_splits)
    ]


def fitted_folds(make, X, y, kind, stratify=False):
    """``(model, test rows, seconds)`` of a fresh ``make()`` fitted on each
    fold of ``splits``."""
    for train, test in splits(X, kind, y=y if stratify else None):
        model = make()
        tick = time.perf_counter()
        model.fit(X[train], y[train])
        yield model, test, time.perf_counter() - tick


def run(datasets, models):
    rows = []
    for dataset in datasets:
        X, y = load(dataset)
        n_distinct = len(np.unique(X, axis=0))
        for kind in ("shuffled", "grouped"):
            for name in models:
                mses, times = [], []
                for model, test, seconds in fitted_folds(MODELS[name], X, y, kind):
                    times.append(seconds)
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


def run_classification():
    X, y = wine_quality()
    labels = np.unique(y)
    rows = []
    for kind in ("shuffled", "grouped"):
        for name, make in CLASSIFIERS.items():
            accuracy, loss, times = [], [], []
            for model, test, seconds in fitted_folds(make, X, y, kind, True):
                times.append(seconds)
                accuracy.append(accuracy_score(y[test], model.predict(X[test])))
                proba = model.predict_proba(X[test])
                loss.append(log_loss(y[test], proba, labels=labels))
            print(
                f"wine_quality {kind:9s} {name:8s} accuracy {np.mean(accuracy):.4f}"
                f" log-loss {np.mean(loss):.4f}",
                flush=True,
            )
            rows.append(
                dict(
                    dataset="wine_quality",
                    folds=kind,
                    model=name,
                    accuracy=float(np.mean(accuracy)),
                    log_loss=float(np.mean(loss)),
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
    parser.add_argument(
        "--classification",
        action="store_true",
        help="Wine Quality in three classes instead of the regression tables",
    )
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    if args.classification:
        with threadpool_limits(1):
            rows = run_classification()
        preamble = (
            "Wine Quality (white) in three classes, 5-fold CV (random_state=0): "
            "`shuffled`, the classification suite's stratified folds; `grouped`, "
            "folds over the distinct rows of X (every copy of a row in one fold). "
            "StandardScaler in front of the ADMM models and the logistic "
            "regression, one BLAS thread, fit time in seconds (mean over folds)."
        )
        write_results(args.out, "repeated_rows_classification", rounded(rows), preamble)
        return rows
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

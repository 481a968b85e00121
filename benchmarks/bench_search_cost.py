"""What ``alpha="auto"``'s search costs: the defaults' fit time against
MLPRegressor's on the regression suite's tables of at most 2,000 rows.

On 30 to 2,000 rows ``alpha="auto"`` cross-validates its candidates on three
folds before the final fit. Since the penalty path (user guide,
"Regularisation") the candidates run from the largest penalty down and the
search stops at the first whose loss rises; the exhaustive search fits every
candidate (``PATH_STOPS = False``, a measurement switch of
``skadmm._alpha_search``). From 300 rows on each candidate is validated on
two of the three folds (``FEWER_FOLDS``, another switch). For each table, on
the suite's 5 folds
(``random_state=0``, ``StandardScaler`` in front, one BLAS thread), in one
process run and interleaved fold by fold (only ratios measured side by side
are reported):

* ``mlp``: ``MLPRegressor(max_iter=2000, random_state=0)``;
* ``path``: ``ADMMResidualRegressor(random_state=0)``, the defaults;
* ``three_folds``: the defaults validating every candidate on all three
  folds (``FEWER_FOLDS = False``, the search before fewer folds);
* ``exhaustive``: every candidate cross-validated on all three folds (both
  switches off, the reference search).

Columns: mean fit time, its ratio to MLP's, test MSE, candidate fits of the
search (mean), and on how many folds the model chose the exhaustive search's
penalty. Wine white (4,898 rows) takes the fixed penalty, no search: a
reference. Outputs ``search_cost.csv`` and ``search_cost.md`` in ``--out``.

Usage::

    python benchmarks/bench_search_cost.py              # about 10 minutes on 2 cores
    python benchmarks/bench_search_cost.py --quick      # smoke run (seconds)
"""

import contextlib
import time
import warnings

import numpy as np
from sklearn.base import clone
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from skadmm import ADMMResidualRegressor, _alpha_search

from _common import SEED, folds, rounded, write_results
from _datasets import load, suite_parser

TABLES = ("diabetes", "friedman1", "friedman2", "friedman3", "wine_red", "sine")
REFERENCE = ("wine_white",)
MODELS = ("mlp", "path", "three_folds", "exhaustive")
#: The search switches of ``skadmm._alpha_search`` set while a model fits.
SWITCHES = {
    "three_folds": dict(FEWER_FOLDS=False),
    "exhaustive": dict(PATH_STOPS=False, FEWER_FOLDS=False),
}


@contextlib.contextmanager
def switched(switches):
    """The module switches ``switches`` set, restored on exit."""
    saved = {name: getattr(_alpha_search, name) for name in switches}
    for name, value in switches.items():
        setattr(_alpha_search, name, value)
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(_alpha_search, name, value)


def timed(model, X, y, train, test, switches):
    """``(seconds, test MSE, fitted pipeline)`` of one fold."""
    pipe = make_pipeline(StandardScaler(), clone(model))
    with warnings.catch_warnings(), switched(switches):
        warnings.simplefilter("ignore")
        start = time.perf_counter()
        pipe.fit(X[train], y[train])
        seconds = time.perf_counter() - start
    mse = float(np.mean((pipe.predict(X[test]) - y[test]) ** 2))
    return seconds, mse, pipe[-1]


def measure(table, n_splits, max_rows):
    X, y = load(table)
    if max_rows is not None:
        X, y = X[:max_rows], y[:max_rows]
    models = {
        "mlp": MLPRegressor(max_iter=2000, random_state=SEED),
        "path": ADMMResidualRegressor(random_state=SEED),
        "three_folds": ADMMResidualRegressor(random_state=SEED),
        "exhaustive": ADMMResidualRegressor(random_state=SEED),
    }
    runs = {name: [] for name in MODELS}
    for train, test in folds(X, n_splits):
        for name in MODELS:
            runs[name].append(
                timed(models[name], X, y, train, test, SWITCHES.get(name, {}))
            )
    mlp_time = np.mean([r[0] for r in runs["mlp"]])
    rows = []
    for name in MODELS:
        seconds = np.mean([r[0] for r in runs[name]])
        row = dict(
            table=table,
            rows=X.shape[0],
            model=name,
            fit_time=seconds,
            vs_mlp=seconds / mlp_time,
            mse=np.mean([r[1] for r in runs[name]]),
        )
        row.update(search_fits="", same_alpha="")
        if name != "mlp":
            records = [r[2].alpha_search_ for r in runs[name]]
            row["search_fits"] = np.mean(
                [
                    len(r.get("fold_errors", [])) * sum(r.get("fitted", []))
                    for r in records
                ]
            )
            row["same_alpha"] = sum(
                p[2].alpha_ == e[2].alpha_
                for p, e in zip(runs[name], runs["exhaustive"], strict=True)
            )
        print(rounded([row])[0], flush=True)
        rows.append(row)
    return rows


def main(argv=None):
    parser = suite_parser(__doc__)
    parser.set_defaults(datasets=[*TABLES, *REFERENCE])
    args = parser.parse_args(argv)
    n_splits, max_rows = (2, 300) if args.quick else (5, None)
    rows = []
    with threadpool_limits(1):
        for table in args.datasets:
            rows += measure(table, n_splits, max_rows)
    ratios = {r["table"]: r["vs_mlp"] for r in rows if r["model"] == "path"}
    note = (
        f"{n_splits}-fold shuffled CV (random_state={SEED}), StandardScaler in "
        "front, one BLAS thread, fit time in seconds (mean over folds), "
        "`vs_mlp`: its ratio to MLPRegressor's in the same run; `search_fits`: "
        "candidate fits of alpha='auto''s search; `same_alpha`: folds where the "
        "model chose the exhaustive search's penalty; `three_folds`: the "
        "defaults validating every candidate on all three folds. Defaults' fit "
        "time / MLP's: " + ", ".join(f"{t} {v:.2f}x" for t, v in ratios.items()) + "."
    )
    write_results(args.out, "search_cost", rounded(rows), preamble=note)


if __name__ == "__main__":
    main()

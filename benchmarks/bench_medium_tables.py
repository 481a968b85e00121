"""The penalty of mid-sized tables: the defaults against the size rule and
MLPRegressor on 2,000 to 10,000 rows.

Above 2,000 rows ``alpha="auto"`` cross-validated nothing and took the size
rule ``min(2e-3, 16 / n)`` (``skadmm._alpha_search.fixed_alpha``), measured
on noisy tables (Wine white, the pricing table). Up to 10,000 rows it now
runs its search on a sample of about 1,000 rows and caps the choice at the
rule (user guide, "Regularisation"). On Friedman #1 (10 features, noise 1),
#2 and #3 (noise-free, as in the regression suite), ``--rows`` training rows
(default 5,000) and 5,000 test rows, ``StandardScaler`` on ``X``, one BLAS
thread, ``random_state=0``, each fit in one process run:

* ``defaults``: ``ADMMResidualRegressor()``;
* ``rule``: the same with ``alpha`` set to the size rule's value (the
  defaults before the sample search);
* ``MLP``: ``MLPRegressor(max_iter=2000)``.

Columns: test MSE, fit time (seconds), its ratio to MLP's, ``alpha_``.
Outputs ``medium_tables.csv`` and ``medium_tables.md`` in ``--out``.

Usage::

    python benchmarks/bench_medium_tables.py            # about 1 minute on 2 cores
    python benchmarks/bench_medium_tables.py --quick    # smoke run (seconds)
"""

import argparse
import time
import warnings

import numpy as np
from sklearn.datasets import make_friedman1, make_friedman2, make_friedman3
from sklearn.neural_network import MLPRegressor
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from skadmm import ADMMResidualRegressor
from skadmm._alpha_search import fixed_alpha

from _common import RESULTS, SEED, comma_list, rounded, write_results

#: ``(generator, noise)`` of each table.
TABLES = {
    "friedman1": (make_friedman1, 1.0),
    "friedman2": (make_friedman2, 0.0),
    "friedman3": (make_friedman3, 0.0),
}
MODELS = ("defaults", "rule", "MLP")
TEST_ROWS = 5_000


def table(name, n_rows, test_rows=TEST_ROWS):
    """Training and test rows of ``name``, ``X`` standardised on the training rows."""
    make, noise = TABLES[name]
    X, y = make(n_rows + test_rows, noise=noise, random_state=SEED)
    scaler = StandardScaler().fit(X[:n_rows])
    X = scaler.transform(X)
    return X[:n_rows], y[:n_rows], X[n_rows:], y[n_rows:]


def make_model(name, n_rows):
    if name == "MLP":
        return MLPRegressor(max_iter=2000, random_state=SEED)
    alpha = fixed_alpha(n_rows) if name == "rule" else "auto"
    return ADMMResidualRegressor(alpha=alpha, random_state=SEED)


def run(tables, n_rows, test_rows=TEST_ROWS):
    rows = []
    for name in tables:
        X, y, X_test, y_test = table(name, n_rows, test_rows)
        measured = []
        for model_name in MODELS:
            model = make_model(model_name, n_rows)
            with threadpool_limits(1), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                tick = time.perf_counter()
                model.fit(X, y)
                seconds = time.perf_counter() - tick
            row = dict(
                table=name,
                rows=n_rows,
                model=model_name,
                mse=float(np.mean((model.predict(X_test) - y_test) ** 2)),
                fit_time=seconds,
                alpha=getattr(model, "alpha_", ""),
            )
            print(rounded([row])[0], flush=True)
            measured.append(row)
        mlp = measured[-1]["fit_time"]
        for row in measured:
            row["vs_mlp_time"] = row["fit_time"] / mlp
        rows.extend(measured)
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run")
    parser.add_argument("--rows", type=int, default=5_000)
    parser.add_argument(
        "--tables", type=comma_list(tuple(TABLES)), default=list(TABLES)
    )
    parser.add_argument("--out", default=RESULTS)
    args = parser.parse_args(argv)
    if args.quick:
        rows = run(args.tables[:1], 2_100, test_rows=200)
    else:
        rows = run(args.tables, args.rows)
    columns = ["table", "rows", "model", "mse", "fit_time", "vs_mlp_time", "alpha"]
    rows = [{key: row[key] for key in columns} for row in rows]
    note = (
        f"{TEST_ROWS} test rows, StandardScaler on X, one BLAS thread, "
        "random_state=0; `rule`: alpha set to the size rule min(2e-3, 16 / n), "
        "the defaults before the sample search; `vs_mlp_time`: fit time / "
        "MLPRegressor's in the same run."
    )
    write_results(args.out, "medium_tables", rounded(rows), preamble=note)


if __name__ == "__main__":
    main()

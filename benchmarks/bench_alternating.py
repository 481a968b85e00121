"""dlADMM and mDLAM against their own random features and against RADMM.

For each data set, a 5-fold shuffled CV (``random_state=0``) of a pipeline
``StandardScaler() -> ADMMResidualRegressor(random_state=0)`` with the
estimator's defaults (width 100, no residual block, ``alpha="auto"``) and

* ``solver=<mode>``: the mode at its defaults (200 iterations at most);
* ``solver=<mode>, max_iter=1``: the same network after one iteration, i.e.
  essentially its random features with the read-out refitted (the reference
  that tells whether the hidden layers learned anything);
* ``solver="radmm"``: the proximal ADMM of the paper at the same defaults;
* with ``--extra``: the mode without the stopping test (``tol=0``, all 200
  iterations), at the default ``beta`` and at ``beta=1``, and the default
  ``solver="reset"``, to show what the defaults leave on the table.

Columns: mean test MSE over the folds (and its standard deviation), mean fit
time and mean iterations, and the fits (of the 5) that stopped on a
``DivergenceWarning``. BLAS runs on one thread.

Usage::

    python benchmarks/bench_alternating.py --modes dladmm
    python benchmarks/bench_alternating.py --modes dladmm mdlam --datasets diabetes
"""

import argparse
import warnings

import numpy as np
from threadpoolctl import threadpool_limits

from skadmm import ADMMResidualRegressor

from _common import RESULTS, SEED, cross_validate, folds, write_results
from _datasets import load


def squared_error(model, X, y):
    return float(np.mean((model.predict(X) - y) ** 2))


def cv_mse(X, y, **params):
    model = ADMMResidualRegressor(random_state=SEED, **params)
    scores = cross_validate(model, X, y, folds(X), {"mse": squared_error})
    errors, failures = scores["mse"], int(scores["divergences"].sum())
    return (
        np.mean(errors),
        np.std(errors),
        np.mean(scores["fit_time"]),
        np.mean(scores["n_iter"]),
        failures,
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--modes", nargs="+", default=["dladmm", "mdlam"])
    parser.add_argument(
        "--datasets", nargs="+", default=["friedman1", "diabetes", "wine_red"]
    )
    parser.add_argument("--out", default=RESULTS)
    parser.add_argument("--name", default="alternating")
    parser.add_argument("--extra", action="store_true")
    args = parser.parse_args()
    rows = []
    # The warnings are counted (failed fits), not shown.
    warnings.simplefilter("ignore")
    with threadpool_limits(1):
        for data in args.datasets:
            X, y = load(data)
            variants = []
            for mode in args.modes:
                variants += [
                    (mode, {"solver": mode}),
                    (f"{mode}, max_iter=1", {"solver": mode, "max_iter": 1}),
                ]
                if args.extra:
                    variants += [
                        (f"{mode}, tol=0", {"solver": mode, "tol": 0.0}),
                        (
                            f"{mode}, tol=0, beta=1",
                            {"solver": mode, "tol": 0.0, "beta": 1.0},
                        ),
                    ]
            variants.append(("radmm", {"solver": "radmm"}))
            if args.extra:
                variants.append(("reset (default solver)", {"solver": "reset"}))
            for label, params in variants:
                mse, std, seconds, n_iter, failures = cv_mse(X, y, **params)
                rows.append(
                    dict(
                        data=data,
                        model=label,
                        test_mse=f"{mse:.4g}",
                        std=f"{std:.2g}",
                        fit_s=f"{seconds:.2f}",
                        n_iter=f"{n_iter:.0f}",
                        failed_fits=failures,
                    )
                )
                print(rows[-1], flush=True)
    write_results(args.out, args.name, rows, __doc__.split("Usage")[0])


if __name__ == "__main__":
    main()

"""solver="pdadmm" against the other modes on Wine Quality red (a small check).

3-fold shuffled CV (``random_state=0``), standardised X, width 64, 4 blocks,
``alpha=3e-3``, 200 iterations (``tol=0``), read-out refitted as by default.
Rows: pdADMM at two penalty scales inside its monotone region, pdADMM with
greedy growth (1 block for 100 iterations, then warm-started to 4 blocks for
100 more), the paper's RADMM and the default forward-reset mode. Reports the
CV MSE of the forward network and the fit time.

Usage::

    python benchmarks/bench_pdadmm_accuracy.py            # 3 folds
    python benchmarks/bench_pdadmm_accuracy.py --quick    # 1 fold, 50 iterations
"""

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.metrics import mean_squared_error
from sklearn.preprocessing import StandardScaler

from skadmm import ADMMResidualRegressor

from _common import RESULTS, SEED, folds, wine, write_results

BASE = dict(width=64, n_blocks=4, alpha=3e-3, tol=0.0, random_state=SEED)
MODES = {
    "pdadmm beta=1 rho=5": dict(solver="pdadmm", beta=1.0, rho=5.0),
    "pdadmm beta=10 rho=50": dict(solver="pdadmm", beta=10.0, rho=50.0),
    "pdadmm beta=1 rho=5, grown 1 -> 4 blocks": dict(
        solver="pdadmm", beta=1.0, rho=5.0, grow=True
    ),
    "radmm (beta=1000, rho=2)": dict(solver="radmm"),
    "reset (default)": dict(solver="reset"),
}


def fit(params, X, y, max_iter):
    params = dict(params)
    grow = params.pop("grow", False)
    if grow:
        est = ADMMResidualRegressor(
            **{**BASE, "n_blocks": 1}, **params, max_iter=max_iter // 2, warm_start=True
        )
        est.fit(X, y)
        est.set_params(n_blocks=BASE["n_blocks"])
        return est.fit(X, y)
    return ADMMResidualRegressor(**BASE, **params, max_iter=max_iter).fit(X, y)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    X, y = wine("red")
    splits = folds(X, n_splits=3)[: 1 if args.quick else 3]
    max_iter = 50 if args.quick else 200
    rows = []
    for name, params in MODES.items():
        errors, seconds = [], []
        for train, test in splits:
            scaler = StandardScaler().fit(X[train])
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                est = fit(params, scaler.transform(X[train]), y[train], max_iter)
            seconds.append(time.perf_counter() - start)
            pred = est.predict(scaler.transform(X[test]))
            errors.append(mean_squared_error(y[test], pred))
        rows.append(
            dict(
                mode=name,
                cv_mse=round(float(np.mean(errors)), 4),
                std=round(float(np.std(errors)), 4),
                fit_seconds=round(float(np.mean(seconds)), 2),
            )
        )
        print(rows[-1], flush=True)
    if not args.quick:
        write_results(args.out, "pdadmm_accuracy", rows)


if __name__ == "__main__":
    main()

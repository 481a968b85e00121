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
import warnings
from pathlib import Path

import numpy as np

from skadmm import ADMMResidualRegressor

from _common import RESULTS, SEED, cross_validate, folds, wine, write_results

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


def model(params, max_iter):
    """The unfitted estimator of a row (``grow``: its first, 1-block fit)."""
    params = dict(params)
    if params.pop("grow", False):
        return ADMMResidualRegressor(
            **{**BASE, "n_blocks": 1}, **params, max_iter=max_iter // 2, warm_start=True
        )
    return ADMMResidualRegressor(**BASE, **params, max_iter=max_iter)


def grow(pipe, X, y):
    """Fit, then warm-start to ``BASE["n_blocks"]`` blocks (greedy growth)."""
    pipe.fit(X, y)
    pipe[-1].set_params(n_blocks=BASE["n_blocks"])
    pipe.fit(X, y)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    X, y = wine("red")
    splits = folds(X, n_splits=3)[: 1 if args.quick else 3]
    max_iter = 50 if args.quick else 200
    rows = []
    warnings.simplefilter("ignore")
    for name, params in MODES.items():
        fit = grow if params.get("grow") else None
        scores = cross_validate(model(params, max_iter), X, y, splits, fit=fit)
        errors, seconds = scores["mse"], scores["fit_time"]
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

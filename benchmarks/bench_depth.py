"""Depth: stability and cost per iteration of deep residual networks.

For 10, 50, 100 and 200 residual blocks and both splittings, in one process run,
a fit of a fixed number of iterations (``tol=0``, so that none stops early) on
Wine Quality white (standardised), width 64, ``random_state=0``, records:

* whether every weight, every value of L_rho and every prediction on the training
  data is finite (``np.isfinite``);
* whether L_rho is monotone: ``objective_curve_`` non-increasing up to a relative
  rounding tolerance of 1e-10 (the largest relative increase
  ``(L[i+1] - L[i]) / |L[i]|`` is reported; negative means it decreased at every
  iteration);
* seconds per iteration: the median of ``np.diff(time_curve_)`` (the first
  iteration excluded; it includes the solver's forward evaluation).

The seconds per iteration are fitted against the number of blocks by least
squares, per splitting: an iteration is a sweep over the layers, so the cost
should be linear in the depth (slope: milliseconds per block per iteration).
BLAS runs on ``--threads`` threads (default 1: on a shared machine a second BLAS
thread measures the neighbours more than the code).

Usage::

    python benchmarks/bench_depth.py            # about 2.5 minutes on 2 cores
    python benchmarks/bench_depth.py --quick    # small sizes, a smoke run
"""

import argparse
import warnings
from pathlib import Path

import numpy as np
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from _common import RESULTS, SEED, pyplot, radmm, wine, write_results

#: Relative increase of L_rho between iterations still counted as rounding.
RTOL = 1e-10
SPLITTINGS = ("three", "two")


def run(X, y, splitting, width, n_blocks, max_iter):
    est = radmm(
        width=width,
        n_blocks=n_blocks,
        splitting=splitting,
        max_iter=max_iter,
        tol=0.0,
        random_state=SEED,
    )
    with warnings.catch_warnings():
        # ConvergenceWarning: max_iter is reached on purpose.
        warnings.simplefilter("ignore")
        est.fit(X, y)
    objective = np.asarray(est.objective_curve_)
    finite = (
        all(np.isfinite(W).all() for W in est.coefs_ + est.intercepts_)
        and np.isfinite(objective).all()
        and np.isfinite(est.predict(X)).all()
    )
    increase = np.diff(objective) / np.abs(objective[:-1])
    largest = float(increase.max()) if increase.size else float("nan")
    return dict(
        splitting=splitting,
        n_blocks=n_blocks,
        width=width,
        n_iter=est.n_iter_,
        all_finite=bool(finite),
        monotone=bool(largest <= RTOL),
        max_rel_increase=f"{largest:.2e}",
        seconds_per_iter=round(float(np.median(np.diff(est.time_curve_))), 5),
        train_mse=round(est.loss_curve_[-1], 4),
    )


def linear_fit(x, y):
    """Least squares ``y = slope x + intercept``; returns slope, intercept, R^2."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    slope, intercept = np.polyfit(x, y, 1)
    residual = y - (slope * x + intercept)
    total = ((y - y.mean()) ** 2).sum()
    r2 = 1.0 - (residual**2).sum() / total if total > 0 else float("nan")
    return float(slope), float(intercept), float(r2)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads")
    args = parser.parse_args(argv)
    X, y = wine("white")
    X = StandardScaler().fit_transform(X)
    if args.quick:
        X, y = X[:1000], y[:1000]
        depths, width, max_iter = (2, 5, 10, 20), 16, 4
    else:
        depths, width, max_iter = (10, 50, 100, 200), 64, 10
    rows = []
    with threadpool_limits(args.threads, user_api="blas"):
        for n_blocks in depths:
            for splitting in SPLITTINGS:
                row = run(X, y, splitting, width, n_blocks, max_iter)
                print("   ", row, flush=True)
                rows.append(row)
    fits = {}
    lines = []
    for splitting in SPLITTINGS:
        sel = [r for r in rows if r["splitting"] == splitting]
        slope, intercept, r2 = linear_fit(
            [r["n_blocks"] for r in sel], [r["seconds_per_iter"] for r in sel]
        )
        fits[splitting] = slope, intercept
        lines.append(
            f'- splitting="{splitting}": {1e3 * slope:.2f} ms per block per '
            f"iteration, intercept {1e3 * intercept:.1f} ms, R^2 = {r2:.4f}"
        )
        print(lines[-1], flush=True)
    bad = [r for r in rows if not (r["all_finite"] and r["monotone"])]
    preamble = (
        f"Wine Quality white (N={X.shape[0]}, StandardScaler), width {width}, "
        f"{max_iter} iterations (tol=0), random_state={SEED}, defaults otherwise, "
        f"{args.threads} BLAS thread(s). `monotone`: objective_curve_ "
        f"non-increasing up to a relative {RTOL:g}; `max_rel_increase`: largest "
        "(L[i+1] - L[i]) / |L[i]| (negative: decreased at every iteration); "
        "`all_finite`: weights, L_rho and training predictions finite; "
        "`seconds_per_iter`: median of np.diff(time_curve_) (first iteration "
        "excluded).\n\nSeconds per iteration against n_blocks, least squares:\n\n"
        + "\n".join(lines)
        + "\n\n"
        + (
            "Every run stayed finite and monotone."
            if not bad
            else f"{len(bad)} run(s) not finite or not monotone: see the table."
        )
    )
    write_results(args.out, "depth", rows, preamble)
    plot(rows, fits, args.out / "depth.png", width, X.shape[0])


def plot(rows, fits, path, width, n_samples):
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    for splitting, marker in zip(SPLITTINGS, ("o", "s"), strict=True):
        sel = [r for r in rows if r["splitting"] == splitting]
        x = np.array([r["n_blocks"] for r in sel])
        line = ax.plot(
            x,
            [r["seconds_per_iter"] for r in sel],
            marker,
            label=f'splitting="{splitting}"',
        )[0]
        slope, intercept = fits[splitting]
        grid = np.linspace(0, x.max(), 50)
        ax.plot(
            grid,
            slope * grid + intercept,
            "-",
            color=line.get_color(),
            label=f"fit: {1e3 * slope:.1f} ms/block",
        )
    ax.set_xlabel("n_blocks (residual blocks)")
    ax.set_ylabel("seconds per iteration")
    ax.set_title(f"Depth (Wine white N={n_samples}, width {width})")
    ax.set_xlim(left=0)
    ax.set_ylim(bottom=0)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    print(f"Wrote {path}", flush=True)


if __name__ == "__main__":
    main()

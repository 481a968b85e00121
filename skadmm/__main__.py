"""Main job: cross-validate ADMMResidualRegressor against Ridge and MLPRegressor.

Run ``python -m skadmm`` (``--help`` for options). Every model is a
``Pipeline(StandardScaler(), model)`` scored by shuffled K-fold CV on UCI Wine
Quality; the job prints a line per fit and ends with a table of CV MSE (mean and
standard deviation over folds) and mean fit time.
"""

import argparse
import sys
import time
import warnings

import numpy as np
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Ridge
from sklearn.model_selection import KFold
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from . import ADMMResidualRegressor, __version__
from .datasets import load_wine_quality


def default_models(random_state=0):
    """The compared models, each behind a StandardScaler."""
    return {
        "ADMMResidualRegressor": ADMMResidualRegressor(random_state=random_state),
        "Ridge": Ridge(),
        "MLPRegressor": MLPRegressor(max_iter=2000, random_state=random_state),
    }


def cross_validate_models(X, y, models, n_splits, out):
    """Shuffled K-fold CV; returns ``{name: (mse per fold, fit seconds per fold)}``."""
    folds = list(KFold(n_splits, shuffle=True, random_state=0).split(X))
    results = {}
    for name, model in models.items():
        mses, seconds = [], []
        for i, (train, test) in enumerate(folds, start=1):
            pipe = make_pipeline(StandardScaler(), clone(model))
            tick = time.perf_counter()
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", ConvergenceWarning)
                pipe.fit(X[train], y[train])
            seconds.append(time.perf_counter() - tick)
            mses.append(float(np.mean((pipe.predict(X[test]) - y[test]) ** 2)))
            note = " (did not converge)" if caught else ""
            print(
                f"  {name:<22} fold {i}/{n_splits}: MSE {mses[-1]:.4f}, "
                f"fit {seconds[-1]:.2f}s{note}",
                file=out,
                flush=True,
            )
        results[name] = (np.array(mses), np.array(seconds))
    return results


def format_table(rows):
    """Markdown table of ``(variant, model, mses, seconds)`` rows."""
    lines = [
        "| data | model | CV MSE (mean) | CV MSE (std) | fit time (s) |",
        "|---|---|---|---|---|",
    ]
    for variant, name, mses, seconds in rows:
        lines.append(
            f"| {variant} | {name} | {mses.mean():.4f} | {mses.std():.4f} | "
            f"{seconds.mean():.2f} |"
        )
    return "\n".join(lines)


def main(argv=None, out=sys.stdout):
    """Run the job; returns the table rows."""
    parser = argparse.ArgumentParser(
        prog="python -m skadmm", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--variant", choices=["red", "white", "all", "both"], default="both"
    )
    parser.add_argument("--folds", type=int, default=5)
    args = parser.parse_args(argv)
    variants = ["red", "white"] if args.variant == "both" else [args.variant]
    print(
        f"skadmm {__version__}: {args.folds}-fold CV on Wine Quality "
        f"({', '.join(variants)})",
        file=out,
        flush=True,
    )
    rows = []
    start = time.perf_counter()
    for variant in variants:
        X, y = load_wine_quality(variant, return_X_y=True)
        print(f"{variant}: {X.shape[0]} samples, {X.shape[1]} features", file=out)
        results = cross_validate_models(X, y, default_models(), args.folds, out)
        rows += [(variant, name, *res) for name, res in results.items()]
    print(
        f"\nCV MSE on Wine Quality (total {time.perf_counter() - start:.0f}s)\n",
        file=out,
    )
    print(format_table(rows), file=out, flush=True)
    return rows


if __name__ == "__main__":
    main()

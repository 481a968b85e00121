"""The regression suite: eight tables usable offline, with their licences.

Every loader returns float64 ``(X, y)`` with ``y`` 1-D, unscaled (the models see
``X`` through a ``StandardScaler``; skadmm standardises ``y`` itself, the
baselines are scored on the same raw units, so ratios of MSEs are meaningful).

* ``diabetes`` (442 x 10, mildly nonlinear): scikit-learn's bundled copy
  (Efron et al. 2004), BSD-3-Clause with scikit-learn;
* ``friedman1`` (2000 x 10): ``make_friedman1(noise=1)``, generated;
* ``friedman2``, ``friedman3`` (2000 x 4): ``make_friedman2/3(noise=0)``,
  generated;
* ``wine_red`` (1599 x 11), ``wine_white`` (4898 x 11): UCI Wine Quality
  (Cortez et al. 2009), CC BY 4.0, shipped with skadmm;
* ``pricing`` (10000 x 22, mildly nonlinear): generated here, 6 numeric
  columns and 4 one-hot categorical ones (16 columns), a linear price with
  one interaction: a table where a linear model is already strong;
* ``sine`` (400 x 1): generated here, ``sin(3 x)`` plus noise: a small
  smooth one-dimensional curve.

"Nonlinear" marks where a linear model leaves much to learn; the suite's
"learns" criterion (beating the model's own random features by 5 %) is
judged on the nonlinear ones.
"""

import argparse
from pathlib import Path

import numpy as np
from sklearn.datasets import (
    load_diabetes,
    make_friedman1,
    make_friedman2,
    make_friedman3,
)

from _common import RESULTS, SEED, comma_list, wine


def _friedman(make, noise):
    def load():
        return make(n_samples=2000, noise=noise, random_state=SEED)

    return load


def pricing(n_samples=10_000, seed=SEED):
    """A linear price on numeric and categorical columns, with one interaction
    (``seed``: the draw)."""
    rng = np.random.default_rng(seed)
    numeric = rng.standard_normal((n_samples, 6))
    levels = (2, 3, 5, 6)
    codes = [rng.integers(0, k, n_samples) for k in levels]
    onehot = [np.eye(k)[c] for k, c in zip(levels, codes, strict=True)]
    effects = [rng.normal(0, 1, k) for k in levels]
    y = (
        numeric @ np.array([1.0, -2.0, 0.5, 0.0, 1.5, -0.5])
        + sum(e[c] for e, c in zip(effects, codes, strict=True))
        + 0.5 * numeric[:, 0] * numeric[:, 1]
        + rng.standard_normal(n_samples)
    )
    return np.hstack([numeric, *onehot]), y


def sine(n_samples=400):
    """One input, ``y = sin(3 x) + 0.2 noise`` on ``x`` uniform in [-2, 2]."""
    rng = np.random.default_rng(SEED)
    x = rng.uniform(-2.0, 2.0, (n_samples, 1))
    return x, np.sin(3.0 * x[:, 0]) + 0.2 * rng.standard_normal(n_samples)


#: name -> (loader, nonlinear)
DATASETS = {
    "diabetes": (lambda: load_diabetes(return_X_y=True), False),
    "friedman1": (_friedman(make_friedman1, 1.0), True),
    "friedman2": (_friedman(make_friedman2, 0.0), True),
    "friedman3": (_friedman(make_friedman3, 0.0), True),
    "wine_red": (lambda: wine("red"), True),
    "wine_white": (lambda: wine("white"), True),
    "pricing": (pricing, False),
    "sine": (sine, True),
}


def load(name):
    """``(X, y)`` of the suite's dataset ``name`` as float64."""
    X, y = DATASETS[name][0]()
    return np.asarray(X, dtype=float), np.asarray(y, dtype=float)


def suite_parser(doc, jobs=None):
    """The command line of the suite's scripts: ``--quick``, ``--out``, ``--datasets``.

    ``doc``: the script's docstring, whose first line describes it. ``jobs``:
    what a script runs as parallel processes (``"folds"``, ...), which adds
    ``--jobs``; ``None``: the script runs serially.
    """
    parser = argparse.ArgumentParser(description=doc.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument(
        "--datasets", type=comma_list(list(DATASETS)), default=list(DATASETS)
    )
    if jobs is not None:
        parser.add_argument(
            "--jobs", type=int, default=1, help=f"processes for the {jobs}"
        )
    return parser

"""Predictions of every mode and both estimators on a fixed set of fits.

A refactoring that must change no iterate is checked by saving the predictions
before it and comparing after (bit for bit)::

    python benchmarks/check_iterates.py --save before.npz
    # ... refactor ...
    python benchmarks/check_iterates.py --compare before.npz

Every fit runs on one BLAS thread, so the results depend on the code only.
"""

import argparse
import sys
import warnings

import numpy as np
from sklearn.datasets import make_classification, make_regression
from threadpoolctl import threadpool_limits

from skadmm import ADMMResidualClassifier, ADMMResidualRegressor

# (name, estimator class, parameters): every mode, both splittings, the
# activations, sample weights, several regions and the quantized exchange.
CONFIGS = [
    ("reset", "reg", {}),
    ("reset-two-tanh", "reg", dict(splitting="two", activation="tanh", n_blocks=2)),
    (
        "reset-sigmoid-regions",
        "reg",
        dict(activation="sigmoid", n_blocks=3, n_jobs=2, n_regions=2),
    ),
    ("reset-auto-alpha", "reg", dict(alpha="auto", max_iter=8)),
    ("reset-weights", "reg", dict(n_blocks=1), True),
    ("radmm", "reg", dict(solver="radmm", n_blocks=2)),
    (
        "radmm-two-linearized",
        "reg",
        dict(
            solver="radmm",
            splitting="two",
            update="linearized",
            activation="leaky_relu",
            beta=10.0,
        ),
    ),
    ("radmm-regions", "reg", dict(solver="radmm", n_blocks=3, n_jobs=2, n_regions=2)),
    (
        "dladmm",
        "reg",
        dict(solver="dladmm", activation="tanh", n_blocks=1, beta=10.0, rho=3.0),
    ),
    (
        "mdlam",
        "reg",
        dict(solver="mdlam", activation="sigmoid", n_blocks=1, beta=10.0, epsilon=0.05),
    ),
    ("pdadmm", "reg", dict(solver="pdadmm", beta=1.0, rho=4.5, n_blocks=1)),
    (
        "pdadmm-q",
        "reg",
        dict(solver="pdadmm", beta=1.0, rho=4.5, n_blocks=1, quantize="p"),
    ),
    ("clf-reset", "clf", {}),
    ("clf-reset-weights", "clf", dict(n_blocks=1), True),
    ("clf-radmm", "clf", dict(solver="radmm", class_weight="balanced")),
    ("clf-pdadmm", "clf", dict(solver="pdadmm", beta=1.0, rho=4.5)),
]


def predictions():
    Xr, yr = make_regression(300, 8, noise=5.0, random_state=0)
    Xr /= Xr.std(axis=0)
    yr /= yr.std()
    Xc, yc = make_classification(300, 8, n_informative=5, n_classes=3, random_state=0)
    weights = np.random.default_rng(0).uniform(0.2, 2.0, size=300)
    out = {}
    for name, kind, params, *weighted in CONFIGS:
        base = dict(width=16, max_iter=15, alpha=3e-3, random_state=0)
        base.update(params)
        est_class = ADMMResidualRegressor if kind == "reg" else ADMMResidualClassifier
        X, y = (Xr, yr) if kind == "reg" else (Xc, yc)
        est = est_class(**base)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est.fit(X, y, sample_weight=weights if weighted else None)
        pred = est.predict(X) if kind == "reg" else est.predict_proba(X)
        out[name] = np.asarray(pred)
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--save", metavar="FILE")
    group.add_argument("--compare", metavar="FILE")
    args = parser.parse_args(argv)
    with threadpool_limits(1):
        out = predictions()
    if args.save:
        np.savez(args.save, **out)
        print(f"saved {len(out)} configurations to {args.save}")
        return 0
    before = np.load(args.compare)
    changed = [n for n in out if not np.array_equal(before[n], out[n])]
    for name in out:
        diff = float(np.max(np.abs(before[name] - out[name])))
        print(f"{name:24s} {'same' if name not in changed else f'max diff {diff:.3g}'}")
    print("all bit-identical" if not changed else f"{len(changed)} changed")
    return 1 if changed else 0


if __name__ == "__main__":
    sys.exit(main())

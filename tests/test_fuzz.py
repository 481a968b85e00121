"""Property-based fuzz of ``fit``/``predict``: a clear error or finite predictions.

Random shapes, dtypes, scales and parameter sets (valid or not). The property:
``fit`` either raises ``ValueError``/``TypeError`` (bad input, bad parameters,
or a numerical failure reported as :class:`skadmm.exceptions.NumericalError`) or
returns an estimator whose predictions on its training data are finite and of
the right shape. Any other exception (``LinAlgError`` included, although it
subclasses ``ValueError``) or a NaN fails. ``benchmarks/fuzz_census.py`` runs
the same cases many more times and counts the outcomes.
"""

import warnings

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skadmm import ADMMResidualClassifier, ADMMResidualRegressor

# The first element of each list is the typical case: hypothesis draws it most.
SCALES = [1.0, 1e-300, 1e-150, 1e-20, 1e-6, 1e6, 1e20, 1e150, 1e200, 1e300]
DTYPES = ["float64"] * 3 + ["float32"] * 2 + ["float16", "int64", "bool", "object"]

PARAMS = {
    "width": [1, 2, 5, 8],
    "n_blocks": [0, 1, 2],
    "activation": ["relu", "leaky_relu", "tanh", "sigmoid"],
    "solver": ["reset", "radmm", "dladmm", "pdadmm", "mdlam"],
    "splitting": ["three", "two"],
    "update": ["proximal", "linearized"],
    "alpha": ["auto", 0.0, 1e-3, 10.0],
    "max_iter": [1, 2, 3],
    "beta": [1000.0, 1e-3],
    "eta": [0.1, 10.0],
    "mu": [1.0, 0.0],
    "early_stopping": [False, False, True],
    "refit_readout": [True, False],
    "n_regions": [None, None, 2],
    "embedding": ["none", "none", "piecewise", "hat", "onehot", "periodic"],
    "n_bins": ["auto", 2, 5],
}
# Invalid values: they must give ValueError/TypeError.
INVALID = {
    "width": [0, -1, 2.5],
    "n_blocks": [-1],
    "activation": ["cubic"],
    "solver": ["sgd"],
    "alpha": [-1.0, "none"],
    "max_iter": [0],
    "rho": [0.5],
    "tau": [0.0],
    "embedding": ["quantile"],
    "n_bins": [1, 2.5],
}

# At most one deliberate fault per case, so that most cases reach the solver.
FAULTS = [None] * 12 + [
    "no rows",
    "one row",
    "no features",
    "1-d X",
    "complex X",
    "nan in X",
    "inf in X",
    "nan in y",
    "inf in y",
    "bad parameter",
    "reset with two-splitting",
]


def _array(rng, shape, dtype, scale):
    with np.errstate(over="ignore", invalid="ignore"):
        if dtype == "bool":
            return rng.random(shape) > 0.5
        if dtype == "int64":
            return rng.integers(-9, 10, shape)
        return (rng.standard_normal(shape) * scale).astype(dtype)


@st.composite
def cases(draw):
    """``(X, y, sample_weight, params)`` of one fit."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    fault = draw(st.sampled_from(FAULTS))
    n = {"no rows": 0, "one row": 1}.get(fault) or draw(
        st.sampled_from([30, 2, 3, 5, 12, 60])
    )
    p = 0 if fault == "no features" else draw(st.sampled_from([4, 1, 2]))
    dtype = "complex" if fault == "complex X" else draw(st.sampled_from(DTYPES))
    X = _array(rng, (n, p), dtype, draw(st.sampled_from(SCALES)))
    layout = draw(st.sampled_from(["plain", "constant column", "equal columns"]))
    if layout == "constant column" and n and p:
        X[:, 0] = X[0, 0]
    elif layout == "equal columns" and p > 1:
        X[:, 1] = X[:, 0]
    if fault in ("nan in X", "inf in X") and X.size:
        X = X.astype(float)
        X.flat[rng.integers(X.size)] = np.nan if fault == "nan in X" else np.inf
    if fault == "1-d X":
        X = X.ravel()
    n_outputs = draw(st.sampled_from([None, 1, 2]))
    y = _array(rng, (n,) if n_outputs is None else (n, n_outputs), "float64", 1.0)
    y *= draw(st.sampled_from(SCALES))
    if fault in ("nan in y", "inf in y") and y.size:
        y.flat[rng.integers(y.size)] = np.nan if fault == "nan in y" else np.inf
    sample_weight = None
    if draw(st.booleans()) and n:
        sample_weight = rng.uniform(0.0, 2.0, n) * (rng.random(n) > 0.2)
    params = {key: draw(st.sampled_from(values)) for key, values in PARAMS.items()}
    # Combinations that are refused by design are faults of their own.
    if params["solver"] == "reset":
        params["splitting"] = "three"
    if params["n_blocks"] < 2:
        params["n_regions"] = None
    if n < 30:
        params["early_stopping"] = False
    if fault == "reset with two-splitting":
        params.update(solver="reset", splitting="two")
    if fault == "bad parameter":
        key = draw(st.sampled_from(sorted(INVALID)))
        params[key] = draw(st.sampled_from(INVALID[key]))
    return X, y, sample_weight, params


def fit_and_call(est, X, y, sample_weight, methods):
    """Fit ``est`` and call ``methods`` on ``X``: their results, or a failure name.

    ``"rejected"`` for a ``ValueError``/``TypeError``, ``"LinAlgError"`` (which
    subclasses ``ValueError`` but is a failure), or the type of any other
    exception.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            est.fit(X, y, sample_weight=sample_weight)
            return [getattr(est, method)(X) for method in methods]
        except np.linalg.LinAlgError:
            return "LinAlgError"
        except (ValueError, TypeError):
            return "rejected"
        except Exception as exc:  # noqa: BLE001 - any other type is the failure
            return type(exc).__name__


def outcome(X, y, sample_weight, params):
    """``"fitted"``, ``"rejected"``, or the name of a failure.

    Failures: ``"LinAlgError"``, ``"NaN"`` (non-finite predictions), ``"shape"``,
    or the type of any other exception.
    """
    est = ADMMResidualRegressor(random_state=0, **params)
    result = fit_and_call(est, X, y, sample_weight, ["predict"])
    if isinstance(result, str):
        return result
    (pred,) = result
    n = len(X)
    expected = (n,) if np.ndim(y) == 1 else (n, np.shape(y)[1])
    if pred.shape != expected:
        return "shape"
    if not np.isfinite(pred).all():
        return "NaN"
    return "fitted"


@settings(
    max_examples=300,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(cases())
def test_fit_raises_a_clear_error_or_predicts_finite_values(case):
    assert outcome(*case) in ("fitted", "rejected")


LABEL_FAULTS = [None] * 6 + ["one class", "continuous y", "nan label", "2-d y"]


@st.composite
def classification_cases(draw):
    """A regression case whose target is replaced by class labels."""
    X, y, sample_weight, params = draw(cases())
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    n = len(y)
    fault = draw(st.sampled_from(LABEL_FAULTS))
    n_classes = 1 if fault == "one class" else draw(st.sampled_from([2, 3, 5]))
    labels = rng.integers(0, n_classes, n)
    kind = draw(st.sampled_from(["int", "str", "float"]))
    y = {"int": labels, "str": np.array(["a", "b", "c", "d", "e"])[labels]}.get(
        kind, labels.astype(float)
    )
    if fault == "continuous y":
        y = rng.standard_normal(n)
    elif fault == "nan label" and n:
        y = labels.astype(float)
        y[rng.integers(n)] = np.nan
    elif fault == "2-d y":
        y = np.column_stack([labels, labels])
    params["class_weight"] = draw(st.sampled_from([None, "balanced", {0: 2.0}]))
    return X, y, sample_weight, params


def classifier_outcome(X, y, sample_weight, params):
    """``"fitted"``, ``"rejected"``, or the name of a failure (as ``outcome``)."""
    est = ADMMResidualClassifier(random_state=0, **params)
    result = fit_and_call(est, X, y, sample_weight, ["predict_proba", "predict"])
    if isinstance(result, str):
        return result
    proba, labels = result
    if proba.shape != (len(X), len(est.classes_)) or labels.shape != (len(X),):
        return "shape"
    if not np.isfinite(proba).all() or np.abs(proba.sum(axis=1) - 1).max() > 1e-6:
        return "NaN"
    if not np.isin(labels, est.classes_).all():
        return "labels"
    return "fitted"


@settings(
    max_examples=150,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(classification_cases())
def test_classifier_fit_raises_a_clear_error_or_gives_probabilities(case):
    assert classifier_outcome(*case) in ("fitted", "rejected")

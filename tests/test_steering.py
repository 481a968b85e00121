"""Users see and steer long fits: exact warm-start continuation, progress
lines, explicit validation data."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from skadmm import ADMMResidualClassifier, ADMMResidualRegressor

MODES = ["reset", "radmm", "dladmm", "pdadmm", "mdlam"]


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((120, 5))
    y = np.sin(X[:, 0]) + X[:, 1] * X[:, 2] + 0.1 * rng.standard_normal(120)
    return X, y


def params(**extra):
    base = dict(
        width=16,
        n_blocks=1,
        alpha=3e-3,
        tol=0.0,
        early_stopping=False,
        random_state=0,
    )
    base.update(extra)
    return base


def quiet_fit(est, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(*args, **kwargs)


@pytest.mark.parametrize("solver", MODES)
def test_ten_warm_fits_of_twenty_equal_one_fit_of_two_hundred(data, solver):
    """The kept solver state includes the mode's step state (reset: eta, the
    line-search factor and the momentum), so stepping a fit resumes the same
    trajectory."""
    X, y = data
    full = quiet_fit(ADMMResidualRegressor(max_iter=200, **params(solver=solver)), X, y)
    warm = ADMMResidualRegressor(max_iter=20, warm_start=True, **params(solver=solver))
    for _ in range(10):
        quiet_fit(warm, X, y)
    assert warm.n_iter_ == full.n_iter_ == 200
    fitted = zip(
        warm.coefs_ + warm.intercepts_, full.coefs_ + full.intercepts_, strict=True
    )
    for a, b in fitted:
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    for name in ("loss_curve_", "objective_curve_", "residual_curve_"):
        np.testing.assert_allclose(
            getattr(warm, name), getattr(full, name), rtol=1e-10, atol=1e-12
        )
    assert len(warm.time_curve_) == 200 and np.all(np.diff(warm.time_curve_) >= 0)


def test_reset_classifier_resumes_exactly(data):
    """Cross-entropy's read-out refit is a few warm-started steps: a resumed
    run must not refit it at its start."""
    X, y = data
    labels = (y > np.median(y)).astype(int)
    kw = params(solver="reset")
    full = quiet_fit(ADMMResidualClassifier(max_iter=30, **kw), X, labels)
    warm = ADMMResidualClassifier(max_iter=10, warm_start=True, **kw)
    for _ in range(3):
        quiet_fit(warm, X, labels)
    np.testing.assert_allclose(warm.objective_curve_, full.objective_curve_, rtol=1e-10)
    np.testing.assert_allclose(
        warm.predict_proba(X), full.predict_proba(X), rtol=1e-10, atol=1e-12
    )


def test_stepping_with_warm_start_warns_only_without_it(data):
    """max_iter reached by a warm-started fit is a step of a longer fit, not a
    failure to converge: no ConvergenceWarning per call."""
    X, y = data
    warm = ADMMResidualRegressor(max_iter=3, warm_start=True, **params())
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        for _ in range(3):
            warm.fit(X, y)
    assert warm.stop_reason_.startswith("max_iter")
    with pytest.warns(ConvergenceWarning, match="max_iter=3"):
        ADMMResidualRegressor(max_iter=3, **params()).fit(X, y)

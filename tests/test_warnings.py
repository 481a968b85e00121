"""Every warning of fit points at the user's call of fit (its ``stacklevel``)."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from skadmm import ADMMResidualClassifier, ADMMResidualRegressor
from skadmm._solvers import SOLVERS
from skadmm.exceptions import (
    DivergenceWarning,
    FitInterruptedWarning,
    PenaltyConditionWarning,
)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((80, 4))
    return X, X[:, 0] - X[:, 1] ** 2


def interrupted(self, problem, run):
    raise KeyboardInterrupt


CASES = {
    "max_iter": (dict(max_iter=2, tol=0.0), ConvergenceWarning),
    "ignored parameter": (dict(solver="reset", beta=3.0), UserWarning),
    "divergence": (dict(solver="radmm", beta=1e308), DivergenceWarning),
    "penalty condition": (
        dict(solver="pdadmm", beta=1.0, rho=1.5),
        PenaltyConditionWarning,
    ),
    "interrupt": (dict(), FitInterruptedWarning),
}


@pytest.mark.parametrize("Estimator", [ADMMResidualRegressor, ADMMResidualClassifier])
@pytest.mark.parametrize("case", sorted(CASES))
def test_warnings_point_at_the_call_of_fit(data, Estimator, case, monkeypatch):
    X, y = data
    params, category = CASES[case]
    if case == "interrupt":
        monkeypatch.setattr(SOLVERS["reset"], "step", interrupted)
    if Estimator is ADMMResidualClassifier:
        y = y > np.median(y)
    est = Estimator(width=8, n_blocks=1, max_iter=5, alpha=1e-2, random_state=0)
    est.set_params(**params)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est.fit(X, y)  # the line every warning must name
    ours = [w for w in caught if issubclass(w.category, category)]
    assert ours, [str(w.message) for w in caught]
    for w in caught:
        assert w.filename == __file__, (w.category, w.filename, w.lineno)

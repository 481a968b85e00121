"""Every warning of fit points at the user's call of fit (its ``stacklevel``)."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning

from skadmm import ADMMResidualClassifier, ADMMResidualRegressor
from skadmm._solvers import SOLVERS
from skadmm.exceptions import (
    DivergenceWarning,
    FitInterruptedWarning,
    InputScaleWarning,
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
    "input scale": (dict(), InputScaleWarning),
}


@pytest.mark.parametrize("Estimator", [ADMMResidualRegressor, ADMMResidualClassifier])
@pytest.mark.parametrize("case", sorted(CASES))
def test_warnings_point_at_the_call_of_fit(data, Estimator, case, monkeypatch):
    X, y = data
    params, category = CASES[case]
    if case == "interrupt":
        monkeypatch.setattr(SOLVERS["reset"], "step", interrupted)
    if case == "input scale":
        X = X + 20.0
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


def scale_warnings(X, y, **params):
    est = ADMMResidualRegressor(width=8, max_iter=2, alpha=1e-2, random_state=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est.set_params(**params).fit(X, y)
    return [str(w.message) for w in caught if w.category is InputScaleWarning]


@pytest.mark.parametrize("sparse", [False, True])
def test_input_scale_warning_names_the_worst_column(data, sparse):
    X, y = data
    rng = np.random.default_rng(1)
    binary = np.zeros((X.shape[0], 1))
    binary[3] = 1.0  # a rare 0/1 column: standardised enough
    tame = np.c_[X, np.full((X.shape[0], 1), 0.25), binary]
    large = tame.copy()
    large[:, 1] *= 40.0
    large[:, 2] *= 15.0
    small = tame.copy()
    small[:, 2] = 1e-3 * rng.standard_normal(X.shape[0])
    convert = sp.csr_matrix if sparse else np.asarray
    assert scale_warnings(convert(tame), y) == []
    (message,) = scale_warnings(convert(large), y)
    rms = np.sqrt(np.mean(large[:, 1] ** 2))
    assert f"2 column(s) with a root mean square above 10 (column 1: {rms:.3g})" in (
        message
    )
    assert "StandardScaler" in message
    (message,) = scale_warnings(convert(small), y)
    spread = np.ptp(small[:, 2])
    assert f"1 varying column(s) spanning less than 0.05 (column 2: {spread:.3g})" in (
        message
    )
    # An embedding standardises every column itself.
    assert scale_warnings(convert(large), y, embedding="piecewise") == []


def test_input_scale_warning_reads_only_the_rows_trained_on(data):
    X, y = data
    X = X.copy()
    X[:5] *= 1e3  # far off, but of weight 0: dropped before training
    sw = np.ones(len(y))
    sw[:5] = 0.0
    assert scale_warnings(X, y) != []
    est = ADMMResidualRegressor(width=8, max_iter=2, alpha=1e-2, random_state=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est.fit(X, y, sample_weight=sw)
    assert not [w for w in caught if w.category is InputScaleWarning]

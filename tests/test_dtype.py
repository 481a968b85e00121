"""float32 input is trained in float32 by every relaxation: no silent upcasting."""

import tracemalloc

import numpy as np
import pytest
from sklearn.base import clone

from skadmm import ADMMResidualRegressor

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def data(dtype):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((800, 5))
    y = np.tanh(X @ rng.standard_normal(5))
    return X.astype(dtype), y.astype(dtype)


def traced_fit(dtype, **params):
    X, y = data(dtype)
    est = ADMMResidualRegressor(
        width=60, n_blocks=2, max_iter=2, random_state=0, warm_start=True, **params
    )
    # Untraced first fit: one-time costs (lazy imports, BLAS controllers) are
    # not part of the fit's arrays.
    clone(est).fit(X, y)
    tracemalloc.start()
    try:
        est.fit(X, y)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return est, peak, X


@pytest.mark.parametrize(
    "activation, update", [("relu", "linearized"), ("tanh", "proximal")]
)
def test_two_splitting_keeps_float32(activation, update):
    params = dict(solver="radmm", splitting="two", update=update, activation=activation)
    est, peak32, X = traced_fit(np.float32, **params)
    assert all(c.dtype == np.float32 for c in est.coefs_ + est.intercepts_)
    assert est.predict(X).dtype == np.float32
    problem = est._solver_state[0]
    for name, arrays in [("W", problem.W), ("U", problem.U), ("sH", problem.sH)]:
        assert {a.dtype for a in arrays} == {np.dtype(np.float32)}, name
    # Oracle for temporaries too: every array of the fit is half as large, so
    # is the traced peak (an upcast weight or product would show).
    _, peak64, _ = traced_fit(np.float64, **params)
    assert peak32 < 0.55 * peak64

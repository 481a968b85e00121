"""The read-out ridge fit on forward features, against scikit-learn's Ridge."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Ridge

from skadmm import ADMMResidualRegressor
from skadmm._activations import get_activation
from skadmm._losses import SquaredLoss
from skadmm._network import hidden_features, stack_weights
from skadmm._readout import fit_readout


def ridge_readout(U, Y, sample_weight, alpha):
    """The squared loss's read-out (the weighted ridge solution)."""
    return fit_readout(U, Y, sample_weight, alpha, SquaredLoss())


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((120, 5))
    Y = np.column_stack([np.tanh(X[:, 0]) + X[:, 1] ** 2, X[:, 2] * X[:, 3]])
    Y += 0.1 * rng.standard_normal(Y.shape)
    return X, Y


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("alpha", [1e-4, 0.3])
def test_ridge_readout_is_sklearn_ridge(data, weighted, alpha):
    X, Y = data
    sw = np.random.default_rng(2).uniform(0.2, 3.0, len(X)) if weighted else None
    W = ridge_readout(X, Y, sw, alpha)
    # Ours: (1/2)||.||_S^2 with S summing to one; Ridge: plain weighted sums.
    total = len(X) if sw is None else sw.sum()
    ref = Ridge(alpha=alpha * total).fit(X, Y, sample_weight=sw)
    np.testing.assert_allclose(W[:-1], ref.coef_.T, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(W[-1], ref.intercept_, rtol=1e-8, atol=1e-10)


def test_ridge_readout_without_penalty_handles_rank_deficiency(data):
    X, Y = data
    U = np.column_stack([X, X[:, 0]])  # two equal columns
    W = ridge_readout(U, Y, None, 0.0)
    assert np.isfinite(W).all()
    fitted = U @ W[:-1] + W[-1]
    lstsq = np.linalg.lstsq(np.column_stack([U, np.ones(len(U))]), Y, rcond=None)[0]
    best = np.column_stack([U, np.ones(len(U))]) @ lstsq
    np.testing.assert_allclose(fitted, best, atol=1e-6)


def _fit(**params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = ADMMResidualRegressor(
            width=12,
            n_blocks=2,
            max_iter=15,
            random_state=0,
            solver="radmm",
            alpha=3e-3,
        )
        return est.set_params(**params)


@pytest.mark.parametrize("splitting", ["three", "two"])
def test_fitted_readout_is_ridge_on_forward_features(data, splitting):
    X, Y = data
    sw = np.random.default_rng(3).uniform(0.5, 2.0, len(X))
    est = _fit(splitting=splitting, alpha=1e-2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, Y, sample_weight=sw)
    hidden = stack_weights(est.coefs_, est.intercepts_)[:-1]
    U = hidden_features(X, hidden, get_activation("relu"))
    ref = Ridge(alpha=1e-2 * sw.sum()).fit(U, Y, sample_weight=sw)
    np.testing.assert_allclose(est.coefs_[-1], ref.coef_.T, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(est.intercepts_[-1], ref.intercept_, rtol=1e-6)


def test_refit_lowers_training_error_and_can_be_disabled(data):
    X, Y = data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        # A tiny penalty: the ridge optimum is then the least-squares one.
        refit = _fit(alpha=1e-8).fit(X, Y)
        raw = _fit(alpha=1e-8, refit_readout=False).fit(X, Y)
    # Same ADMM run; only the returned read-out differs.
    for a, b in zip(refit.coefs_[:-1], raw.coefs_[:-1], strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(refit.coefs_[-1], raw.coefs_[-1])
    # Without refit the network is the last ADMM iterate, whose training MSE the
    # monitor recorded; the refit is the ridge optimum on the same features.
    mse_raw = np.mean((raw.predict(X) - Y) ** 2)
    np.testing.assert_allclose(mse_raw, raw.loss_curve_[-1], rtol=1e-10)
    assert np.mean((refit.predict(X) - Y) ** 2) <= mse_raw

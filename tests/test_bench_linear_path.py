"""The linear-path benchmark: its gradient, its start and a smoke run."""

import numpy as np
import pytest
from scipy.optimize import approx_fprime
from sklearn.linear_model import Ridge

from ._benchmarks import imported, needs

pytestmark = [
    needs("bench_linear_path.py"),
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"),
]


@pytest.fixture(scope="module")
def bench():
    with imported("bench_linear_path") as (module,):
        yield module


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 3))
    y = np.sin(2 * X[:, 0]) + X[:, 1] * X[:, 2] + 0.5 * X[:, 2]
    return X, y


@pytest.mark.parametrize("linear", [False, True])
def test_gradient_matches_finite_differences(bench, data, linear):
    X, y = data
    net = bench.LinearPathNetwork(3, 7, linear)
    p = np.random.default_rng(1).standard_normal(sum(net.sizes))
    F, grad = net.objective(p, X, y, 0.03)
    fd = approx_fprime(p, lambda q: net.objective(q, X, y, 0.03)[0], 1e-7)
    np.testing.assert_allclose(grad, fd, rtol=1e-4, atol=1e-6)
    W1, w2, V = net.unpack(p)
    penalty = np.sum(W1[:-1] ** 2) + np.sum(w2[:-1] ** 2) + np.sum(V**2)
    mse = np.mean((net.predict(p, X) - y) ** 2)
    assert F == pytest.approx(0.5 * mse + 0.5 * 0.03 * penalty)
    assert V.size == 3 * linear


@pytest.mark.parametrize("linear", [False, True])
def test_start_is_the_ridge_readout(bench, data, linear):
    """With the hidden weights fixed, the start's read-out (and linear path)
    is scikit-learn's Ridge at ``alpha * n`` on the features."""
    X, y = data
    alpha = 0.02
    net = bench.LinearPathNetwork(3, 7, linear)
    W1 = np.random.default_rng(2).standard_normal((4, 7))
    _, w2, V = net.unpack(net.ridge_start(W1, X, y, alpha))
    features = np.maximum(X @ W1[:-1] + W1[-1], 0.0)
    if linear:
        features = np.hstack([features, X])
    ridge = Ridge(alpha=alpha * len(y)).fit(features, y)
    np.testing.assert_allclose(np.concatenate([w2[:-1], V]), ridge.coef_, atol=1e-10)
    assert w2[-1] == pytest.approx(ridge.intercept_)


def test_quick_run_compares_each_network_with_its_linear_path(bench, tmp_path):
    bench.main(["--quick", "--datasets", "sine", "--out", str(tmp_path)])
    text = (tmp_path / "linear_path.md").read_text()
    for name in bench.MODELS:
        assert f"| sine | {name} |" in text
    assert "`lbfgs_linear` against `lbfgs`" in text


def test_seed_sets_the_networks_initialisation(bench, data):
    """``--seed``: another start (hidden weights of that ``random_state``), so
    other random features; the same seed gives the same rows."""
    X, y = data
    train, test = np.arange(40), np.arange(40, 60)

    def rows(seed):
        out = bench.fold_rows("toy", 0, train, test, X, y, 0.02, seed)
        return {r["model"]: r["test_mse"] for r in out}

    assert rows(1) == rows(1)
    assert rows(1)["random_features"] != rows(0)["random_features"]

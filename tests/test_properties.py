"""Properties of the ADMM iteration (ALGORITHM.md, section 6) on random data."""

import itertools

import numpy as np
import pytest
from sklearn.linear_model import Ridge

from skadmm._activations import ACTIVATIONS, get_activation
from skadmm._network import forward, init_weights
from skadmm._splitting import SPLITTINGS

CONFIGS = list(
    itertools.product(SPLITTINGS, ["proximal", "linearized"], sorted(ACTIVATIONS))
)


def make_problem(
    splitting,
    update,
    activation,
    *,
    weighted=False,
    width=12,
    n_blocks=3,
    beta=1.0,
    rho=2.0,
    tau=1e-3,
    alpha=1e-3,
    seed=0,
):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((120, 4))
    Y = np.column_stack([np.sin(X[:, 0]) * X[:, 1], X[:, 2] ** 2])
    Y += 0.1 * rng.standard_normal(Y.shape)
    sw = rng.uniform(0.2, 3.0, X.shape[0]) if weighted else None
    act = get_activation(activation)
    W = init_weights(X.shape[1], width, n_blocks, Y.shape[1], act, rng, X.dtype)
    cls = SPLITTINGS[splitting]
    params = dict(beta=beta, rho=rho, tau=tau, alpha=alpha, update=update)
    return cls(X, Y, sw, W, act, **params), X, Y, sw


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("splitting, update, activation", CONFIGS)
def test_lrho_non_increasing_and_multiplier_identity(
    splitting, update, activation, weighted
):
    problem, X, Y, sw = make_problem(splitting, update, activation, weighted=weighted)
    values = [problem.objective()[0]]
    for _ in range(60):
        problem.iterate()
        values.append(problem.objective()[0])
        # Lam = Y - O after every iteration.
        np.testing.assert_allclose(problem.Lam, Y - problem.O, atol=1e-12)
    values = np.asarray(values)
    increases = np.diff(values) / np.abs(values[:-1])
    assert increases.max() <= 1e-12, increases.max()
    # It actually descends: a frozen solver would also be "non-increasing".
    assert values[-1] < 0.5 * values[0]


@pytest.mark.parametrize("splitting", sorted(SPLITTINGS))
def test_lrho_is_bounded_below_by_its_loss_decomposition(splitting):
    """With Lam = Y - O the loss+constraint part is ||R-Y||^2/2 + (rho-1)||O-R||^2/2."""
    rho = 1.5
    problem, X, Y, sw = make_problem(splitting, "proximal", "relu", rho=rho)
    for _ in range(5):
        problem.iterate()
    rw = problem.rw
    O, R, Lam = problem.O, problem.R, problem.Lam
    direct = (
        0.5 * rw.sq_norm(O - Y) + rw.inner(Lam, O - R) + 0.5 * rho * rw.sq_norm(O - R)
    )
    bound = 0.5 * rw.sq_norm(R - Y) + 0.5 * (rho - 1) * rw.sq_norm(O - R)
    np.testing.assert_allclose(direct, bound, rtol=1e-10)
    assert bound >= 0


def test_objective_matches_an_independent_evaluation():
    """The cached penalty terms equal L_rho recomputed from scratch."""
    problem, X, Y, _ = make_problem("three", "proximal", "tanh", alpha=0.1)
    for _ in range(3):
        problem.iterate()
    act = problem.act
    N = X.shape[0]
    total = 0.5 * np.sum((problem.O - Y) ** 2) / N
    total += 0.05 * sum(np.sum(W[:-1] ** 2) for W in problem.W)
    inp = X
    for k in range(problem.H):
        U = problem.U[k][:, :-1]
        prev = 0 if k == 0 else inp
        lin = problem.Z[k] - (inp @ problem.W[k][:-1] + problem.W[k][-1])
        nonlin = U - prev - act(problem.Z[k])
        total += 0.5 * problem.beta * (np.sum(lin**2) + np.sum(nonlin**2)) / N
        inp = U
    R = inp @ problem.W[-1][:-1] + problem.W[-1][-1]
    gap = problem.O - R
    total += np.sum(problem.Lam * gap) / N + 0.5 * problem.rho * np.sum(gap**2) / N
    np.testing.assert_allclose(problem.objective()[0], total, rtol=1e-10)


@pytest.mark.parametrize("update", ["proximal", "linearized"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("splitting", sorted(SPLITTINGS))
def test_no_hidden_layer_converges_to_ridge(splitting, update, weighted):
    rng = np.random.default_rng(3)
    X = rng.standard_normal((80, 5))
    Y = X @ rng.standard_normal((5, 2)) + 0.3 * rng.standard_normal((80, 2)) + 1.0
    sw = rng.uniform(0.5, 2.0, 80) if weighted else None
    alpha = 0.05
    W0 = init_weights(5, 0, 0, 2, get_activation("relu"), rng, X.dtype)
    problem = SPLITTINGS[splitting](
        X,
        Y,
        sw,
        W0,
        get_activation("relu"),
        beta=1.0,
        rho=2.0,
        tau=1e-3,
        alpha=alpha,
        update=update,
    )
    for _ in range(400):
        problem.iterate()
    # (1/2S) sum w_i r_i^2 + alpha/2 |w|^2  is Ridge(alpha = S * alpha).
    total = X.shape[0] if sw is None else sw.sum()
    ridge = Ridge(alpha=alpha * total).fit(X, Y, sample_weight=sw)
    W = problem.W[0]
    np.testing.assert_allclose(W[:-1], ridge.coef_.T, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(W[-1], ridge.intercept_, rtol=1e-6, atol=1e-8)


def z_objective(z, a, b, z_old, c, act):
    return (z - a) ** 2 + (b - act(z)) ** 2 + c * (z - z_old) ** 2


@pytest.mark.parametrize("c", [0.0, 1e-3, 0.5])
@pytest.mark.parametrize("name", ["relu", "leaky_relu"])
def test_piecewise_linear_z_step_is_the_global_minimiser(name, c):
    act = get_activation(name)
    rng = np.random.default_rng(0)
    a, b, z_old = (2 * rng.standard_normal(400) for _ in range(3))
    z = act.z_step(a, b, z_old, c)
    grid = np.linspace(-12, 12, 120_001)
    brute = z_objective(grid[None], a[:, None], b[:, None], z_old[:, None], c, act)
    best = brute.min(axis=1)
    found = z_objective(z, a, b, z_old, c, act)
    # Never above the grid minimum, and the grid is fine enough to be within 1e-7.
    assert np.all(found <= best + 1e-12)
    assert np.all(found >= best - 1e-7)


@pytest.mark.parametrize("c", [0.0, 1e-3, 0.5])
@pytest.mark.parametrize("name", ["tanh", "sigmoid"])
def test_smooth_z_step_descends_and_is_stationary(name, c):
    act = get_activation(name)
    rng = np.random.default_rng(1)
    shape = (300, 7)
    a, b = 3 * rng.standard_normal(shape), 2 * rng.standard_normal(shape)
    z_old = a + rng.standard_normal(shape)
    z = act.z_step(a, b, z_old, c)
    f_new = z_objective(z, a, b, z_old, c, act)
    f_old = z_objective(z_old, a, b, z_old, c, act)
    assert np.all(f_new <= f_old)
    # No worse than a backtracked gradient step from z_old (the proximal-gradient
    # point the design requires).
    s = act(z_old)
    grad = 2 * ((z_old - a) - (b - s) * act.derivative_from_output(s))
    step = np.full(shape, 0.5)
    for _ in range(40):
        trial = z_old - step * grad
        ok = z_objective(trial, a, b, z_old, c, act) <= f_old - 0.25 * step * grad**2
        step = np.where(ok, step, 0.5 * step)
    f_grad = z_objective(z_old - step * grad, a, b, z_old, c, act)
    assert np.all(f_new <= f_grad + 1e-12)
    # Stationary: the derivative vanishes at the returned point (most elements
    # converge fully within the iteration cap; all are near a stationary point).
    s = act(z)
    df = 2 * ((z - a) - (b - s) * act.derivative_from_output(s) + c * (z - z_old))
    scale = 1 + np.abs(a) + np.abs(b)
    assert np.median(np.abs(df) / scale) < 1e-8
    assert np.quantile(np.abs(df) / scale, 0.95) < 1e-3


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_derivative_from_output_matches_finite_differences(name):
    act = get_activation(name)
    z = np.linspace(-3, 3, 61) + 0.013  # avoid the kink at 0
    h = 1e-6
    fd = (act(z + h) - act(z - h)) / (2 * h)
    np.testing.assert_allclose(act.derivative_from_output(act(z)), fd, atol=1e-6)


@pytest.mark.parametrize("splitting", sorted(SPLITTINGS))
def test_initial_state_is_the_forward_pass(splitting):
    problem, X, Y, _ = make_problem(splitting, "proximal", "relu")
    np.testing.assert_allclose(problem.R, forward(X, problem.W, problem.act))
    value, residual = problem.objective()
    assert residual == 0.0
    np.testing.assert_allclose(
        value,
        0.5 * problem.rw.sq_norm(problem.R - Y)
        + 0.5e-3 * sum(np.sum(W[:-1] ** 2) for W in problem.W),
    )

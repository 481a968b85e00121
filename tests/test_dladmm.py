"""solver="dladmm": monotone L_rho, the block steps against brute force, the API."""

import numpy as np
import pytest

from skadmm import ADMMResidualRegressor
from skadmm._activations import ACTIVATIONS
from skadmm._losses import SquaredLoss
from skadmm._solvers import DLADMMSolver
from skadmm._splitting._dladmm import DLADMMRelaxation, check_rho
from skadmm.exceptions import DivergenceWarning

from ._problems import independent_lrho, iterate, random_problem, weighted_sq_norm


def make_problem(
    activation="relu",
    *,
    weighted=False,
    n_blocks=3,
    width=10,
    beta=1.0,
    rho=2.0,
    tau=1e-3,
    alpha=1e-2,
    seed=0,
):
    X, Y, sw, W, act = random_problem(
        90, activation, width=width, n_blocks=n_blocks, weighted=weighted, seed=seed
    )
    params = dict(beta=beta, rho=rho, tau=tau, alpha=alpha, update="proximal")
    return DLADMMRelaxation(X, Y, sw, W, act, **params), X, Y, sw


@pytest.mark.parametrize("n_blocks", [0, 3])
@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_multiplier_identity(activation, n_blocks):
    # The monotone L_rho is the solver contract's (test_solvers.py).
    problem, X, Y, sw = make_problem(activation, weighted=True, n_blocks=n_blocks)
    for _ in range(10):
        iterate(problem)
        # After the multiplier step Lam = -grad l(O) = Y - O.
        np.testing.assert_allclose(problem.Lam, Y - problem.O, atol=1e-12)


def _numeric_gradient(f, x, entries, h=1e-6):
    out = []
    for idx in entries:
        old = x[idx]
        x[idx] = old + h
        up = f()
        x[idx] = old - h
        down = f()
        x[idx] = old
        out.append((up - down) / (2 * h))
    return np.array(out)


def _line_minimum(f, x, direction):
    """Brute force: the minimiser of the quadratic ``f(x + s direction)`` in s."""
    old = x.copy()
    values = []
    for s in (-1.0, 0.0, 1.0):
        x[...] = old + s * direction
        values.append(f())
    x[...] = old
    curv = values[0] - 2 * values[1] + values[2]
    return -(values[2] - values[0]) / (2 * curv)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("k", [0, 2, 3])
def test_output_step_is_a_backtracked_gradient_step(k, weighted):
    """``U_k`` moves along -grad L_rho (finite differences), by between half
    and all of the exact line-search step (brute force), and L_rho decreases."""
    problem, X, Y, sw = make_problem("tanh", weighted=weighted, n_blocks=3)
    for _ in range(3):
        iterate(problem)
    U = problem.U[k][:, :-1]
    s, _ = weighted_sq_norm(X, sw)

    def f():
        return independent_lrho(problem, X, Y, sw)

    rng = np.random.default_rng(1)
    entries = [tuple(e) for e in rng.integers(0, [U.shape[0], U.shape[1]], (6, 2))]
    g, *_ = problem._output_links(k)
    g = g.copy()
    numeric = _numeric_gradient(f, U, entries)
    # dL/dU_ij = s_i g_ij (g is the gradient in the S-metric).
    expected = np.array([s[i] * g[i, j] for i, j in entries])
    np.testing.assert_allclose(numeric, expected, rtol=1e-5, atol=1e-9)
    before, old = f(), U.copy()
    step_exact = _line_minimum(f, U, -g)
    problem.hidden_step(k)
    taken = (old - U)[g != 0] / g[g != 0]
    np.testing.assert_allclose(taken, taken[0], rtol=1e-10)
    assert 0.5 * step_exact < taken[0] <= step_exact * (1 + 1e-10)
    assert f() < before


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("k", [0, 2, 4])
def test_weight_step_is_a_backtracked_prox_gradient_step(k, weighted):
    """``W_k`` without bias moves along -grad L_rho (finite differences; the L2
    term included), between half and all of the exact line-search step."""
    problem, X, Y, sw = make_problem("relu", weighted=weighted, n_blocks=3, alpha=0.1)
    for _ in range(3):
        iterate(problem)
    W = problem.W[k]

    def f():
        return independent_lrho(problem, X, Y, sw)

    rows, cols = W.shape[0] - 1, W.shape[1]
    entries = [(i, j) for i in range(rows) for j in range(cols)]
    grad = _numeric_gradient(f, W, entries).reshape(rows, cols)
    before, old = f(), W.copy()
    direction = np.zeros_like(W)
    direction[:-1] = -grad
    step_exact = _line_minimum(f, W, direction)
    problem.weight_step(k)
    np.testing.assert_array_equal(W[-1], old[-1])  # the bias is its own block
    taken = (W - old)[:-1] / direction[:-1]
    np.testing.assert_allclose(taken, np.median(taken), rtol=1e-4)
    assert 0.5 * step_exact < np.median(taken) <= step_exact * (1 + 1e-4)
    assert f() < before


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("k", [0, 3])
def test_bias_step_is_exact(k, weighted):
    problem, X, Y, sw = make_problem("relu", weighted=weighted, n_blocks=2)
    for _ in range(3):
        iterate(problem)
    W = problem.W[k]
    W[-1] += 0.3  # move it off its optimum

    def f():
        return independent_lrho(problem, X, Y, sw)

    problem.bias_step(k)
    entries = [(W.shape[0] - 1, j) for j in range(W.shape[1])]
    np.testing.assert_allclose(_numeric_gradient(f, W, entries), 0.0, atol=1e-8)


@pytest.mark.parametrize("activation", ["relu", "leaky_relu"])
def test_z_step_is_the_block_minimiser(activation):
    """No single entry of ``Z_k`` can lower L_rho after the z-step (brute force)."""
    problem, X, Y, sw = make_problem(activation, n_blocks=2)
    for _ in range(3):
        iterate(problem)
    k = 1
    problem.z_step(k)
    Z = problem.Z[k]
    rng = np.random.default_rng(2)
    base = independent_lrho(problem, X, Y, sw)
    for i, j in rng.integers(0, Z.shape, (20, 2)):
        old = Z[i, j]
        for z in old + np.linspace(-2, 2, 41):
            Z[i, j] = z
            assert independent_lrho(problem, X, Y, sw) >= base - 1e-12
        Z[i, j] = old


def test_output_block_is_exact():
    problem, X, Y, sw = make_problem("relu", n_blocks=1)
    for _ in range(3):
        iterate(problem)
    problem.output_step()
    entries = [(i, j) for i in range(5) for j in range(2)]

    def f():
        return independent_lrho(problem, X, Y, sw)

    np.testing.assert_allclose(_numeric_gradient(f, problem.O, entries), 0.0, atol=1e-8)


class _PlainLoss(SquaredLoss):
    """A loss without strong convexity: the paper's bound applies."""

    name = "plain"
    strong_convexity = 0.0


def test_rho_condition_is_enforced():
    check_rho(2.0, SquaredLoss(), "dladmm")  # 2 * 3 > 4
    with pytest.raises(ValueError, match="rho > 1.56"):
        check_rho(1.5, SquaredLoss(), "dladmm")
    with pytest.raises(ValueError, match="rho > 2"):
        check_rho(2.0, _PlainLoss(), "dladmm")
    check_rho(2.01, _PlainLoss(), "dladmm")
    X = np.random.default_rng(0).standard_normal((30, 3))
    with pytest.raises(ValueError, match="Raise rho"):
        ADMMResidualRegressor(solver="dladmm", rho=1.5, alpha=1e-2).fit(X, X[:, 0])


def test_an_increase_of_the_merit_is_reported(monkeypatch):
    """The runtime check stops the run, keeps the last iterate and says why."""
    original = DLADMMSolver.iterate
    calls = []

    def broken(problem, run=None):
        original(problem, run)
        calls.append(1)
        if len(calls) == 3:
            problem.O += 1.0  # not a descent step

    monkeypatch.setattr(DLADMMSolver, "iterate", staticmethod(broken))
    X = np.random.default_rng(0).standard_normal((40, 3))
    model = ADMMResidualRegressor(solver="dladmm", width=8, alpha=1e-2, max_iter=10)
    with pytest.warns(DivergenceWarning, match="L_rho increased.*Raise `rho`"):
        model.fit(X, X[:, 0])
    assert model.n_iter_ == 2


def test_fit_learns():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 4))
    y = np.sin(X[:, 0]) * X[:, 1] + 0.05 * rng.standard_normal(200)
    model = ADMMResidualRegressor(
        solver="dladmm", width=32, n_blocks=2, alpha=1e-3, max_iter=60, random_state=0
    )
    model.fit(X, y)
    assert model.score(X, y) > 0.5


def test_every_activation_fits():
    X = np.random.default_rng(0).standard_normal((60, 3))
    for activation in sorted(ACTIVATIONS):
        model = ADMMResidualRegressor(
            solver="dladmm", activation=activation, width=8, alpha=1e-2, max_iter=5
        )
        model.fit(X, X[:, 0])
        assert np.isfinite(model.predict(X)).all()

"""solver="mdlam": monotone F, the bands, the extrapolation, the blocks, the API."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from skadmm import ADMMResidualRegressor
from skadmm._activations import ACTIVATIONS, get_activation
from skadmm._network import forward
from skadmm._splitting._mdlam import BandRelaxation
from skadmm.exceptions import DivergenceWarning

from ._problems import independent_band_objective, iterate, random_problem

EPS = 0.01


def make_problem(
    activation="relu",
    *,
    weighted=False,
    n_blocks=3,
    width=10,
    beta=1.0,
    tau=1e-3,
    alpha=1e-2,
    epsilon=EPS,
    seed=0,
):
    X, Y, sw, W, act = random_problem(
        90, activation, width=width, n_blocks=n_blocks, weighted=weighted, seed=seed
    )
    params = dict(beta=beta, rho=2.0, tau=tau, alpha=alpha, update="proximal")
    return BandRelaxation(X, Y, sw, W, act, epsilon=epsilon, **params), X, Y, sw


def band_violation(problem):
    """Largest ``|U_k - U_{k-1} - s(Z_k)| - epsilon`` (recomputed)."""
    worst, prev = -np.inf, 0
    for k in range(problem.H):
        U = problem.U[k][:, :-1]
        link = U - prev - problem.act(problem.Z[k])
        worst = max(worst, float(np.abs(link).max()) - problem.epsilon)
        prev = U
    return worst


@pytest.mark.parametrize("n_blocks", [0, 3])
@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_iterates_stay_inside_the_bands(activation, n_blocks):
    # The monotone F is the solver contract's (test_solvers.py).
    problem, *_ = make_problem(activation, weighted=True, n_blocks=n_blocks)
    for _ in range(20):
        iterate(problem)
        assert band_violation(problem) <= 1e-12


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_extrapolation_extrapolates_and_helps(activation):
    """The extrapolated steps are taken (unlike the published code's) and give
    a lower F after the same number of iterations on this problem."""
    runs = {}
    for extrapolate in (True, False):
        problem, X, Y, sw = make_problem(activation, n_blocks=2)
        problem.extrapolate = extrapolate
        accepted = 0
        for _ in range(40):
            iterate(problem)
            accepted += problem.accepted
        runs[extrapolate] = (independent_band_objective(problem, X, Y, sw), accepted)
    assert runs[True][1] > 0 and runs[False][1] == 0
    assert runs[True][0] < runs[False][0]


def test_extrapolated_step_starts_from_the_extrapolated_point():
    """Accepted W step = one prox-gradient step from W + omega (W - W_prev)."""
    problem, X, Y, sw = make_problem("relu", n_blocks=1)
    for _ in range(3):
        iterate(problem)
    k = 0
    W, prev = problem.W[k].copy(), problem._W_prev[k].copy()
    problem.omega = 0.5
    problem.tried = problem.accepted = 0
    problem.nesterov_weight_step(k)
    assert problem.accepted == 1
    moved = problem.W[k].copy()
    # Redo by hand from the extrapolated point.
    problem.W[k][...] = W
    problem.W[k][:-1] += 0.5 * (W[:-1] - prev)
    problem.weight_step(k)
    np.testing.assert_allclose(problem.W[k], moved, rtol=1e-12)
    assert not np.allclose(moved, W)


def test_a_bad_extrapolation_is_rejected(monkeypatch):
    """With a wild momentum (omega = 20) the blocks fall back to the plain
    step: F still never increases."""
    problem, X, Y, sw = make_problem("tanh", n_blocks=2)
    start_iteration = problem.start_iteration

    def wild_momentum():
        start_iteration()
        problem.omega = 20.0

    monkeypatch.setattr(problem, "start_iteration", wild_momentum)
    values = [independent_band_objective(problem, X, Y, sw)]
    tried = accepted = 0
    for _ in range(10):
        iterate(problem)
        tried += problem.tried
        accepted += problem.accepted
        values.append(independent_band_objective(problem, X, Y, sw))
    assert tried > 0 and accepted < tried
    values = np.asarray(values)
    assert (np.diff(values) / np.abs(values[:-1])).max() <= 1e-12


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_band_preimage_against_a_grid(activation):
    act = get_activation(activation)
    rng = np.random.default_rng(0)
    grid = np.linspace(-8, 8, 160001)
    s = act(grid)
    for _ in range(30):
        centre = float(act(np.array([rng.uniform(-3, 3)]))[0])
        lo, hi = np.array(centre - 0.05), np.array(centre + 0.05)
        B1, B2 = act.preimage(lo, hi)
        inside = grid[(s >= lo) & (s <= hi)]
        step = grid[1] - grid[0]
        if np.isfinite(B1):
            assert abs(inside.min() - B1) <= step
        else:
            assert inside.min() == grid[0]
        if np.isfinite(B2):
            assert abs(inside.max() - B2) <= step
        else:
            assert inside.max() == grid[-1]


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_z_step_is_the_projection(activation):
    """No feasible value of an entry of ``Z_k`` lowers F (brute force)."""
    problem, X, Y, sw = make_problem(activation, n_blocks=2)
    for _ in range(3):
        iterate(problem)
    k = 1
    problem.z_step(k)
    Z, U = problem.Z[k], problem.U[k][:, :-1] - problem.U[k - 1][:, :-1]
    base = independent_band_objective(problem, X, Y, sw)
    rng = np.random.default_rng(2)
    for i, j in rng.integers(0, Z.shape, (15, 2)):
        old = Z[i, j]
        for z in old + np.linspace(-1, 1, 41):
            if abs(U[i, j] - problem.act(np.array([z]))[0]) <= EPS:
                Z[i, j] = z
                assert independent_band_objective(problem, X, Y, sw) >= base - 1e-12
        Z[i, j] = old


@pytest.mark.parametrize("k", [0, 2])
def test_output_step_is_a_projected_gradient_step(k):
    """``U_k`` = clip(U - g / t) onto its two bands, g = grad F (finite
    differences), and F decreases."""
    problem, X, Y, sw = make_problem("leaky_relu", n_blocks=2)
    problem.extrapolate = False
    for _ in range(3):
        iterate(problem)
    U = problem.U[k][:, :-1]
    s = 1 / X.shape[0]

    def f():
        return independent_band_objective(problem, X, Y, sw)

    entries = [(i, j) for i in range(0, 90, 7) for j in range(U.shape[1])]
    grad = _numeric_gradient(f, U, entries) / s
    lower, upper = problem._band(k)
    old, before = U.copy(), f()
    problem.nesterov_hidden_step(k)
    assert f() < before
    assert np.all(U >= lower - 1e-12) and np.all(U <= upper + 1e-12)
    rows, cols = zip(*entries, strict=True)
    free = (U[rows, cols] > lower[rows, cols]) & (U[rows, cols] < upper[rows, cols])
    moved = (old - U)[rows, cols]
    assert free.sum() > 10
    # One step size t for every entry that the box did not stop.
    step = np.median(moved[free] / grad[free])
    assert step > 0
    scale = np.abs(moved).max()
    np.testing.assert_allclose(moved[free], step * grad[free], atol=1e-4 * scale)
    # Clipped entries sit on the bound the gradient step pushed them past.
    target = old[rows, cols] - step * grad
    clipped = ~free
    np.testing.assert_allclose(
        U[rows, cols][clipped],
        np.clip(target, lower[rows, cols], upper[rows, cols])[clipped],
        atol=1e-6,
    )


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


def test_readout_bias_and_output_are_exact():
    problem, X, Y, sw = make_problem("relu", n_blocks=1)
    for _ in range(3):
        iterate(problem)
    H = problem.H
    problem.W[H][-1] += 0.2
    problem.bias_step(H)
    problem.set_readout_output()

    def f():
        return independent_band_objective(problem, X, Y, sw)

    W = problem.W[H]
    bias = [(W.shape[0] - 1, j) for j in range(W.shape[1])]
    np.testing.assert_allclose(_numeric_gradient(f, W, bias), 0.0, atol=1e-8)
    problem.O += 0.1
    problem.output_step()
    out = [(i, j) for i in range(5) for j in range(2)]
    np.testing.assert_allclose(_numeric_gradient(f, problem.O, out), 0.0, atol=1e-8)


def test_epsilon_parameter():
    X = np.random.default_rng(0).standard_normal((40, 3))
    with pytest.raises(ValueError, match="epsilon"):
        ADMMResidualRegressor(solver="mdlam", epsilon=0.0).fit(X, X[:, 0])
    problem, *_ = make_problem("relu", epsilon=0.1)
    for _ in range(5):
        iterate(problem)
    assert band_violation(problem) > -0.1 + 1e-3  # the wide band is used
    problem.set_penalties(epsilon=0.01)  # narrower: restarts inside the bands
    assert band_violation(problem) <= -0.01 + 1e-12
    iterate(problem)
    assert band_violation(problem) <= 1e-12


def test_fit_learns_and_forward_is_close_to_the_auxiliaries():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 4))
    y = np.sin(X[:, 0]) * X[:, 1] + 0.05 * rng.standard_normal(200)
    model = ADMMResidualRegressor(
        solver="mdlam", width=32, n_blocks=2, alpha=1e-3, max_iter=60, random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X, y)
    assert model.score(X, y) > 0.5


def test_predict_is_the_forward_pass():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = ADMMResidualRegressor(solver="mdlam", width=8, alpha=1e-2, max_iter=5)
        model.fit(X, X[:, 0])
    weights = [
        np.vstack([c, b]) for c, b in zip(model.coefs_, model.intercepts_, strict=True)
    ]
    out = forward(X, weights, get_activation("relu")).ravel()
    np.testing.assert_allclose(model.predict(X), out)


@pytest.mark.parametrize("solver", ["mdlam", "dladmm"])
def test_float32_fit_stays_monotone(solver):
    """In float32 the relu band sits on its jump at zero up to rounding on the
    scale of the outputs; the z-step must not read that as a violation (it
    once moved such entries to zero and F rose 60-fold)."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 5)).astype(np.float32)
    y = (np.sin(X[:, 0]) * X[:, 1]).astype(np.float32)
    model = ADMMResidualRegressor(
        solver=solver, width=32, n_blocks=2, alpha=1e-3, max_iter=100, tol=0.0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("error", DivergenceWarning)
        model.set_params(random_state=0).fit(X, y)
    assert model.coefs_[0].dtype == np.float32
    assert model.n_iter_ == 100


@pytest.mark.parametrize("activation", ["tanh", "sigmoid"])
def test_saturated_units_keep_the_pre_activations_finite(activation):
    """Inputs of scale 3 saturate some tanh units: tanh(Z) rounds to 1, the U
    step puts U at 1 + epsilon, and the z-step's preimage bound s^-1(1) was
    infinite (non-finite values at iteration 3; a rounding-infeasible band
    sent the sigmoid's Z to -744 and F rose). F never rises now."""
    rng = np.random.RandomState(2)
    X = rng.randn(150, 3) * 3.0
    y = np.sin(X[:, 0]) + X[:, -1] ** 2 / 9 + 0.3 * rng.randn(150)
    model = ADMMResidualRegressor(
        solver="mdlam",
        activation=activation,
        width=16,
        max_iter=40,
        alpha=1e-3,
        tol=0.0,
        random_state=2,
        early_stopping=False,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("error", DivergenceWarning)
        model.fit(X * (8.0 / 3.0 if activation == "sigmoid" else 1.0), y)
    assert model.n_iter_ == 40
    curve = np.asarray(model.objective_curve_)
    assert np.all(np.diff(curve) <= 1e-10 * np.abs(curve[1:]))

"""The dual (Woodbury) weight steps of layers whose input is wider than its rows."""

import numpy as np
import pytest

import skadmm._losses
import skadmm._splitting._base
import skadmm._splitting._pdadmm
import skadmm._splitting._three
import skadmm._splitting._two
from skadmm import ADMMResidualClassifier
from skadmm._activations import get_activation
from skadmm._linalg import largest_eigenvalue, spd_solve
from skadmm._losses import SoftmaxLoss, ridge_solve
from skadmm._memory import block_solve_elements, fit_memory_parts
from skadmm._network import init_weights
from skadmm._rows import RowWeights
from skadmm._splitting import SPLITTINGS
from skadmm._splitting._pdadmm import PQRelaxation
from skadmm._wide import (
    MIN_DUAL_COLUMNS,
    WIDE_RATIO,
    dual_largest_eigenvalue,
    dual_ridge_solve,
    use_dual,
)

from ._problems import iterate

PENALTIES = [(0.1, 0.0), (0.1, 1e-3), (0.0, 1e-3), (2.0, 5.0)]
# Every module that chooses between the primal and the dual step.
CHOOSERS = [
    skadmm._losses,
    skadmm._splitting._base,
    skadmm._splitting._pdadmm,
    skadmm._splitting._three,
    skadmm._splitting._two,
]


@pytest.fixture
def primal_only(monkeypatch):
    """Every weight step in the primal form, whatever the shape."""
    for module in CHOOSERS:
        monkeypatch.setattr(module, "use_dual", lambda n_rows, n_cols: False)


def wide_input(n_rows=30, n_features=200, weighted=False, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    A = np.ones((n_rows, n_features + 1))
    A[:, :-1] = rng.standard_normal((n_rows, n_features)) + 0.5
    sw = rng.uniform(0.1, 3.0, n_rows) if weighted else None
    return A.astype(dtype), RowWeights(sw, n_rows, np.dtype(dtype)), rng


def primal(A, rw, c, alpha, tau, R):
    G = c * rw.gram(A.astype(np.float64))
    G[np.diag_indices(G.shape[0] - 1)] += alpha
    G[np.diag_indices(G.shape[0])] += tau
    return spd_solve(G, R.astype(np.float64))


def relative(a, b):
    return np.abs(a - b).max() / np.abs(b).max()


def test_dual_is_chosen_by_shape_only():
    assert use_dual(200, int(WIDE_RATIO * 200) + 1)
    assert not use_dual(200, int(WIDE_RATIO * 200))
    assert not use_dual(1000, 50)
    # Narrow layers of tiny tables stay primal (MIN_DUAL_COLUMNS).
    assert not use_dual(15, 65)
    assert use_dual(15, MIN_DUAL_COLUMNS + 1)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("alpha, tau", PENALTIES)
def test_dual_ridge_solve_equals_the_primal_solve(weighted, alpha, tau):
    A, rw, rng = wide_input(weighted=weighted)
    R = rng.standard_normal((A.shape[1], 4))
    for c in (1.0, 0.37, 25.0):
        W = dual_ridge_solve(A, rw, c, alpha, tau, R)
        assert W.shape == R.shape and W.dtype == R.dtype
        assert relative(W, primal(A, rw, c, alpha, tau, R)) < 1e-10


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("alpha, tau", [(1e-6, 0.0), (1e-6, 1e-6)])
def test_dual_ridge_solve_is_backward_stable_when_ill_conditioned(weighted, alpha, tau):
    # Condition numbers 1e8 to 1e9: both forms agree only to cond * eps, but
    # each solves its system to a small residual.
    A, rw, rng = wide_input(weighted=weighted)
    R = rng.standard_normal((A.shape[1], 4))
    M = rw.gram(A)
    M[np.diag_indices(M.shape[0] - 1)] += alpha
    M[np.diag_indices(M.shape[0])] += tau
    W = dual_ridge_solve(A, rw, 1.0, alpha, tau, R)
    residual = np.abs(M @ W - R).max() / (np.abs(M).max() * np.abs(W).max())
    assert residual < 1e-11


def test_dual_ridge_solve_of_a_bias_without_penalty_fits_the_weighted_mean():
    # tau = 0: the bias entry of the system has no regularisation at all.
    A, rw, rng = wide_input(weighted=True)
    Y = rng.standard_normal((A.shape[0], 2))
    W = dual_ridge_solve(A, rw, 1.0, 0.5, 0.0, rw.cross(A, Y))
    # The bias row of the normal equations: residuals of weighted mean zero.
    assert np.abs(rw.s[:, 0] @ (Y - A @ W)).max() < 1e-12


@pytest.mark.parametrize("weighted", [False, True])
def test_dual_ridge_solve_in_float32(weighted):
    A, rw, rng = wide_input(weighted=weighted, dtype=np.float32)
    R = rng.standard_normal((A.shape[1], 3)).astype(np.float32)
    W = dual_ridge_solve(A, rw, 1.0, 0.1, 1e-3, R)
    assert W.dtype == np.float32
    rw64 = RowWeights(None if rw.s is None else rw.s[:, 0], A.shape[0], np.dtype("f8"))
    assert relative(W, primal(A, rw64, 1.0, 0.1, 1e-3, R)) < 1e-3


def test_dual_ridge_solve_without_any_penalty_is_left_to_the_primal():
    A, rw, rng = wide_input()
    assert dual_ridge_solve(A, rw, 1.0, 0.0, 0.0, np.ones((A.shape[1], 1))) is None


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("alpha", [0.0, 1e-3, 0.5, 50.0])
def test_dual_largest_eigenvalue_equals_the_grams(weighted, alpha):
    A, rw, _ = wide_input(weighted=weighted)
    for c in (1.0, 3.0):
        H = c * rw.gram(A)
        H[np.diag_indices(H.shape[0] - 1)] += alpha
        expected = largest_eigenvalue(H)
        got = dual_largest_eigenvalue(A, rw, c, alpha)
        assert abs(got - expected) <= 1e-10 * expected


def wide_problem(n_rows=40, n_features=300, n_blocks=1, weighted=False, seed=0):
    """Data of a network whose first layer's input is wide."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_rows, n_features))
    Y = np.column_stack([np.tanh(X[:, :5].sum(axis=1)), X[:, 5]])
    sw = rng.uniform(0.2, 3.0, n_rows) if weighted else None
    act = get_activation("tanh")
    W = init_weights(n_features, 12, n_blocks, Y.shape[1], act, rng, X.dtype)
    return X, Y, sw, W, act


def problems(cls, monkeypatch, weighted=False, **params):
    """The same problem twice: the dual steps, and the primal ones."""
    X, Y, sw, W, act = wide_problem(weighted=weighted)
    assert use_dual(X.shape[0], X.shape[1] + 1)
    dual = cls(X, Y, sw, W, act, **params)
    primal_problem = cls(X, Y, sw, W, act, **params)
    return dual, primal_problem


def run_primal(monkeypatch, action):
    with monkeypatch.context() as patch:
        for module in CHOOSERS:
            patch.setattr(module, "use_dual", lambda n_rows, n_cols: False)
        action()


def assert_weights_close(a, b, rtol):
    for Wa, Wb in zip(a.W, b.W, strict=True):
        assert relative(Wa, Wb) < rtol


PARAMS = dict(beta=1.0, rho=2.0, tau=1e-3, alpha=1e-3)


@pytest.mark.parametrize("splitting", sorted(SPLITTINGS))
@pytest.mark.parametrize("update", ["proximal", "linearized"])
@pytest.mark.parametrize("weighted", [False, True])
def test_radmm_iteration_equals_the_primal(monkeypatch, splitting, update, weighted):
    cls = SPLITTINGS[splitting]
    dual, ref = problems(cls, monkeypatch, weighted, update=update, **PARAMS)
    for _ in range(2):
        iterate(dual)
        run_primal(monkeypatch, lambda: iterate(ref))
    # Two iterations carry the rounding through the z-steps; linearized: the
    # step weight is an eigenvalue, computed differently.
    assert_weights_close(dual, ref, 1e-9 if update == "proximal" else 1e-8)


@pytest.mark.parametrize("splitting", sorted(SPLITTINGS))
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("mu", [0.0, 1.0])
def test_reset_weight_step_equals_the_primal(monkeypatch, splitting, weighted, mu):
    cls = SPLITTINGS[splitting]
    dual, ref = problems(cls, monkeypatch, weighted, update="proximal", **PARAMS)
    for problem in (dual, ref):
        problem.reset_to_forward()
        problem.backward_sweep(problem.beta)
    dual.reset_w_step(0, 0.1, mu)
    run_primal(monkeypatch, lambda: ref.reset_w_step(0, 0.1, mu))
    assert_weights_close(dual, ref, 1e-9)


@pytest.mark.parametrize("weighted", [False, True])
def test_pdadmm_iteration_equals_the_primal(monkeypatch, weighted):
    dual, ref = problems(PQRelaxation, monkeypatch, weighted, **PARAMS)
    for _ in range(2):
        iterate(dual)
        run_primal(monkeypatch, lambda: iterate(ref))
    assert_weights_close(dual, ref, 1e-9)


@pytest.mark.parametrize("splitting", sorted(SPLITTINGS))
@pytest.mark.parametrize("update", ["proximal", "linearized"])
@pytest.mark.parametrize("weighted", [False, True])
def test_lrho_non_increasing_on_a_wide_input(splitting, update, weighted):
    X, Y, sw, W, act = wide_problem(weighted=weighted, n_blocks=2)
    problem = SPLITTINGS[splitting](X, Y, sw, W, act, update=update, **PARAMS)
    values = [problem.objective()[0]]
    for _ in range(30):
        iterate(problem)
        values.append(problem.objective()[0])
    values = np.asarray(values)
    assert np.max(np.diff(values) / np.abs(values[:-1])) <= 1e-12
    assert values[-1] < values[0]


def test_pdadmm_lrho_non_increasing_on_a_wide_input():
    X, Y, sw, W, act = wide_problem(weighted=True, n_blocks=2)
    problem = PQRelaxation(X, Y, sw, W, act, beta=1.0, rho=4.0, tau=1e-3, alpha=1e-3)
    values = [problem.objective()[0]]
    for _ in range(30):
        iterate(problem)
        values.append(problem.objective()[0])
    values = np.asarray(values)
    assert np.max(np.diff(values) / np.abs(values[:-1])) <= 1e-12


@pytest.mark.parametrize("weighted", [False, True])
def test_readout_solves_equal_the_primal(monkeypatch, weighted):
    A, rw, rng = wide_input(weighted=weighted)
    Y = rng.standard_normal((A.shape[0], 3))
    got = ridge_solve(A, Y, rw, 0.1)
    loss = SoftmaxLoss()
    onehot = np.eye(3)[rng.integers(0, 3, A.shape[0])]
    steps = loss.majorised_steps(A, onehot, rw, 0.1, np.zeros((A.shape[1], 3)), 3)
    with monkeypatch.context() as patch:
        patch.setattr(skadmm._losses, "use_dual", lambda n_rows, n_cols: False)
        expected = ridge_solve(A, Y, rw, 0.1)
        ref = loss.majorised_steps(A, onehot, rw, 0.1, np.zeros((A.shape[1], 3)), 3)
    assert relative(got, expected) < 1e-10
    assert relative(steps, ref) < 1e-10


@pytest.mark.parametrize("solver", ["reset", "radmm", "dladmm", "pdadmm", "mdlam"])
def test_fits_on_a_wide_table_match_the_primal(monkeypatch, solver):
    rng = np.random.default_rng(1)
    X = rng.standard_normal((50, 300))
    y = (X[:, :3].sum(axis=1) > 0).astype(int)
    params = dict(width=8, solver=solver, activation="tanh", max_iter=3, random_state=0)
    dual = ADMMResidualClassifier(**params).fit(X, y)
    primal_fit = ADMMResidualClassifier(**params)
    run_primal(monkeypatch, lambda: primal_fit.fit(X, y))
    np.testing.assert_allclose(
        dual.decision_function(X),
        primal_fit.decision_function(X),
        rtol=1e-6,
        atol=1e-8,
    )


def test_memory_guard_counts_the_dual_systems():
    # Cora's hop features: no 5,733 x 5,733 matrix, C (N x d) and N x N systems.
    dual = block_solve_elements(140, 5733, 100, weighted=True)
    assert 140 * 5733 <= dual < 5733**2
    # A tall input keeps the primal count.
    assert (
        block_solve_elements(20000, 51, 100, weighted=False) == 6 * 51**2 + 3 * 51 * 100
    )
    common = dict(width=100, n_blocks=0, itemsize=8)
    wide = sum(fit_memory_parts(140, 5732, 7, **common).values())
    assert wide < 5733**2 * 8

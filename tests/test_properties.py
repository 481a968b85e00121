"""Properties of the ADMM iteration (user guide, "Monotone decrease") on random data."""

import itertools

import numpy as np
import pytest
from sklearn.linear_model import Ridge

from skadmm._activations import ACTIVATIONS, get_activation
from skadmm._network import forward, init_weights
from skadmm._parallel import split_layers
from skadmm._splitting import SPLITTINGS

from ._problems import independent_lrho, iterate, random_problem

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
    n_regions=1,
):
    X, Y, sw, W, act = random_problem(
        120, activation, width=width, n_blocks=n_blocks, weighted=weighted, seed=seed
    )
    cls = SPLITTINGS[splitting]
    params = dict(beta=beta, rho=rho, tau=tau, alpha=alpha, update=update)
    problem = cls(X, Y, sw, W, act, **params)
    problem.set_regions(split_layers(len(W), n_regions))
    return problem, X, Y, sw


@pytest.mark.parametrize("weighted, n_blocks, n_regions", [(False, 3, 1), (True, 5, 3)])
@pytest.mark.parametrize("splitting, update, activation", CONFIGS)
def test_multiplier_identity(
    splitting, update, activation, weighted, n_blocks, n_regions
):
    # The monotone L_rho is the solver contract's (test_solvers.py).
    problem, X, Y, sw = make_problem(
        splitting,
        update,
        activation,
        weighted=weighted,
        n_blocks=n_blocks,
        n_regions=n_regions,
    )
    for _ in range(10):
        iterate(problem)
        # Lam = Y - O after every iteration.
        np.testing.assert_allclose(problem.Lam, Y - problem.O, atol=1e-12)


@pytest.mark.parametrize("splitting", sorted(SPLITTINGS))
def test_lrho_is_bounded_below_by_its_loss_decomposition(splitting):
    """With Lam = Y - O the loss+constraint part is ||R-Y||^2/2 + (rho-1)||O-R||^2/2."""
    rho = 1.5
    problem, X, Y, sw = make_problem(splitting, "proximal", "relu", rho=rho)
    for _ in range(5):
        iterate(problem)
    rw = problem.rw
    O, R, Lam = problem.O, problem.R, problem.Lam
    direct = (
        0.5 * rw.sq_norm(O - Y) + rw.inner(Lam, O - R) + 0.5 * rho * rw.sq_norm(O - R)
    )
    bound = 0.5 * rw.sq_norm(R - Y) + 0.5 * (rho - 1) * rw.sq_norm(O - R)
    np.testing.assert_allclose(direct, bound, rtol=1e-10)
    assert bound >= 0


@pytest.mark.parametrize("n_regions", [1, 3])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("splitting", sorted(SPLITTINGS))
def test_objective_matches_an_independent_evaluation(splitting, weighted, n_regions):
    """The cached penalty terms equal L_rho recomputed from scratch (also after
    the boundary phase of the parallel regional update)."""
    problem, X, Y, sw = make_problem(
        splitting,
        "proximal",
        "tanh",
        alpha=0.1,
        weighted=weighted,
        n_blocks=5,
        n_regions=n_regions,
    )
    for _ in range(3):
        iterate(problem)
        expected = independent_lrho(problem, X, Y, sw)
        np.testing.assert_allclose(problem.objective()[0], expected, rtol=1e-10)


@pytest.mark.parametrize("splitting", sorted(SPLITTINGS))
def test_tasks_of_a_phase_commute(splitting):
    """PRU phases touch disjoint blocks: running their tasks in reverse order
    gives bit-identical iterates (which is why n_jobs cannot matter)."""
    states = []
    for order in (list, lambda tasks: list(reversed(tasks))):
        problem, *_ = make_problem(
            splitting, "proximal", "tanh", n_blocks=7, n_regions=4
        )

        def run(tasks, order=order):
            for task in order(tasks):
                task()

        for _ in range(5):
            iterate(problem, run)
        states.append([*problem.W, *problem.U, problem.O, problem.Lam])
    for a, b in zip(*states, strict=True):
        np.testing.assert_array_equal(a, b)


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
        iterate(problem)
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


@pytest.mark.parametrize("name", ["tanh", "sigmoid"])
def test_smooth_z_step_stops_where_only_rounding_is_left(name, monkeypatch):
    """From its own result (c = 0: the same problem) the z-step stops early
    where it had converged: a step that cannot lower ``f`` beyond its rounding
    is not halved thirty times (that made a tanh fit 2.5x slower)."""
    from skadmm import _activations

    act = get_activation(name)
    rng = np.random.default_rng(1)
    a, b = 3 * rng.standard_normal((300, 7)), 2 * rng.standard_normal((300, 7))
    z = act.z_step(a, b, a + rng.standard_normal(a.shape), 0.0)
    evaluated, objective = [], _activations._z_objective

    def counted(z, *args):
        evaluated.append(np.size(z))
        return objective(z, *args)

    monkeypatch.setattr(_activations, "_z_objective", counted)
    again = act.z_step(a, b, z, 0.0)
    f, f_again = (z_objective(x, a, b, z, 0.0, act) for x in (z, again))
    assert np.all(f_again <= f)
    # Most elements had converged: they stay (the others go on descending).
    assert np.mean(again == z) > 0.9
    # Objective evaluations per element: 4.8 (tanh), 5.9 (sigmoid) before.
    assert sum(evaluated) / z.size < 3


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(7,), (5, 3), (9000, 101), (300_000,)])
@pytest.mark.parametrize("name", ["relu", "leaky_relu"])
def test_piecewise_linear_activation_on_any_array(name, shape, dtype):
    # The large arrays run in row chunks against zeros: every element, each
    # chunk's edge included, equals the elementwise formula; in place, into
    # another array and on a strided view alike.
    act = get_activation(name)
    z = np.random.default_rng(2).standard_normal(shape).astype(dtype)
    z.flat[::97] = 0.0
    expected = np.where(z > 0, z, z * dtype(act.slope))
    np.testing.assert_array_equal(act(z), expected)
    out = np.empty_like(z)
    assert act(z, out=out) is out
    np.testing.assert_array_equal(out, expected)
    if z.ndim == 2:
        view = z.copy()[:, 1:]
        act(view, out=view)
        np.testing.assert_array_equal(view, expected[:, 1:])
    act(z, out=z)
    np.testing.assert_array_equal(z, expected)
    assert act.keeps_one and act(np.ones(3, dtype)).tolist() == [1, 1, 1]


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_derivative_from_output_matches_finite_differences(name):
    act = get_activation(name)
    z = np.linspace(-3, 3, 61) + 0.013  # avoid the kink at 0
    h = 1e-6
    fd = (act(z + h) - act(z - h)) / (2 * h)
    np.testing.assert_allclose(act.derivative_from_output(act(z)), fd, atol=1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_derivative_and_first_order_gain_keep_the_dtype(name, dtype):
    act = get_activation(name)
    z = np.random.default_rng(0).standard_normal((50, 7)).astype(dtype)
    z[0, :3] = 0.0  # relu's kink: its derivative there is 0
    s = act(z)
    derivative = act.derivative_from_output(s)
    gain = act.first_order_gain(s)
    assert derivative.dtype == gain.dtype == dtype
    if hasattr(act, "slope"):
        # Oracle: the derivative in float64 from z, rounded once to the dtype.
        exact = np.where(z > 0, 1.0, act.slope).astype(dtype)
        np.testing.assert_array_equal(derivative, exact)
    np.testing.assert_array_equal(gain, derivative * derivative + dtype(1))


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


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n_blocks", [0, 2])
def test_chunked_forward_features_equal_whole_ones(n_blocks, dtype):
    # Chunk by chunk (each chunk through every layer and the read-out while in
    # cache) the features and outputs are those of whole products, to the
    # rounding of the products; the pre-activations are kept per chunk too.
    from skadmm._linalg import augment
    from skadmm._network import augmented_hidden_into, hidden_features

    rng = np.random.default_rng(3)
    X = rng.standard_normal((103, 5)).astype(dtype)
    act = get_activation("relu")
    weights = init_weights(5, 8, n_blocks, 2, act, rng, dtype)
    hidden, readout = weights[:-1], weights[-1]
    results = []
    for chunk_rows in (None, 10, 103, 500):
        out = np.ones((103, 9), dtype)
        pre = np.empty((103, 8), dtype)
        output = np.empty((103, 2), dtype)
        augmented_hidden_into(
            augment(X),
            hidden,
            act,
            out,
            pre=pre,
            chunk_rows=chunk_rows,
            readout=readout,
            output=output,
        )
        results.append((out, pre, output))
        # Without pre-activations (the default network's lean loop for
        # relu): the same operations, bit for bit.
        lean_out, lean_output = np.ones_like(out), np.empty_like(output)
        augmented_hidden_into(
            augment(X),
            hidden,
            act,
            lean_out,
            chunk_rows=chunk_rows,
            readout=readout,
            output=lean_output,
        )
        np.testing.assert_array_equal(lean_out, out)
        np.testing.assert_array_equal(lean_output, output)
    whole = results[0]
    rtol = 1e-12 if dtype == np.float64 else 1e-5
    expected = augment(hidden_features(X, hidden, act))
    np.testing.assert_allclose(whole[0], expected, rtol=rtol, atol=rtol)
    np.testing.assert_allclose(whole[2], whole[0] @ readout, rtol=rtol, atol=rtol)
    for chunked in results[1:]:
        for a, b in zip(chunked, whole, strict=True):
            np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol)

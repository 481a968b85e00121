"""Properties of the forward-reset mode (``solver="reset"``) on random data."""

from functools import partial

import numpy as np
import pytest

from skadmm import ADMMResidualRegressor
from skadmm._activations import ACTIVATIONS, get_activation
from skadmm._network import hidden_features, init_weights
from skadmm._parallel import Team, split_layers
from skadmm._parallel import run_in_order as _run_in_order
from skadmm._solvers._reset import ResetSolver
from skadmm._splitting import SPLITTINGS

from ._problems import regression_data, true_objective

# Short fits on purpose: the iteration limit is expected.
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


SPLIT = pytest.mark.parametrize("splitting", ["three", "two"])


def make_problem(
    activation,
    *,
    weighted=False,
    n_blocks=2,
    width=10,
    alpha=1e-3,
    splitting="three",
    dtype=np.float64,
):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((90, 4))
    Y = np.column_stack([np.sin(2 * X[:, 0]) * X[:, 1], np.abs(X[:, 2])])
    Y += 0.05 * rng.standard_normal(Y.shape)
    X, Y = X.astype(dtype), Y.astype(dtype)
    sw = rng.uniform(0.2, 3.0, X.shape[0]) if weighted else None
    act = get_activation(activation)
    W = init_weights(X.shape[1], width, n_blocks, Y.shape[1], act, rng, X.dtype)
    problem = SPLITTINGS[splitting](
        X, Y, sw, W, act, beta=1.0, rho=1.0, tau=0.0, alpha=alpha, update="proximal"
    )
    return problem, X, Y, sw, act


def solver(**params):
    base = dict(eta=0.1, eta_max=10.0, mu=1.0)
    base.update(params)
    return ResetSolver(1, 0.0, 1, **base)


@SPLIT
@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_reset_makes_every_penalty_zero(activation, splitting):
    problem, X, Y, sw, act = make_problem(
        activation, weighted=True, n_blocks=3, splitting=splitting
    )
    mode = solver()
    mode.setup(problem)
    for _ in range(3):
        mode.step(problem, _run_in_order)
    # After an accepted step the auxiliaries are the forward pass of the weights.
    inp = X
    for k in range(problem.H):
        pre = inp @ problem.W[k][:-1] + problem.W[k][-1]
        if splitting == "three":
            np.testing.assert_allclose(problem.Z[k], pre, rtol=1e-12, atol=1e-12)
        else:
            np.testing.assert_allclose(
                problem.sH[k], act(pre.copy()), rtol=1e-12, atol=1e-12
            )
        prev = 0.0 if k == 0 else inp
        np.testing.assert_allclose(
            problem.U[k][:, :-1], prev + act(pre.copy()), rtol=1e-12, atol=1e-12
        )
        inp = problem.U[k][:, :-1]
    assert not problem.link_sq.any()
    loss = true_objective(problem.W, X, Y, sw, act, 0.0)
    np.testing.assert_allclose(
        problem.objective()[0],
        loss + 0.5 * problem.alpha * sum(float(np.sum(W[:-1] ** 2)) for W in problem.W),
        rtol=1e-10,
    )


@SPLIT
@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_one_sweep_carries_the_error_to_every_layer(activation, splitting):
    """For a small step each layer's auxiliary (pre-activation ``Z_k`` of the
    three-splitting, output ``U_k`` of the two-splitting) moves along a descent
    direction of the loss (finite differences): credit reaches every layer in
    one sweep (a forward Gauss-Seidel sweep would leave the lower layers still)."""
    problem, X, Y, sw, act = make_problem(
        activation, n_blocks=2, width=5, alpha=0.0, splitting=splitting
    )
    mode = solver(eta=1e-5)
    mode.setup(problem)
    weights = problem.weights()
    three = splitting == "three"

    def auxiliaries():
        if three:
            return [Z.copy() for Z in problem.Z]
        return [U[:, :-1].copy() for U in problem.U]

    before = auxiliaries()
    mode._sweep(problem)
    after = auxiliaries()
    coefs = [W[:-1] for W in weights]
    intercepts = [W[-1] for W in weights]

    def loss_with(k, value):
        # Forward pass with the auxiliary of layer k replaced by value.
        U = None
        for j in range(len(coefs) - 1):
            Z = (X if j == 0 else U) @ coefs[j] + intercepts[j]
            if three and j == k:
                Z = value
            U = act(Z.copy()) if j == 0 else U + act(Z.copy())
            if not three and j == k:
                U = value
        out = U @ coefs[-1] + intercepts[-1]
        return 0.5 * float(np.sum((out - Y) ** 2))

    h = 1e-6
    for k in range(problem.H):
        grad = np.zeros_like(before[k])
        for idx in np.ndindex(grad.shape):
            up, down = before[k].copy(), before[k].copy()
            up[idx] += h
            down[idx] -= h
            grad[idx] = (loss_with(k, up) - loss_with(k, down)) / (2 * h)
        move = after[k] - before[k]
        cosine = -np.vdot(move, grad) / np.linalg.norm(move) / np.linalg.norm(grad)
        assert cosine > 0.6, (k, cosine)


def _first_order_weight_move(
    activation, first_order, alpha, splitting="three", output_damping=None
):
    """``(G + mu_l I) dW / eta`` of the first layer for a tiny step, with the
    central finite-difference gradients of the data term and of F there, and
    the Gram matrix of the sweep's moves of the pre-activations (computed
    here, for ``output_damping``)."""
    problem, X, Y, sw, act = make_problem(
        activation, n_blocks=0, width=4, alpha=alpha, splitting=splitting
    )
    eta, mu = 1e-4, 0.5
    mode = solver(eta=eta, mu=mu)
    mode.first_order_targets = first_order
    mode.output_damping = output_damping
    mode.setup(problem)
    weights = problem.weights()
    mode._sweep(problem)
    X_aug = np.column_stack([X, np.ones(len(X))])
    moves = problem.Z[0] - X_aug @ weights[0] if splitting == "three" else None
    mode._w_steps(problem, _run_in_order)
    G = problem.rw.gram(problem.X_aug)
    metric = G + mu * np.trace(G) / G.shape[0] * np.eye(G.shape[0])
    move = metric @ (problem.W[0] - weights[0]) / eta

    def gradient(a):
        grad = np.zeros_like(weights[0])
        h = 1e-6
        for idx in np.ndindex(grad.shape):
            up = [W.copy() for W in weights]
            down = [W.copy() for W in weights]
            up[0][idx] += h
            down[0][idx] -= h
            grad[idx] = (
                true_objective(up, X, Y, sw, act, a)
                - true_objective(down, X, Y, sw, act, a)
            ) / (2 * h)
        return grad

    F = None if moves is None else moves.T @ moves
    return move, gradient(0.0), gradient(alpha), weights[0], F


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_first_order_targets_move_the_weights_against_the_gradient_of_F(activation):
    """With first-order targets a tiny step of the three-splitting moves the
    first layer by ``-eta (G + mu_l I)^-1 grad F`` (finite differences), so
    its fixed points are stationary points of the true objective."""
    move, _, grad_F, _, _ = _first_order_weight_move(activation, True, alpha=0.05)
    np.testing.assert_allclose(move, -grad_F, rtol=2e-3, atol=2e-5)


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_output_damped_step_is_the_gradient_times_both_factors(activation):
    """With the output factor too, a tiny step of the three-splitting moves
    the first layer by ``-eta (G + mu_l I)^-1 grad F (F_D + lambda m I)^-1
    (1 + lambda) m``: still a descent direction whose fixed points are the
    stationary points of the true objective."""
    lam = 0.1
    move, _, grad_F, _, F = _first_order_weight_move(
        activation, True, alpha=0.05, output_damping=lam
    )
    m = np.trace(F) / F.shape[0]
    back = move @ (F + lam * m * np.eye(F.shape[0])) / ((1 + lam) * m)
    np.testing.assert_allclose(back, -grad_F, rtol=2e-3, atol=2e-5)
    # The factor matters: the move is not the plain first-order one.
    plain = _first_order_weight_move(activation, True, alpha=0.05)[0]
    assert np.linalg.norm(plain - move) > 0.1 * np.linalg.norm(move)


def test_output_factor_is_refreshed_every_few_w_steps(monkeypatch):
    """A run computes the Gram matrix of the moves at its first W step and
    then every ``REFRESH_STEPS``-th, for every hidden layer; each accepted
    step still lowers the true objective."""
    from skadmm._splitting import _output_factor
    from skadmm._splitting._three import ThreeSplitRelaxation

    calls, steps = [], []
    gram, w_step = ThreeSplitRelaxation.output_gram, ThreeSplitRelaxation.reset_w_step

    def spy_gram(self, k):
        calls.append((len(steps), k))
        return gram(self, k)

    def spy_step(self, k, eta, mu):
        if k == 0:
            steps.append(k)
        return w_step(self, k, eta, mu)

    monkeypatch.setattr(ThreeSplitRelaxation, "output_gram", spy_gram)
    monkeypatch.setattr(ThreeSplitRelaxation, "reset_w_step", spy_step)
    problem, X, Y, sw, act = make_problem("relu", n_blocks=1)
    mode = solver(eta=0.5)
    mode.first_order_targets, mode.output_damping = True, 0.03
    mode.setup(problem)
    values = [mode.value]
    for _ in range(9):
        values.append(mode.step(problem, _run_in_order)[0])
    every = _output_factor.REFRESH_STEPS
    due = [i for i in range(1, len(steps) + 1) if (i - 1) % every == 0]
    assert len(steps) >= 9 and [(i, k) for i in due for k in (0, 1)] == calls
    assert np.all(np.diff(values) <= 0) and values[-1] < values[0]
    objective = true_objective(problem.W, X, Y, sw, act, 1e-3)
    assert objective == pytest.approx(values[-1], rel=1e-10)


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_two_splitting_weight_step_follows_the_gradient_of_F(activation):
    """The two-splitting's weight step (backtracked, so of any length) points
    along ``-(G + mu_l I)^-1 grad F``: no rescaling of the data term."""
    move, _, grad_F, _, _ = _first_order_weight_move(activation, False, 0.05, "two")
    cosine = -np.vdot(move, grad_F) / np.linalg.norm(move) / np.linalg.norm(grad_F)
    assert cosine > 1 - 1e-6, cosine


def test_exact_z_steps_halve_the_data_gradient_of_relu_layers():
    """The exact z-step moves an active relu unit by half its share of the
    error, so by default the step follows ``1/2 grad(data) + alpha W`` (a
    stationary point of F with the hidden penalty doubled): the property the
    user guide states, and the reason first-order targets exist."""
    alpha = 0.05
    move, grad_data, grad_F, W, _ = _first_order_weight_move("relu", False, alpha)
    penalty = grad_F - grad_data
    np.testing.assert_allclose(penalty[:-1], alpha * W[:-1], rtol=1e-5, atol=1e-9)
    np.testing.assert_allclose(move, -(0.5 * grad_data + penalty), rtol=2e-3, atol=2e-5)
    assert not np.allclose(move, -grad_F, rtol=0.05, atol=1e-3)


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_top_alternations_descend_to_the_joint_minimiser_of_the_top_pair(activation):
    """More alternations of the top layer's U and Z steps never raise their
    joint relaxed energy (recomputed from scratch), and many reach a point
    where neither block moves: the joint (U, Z) block solve."""

    def swept(alternations):
        problem, X, Y, sw, act = make_problem(activation, n_blocks=0, width=6)
        mode = solver(eta=0.5)
        mode.top_alternations = alternations
        mode.setup(problem)
        mode._sweep(problem)
        U, Z = problem.U[0][:, :-1], problem.Z[0]
        V, b = problem.W[1][:-1], problem.W[1][-1]
        pre = np.column_stack([X, np.ones(len(X))]) @ problem.W[0]
        energy = (
            0.5 * np.sum((U @ V + b - Y) ** 2)
            + 0.5 * problem.beta * np.sum((Z - pre) ** 2)
            + 0.5 * problem.beta * np.sum((U - act(Z.copy())) ** 2)
        ) / len(X)
        return problem, energy

    energies = [swept(n)[1] for n in (1, 2, 5, 60)]
    assert np.all(np.diff(energies) <= 1e-12 * energies[0]), energies
    assert energies[-1] < energies[0]
    problem, _ = swept(60)
    U = problem.U[0][:, :-1].copy()
    Z = problem.Z[0].copy()
    # One more alternation leaves the pair where it is.
    problem.U[0][:, :-1] = problem.sZ[0]
    problem._descend_last_hidden()
    problem.update_preactivation(0)
    np.testing.assert_allclose(problem.U[0][:, :-1], U, atol=1e-7)
    np.testing.assert_allclose(problem.Z[0], Z, atol=1e-7)


def test_rejected_step_restores_the_weights_and_shrinks_the_step(monkeypatch):
    problem, X, Y, sw, act = make_problem("relu")
    mode = solver(eta=0.5)
    mode.setup(problem)
    start = problem.weights()
    start_value = mode.value
    original = ResetSolver._line_search
    calls = {"n": 0, "eta": []}

    def worse_first(self, problem, begin, floor):
        calls["n"] += 1
        calls["eta"].append(self.eta)
        hidden, readout, value = original(self, problem, begin, floor)
        if calls["n"] == 1:
            # Every trial of the first sweep is declared worse: rejected.
            for W in hidden:
                W += 1.0
            return hidden, readout, start_value + 1.0
        return hidden, readout, value

    monkeypatch.setattr(ResetSolver, "_line_search", worse_first)
    value, _ = mode.step(problem, _run_in_order)
    assert calls["n"] == 2
    assert calls["eta"][1] < calls["eta"][0]
    assert value < start_value
    # The accepted step starts again from the reset state of the same weights:
    # equal to a fresh run at the smaller step.
    fresh_problem, *_ = make_problem("relu")
    fresh = solver(eta=calls["eta"][1])
    fresh.setup(fresh_problem)
    for W, W0 in zip(fresh_problem.W, start, strict=True):
        np.testing.assert_array_equal(W, W0)
    fresh_value, _ = fresh.step(fresh_problem, _run_in_order)
    assert fresh_value == value
    for W, V in zip(problem.W, fresh_problem.W, strict=True):
        np.testing.assert_array_equal(W, V)


def test_a_step_that_cannot_descend_leaves_the_weights(monkeypatch):
    problem, *_ = make_problem("tanh")
    mode = solver()
    mode.setup(problem)
    start = problem.weights()
    monkeypatch.setattr(
        ResetSolver,
        "_line_search",
        lambda self, problem, begin, floor: (begin[:-1], begin[-1], self.value),
    )
    value, _ = mode.step(problem, _run_in_order)
    assert value == mode.value
    for W, W0 in zip(problem.W, start, strict=True):
        np.testing.assert_array_equal(W, W0)
    assert mode.eta < 0.1 * 0.25**5


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_a_step_within_rounding_moves_only_the_readout(monkeypatch, dtype):
    # Trials whose objective is within the rounding of the current value are
    # no descent: the hidden layers stay at the start (bit for bit) and the
    # read-out alone is refitted there. Otherwise the noise step would be
    # accepted, and weighted and repeated rows part ways.
    problem, X, Y, sw, act = make_problem("relu", dtype=dtype)
    mode = solver()
    mode.setup(problem)
    start = problem.weights()
    mode._sweep(problem)
    mode._w_steps(problem, _run_in_order)
    moved = zip(problem.W, start, strict=True)
    assert any(not np.array_equal(W, W0) for W, W0 in moved)
    floor = mode._rounding(problem)
    assert 0.0 < floor <= 1e-6 * mode.value
    noise = mode.value - 0.5 * floor

    def noisy(problem, hidden, readout):
        # The trial's features as the line search keeps them for the refit
        # (a fake objective alone would leave that buffer unset).
        ResetSolver._objective(mode, problem, hidden, readout)
        return noise

    monkeypatch.setattr(mode, "_objective", noisy)
    hidden, readout, value = mode._line_search(problem, start, floor)
    for W, W0 in zip(hidden, start[:-1], strict=True):
        np.testing.assert_array_equal(W, W0)
    expected, expected_value = problem.readout_for(start[:-1], None, _run_in_order)
    np.testing.assert_array_equal(readout, expected)
    assert value == expected_value
    # A clear descent is still taken as a step of the hidden layers.
    mode.value = noise + 2.0 * floor
    hidden, _, value = mode._line_search(problem, start, floor)
    assert value <= noise
    moved = zip(hidden, start[:-1], strict=True)
    assert any(not np.array_equal(W, W0) for W, W0 in moved)
    # An objective that is not finite has no rounding: any finite trial
    # descends from it.
    mode.value = np.inf
    assert mode._rounding(problem) == 0.0


@pytest.mark.parametrize("gain", [0.5, 0.05])
def test_extrapolation_is_accepted_only_if_it_gains_enough(monkeypatch, gain):
    problem, X, Y, sw, act = make_problem("relu")
    mode = solver()
    mode.setup(problem)
    for _ in range(3):
        mode.step(problem, _run_in_order)
    previous, current = mode._previous, problem.weights()
    t, value, last_decrease = mode._t, mode.value, mode._gain
    assert t > 1 and last_decrease > 0.0
    # The extrapolated point's objective, declared to lower the current value
    # by ``gain`` times the last iteration's decrease (the threshold is 0.1).
    real_readout = ResetSolver._readout
    monkeypatch.setattr(
        ResetSolver,
        "_readout",
        lambda self, p, hidden: (
            real_readout(self, p, hidden)[0],
            value - gain * last_decrease,
        ),
    )
    mode._extrapolate(problem, current)
    b = (t - 1) / (t + 2)
    if gain > 0.1:
        assert mode.value == value - gain * last_decrease and mode._t == t + 1
        for k in range(len(current) - 1):
            expected = current[k] + b * (current[k] - previous[k])
            np.testing.assert_allclose(problem.W[k], expected, rtol=1e-13)
        # The auxiliaries are the forward pass of the extrapolated weights.
        np.testing.assert_allclose(
            problem.U[-1][:, :-1],
            hidden_features(X, problem.W[:-1], act),
            rtol=1e-10,
            atol=1e-12,
        )
    else:
        assert mode.value == value and mode._t == 1
        for W, V in zip(problem.W, current, strict=True):
            np.testing.assert_array_equal(W, V)


@SPLIT
def test_extrapolated_readout_moves_with_the_weights_and_descends(splitting):
    # extrapolate_readout (a staged fit's setting): every weight, the
    # read-out's too, moves to W + b (W - W_prev) with no refit, and an
    # accepted point's value is the true objective of that network; the
    # objective never rises and some extrapolations are accepted.
    problem, X, Y, sw, act = make_problem("relu", weighted=True, splitting=splitting)
    mode = solver()
    mode.extrapolate_readout = True
    mode.setup(problem)
    refits = []
    real_readout = ResetSolver._readout

    def counting(self, p, hidden, kept=False):
        refits.append(kept)
        return real_readout(self, p, hidden, kept)

    mode._readout = partial(counting, mode)
    values, accepted = [mode.value], 0
    for _ in range(25):
        previous, current = mode._previous, problem.weights()
        t, before = mode._t, mode.value
        if previous is not None:
            mode._extrapolate(problem, current)
        if mode._t == t + 1 and previous is not None and t > 1:
            accepted += 1
            b = (t - 1) / (t + 2)
            for W, C, P in zip(problem.W, current, previous, strict=True):
                np.testing.assert_allclose(W, C + b * (C - P), rtol=1e-13)
            assert mode.value == pytest.approx(
                true_objective(problem.W, X, Y, sw, act, problem.alpha), rel=1e-10
            )
            assert mode.value < before
        # The rest of the iteration (the extrapolation just made is kept).
        mode._previous = problem.weights()
        values.append(mode._descend(problem, _run_in_order)[0])
    assert accepted > 0
    # Only the line search's refits, on its kept features: none at an
    # extrapolated point.
    assert all(refits)
    assert all(b <= a for a, b in zip(values, values[1:], strict=False))


@pytest.mark.parametrize("n_blocks", [0, 2])
def test_unit_scaling_scales_each_unit_s_change_by_its_readout_norm(n_blocks):
    # Oracle: column j of the last hidden layer's change is multiplied by
    # (1 + lam) m / (g_j + lam m), g_j = ||v_j||^2 and m their mean; the
    # other layers and the read-out keep the W step's values.
    problem, *_ = make_problem("relu", n_blocks=n_blocks)
    rng = np.random.default_rng(1)
    problem.W[-1][:-1] *= rng.uniform(0.01, 3.0, (problem.W[-1].shape[0] - 1, 1))
    start = problem.weights()
    stepped = [W + 0.1 * rng.standard_normal(W.shape) for W in start]
    problem.W[:] = [W.copy() for W in stepped]
    mode = solver()
    mode.unit_damping = 3.0
    mode._scale_units(problem, start)
    g = np.sum(stepped[-1][:-1] ** 2, axis=1)
    expected = (stepped[-2] - start[-2]) * (4.0 * g.mean() / (g + 3.0 * g.mean()))
    np.testing.assert_allclose(problem.W[-2] - start[-2], expected, rtol=1e-12)
    for W, S in zip(problem.W[:-2], stepped[:-2], strict=True):
        np.testing.assert_array_equal(W, S)
    np.testing.assert_array_equal(problem.W[-1], stepped[-1])
    # A unit the read-out ignores moves (1 + lam) / lam times as far as an
    # average one; a heavily used unit less.
    scale = np.linalg.norm(problem.W[-2] - start[-2], axis=0) / np.linalg.norm(
        stepped[-2] - start[-2], axis=0
    )
    assert scale[np.argmin(g)] > 1.0 > scale[np.argmax(g)]


@pytest.mark.parametrize("splitting", ["three", "two"])
def test_unit_scaled_steps_keep_the_objective_monotone(splitting):
    # The scaled step goes through the same line search: the true objective
    # never rises, and the run reaches another point than the unscaled one.
    finals = []
    for damping in (None, 3.0):
        problem, X, Y, sw, act = make_problem(
            "relu", weighted=True, splitting=splitting
        )
        mode = solver()
        mode.unit_damping = damping
        values = [mode.setup(problem)[0]]
        for _ in range(20):
            values.append(mode.step(problem, _run_in_order)[0])
        assert all(b <= a for a, b in zip(values, values[1:], strict=False))
        assert values[-1] == pytest.approx(
            true_objective(problem.W, X, Y, sw, act, problem.alpha), rel=1e-10
        )
        finals.append(values[-1])
    assert finals[0] != finals[1]


def test_extrapolation_is_used_by_default_and_can_be_turned_off():
    largest_t = {}
    for extrapolate in (True, False):
        problem, *_ = make_problem("relu")
        mode = solver(extrapolate=extrapolate)
        mode.setup(problem)
        largest_t[extrapolate] = 1
        for _ in range(15):
            mode.step(problem, _run_in_order)
            largest_t[extrapolate] = max(largest_t[extrapolate], mode._t)
    # t grows past 2 only through accepted extrapolations.
    assert largest_t[True] > 2
    assert largest_t[False] == 1 and mode._previous is None


def reset_model(**params):
    base = dict(
        solver="reset", width=12, n_blocks=2, max_iter=15, alpha=1e-3, random_state=0
    )
    base.update(params)
    return ADMMResidualRegressor(**base)


@pytest.fixture(scope="module")
def data():
    return regression_data(150, 5, seed=1)


@SPLIT
def test_row_blocks_of_the_forward_features_are_the_forward_pass(splitting):
    """With several regions the forward features are computed as one task per
    row block on the team: every merit still equals the true objective of
    the weights, and the features equal the network's hidden features."""
    problem, X, Y, sw, act = make_problem("relu", n_blocks=4, splitting=splitting)
    problem.set_regions(split_layers(len(problem.W), 3))
    mode = solver()
    mode.setup(problem)
    with Team(2) as team:
        for _ in range(5):
            value, _ = mode.step(problem, team.run)
            expected = true_objective(problem.W, X, Y, sw, act, problem.alpha)
            np.testing.assert_allclose(value, expected, rtol=1e-10)
        features = problem.forward_features(problem.W[:-1], team.run)
    np.testing.assert_allclose(
        features[:, :-1], hidden_features(X, problem.W[:-1], act), rtol=1e-12
    )


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_row_blocks_of_the_backward_sweep_are_the_sweep(activation, weighted):
    """The three-splitting's sweep as one task per row block (3 blocks, 2
    workers) moves every auxiliary exactly as the sweep over all rows does, and
    its summed links are the whole sweep's links."""

    def swept(regions, run):
        problem, *_ = make_problem(activation, weighted=weighted, n_blocks=4)
        problem.set_regions(split_layers(len(problem.W), regions))
        problem.backward_sweep(3.0, run)
        return problem

    whole = swept(1, None)
    with Team(2) as team:
        blocks = swept(2, team.run)
        three = swept(3, team.run)
    for problem in (blocks, three):
        for name in ("U", "Z", "sZ"):
            pairs = zip(getattr(problem, name), getattr(whole, name), strict=True)
            for ours, theirs in pairs:
                # tanh/sigmoid z-steps evaluate s on gathered elements (SIMD
                # or scalar loops round the last bit differently), and a tie in
                # their backtracking test can then take another halving.
                np.testing.assert_allclose(ours, theirs, rtol=1e-7, atol=1e-14)
        np.testing.assert_allclose(problem.link_sq, whole.link_sq, rtol=1e-7)
    # The sweep did move every layer: the comparison is not between resets.
    assert np.all(whole.link_sq > 1e-8)


@pytest.mark.parametrize(
    "n_jobs, n_regions, splitting",
    [(2, 2, "three"), (-1, 3, "three"), (2, None, "three"), (2, 2, "two")],
)
def test_results_do_not_depend_on_n_jobs(data, n_jobs, n_regions, splitting):
    X, y = data
    model = partial(reset_model, n_blocks=4, n_regions=n_regions, splitting=splitting)
    serial = model().fit(X, y)
    parallel = model(n_jobs=n_jobs).fit(X, y)
    np.testing.assert_array_equal(serial.predict(X), parallel.predict(X))
    assert serial.objective_curve_ == parallel.objective_curve_


@SPLIT
def test_integer_sample_weight_equals_repeated_rows(data, splitting):
    X, y = data
    counts = np.random.default_rng(3).integers(1, 4, len(y))
    model = partial(reset_model, splitting=splitting)
    weighted = model().fit(X, y, sample_weight=counts)
    repeated = model().fit(np.repeat(X, counts, axis=0), np.repeat(y, counts))
    np.testing.assert_allclose(
        weighted.predict(X), repeated.predict(X), rtol=1e-7, atol=1e-9
    )


@SPLIT
def test_estimator_beats_random_features(data, splitting):
    X, y = data
    est = reset_model(max_iter=40, splitting=splitting).fit(X, y)
    random_features = reset_model(solver="radmm", max_iter=1).fit(X, y)
    assert est.score(X, y) > random_features.score(X, y) + 0.1


def test_two_splitting_is_accepted_and_keeps_its_own_state(data):
    X, y = data
    est = reset_model(splitting="two", max_iter=3, warm_start=True).fit(X, y)
    problem = est._solver_state[0]
    # Its own relaxation (no pre-activations), reset to the forward pass of the
    # stored weights by the last accepted step.
    assert problem.name == "two" and not hasattr(problem, "Z")
    assert not problem.link_sq.any()


def test_weight_step_curve_measures_the_hidden_weight_change(data):
    X, y = data
    one = reset_model(max_iter=1).fit(X, y)
    two = reset_model(max_iter=2).fit(X, y)
    old, new = one.coefs_[:-1], two.coefs_[:-1]
    old_b, new_b = one.intercepts_[:-1], two.intercepts_[:-1]
    moved = sum(
        np.sum((b - a) ** 2) for a, b in zip(old + old_b, new + new_b, strict=True)
    )
    size = sum(np.sum(a**2) for a in old + old_b)
    assert len(two.weight_step_curve_) == two.n_iter_ == 2
    assert two.weight_step_curve_[0] == one.weight_step_curve_[0]
    np.testing.assert_allclose(two.weight_step_curve_[1], np.sqrt(moved / size))
    # The hidden layers learn in this mode (the paper's mode at its default
    # beta moves them by about 1e-4 per iteration).
    assert min(two.weight_step_curve_) > 1e-3


@SPLIT
def test_warm_start_continues_the_descent(data, splitting):
    X, y = data
    est = reset_model(max_iter=8, warm_start=True, splitting=splitting)
    est.fit(X, y)
    first = list(est.objective_curve_)
    est.fit(X, y)
    assert est.n_iter_ == 16 and est.objective_curve_[:8] == first
    # The second call starts from the stored weights (its read-out refit can
    # only lower the objective), so the whole curve keeps falling.
    assert np.all(np.diff(est.objective_curve_) <= 0.0)
    assert est.objective_curve_[-1] < first[-1]


@SPLIT
def test_float32_stays_float32(splitting):
    problem, X, Y, sw, act = make_problem(
        "tanh", n_blocks=2, splitting=splitting, dtype=np.float32
    )
    mode = solver()
    values = [mode.setup(problem)[0]]
    for _ in range(5):
        values.append(mode.step(problem, _run_in_order)[0])
    own = problem.Z if splitting == "three" else problem.sH
    arrays = [*problem.W, *problem.U, *own]
    assert all(A.dtype == np.float32 for A in arrays)
    assert np.all(np.diff(values) <= 0.0) and values[-1] < values[0]
    # The merit is the objective of the float32 network, up to its rounding.
    expected = true_objective(
        [W.astype(float) for W in problem.W], X, Y, sw, act, problem.alpha
    )
    np.testing.assert_allclose(values[-1], expected, rtol=1e-4)


def test_early_stopping_keeps_the_best_validation_iterate(data):
    X, y = data
    est = reset_model(max_iter=60, early_stopping=True, n_iter_no_change=5).fit(X, y)
    scores = est.validation_scores_
    best = int(np.argmax(scores))
    assert est.best_validation_score_ == scores[best]
    # It stopped because the validation score stalled, not at max_iter ...
    assert est.n_iter_ < 60 and est.n_iter_ - 1 - best >= 5
    # ... and returned the best iterate: its training loss is that of iteration
    # best + 1, not that of the last iteration.
    assert est.best_loss_ == est.validation_loss_curve_[best]


@SPLIT
@pytest.mark.parametrize(
    "embedding, n_jobs, n_regions",
    [("onehot", None, None), ("piecewise", None, None), ("onehot", 2, 2)],
)
def test_reused_first_layer_products_change_no_iterate(
    monkeypatch, splitting, embedding, n_jobs, n_regions
):
    """The reset's copies of the first layer's product (the accepted trial's,
    and Z_1 in the sweep's first z-step) are the products themselves: a fit
    that multiplies every time ends bit for bit where the cached one does."""
    import skadmm._splitting._reset_hooks as hooks

    rng = np.random.default_rng(3)
    X = rng.standard_normal((240, 6))
    y = np.sin(2 * X[:, 0]) + np.abs(X[:, 1]) + 0.1 * rng.standard_normal(240)
    params = dict(
        width=12,
        n_blocks=2,
        max_iter=12,
        alpha=1e-3,
        splitting=splitting,
        embedding=embedding,
        n_bins=8,
        n_jobs=n_jobs,
        n_regions=n_regions,
        random_state=0,
    )
    cached = ADMMResidualRegressor(**params).fit(X, y)
    monkeypatch.setattr(hooks, "caches_first_layer", lambda *args: False)
    monkeypatch.setattr(hooks.LocalResetHooks, "take_forward_z0", lambda self: False)
    plain = ADMMResidualRegressor(**params).fit(X, y)
    assert cached.n_iter_ == plain.n_iter_
    for a, b in zip(cached.coefs_, plain.coefs_, strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(cached.predict(X), plain.predict(X))

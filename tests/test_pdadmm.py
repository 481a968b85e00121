"""solver="pdadmm": the p/q relaxation, its Jacobi iteration and the estimator mode."""

import warnings

import numpy as np
import pytest
from joblib import cpu_count
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_limits

from skadmm import ADMMResidualRegressor
from skadmm._activations import ACTIVATIONS, get_activation
from skadmm._network import append_identity_blocks, forward, init_weights
from skadmm._parallel import split_layers
from skadmm._solvers import SOLVERS, PDADMMSolver
from skadmm._solvers._pdadmm import check_penalties, penalty_bound
from skadmm._splitting._pdadmm import Z_PROX, PQRelaxation
from skadmm.exceptions import (
    DivergenceWarning,
    FitInterruptedWarning,
    PenaltyConditionWarning,
)

from ._problems import independent_pq_lrho, iterate, random_problem
from ._threads import ThreadMeeting

# Short fits stop at max_iter on purpose.
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

ACTS = sorted(ACTIVATIONS)
# Penalties that satisfy rho > max(4 nu S^2, 2.56 nu) for every activation.
NU, RHO = 1.0, 4.5


def make_problem(activation="relu", *, weighted=False, n_blocks=3, width=12, **kw):
    X, Y, sw, W, act = random_problem(
        120,
        activation,
        width=width,
        n_blocks=n_blocks,
        weighted=weighted,
        seed=kw.pop("seed", 0),
    )
    params = dict(beta=NU, rho=RHO, tau=1e-3, alpha=1e-3)
    params.update(kw)
    n_regions = params.pop("n_regions", 1)
    problem = PQRelaxation(X, Y, sw, W, act, **params)
    problem.set_regions(split_layers(len(W), n_regions))
    return problem, X, Y, sw


# ---------------------------------------------------------------- the iteration
@pytest.mark.parametrize("activation", ACTS)
def test_multiplier_identity(activation):
    """After every iteration ``u_l = nu (q_l - p_l[l>=1] - s(z_l))``."""
    problem, X, *_ = make_problem(activation, weighted=True)
    for _ in range(10):
        iterate(problem)
        for k in range(problem.H):
            skip = problem.P[k][:, :-1] if k else 0.0
            r = problem.Q[k] - skip - problem.act(problem.Z[k])
            np.testing.assert_allclose(problem.Mu[k], NU * r, atol=1e-12)


def test_initial_state_is_the_forward_pass():
    problem, X, Y, _ = make_problem("tanh")
    np.testing.assert_allclose(problem.R, forward(X, problem.W, problem.act))
    value, residual = problem.objective()
    assert residual == 0.0
    reg = sum(np.sum(W[:-1] ** 2) for W in problem.W)
    np.testing.assert_allclose(
        value, 0.5 * problem.rw.sq_norm(problem.R - Y) + 0.5e-3 * reg
    )


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("k", [1, 2, 4])
def test_input_block_is_the_exact_minimiser(k, weighted):
    """Phase A's ``p_k`` minimises L_rho: no random perturbation lowers it."""
    problem, X, Y, sw = make_problem("relu", weighted=weighted)
    for _ in range(3):
        iterate(problem)
    problem.update_input(k)
    best = independent_pq_lrho(problem, X, Y, sw)
    rng = np.random.default_rng(k)
    p = problem.P[k][:, :-1]
    start = p.copy()
    for scale in (1e-4, 1e-2, 1.0):
        for _ in range(5):
            p[...] = start + scale * rng.standard_normal(p.shape)
            assert independent_pq_lrho(problem, X, Y, sw) > best
    # ... and its gradient vanishes (central differences along a direction).
    D = rng.standard_normal(p.shape)
    h = 1e-4
    p[...] = start + h * D
    up = independent_pq_lrho(problem, X, Y, sw)
    p[...] = start - h * D
    down = independent_pq_lrho(problem, X, Y, sw)
    assert abs(up - down) / (2 * h) < 1e-8 * max(1.0, np.abs(D).sum())


@pytest.mark.parametrize("k", [0, 2, 4])
def test_weight_block_is_the_exact_minimiser(k):
    """The ridge step of ``W_k`` minimises its terms plus ``tau/2 ||W - W_old||^2``."""
    problem, X, Y, sw = make_problem("leaky_relu", weighted=True, tau=0.0)
    for _ in range(3):
        iterate(problem)
    target = problem.O if k == problem.H else problem.Z[k]
    problem._ridge(k, target)
    best = independent_pq_lrho(problem, X, Y, sw)
    rng = np.random.default_rng(k)
    W = problem.W[k]
    start = W.copy()
    for scale in (1e-5, 1e-2, 1.0):
        W[...] = start + scale * rng.standard_normal(W.shape)
        assert independent_pq_lrho(problem, X, Y, sw) > best


def test_phase_tasks_commute_and_grouping_does_not_matter():
    """Jacobi: the tasks of a phase touch disjoint blocks, so their order and
    how the layers are grouped (n_regions) leave the iterates bit-identical."""
    states = []
    for n_regions, reverse in [(1, False), (3, False), (3, True), (4, True)]:
        problem, *_ = make_problem("tanh", n_blocks=7, n_regions=n_regions)

        def run(tasks, reverse=reverse):
            for task in reversed(tasks) if reverse else tasks:
                task()

        for _ in range(5):
            iterate(problem, run)
        states.append([*problem.W, *problem.P, *problem.Z, *problem.Mu, problem.O])
    for other in states[1:]:
        for a, b in zip(states[0], other, strict=True):
            np.testing.assert_array_equal(a, b)


def test_z_step_uses_the_papers_proximal_weight():
    assert Z_PROX == 1.0


# ------------------------------------------------------------ the penalties
def test_penalty_bound_values():
    assert penalty_bound(1.0, "relu")[0] == 4.0
    assert penalty_bound(1.0, "sigmoid")[0] == pytest.approx((17**0.5 + 1) / 2)
    # S is the largest slope of the activation.
    z = np.linspace(-6, 6, 200_001)
    for name, act in ACTIVATIONS.items():
        S = act.lipschitz
        slope = np.abs(np.diff(get_activation(name)(z)) / np.diff(z)).max()
        assert slope == pytest.approx(S, rel=1e-4)


@pytest.mark.parametrize(
    "activation, beta, rho, term",
    [
        ("relu", 1.0, 3.9, r"4 \* beta \* S\^2 with S = 1"),
        ("tanh", 1000.0, 2.0, r"4 \* beta \* S\^2 with S = 1"),
        ("sigmoid", 1.0, 2.5, r"\(sqrt\(17\) \+ 1\) / 2 \* beta"),
    ],
)
def test_condition_broken_is_warned_with_the_failed_term(activation, beta, rho, term):
    with pytest.warns(PenaltyConditionWarning, match=term) as record:
        assert not check_penalties(beta, rho, activation)
    bound = penalty_bound(beta, activation)[0]
    assert f"Set rho > {bound:g}" in str(record[0].message)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert check_penalties(beta, bound * 1.001, activation)


def pd(**params):
    base = dict(
        solver="pdadmm",
        width=12,
        n_blocks=3,
        beta=NU,
        rho=RHO,
        alpha=1e-3,
        max_iter=30,
        random_state=0,
    )
    base.update(params)
    return ADMMResidualRegressor(**base)


def test_radmm_penalties_warn_and_an_increase_stops_the_run(data):
    """RADMM's penalties (beta=1000, rho=2) break the condition; on this
    problem L_rho then rises at some iteration, which stops the fit with a
    DivergenceWarning that names the remedy, keeping the last good iterate."""
    X, y = data
    est = pd(beta=1000.0, rho=2.0, max_iter=100)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        est.fit(X, y)
    kinds = [type(w.message) for w in record]
    assert PenaltyConditionWarning in kinds
    divergence = [w for w in record if w.category is DivergenceWarning]
    assert len(divergence) == 1
    message = str(divergence[0].message)
    assert "L_rho increased" in message and "Raise `rho`" in message
    assert est.n_iter_ < 100
    # Every recorded iterate is monotone: the rising one was not kept.
    curve = np.asarray(est.objective_curve_)
    assert np.all(np.diff(curve) <= 0)
    assert np.isfinite(est.predict(X)).all()


@pytest.mark.parametrize("activation", ACTS)
def test_auto_penalties_meet_the_condition(data, activation):
    """``beta="auto"``, ``rho="auto"`` resolve to pdADMM's own (1, 5), which
    satisfy the condition for every activation: no warning, monotone L_rho."""
    X, y = data
    assert PDADMMSolver.penalties({"beta": "auto", "rho": "auto"}) == {
        "beta": 1.0,
        "rho": 5.0,
    }
    bound, _ = penalty_bound(1.0, activation)
    assert 5.0 > bound
    est = ADMMResidualRegressor(
        solver="pdadmm",
        n_blocks=1,
        width=8,
        activation=activation,
        alpha=1e-3,
        max_iter=15,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", PenaltyConditionWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y)
    assert np.all(np.diff(est.objective_curve_) <= 1e-10 * abs(est.objective_curve_[0]))


@pytest.mark.parametrize("activation", ACTS)
def test_estimator_defaults_fit_without_warnings(data, activation):
    X, y = data
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = pd(activation=activation, max_iter=40).fit(X, y)
    assert est.n_iter_ == 40
    assert est.score(X, y) > 0.2


@pytest.mark.parametrize(
    "params, message",
    [
        (dict(update="linearized"), "update='linearized' is not supported"),
        (dict(splitting="two"), "splitting='two' does not apply"),
    ],
)
def test_unsupported_options_are_refused(data, params, message):
    X, y = data
    with pytest.raises(ValueError, match=message):
        pd(**params).fit(X, y)


# ------------------------------------------------------------- parallelism


def test_results_are_bit_identical_for_any_n_jobs(data):
    X, y = data
    fits = [
        pd(
            n_blocks=6, n_regions=3, n_jobs=n, early_stopping=True, n_iter_no_change=50
        ).fit(X, y)
        for n in (1, 2, -1)
    ]
    ref = fits[0]
    assert ref.n_iter_ == 30
    for est in fits[1:]:
        assert est.n_iter_ == ref.n_iter_
        for a, b in zip(
            est.coefs_ + est.intercepts_, ref.coefs_ + ref.intercepts_, strict=True
        ):
            np.testing.assert_array_equal(a, b)
        assert est.objective_curve_ == ref.objective_curve_
        assert est.loss_curve_ == ref.loss_curve_
        assert est.validation_scores_ == ref.validation_scores_


def test_regions_do_not_change_the_iterates_on_one_blas_thread(data):
    """Unlike the regional update, the Jacobi iterates do not depend on how the
    layers are grouped into tasks (with the BLAS threads fixed)."""
    X, y = data
    with threadpool_limits(1, user_api="blas"):
        fits = [pd(n_blocks=6, n_regions=r, n_jobs=r).fit(X, y) for r in (1, 2, 4)]
        # One layer per region is enough: the regions only count workers (a
        # network of 3 layers on 3 regions, refused while regions needed two).
        shallow = [pd(n_blocks=1, n_regions=r, n_jobs=r).fit(X, y) for r in (1, 3)]
    for est in fits[1:]:
        for a, b in zip(est.coefs_, fits[0].coefs_, strict=True):
            np.testing.assert_array_equal(a, b)
    for a, b in zip(shallow[1].coefs_, shallow[0].coefs_, strict=True):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="n_regions=4 needs at least 4 layers"):
        pd(n_blocks=1, n_regions=4).fit(X, y)


@pytest.mark.skipif(cpu_count() < 2, reason="needs two cores")
def test_workers_really_share_the_layers(data, monkeypatch):
    X, y = data
    meeting = ThreadMeeting()
    original = PQRelaxation.update_layer

    def spy(self, k):
        meeting.enter()
        original(self, k)

    monkeypatch.setattr(PQRelaxation, "update_layer", spy)
    with threadpool_limits(2, user_api="blas"):
        pd(n_blocks=6, n_regions=2, n_jobs=2, max_iter=40).fit(X, y)
    assert len(meeting.threads) == 2


# ------------------------------------------------ weights, warm start, growth
def test_integer_weights_equal_repeating_rows(data):
    X, y = data
    rng = np.random.default_rng(0)
    w = rng.integers(1, 3, X.shape[0])
    weighted = pd(max_iter=20).fit(X, y, sample_weight=w)
    repeated = pd(max_iter=20).fit(np.repeat(X, w, axis=0), np.repeat(y, w))
    np.testing.assert_allclose(weighted.predict(X), repeated.predict(X), rtol=1e-7)
    np.testing.assert_allclose(
        weighted.objective_curve_, repeated.objective_curve_, rtol=1e-9
    )


def test_warm_start_continues_the_same_iterates(data):
    X, y = data
    once = pd(max_iter=20, refit_readout=False).fit(X, y)
    twice = pd(max_iter=10, refit_readout=False, warm_start=True)
    twice.fit(X, y).fit(X, y)
    assert twice.n_iter_ == 20
    np.testing.assert_array_equal(once.objective_curve_, twice.objective_curve_)
    for a, b in zip(once.coefs_, twice.coefs_, strict=True):
        np.testing.assert_array_equal(a, b)


def test_warm_start_with_new_penalties_resyncs_the_state(data):
    """New beta and rho on a kept state: the solver's setup rebuilds the
    multipliers for the new nu and recomputes the cached terms, so the merit it
    starts from is L_rho of the new problem and the run stays monotone."""
    X, y = data
    est = pd(max_iter=10, warm_start=True).fit(X, y)
    problem = est._solver_state[0]
    Y = problem.Y
    problem.beta, problem.rho = 2.0, 9.0
    value, _ = PDADMMSolver(1, 0.0, 1).setup(problem)
    np.testing.assert_allclose(
        value, independent_pq_lrho(problem, X, Y, None), rtol=1e-10
    )
    for k in range(problem.H):
        skip = problem.P[k][:, :-1] if k else 0.0
        r = problem.Q[k] - skip - problem.act(problem.Z[k])
        np.testing.assert_allclose(problem.Mu[k], 2.0 * r, atol=1e-12)
    # Unchanged penalties change no bit of the state.
    before = [M.copy() for M in problem.Mu]
    PDADMMSolver(1, 0.0, 1).setup(problem)
    for a, b in zip(before, problem.Mu, strict=True):
        np.testing.assert_array_equal(a, b)
    # Through the estimator, with other penalties again.
    est.set_params(beta=0.5, rho=3.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DivergenceWarning)
        warnings.simplefilter("error", PenaltyConditionWarning)
        est.fit(X, y)
    assert est._solver_state[0] is problem and problem.beta == 0.5
    curve = np.asarray(est.objective_curve_[10:])
    assert np.all(np.diff(curve) <= 1e-12 * curve[0])


@pytest.mark.parametrize("activation", ACTS)
def test_identity_blocks_keep_the_function(activation):
    rng = np.random.default_rng(0)
    act = get_activation(activation)
    X = rng.standard_normal((50, 4))
    W = init_weights(4, 8, 2, 3, act, rng, X.dtype)
    for W_k in W:
        W_k[-1] = rng.standard_normal(W_k.shape[1])
    grown = append_identity_blocks(W, 3, act)
    assert len(grown) == len(W) + 3
    assert all(not G.any() for G in grown[len(W) - 1 : -1])
    np.testing.assert_allclose(forward(X, grown, act), forward(X, W, act), rtol=1e-12)


@pytest.mark.parametrize("activation", ["relu", "sigmoid"])
def test_warm_start_grows_the_depth(data, activation, monkeypatch):
    """More n_blocks with warm_start appends zero blocks: before any iteration
    the grown network predicts what the trained one did."""
    X, y = data
    est = pd(activation=activation, n_blocks=1, warm_start=True).fit(X, y)
    before = est.predict(X)
    old = [c.copy() for c in est.coefs_]

    # Stop the grown fit before its first iteration: the kept weights are the
    # grown network as the warm start built it.
    def interrupted(self, problem, run):
        raise KeyboardInterrupt

    monkeypatch.setattr(PDADMMSolver, "step", interrupted)
    est.set_params(n_blocks=4, refit_readout=False)
    with pytest.warns(FitInterruptedWarning):
        est.fit(X, y)
    assert len(est.coefs_) == len(old) + 3
    for a, b in zip(est.coefs_[:2], old[:2], strict=True):
        np.testing.assert_array_equal(a, b)
    assert all(not c.any() for c in est.coefs_[2:-1])
    np.testing.assert_allclose(est.predict(X), before, rtol=1e-10, atol=1e-12)
    # The grown network then trains on.
    monkeypatch.undo()
    est.set_params(max_iter=20).fit(X, y)
    assert est.n_iter_ == 50
    assert any(c.any() for c in est.coefs_[2:-1])


def test_other_solvers_still_refuse_a_new_architecture(data):
    X, y = data
    est = ADMMResidualRegressor(
        width=12, n_blocks=1, max_iter=3, alpha=1e-3, warm_start=True
    ).fit(X, y)
    est.set_params(n_blocks=2)
    with pytest.raises(ValueError, match="solver='pdadmm' can also grow it"):
        est.fit(X, y)
    # Fewer blocks or another width is refused by pdadmm too.
    est = pd(n_blocks=2, warm_start=True).fit(X, y)
    for params in (dict(n_blocks=1), dict(width=13, n_blocks=3)):
        est.set_params(**params)
        with pytest.raises(ValueError, match="needs the architecture"):
            est.fit(X, y)
        est.set_params(n_blocks=2, width=12)


def test_registered_and_memory_counted():
    assert SOLVERS["pdadmm"] is PDADMMSolver
    arrays = PQRelaxation.state_arrays(1000, 5, 16, 4, 2)
    assert arrays["z, q, u"] == 3 * 4 * 1000 * 16
    assert arrays["p (augmented)"] == 4 * 1000 * 17


def test_float32_is_kept_and_monotone(data):
    X, y = data
    # The runtime merit check allows float32 rounding, no more: no false alarm.
    with warnings.catch_warnings():
        warnings.simplefilter("error", DivergenceWarning)
        est = pd(max_iter=100).fit(X.astype(np.float32), y.astype(np.float32))
    assert est.coefs_[0].dtype == np.float32
    assert est.n_iter_ == 100
    curve = np.asarray(est.objective_curve_)
    assert curve[-1] < 0.5 * curve[0]


# ------------------------------------------------------------ estimator checks

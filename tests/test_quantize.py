"""pdADMM-G-Q: quantized p/q iterates of solver="pdadmm" and the bytes exchanged."""

import warnings

import numpy as np
import pytest

from skadmm import ADMMResidualClassifier, ADMMResidualRegressor
from skadmm._parallel import split_layers
from skadmm._quantize import CODE_DTYPES, StepLevels, UniformLevels
from skadmm._solvers import PDADMMSolver
from skadmm._splitting._pdadmm import PQRelaxation
from skadmm.datasets import make_csbm
from skadmm.exceptions import DivergenceWarning
from skadmm.graph import hop_features

from ._problems import random_problem

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

NU, RHO = 1.0, 4.5


def make_problem(
    quantize, bits, *, activation="relu", seed=0, weighted=False, levels="step"
):
    X, Y, sw, W, act = random_problem(
        120, activation, width=12, n_blocks=3, weighted=weighted, seed=seed
    )
    problem = PQRelaxation(
        X,
        Y,
        sw,
        W,
        act,
        beta=NU,
        rho=RHO,
        tau=1e-3,
        alpha=1e-3,
        quantize=quantize,
        quantize_bits=bits,
        quantize_levels=levels,
    )
    problem.set_regions(split_layers(len(W), 1))
    return problem


def run(problem, n_iter):
    """Merits of the setup and of ``n_iter`` iterations."""
    solver = PDADMMSolver(n_iter, 0.0, 10)
    merits = [solver.setup(problem)[0]]
    for _ in range(n_iter):
        merits.append(solver.step(problem, None)[0])
    return np.array(merits)


def on_levels(x, levels):
    """``x`` equals ``offset + code * step`` exactly, integer codes in range."""
    codes = np.rint((x - levels.offset) / levels.step)
    assert codes.min() >= 0 and codes.max() <= levels.top
    rebuilt = levels.values(codes.astype(levels.code_dtype))
    return np.array_equal(x, rebuilt)


def test_levels_round_and_clip():
    levels = UniformLevels(-1.0, 1.0, 8, np.float64)
    # Range [-2, 2] after the margin, 255 steps.
    assert levels.offset == -2.0 and levels.step == 4.0 / 255
    x = np.array([-5.0, -2.0, 0.013, 1.999, 7.0])
    y = levels.project(x.copy())
    assert y[0] == -2.0 and y[-1] == levels.values(np.array([255], np.uint8))[0]
    # Nearest level: no other level is closer.
    for xi, yi in zip(x[1:4], y[1:4], strict=True):
        assert abs(xi - yi) <= levels.step / 2 + 1e-15
    codes, header = levels.encode(y)
    assert codes.dtype == np.uint8
    np.testing.assert_array_equal(levels.decode(codes, header), y)


@pytest.mark.parametrize("bits", [8, 16])
def test_step_levels_round_clip_and_hold_the_zero_change(bits):
    change = np.array([[-0.3, 0.0, 1e-9], [0.25, -0.01, 0.3]])
    levels = StepLevels.covering(change, bits)
    zero = 2 ** (bits - 1) - 1
    # The largest element is zero levels from 0; code zero is 0 exactly.
    assert levels.step == 0.3 / zero and levels.zero == zero
    codes = levels.codes(change)
    assert codes.dtype == CODE_DTYPES[bits] and codes[0, 1] == zero
    values = levels.values(codes)
    assert values[0, 1] == 0.0
    assert np.all(np.abs(values - change) <= levels.step / 2 + 1e-15)
    # Beyond the range: clipped to the end levels.
    far = levels.codes(np.array([-1.0, 1.0]))
    assert far.tolist() == [0, levels.top]
    np.testing.assert_array_equal(StepLevels.decode(*levels.encode(codes)), values)
    # No change at all: any positive step, every code the zero change.
    still = StepLevels.covering(np.zeros((2, 3)), bits)
    assert still.step > 0 and np.all(still.codes(np.zeros(3)) == zero)


@pytest.mark.parametrize("quantize", ["p", "q", "pq"])
@pytest.mark.parametrize("bits", [8, 16])
def test_quantized_iterates_lie_on_the_level_set(quantize, bits):
    """The first quantized p, q lie on their link's fixed levels; every later
    change of them on the levels it was sent with (codes and header), so the
    receiver's copy, built from what was sent, is the iterate bit for bit."""
    problem = make_problem(quantize, bits)
    H = problem.H
    solver = PDADMMSolver(8, 0.0, 10)
    solver.setup(problem)
    for k in range(H):
        for name, x in (("p", problem.P[k + 1][:, :-1]), ("q", problem.Q[k])):
            if name in quantize:
                assert on_levels(x, problem.levels[k]), (name, k)
        if quantize == "p":
            assert not on_levels(problem.Q[k], problem.levels[k]), k
    held = {
        "p": [P[:, :-1].copy() for P in problem.P[1:]],
        "q": [Q.copy() for Q in problem.Q],
    }
    moved = dict.fromkeys("pq", 0)
    for _ in range(8):
        solver.step(problem, None)
        for k in range(H):
            iterate = {"p": problem.P[k + 1][:, :-1], "q": problem.Q[k]}
            for name, index in (("p", k + 1), ("q", k)):
                sent = problem.encode(name, index)
                if name in quantize:
                    codes, header = sent
                    assert codes.dtype == CODE_DTYPES[bits]
                    assert codes.shape == iterate[name].shape
                    assert header.shape == (2,) and header[1] > 0
                    # Code 2**(bits-1) - 1 is the zero change, exactly.
                    zero = np.full(1, 2 ** (bits - 1) - 1, codes.dtype)
                    assert StepLevels.decode(zero, header)[0] == 0.0
                    change = StepLevels.decode(codes, header)
                    held[name][k] += change
                    moved[name] += np.count_nonzero(change)
                else:
                    (x,) = sent
                    held[name][k] = x.copy()
                np.testing.assert_array_equal(held[name][k], iterate[name])
    # The quantized variables keep moving (on fixed levels, 8-bit p froze).
    for name in quantize:
        assert moved[name] > 0, name


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
@pytest.mark.parametrize("bits", [8, 16])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_quantized_p_keeps_the_merit_monotone(activation, bits, seed):
    """Quantized p with exact q: the identity u = nu r holds, and the projected
    step lowers its block by lambda_max / 2 ||dp||^2, so L_rho never rises."""
    problem = make_problem("p", bits, activation=activation, seed=seed, weighted=True)
    merits = run(problem, 40)
    rises = np.diff(merits) / np.abs(merits[:-1])
    assert rises.max() <= 1e-10


@pytest.mark.parametrize("quantize", ["q", "pq"])
@pytest.mark.parametrize("bits", [8, 16])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_quantized_q_keeps_the_merit_monotone_here(quantize, bits, seed):
    """A rounded q breaks u = nu r by (nu + rho) times the rounding, so no
    descent is guaranteed; with the levels of the change (the rounding shrinks
    with the change) the rises stay below rounding on these problems."""
    merits = run(make_problem(quantize, bits, seed=seed), 40)
    assert (np.diff(merits) / np.abs(merits[:-1])).max() <= 1e-10


def test_quantized_q_at_8_bits_runs_on_where_fixed_levels_stopped():
    """With q on the link's fixed 8-bit levels this run rose and was stopped
    by the merit check within 30 iterations; on the levels of its change it
    runs all 100, the merit never rising."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 10))
    y = np.sin(X[:, 0]) + X[:, 1] * X[:, 2]
    est = ADMMResidualRegressor(
        solver="pdadmm", width=32, n_blocks=3, max_iter=100, tol=0.0,
        quantize="q", quantize_bits=8, alpha=1e-3, random_state=0,
    )  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("error", DivergenceWarning)
        est.fit(X, y)
    assert est.n_iter_ == 100
    assert np.all(np.diff(est.objective_curve_) <= 0)


@pytest.mark.parametrize("quantize", ["p", "q", "pq"])
def test_16_bits_is_close_to_unquantized(quantize):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 6))
    y = np.sin(X[:, 0]) + X[:, 1] * X[:, 2]
    params = dict(
        solver="pdadmm", width=16, n_blocks=2, max_iter=40, tol=0.0,
        alpha=1e-3, random_state=0,
    )  # fmt: skip
    exact = ADMMResidualRegressor(**params).fit(X, y)
    quant = ADMMResidualRegressor(quantize=quantize, quantize_bits=16, **params)
    quant.fit(X, y)
    # A rounded q only moves the iterate by the rounding; so does a quantized
    # p, whose rows take the rounded exact step wherever it lowers their
    # block enough (with the projected gradient step alone the score was 0.035
    # and the merit 9 % away here).
    tol = 0.01
    assert abs(quant.score(X, y) - exact.score(X, y)) < tol
    a, b = exact.objective_curve_[-1], quant.objective_curve_[-1]
    assert abs(a - b) <= 2 * tol * abs(a)


@pytest.mark.parametrize("quantize", [None, "p", "q", "pq"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_exchange_bytes_are_those_of_the_encoded_arrays(quantize, dtype):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((150, 5)).astype(dtype)
    y = rng.integers(0, 3, 150)
    est = ADMMResidualClassifier(
        solver="pdadmm", width=16, n_blocks=2, max_iter=5, tol=0.0,
        quantize=quantize, warm_start=True, random_state=0,
    )  # fmt: skip
    est.fit(X, y)
    problem = est._solver_state[0]
    H = problem.H
    expected = {
        "p": sum(a.nbytes for k in range(1, H + 1) for a in problem.encode("p", k)),
        "q": sum(a.nbytes for k in range(H) for a in problem.encode("q", k)),
        "u": sum(a.nbytes for k in range(H) for a in problem.encode("u", k)),
    }
    assert est.exchange_bytes_ == expected
    floats = H * len(X) * 16 * np.dtype(dtype).itemsize
    assert expected["u"] == floats
    for name in "pq":
        if quantize is not None and name in quantize:
            codes, header = problem.encode(name, 1)
            assert codes.dtype == np.uint8 and header.dtype == dtype
            assert expected[name] == H * (len(X) * 16 + 2 * np.dtype(dtype).itemsize)
        else:
            assert expected[name] == floats


@pytest.mark.parametrize("levels", ["step", "fixed"])
def test_8_bits_take_a_quarter_of_float32(levels):
    rng = np.random.default_rng(1)
    X = rng.standard_normal((200, 5)).astype(np.float32)
    y = rng.integers(0, 2, 200)
    params = dict(solver="pdadmm", width=16, n_blocks=3, max_iter=3, tol=0.0)
    plain = ADMMResidualClassifier(**params).fit(X, y).exchange_bytes_
    quant = ADMMResidualClassifier(quantize="pq", quantize_levels=levels, **params)
    sent = quant.fit(X, y).exchange_bytes_
    # The codes are a quarter of the float32 bytes; with the levels of each
    # change each of the 4 links adds its 8-byte header (offset, step), with
    # fixed levels (held by both sides) none.
    header = 4 * 8 if levels == "step" else 0
    for name in "pq":
        assert sent[name] == plain[name] / 4 + header
    assert sent["u"] == plain["u"]


def test_other_modes_record_no_exchange():
    X = np.random.default_rng(0).standard_normal((60, 3))
    y = X[:, 0]
    est = ADMMResidualRegressor(width=8, max_iter=3).fit(X, y)
    assert est.exchange_bytes_ is None


def test_quantize_bits_without_quantize_is_warned_about():
    X = np.random.default_rng(0).standard_normal((60, 3))
    y = X[:, 0]
    est = ADMMResidualRegressor(solver="pdadmm", width=8, max_iter=3, quantize_bits=16)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est.fit(X, y)
    phrase = "quantize_bits=16 (read only with quantize"
    assert any(phrase in str(w.message) for w in caught)


def test_invalid_quantize_bits():
    X = np.random.default_rng(0).standard_normal((60, 3))
    with pytest.raises(ValueError, match="quantize_bits"):
        ADMMResidualRegressor(solver="pdadmm", quantize="p", quantize_bits=4).fit(
            X, X[:, 0]
        )


def test_quantized_p_starts_from_the_forward_pass_of_rounded_inputs():
    """With "p" the first forward pass runs on the rounded inputs: every output
    link holds exactly, so u = 0 = nu r, the identity the descent rests on."""
    problem = make_problem("p", 8)
    problem.sync_penalties()
    assert np.all(problem.links[:-1, 1] <= 1e-28)  # zero up to rounding
    assert np.all(problem.links[:-1, 3] > 0.0)  # p_{l+1} = Pi(q_l) != q_l
    assert all(not np.any(U) for U in problem.Mu)


def test_8_bit_p_does_not_stall_on_a_graph():
    """With levels fixed over the range of p, 8-bit p stopped at the rounded
    exact minimiser after a few iterations (merit 0.19 against 0.13 here); the
    levels of the change follow its size, so p keeps moving."""
    A, X, y = make_csbm(
        n_nodes=400, n_classes=3, n_features=16, homophily=0.8,
        feature_signal=1.0, average_degree=10.0, random_state=0,
    )  # fmt: skip
    H = hop_features(A, X, n_hops=3)[:60]
    params = dict(
        solver="pdadmm", width=64, n_blocks=0, max_iter=50, tol=0.0,
        alpha=3e-3, random_state=0,
    )  # fmt: skip
    exact = ADMMResidualClassifier(**params).fit(H, y[:60])
    quant = ADMMResidualClassifier(quantize="p", quantize_bits=8, **params)
    quant.fit(H, y[:60])
    assert np.all(np.diff(quant.objective_curve_) <= 0)
    a, b = exact.objective_curve_[-1], quant.objective_curve_[-1]
    assert b <= 1.01 * a


# ---------------------------------------------------------------------------
# quantize_levels="fixed": the paper's level set, fixed for the whole fit.


@pytest.mark.parametrize("quantize", ["p", "q", "pq"])
@pytest.mark.parametrize("bits", [8, 16])
def test_fixed_levels_keep_the_iterates_on_the_link_levels(quantize, bits):
    """Every quantized p, q lies on its link's levels after every iteration;
    what crosses is its codes alone, and a receiver that stores them
    (``store_sent``) holds the iterate bit for bit."""
    problem = make_problem(quantize, bits, levels="fixed")
    receiver = make_problem(quantize, bits, levels="fixed")
    H = problem.H
    solver = PDADMMSolver(8, 0.0, 10)
    solver.setup(problem)
    start = {"p": [P[:, :-1].copy() for P in problem.P[1:]]}
    start["q"] = [Q.copy() for Q in problem.Q]
    for _ in range(8):
        solver.step(problem, None)
        for k in range(H):
            for name, index, x in (
                ("p", k + 1, problem.P[k + 1][:, :-1]),
                ("q", k, problem.Q[k]),
            ):
                if name not in quantize:
                    continue
                assert on_levels(x, problem.levels[k]), (name, k)
                (codes,) = problem.encode(name, index)
                assert codes.dtype == CODE_DTYPES[bits] and codes.shape == x.shape
                receiver.store_sent(name, index, (codes,))
                held = receiver.P[k + 1][:, :-1] if name == "p" else receiver.Q[k]
                np.testing.assert_array_equal(held, x)
    # The variables moved on the levels (the test is not of a frozen run).
    for name in quantize:
        now = [P[:, :-1] for P in problem.P[1:]] if name == "p" else problem.Q
        assert any(
            not np.array_equal(a, b) for a, b in zip(now, start[name], strict=True)
        )


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
@pytest.mark.parametrize("bits", [8, 16])
@pytest.mark.parametrize("seed", [0, 1])
def test_fixed_levels_p_step_keeps_the_merit_monotone(activation, bits, seed):
    """The projected linearised step with tau = 2 lambda_max lowers its block
    by lambda_max / 2 ||dp||^2 >= (nu + rho) / 2 ||dp||^2, and u = nu r holds
    with q exact: L_rho never rises."""
    problem = make_problem(
        "p", bits, activation=activation, seed=seed, weighted=True, levels="fixed"
    )
    merits = run(problem, 40)
    assert (np.diff(merits) / np.abs(merits[:-1])).max() <= 1e-10
    assert merits[-1] < merits[0]


def test_fixed_levels_p_step_rejects_rows_without_enough_decrease(monkeypatch):
    """With a step four times too long for the bound, the rows whose block
    would not fall by the needed amount keep their p, so the merit still never
    rises (without the row test it does here)."""
    import skadmm._splitting._pdadmm as pdadmm

    true = pdadmm.largest_eigenvalue
    monkeypatch.setattr(pdadmm, "largest_eigenvalue", lambda M: true(M) / 8)
    merits = run(make_problem("p", 16, seed=1, levels="fixed"), 30)
    assert (np.diff(merits) / np.abs(merits[:-1])).max() <= 1e-10


def test_fixed_levels_q_at_8_bits_is_stopped_by_the_merit_check():
    """The paper's fixed levels for q: the rounded q is exact over the levels,
    but it breaks u = nu r by (nu + rho) times a rounding that does not shrink;
    the merit rises and the check stops the run with a DivergenceWarning (the
    run that the levels of each change take through all 100 iterations)."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 10))
    y = np.sin(X[:, 0]) + X[:, 1] * X[:, 2]
    est = ADMMResidualRegressor(
        solver="pdadmm", width=32, n_blocks=3, max_iter=100, tol=0.0,
        quantize="q", quantize_bits=8, quantize_levels="fixed", alpha=1e-3,
        random_state=0,
    )  # fmt: skip
    with pytest.warns(DivergenceWarning, match="increased"):
        est.fit(X, y)
    assert est.n_iter_ < 100
    assert np.all(np.isfinite(est.predict(X)))


def test_quantize_levels_without_quantize_is_warned_about():
    X = np.random.default_rng(0).standard_normal((60, 3))
    est = ADMMResidualRegressor(
        solver="pdadmm", width=8, max_iter=3, quantize_levels="fixed"
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est.fit(X, X[:, 0])
    phrase = "quantize_levels='fixed' (read only with quantize"
    assert any(phrase in str(w.message) for w in caught)


def test_invalid_quantize_levels():
    X = np.random.default_rng(0).standard_normal((60, 3))
    with pytest.raises(ValueError, match="quantize_levels"):
        ADMMResidualRegressor(
            solver="pdadmm", quantize="p", quantize_levels="adaptive"
        ).fit(X, X[:, 0])

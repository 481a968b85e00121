"""Safe SPD solves against numpy oracles, and the never-NaN rule of the estimator."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

import skadmm._targets
from skadmm import ADMMResidualRegressor
from skadmm._checks import max_input_scale
from skadmm._linalg import (
    _pseudo_solve,
    largest_eigenvalue,
    outer_product,
    spd_factor,
    spd_solve,
)
from skadmm.exceptions import NumericalError

# --------------------------------------------------------------- spd_solve


def _spd(rng, n, rank=None, dtype=np.float64):
    A = rng.standard_normal((rank or 2 * n, n))
    return (A.T @ A).astype(dtype), A


@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-10), (np.float32, 1e-3)])
@pytest.mark.parametrize("one_d", [False, True])
def test_full_rank_matches_numpy_solve(dtype, rtol, one_d):
    rng = np.random.default_rng(0)
    G, _ = _spd(rng, 12, dtype=dtype)
    B = rng.standard_normal(12 if one_d else (12, 3)).astype(dtype)
    X = spd_solve(G, B)
    assert X.shape == B.shape and X.dtype == dtype
    ref = np.linalg.solve(G.astype(float), B.astype(float))
    np.testing.assert_allclose(X, ref, rtol=rtol, atol=rtol * np.abs(ref).max())


@pytest.mark.parametrize("order", ["C", "F"])
def test_overwrite_gives_the_same_solution(order):
    rng = np.random.default_rng(1)
    # Singular (rank 4 of 9), so the in-place factorisation fails and G must be
    # rebuilt from the triangle LAPACK did not touch.
    for rank in (30, 4):
        G, _ = _spd(rng, 9, rank=rank)
        B = G @ rng.standard_normal((9, 2))
        expected = spd_solve(G, B)
        G_work = np.array(G, order=order)
        np.testing.assert_allclose(spd_solve(G_work, B, overwrite_a=True), expected)


def _pinv_solve(G, B):
    """Brute-force oracle: the pseudo-inverse from the SVD with a relative cutoff."""
    return np.linalg.pinv(G, rcond=1e-10, hermitian=True) @ B


@pytest.mark.parametrize("n, rank", [(10, 4), (30, 29), (6, 1)])
def test_singular_system_gives_a_least_squares_solution(n, rank):
    # Normal equations of a rank-deficient least-squares problem: B = A^T y lies
    # in the range of G, and any solution has the fitted values of lstsq.
    rng = np.random.default_rng(n)
    G, A = _spd(rng, n, rank=rank)
    y = rng.standard_normal((rank, 2))
    X = spd_solve(G, A.T @ y)
    best = A @ np.linalg.lstsq(A, y, rcond=None)[0]
    np.testing.assert_allclose(A @ X, best, atol=1e-6 * np.abs(best).max())
    # Not the minimum-norm solution in general, but not far from it.
    assert np.linalg.norm(X) < 10 * np.linalg.norm(_pinv_solve(G, A.T @ y))


@pytest.mark.parametrize("n, rank", [(10, 4), (8, 8), (5, 0)])
def test_pseudo_solve_is_the_pseudo_inverse(n, rank):
    rng = np.random.default_rng(rank)
    G, _ = _spd(rng, n, rank=rank) if rank else (np.zeros((n, n)), None)
    B = G @ rng.standard_normal((n, 3))
    np.testing.assert_allclose(
        _pseudo_solve(G, B), _pinv_solve(G, B), atol=1e-8 * max(1, np.abs(B).max())
    )


@pytest.mark.parametrize("spread", [1e-100, 1e-30, 1e30, 1e100])
def test_badly_scaled_system_is_solved_accurately(spread):
    # G = D M D with D spanning many orders of magnitude: x = D^-1 M^-1 D^-1 B.
    rng = np.random.default_rng(3)
    M, _ = _spd(rng, 8)
    d = np.logspace(0, np.log10(spread), 8)
    G = d[:, None] * M * d[None, :]
    b = rng.standard_normal((8, 2))
    X = spd_solve(G, d[:, None] * b)
    ref = np.linalg.solve(M, b) / d[:, None]
    np.testing.assert_allclose(X, ref, rtol=1e-7)


def test_tiny_and_zero_matrices():
    rng = np.random.default_rng(4)
    M, _ = _spd(rng, 6)
    b = rng.standard_normal(6)
    np.testing.assert_allclose(
        spd_solve(1e-300 * M, 1e-300 * b), np.linalg.solve(M, b), rtol=1e-8
    )
    np.testing.assert_array_equal(spd_solve(np.zeros((6, 6)), b), 0.0)
    # All-subnormal entries: the pseudo-solve works on a rescaled copy.
    G = 1e-310 * np.outer(b, b)
    X = spd_solve(G, G @ np.ones(6))
    np.testing.assert_allclose(G @ X, G @ np.ones(6), atol=1e-318)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_input_raises_a_clear_error(bad):
    G = np.eye(4)
    G[1, 1] = bad
    with pytest.raises(NumericalError, match="NaN or infinity"):
        spd_solve(G, np.ones(4))
    B = np.ones(4)
    B[2] = bad
    with pytest.raises(NumericalError, match="NaN or infinity"):
        spd_solve(np.zeros((4, 4)), B)


@pytest.mark.parametrize("rank", [30, 8, 0])
@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_factor_solves_as_spd_solve_for_every_right_hand_side(rank, order, dtype):
    # Full rank (the Cholesky factor), rank 8 of 12 (the jittered factor: a
    # PSD matrix with rounding-negative eigenvalues fails plain Cholesky) and
    # zero (the pseudo-inverse); one- and two-dimensional right-hand sides,
    # each solved by the one factorisation.
    rng = np.random.default_rng(rank)
    G, _ = _spd(rng, 12, rank=rank, dtype=dtype) if rank else (np.zeros((12, 12)), 0)
    G = np.array(G, dtype=dtype, order=order)
    solve = spd_factor(G.copy(order="A"), overwrite_a=True)
    for shape in [(12,), (12, 3), (12,)]:
        B = (G @ rng.standard_normal(shape).astype(dtype)).astype(dtype)
        X = solve(B)
        assert X.shape == B.shape and X.dtype == dtype
        expected = spd_solve(G, B)
        scale = np.abs(expected).max() + 1.0
        rtol = 1e-8 if dtype == np.float64 else 1e-3
        if rank == 30:
            np.testing.assert_allclose(X, expected, atol=rtol * scale)
        else:
            # Singular: any least-squares solution fits the same values.
            np.testing.assert_allclose(G @ X, B, atol=rtol * scale * 10)


def test_factor_solve_matches_numpy_on_a_full_rank_system():
    rng = np.random.default_rng(6)
    G, _ = _spd(rng, 40)
    B = rng.standard_normal((40, 2))
    np.testing.assert_allclose(spd_factor(G)(B), np.linalg.solve(G, B), rtol=1e-9)
    np.testing.assert_array_equal(spd_factor(np.zeros((0, 0)))(np.zeros(0)), [])


def test_factor_of_a_non_finite_matrix_raises_a_clear_error():
    G = np.eye(4)
    G[1, 1] = np.inf
    with pytest.raises(NumericalError, match="NaN or infinity"):
        spd_factor(G)
    G[1, 1] = np.nan
    with pytest.raises(NumericalError, match="NaN or infinity"):
        spd_factor(G, overwrite_a=True)
    with pytest.raises(NumericalError, match="overflows"):
        spd_factor(1e-300 * np.eye(3))(np.full(3, 1e300))


def test_largest_eigenvalue_is_exact_or_an_upper_bound():
    rng = np.random.default_rng(5)
    M, _ = _spd(rng, 7)
    assert largest_eigenvalue(M) == pytest.approx(np.linalg.eigvalsh(M)[-1])
    tiny = 1e-310 * M  # subnormal: LAPACK's partial solver may fail here
    assert largest_eigenvalue(tiny) >= 1e-310 * np.linalg.eigvalsh(M)[-1] * 0.999


# ------------------------------------------------------- estimator reproducers


def _fit(X, y, **params):
    est = ADMMResidualRegressor(random_state=0, max_iter=20, **params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return est.fit(X, y)


def _r2(est, X, y):
    pred = est.predict(X)
    assert np.isfinite(pred).all()
    return 1.0 - np.sum((pred - y) ** 2) / np.sum((y - y.mean()) ** 2)


SOLVERS = ["reset", "radmm"]


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("n", [40, 5, 20])
def test_unpenalised_fit_with_more_features_than_rows_interpolates(solver, n):
    # alpha=0 and width 100 > n rows: the read-out system is singular. Its
    # least-squares solution interpolates the training targets.
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((n, 5)), rng.standard_normal(n)
    est = _fit(X, y, alpha=0.0, solver=solver)
    assert _r2(est, X, y) > 0.99


@pytest.mark.parametrize("solver", SOLVERS)
def test_constant_features_without_penalty_predict_the_mean(solver):
    X, y = np.ones((100, 2)), np.arange(100.0)
    est = _fit(X, y, alpha=0.0, solver=solver)
    np.testing.assert_allclose(est.predict(X), y.mean(), rtol=1e-6)


@pytest.mark.parametrize("solver", SOLVERS)
def test_large_feature_scale_with_the_default_penalty(solver):
    X = np.random.default_rng(1).standard_normal((30, 5))
    y = X @ np.ones(5)
    est = _fit(X * 1e6, y, solver=solver)
    assert _r2(est, X * 1e6, y) > 0.99


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize(
    "case", ["constant column", "equal columns", "tiny", "float32", "float32 tiny"]
)
def test_degenerate_inputs_give_finite_predictions(solver, case):
    rng = np.random.default_rng(2)
    X = rng.standard_normal((50, 4))
    y = X[:, 0] - X[:, 1] ** 2
    if case == "constant column":
        X[:, 2] = 3.0
    elif case == "equal columns":
        X[:, 3] = X[:, 0]
    elif case.startswith("float32"):
        X = X.astype(np.float32)
    if case.endswith("tiny"):
        X = X * (1e-150 if X.dtype == np.float64 else 1e-30)
    est = _fit(X, y, alpha=0.0, solver=solver)
    pred = est.predict(X)
    assert pred.dtype == X.dtype and np.isfinite(pred).all()
    if not case.endswith("tiny"):
        assert _r2(est, X, y) > 0.9


# ------------------------------------------------------------- never NaN


@pytest.mark.parametrize("solver", SOLVERS)
def test_overflowing_input_scale_is_refused_before_fitting(solver):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 5)) * 1e200
    est = ADMMResidualRegressor(solver=solver)
    with pytest.raises(ValueError, match="StandardScaler"):
        est.fit(X, rng.standard_normal(200))
    with pytest.raises(NotFittedError):
        check_is_fitted(est)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_input_scale_bound_is_just_refused_above_and_fits_below(dtype):
    rng = np.random.default_rng(1)
    X = rng.standard_normal((60, 3))
    X /= np.abs(X).max()
    y = X[:, 0] + np.abs(X[:, 1])
    limit = max_input_scale(60, 3, 10, dtype)
    est = _fit((X * 0.9 * limit).astype(dtype), y, width=10, alpha=0.0)
    assert np.isfinite(est.predict((X * 0.9 * limit).astype(dtype))).all()
    with pytest.raises(NumericalError, match="too large"):
        _fit((X * 1.1 * limit).astype(dtype), y, width=10)


@pytest.mark.parametrize(
    "dtype, scale, widen",
    [(np.float32, 1e20, True), (np.float64, 1e200, False)],
)
def test_overflow_message_suggests_float64_only_where_it_helps(dtype, scale, widen):
    rng = np.random.default_rng(0)
    X = (rng.standard_normal((50, 3)) * scale).astype(dtype)
    with pytest.raises(NumericalError, match="StandardScaler") as error:
        ADMMResidualRegressor(width=10).fit(X, X[:, 0])
    assert ("pass float64 data" in str(error.value)) == widen


def test_predict_refuses_an_overflowing_test_set():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((80, 3))
    # Read-out weights of order 1e100 times features of order 1e250 overflow.
    est = _fit(X, 1e100 * X[:, 0] ** 2)
    with pytest.raises(ValueError, match="overflows for this X"):
        with np.errstate(over="ignore", invalid="ignore"):
            est.predict(X * 1e250)


def test_non_finite_trained_network_leaves_the_estimator_unfitted(monkeypatch):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 3))
    y = X[:, 0]
    monkeypatch.setattr(
        skadmm._targets.RegressionTarget,
        "fold",
        lambda self, weights: [*weights[:-1], weights[-1] * np.inf],
    )
    est = ADMMResidualRegressor(max_iter=2)
    with pytest.raises(NumericalError, match="not fitted"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est.fit(X, y)
    with pytest.raises(NotFittedError):
        check_is_fitted(est)


@pytest.mark.parametrize("c", [1e-300, 1e-150, 1e150])
def test_extreme_target_units_are_equivariant(c):
    # The target's mean and scale are computed on y / max|y|: no under- or
    # overflow of the variance for tiny or huge units.
    rng = np.random.default_rng(3)
    X = rng.standard_normal((60, 3))
    y = np.sin(X[:, 0]) + X[:, 1]
    ref = _fit(X, y, width=10).predict(X)
    pred = _fit(X, c * y, width=10).predict(X)
    np.testing.assert_allclose(pred / c, ref, rtol=1e-6, atol=1e-9)


def test_target_whose_squares_overflow_is_refused():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((30, 3))
    with pytest.raises(ValueError, match="squared errors"):
        ADMMResidualRegressor().fit(X, rng.standard_normal(30) * 1e300)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("k", [1, 3])
def test_outer_product_is_the_matrix_product(k, dtype):
    # One column: a broadcast product, each element the one product a_i b_j
    # the matrix product has; more columns: the matrix product itself.
    rng = np.random.default_rng(0)
    A = rng.standard_normal((1000, k)).astype(dtype)
    B = rng.standard_normal((k, 7)).astype(dtype)
    np.testing.assert_array_equal(outer_product(A, B), A @ B)
    out = np.empty((1000, 7), dtype)
    assert outer_product(A, B, out=out) is out
    np.testing.assert_array_equal(out, A @ B)

"""The cross-entropy losses: per-row prox, read-out fits, and the ADMM iteration
of the classifier (monotone L_rho, multiplier identity, binary = two classes)."""

import itertools

import numpy as np
import pytest
import scipy.sparse
from scipy.optimize import minimize_scalar
from scipy.special import expit, softmax
from sklearn.linear_model import LogisticRegression

from skadmm._activations import ACTIVATIONS, get_activation
from skadmm._losses import LogisticLoss, SoftmaxLoss, SquaredLoss, newton_readout
from skadmm._network import init_weights
from skadmm._parallel import split_layers
from skadmm._rows import RowWeights
from skadmm._solvers import ResetSolver
from skadmm._splitting import SPLITTINGS

from ._problems import iterate

Q = np.array([[-1.0, 1.0]]) / np.sqrt(2.0)  # binary output -> two-class logits


def one_hot(labels, k):
    return np.eye(k)[labels]


def prox_objective(loss, o, y, lam, r, rho):
    return (
        loss.rows(o[None], y[None])[0]
        + lam @ (o - r)
        + 0.5 * rho * np.sum((o - r) ** 2)
    )


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("scale", [0.1, 3.0, 30.0])
def test_logistic_prox_is_the_brute_force_minimiser(seed, scale):
    rng = np.random.default_rng(seed)
    loss, rho = LogisticLoss(), 1.3
    R = scale * rng.standard_normal((20, 1))
    Lam = rng.standard_normal((20, 1))
    Y = rng.integers(0, 2, (20, 1)).astype(float)
    O = loss.output_step(R, Lam, Y, rho, np.zeros_like(R))
    for y, lam, r, o in zip(Y, Lam, R, O, strict=True):
        best = minimize_scalar(
            lambda t, y=y, lam=lam, r=r: prox_objective(
                loss, np.array([t]), y, lam, r, rho
            ),
            bracket=(r[0] - 50, r[0] + 50),
            tol=1e-14,
        )
        assert abs(best.x - o[0]) < 1e-6
    # Stationarity to rounding: grad l(O) + Lam + rho (O - R) = 0.
    stationary = loss.gradient(O, Y) + Lam + rho * (O - R)
    assert np.abs(stationary).max() < 1e-12


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("scale", [0.1, 3.0, 30.0])
def test_softmax_prox_is_the_brute_force_minimiser(seed, scale):
    rng = np.random.default_rng(seed)
    loss, rho = SoftmaxLoss(), 2.0
    R = scale * rng.standard_normal((10, 2))
    Lam = rng.standard_normal((10, 2))
    Y = one_hot(rng.integers(0, 2, 10), 2)
    O = loss.output_step(R, Lam, Y, rho, R.copy())
    for i in range(10):
        # A 2-D grid around the solution, refined five times (no gradients).
        center, half = R[i].copy(), 60.0
        for _ in range(8):
            grid = np.linspace(-half, half, 41)
            points = center + np.stack(np.meshgrid(grid, grid), -1).reshape(-1, 2)
            values = loss.rows(points, np.repeat(Y[i][None], len(points), 0))
            values += (points - R[i]) @ Lam[i] + 0.5 * rho * np.sum(
                (points - R[i]) ** 2, 1
            )
            center, half = points[np.argmin(values)], half / 10
        assert np.abs(center - O[i]).max() < 1e-5
    stationary = loss.gradient(O, Y) + Lam + rho * (O - R)
    assert np.abs(stationary).max() < 1e-12


def test_softmax_prox_with_many_classes_is_stationary_from_any_start():
    rng = np.random.default_rng(0)
    loss, rho = SoftmaxLoss(), 1.01
    R = 20 * rng.standard_normal((500, 7))
    Lam = rng.standard_normal((500, 7))
    Y = one_hot(rng.integers(0, 7, 500), 7)
    for start in (R.copy(), np.zeros_like(R), np.full_like(R, np.nan)):
        O = loss.output_step(R, Lam, Y, rho, start)
        assert np.abs(loss.gradient(O, Y) + Lam + rho * (O - R)).max() < 1e-12


def test_cross_entropy_gradients_and_hessian_products_match_finite_differences():
    rng = np.random.default_rng(1)
    for loss, k in ((SoftmaxLoss(), 4), (LogisticLoss(), 1)):
        O = rng.standard_normal((6, k))
        Y = one_hot(rng.integers(0, 4, 6), 4) if k > 1 else rng.integers(0, 2, (6, 1))
        D = rng.standard_normal(O.shape)
        h = 1e-6
        numeric = (loss.rows(O + h * D, Y) - loss.rows(O - h * D, Y)) / (2 * h)
        analytic = np.sum(loss.gradient(O, Y) * D, axis=1)
        np.testing.assert_allclose(numeric, analytic, rtol=1e-6, atol=1e-9)
        numeric = (loss.gradient(O + h * D, Y) - loss.gradient(O - h * D, Y)) / (2 * h)
        np.testing.assert_allclose(numeric, loss.hessian_product(O, D), atol=1e-8)
        # Bohning's bound: the curvature never exceeds 1/2.
        assert np.all(
            np.sum(D * loss.hessian_product(O, D), 1) <= 0.5 * np.sum(D * D, 1)
        )


def features(seed=0, n=200, d=5):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    A = np.column_stack([X, np.ones(n)])
    return rng, X, A


@pytest.mark.parametrize("binary", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
def test_readout_fit_is_sklearn_logistic_regression(binary, weighted):
    rng, X, A = features()
    k = 2 if binary else 3
    labels = (X[:, 0] + X[:, 1] * X[:, 2] + rng.standard_normal(len(X)) > 0).astype(int)
    if not binary:
        labels += (X[:, 3] > 0.5).astype(int)
    sw = rng.uniform(0.5, 2.0, len(X)) if weighted else np.ones(len(X))
    alpha = 1e-2
    rw = RowWeights(sw if weighted else None, len(X), X.dtype)
    if binary:
        loss, Y = LogisticLoss(), labels[:, None].astype(float)
        # Our log-odds are sqrt(2) A W with penalty alpha/2 ||W||^2, i.e.
        # alpha/4 ||beta||^2 on beta = sqrt(2) W, on a mean loss.
        C = 2.0 / (alpha * sw.sum())
    else:
        loss, Y = SoftmaxLoss(), one_hot(labels, k)
        C = 1.0 / (alpha * sw.sum())
    W = loss.fit_readout(A, Y, rw, alpha)
    reference = LogisticRegression(C=C, tol=1e-12, max_iter=100_000)
    reference.fit(X, labels, sample_weight=sw)
    O = A @ W
    proba = expit(loss.scale * O) if binary else softmax(O, axis=1)
    if binary:
        proba = np.column_stack([1 - proba[:, 0], proba[:, 0]])
    np.testing.assert_allclose(proba, reference.predict_proba(X), atol=1e-6)


@pytest.mark.parametrize("loss, k", [(SoftmaxLoss(), 4), (LogisticLoss(), 1)])
def test_majorised_readout_steps_descend_towards_the_exact_fit(loss, k):
    rng, X, A = features(seed=2)
    labels = rng.integers(0, max(k, 2), len(X))
    Y = one_hot(labels, k) if k > 1 else labels[:, None].astype(float)
    rw = RowWeights(None, len(X), X.dtype)
    alpha = 1e-2

    def objective(W):
        return loss.value(A @ W, Y, rw) + 0.5 * alpha * np.sum(W[:-1] ** 2)

    W = np.zeros((A.shape[1], k))
    values = [objective(W)]
    for _ in range(30):
        W = loss.majorised_steps(A, Y, rw, alpha, W, 1)
        values.append(objective(W))
    assert np.all(np.diff(values) <= 1e-15)
    exact = objective(loss.fit_readout(A, Y, rw, alpha))
    assert exact <= values[-1] < values[0]
    assert values[-1] - exact < 1e-3 * (values[0] - exact)


def classification_problem(splitting, update, activation, *, binary, seed=0, **params):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((120, 4))
    score = np.sin(X[:, 0]) * X[:, 1] + X[:, 2] + 0.3 * rng.standard_normal(120)
    if binary:
        loss, Y = LogisticLoss(), (score > 0).astype(float)[:, None]
    else:
        loss, Y = SoftmaxLoss(), one_hot(np.digitize(score, [-0.5, 0.5]), 3)
    act = get_activation(activation)
    W = init_weights(X.shape[1], 10, 2, Y.shape[1], act, rng, X.dtype)
    settings = dict(beta=1.0, rho=2.0, tau=1e-3, alpha=1e-3, update=update)
    settings.update(params)
    problem = SPLITTINGS[splitting](X, Y, None, W, act, loss=loss, **settings)
    problem.set_regions(split_layers(len(W), params.get("n_regions", 1)))
    return problem, Y


CONFIGS = list(
    itertools.product(SPLITTINGS, ["proximal", "linearized"], sorted(ACTIVATIONS))
)


@pytest.mark.parametrize("binary", [True, False])
@pytest.mark.parametrize("splitting, update, activation", CONFIGS)
def test_classifier_lrho_non_increasing_and_multiplier_identity(
    splitting, update, activation, binary
):
    # rho = 0.75 > 1/sqrt(2): the cross-entropy's condition (user guide).
    problem, Y = classification_problem(
        splitting, update, activation, binary=binary, rho=0.75
    )
    values = [problem.objective()[0]]
    for _ in range(40):
        iterate(problem)
        values.append(problem.objective()[0])
        # The multiplier identity of the cross-entropy: Lam = -grad l(O).
        np.testing.assert_allclose(
            problem.Lam, -problem.loss.gradient(problem.O, Y), atol=1e-12
        )
    values = np.asarray(values)
    assert (np.diff(values) / np.abs(values[:-1])).max() <= 1e-12
    assert values[-1] < 0.9 * values[0]


def test_binary_iterates_are_the_two_class_softmax_iterates():
    """One output in the zero-sum basis q gives the two-class softmax iteration."""
    binary, Y = classification_problem("three", "proximal", "relu", binary=True)
    weights = binary.weights()
    two = [*weights[:-1], weights[-1] @ Q]
    X = binary.X_aug[:, :-1]
    softmax = SPLITTINGS["three"](
        X,
        one_hot(Y[:, 0].astype(int), 2),
        None,
        two,
        binary.act,
        beta=1.0,
        rho=2.0,
        tau=1e-3,
        alpha=1e-3,
        update="proximal",
        loss=SoftmaxLoss(),
    )
    for _ in range(15):
        iterate(binary)
        iterate(softmax)
        np.testing.assert_allclose(softmax.O, binary.O @ Q, atol=1e-10)
        np.testing.assert_allclose(softmax.Lam, binary.Lam @ Q, atol=1e-10)
        for Wb, Ws in zip(binary.W[:-1], softmax.W[:-1], strict=True):
            np.testing.assert_allclose(Ws, Wb, atol=1e-10)
        np.testing.assert_allclose(softmax.W[-1], binary.W[-1] @ Q, atol=1e-10)
        assert softmax.objective()[0] == pytest.approx(binary.objective()[0], rel=1e-10)


@pytest.mark.parametrize("binary", [True, False])
@pytest.mark.parametrize("splitting", sorted(SPLITTINGS))
@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_reset_mode_cross_entropy_objective_never_increases(
    splitting, activation, binary
):
    problem, Y = classification_problem(
        splitting, "proximal", activation, binary=binary, beta=10.0, rho=1.0, tau=0.0
    )
    solver = ResetSolver(1, 0.0, 1, eta=0.1, eta_max=10.0, mu=1.0)
    value, _ = solver.setup(problem)
    values = [value]
    for _ in range(25):
        values.append(solver.step(problem, lambda tasks: [t() for t in tasks])[0])
    assert np.all(np.diff(values) <= 0.0)
    assert values[-1] < 0.9 * values[0]


def test_squared_loss_output_step_is_the_closed_form():
    rng = np.random.default_rng(3)
    R, Lam, Y = (rng.standard_normal((5, 2)) for _ in range(3))
    O = SquaredLoss().output_step(R, Lam, Y, 1.5, np.empty_like(R))
    np.testing.assert_allclose(O - Y + Lam + 1.5 * (O - R), 0.0, atol=1e-14)


def readout_problem(loss, k, *, seed=3, n=300, d=6, weighted=False, sparse=False):
    """Features ``[X, 1]``, targets and row weights of a read-out fit."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    labels = np.digitize(X[:, 0] + X[:, 1] * X[:, 2] + rng.standard_normal(n), [-1, 1])
    Y = one_hot(labels, k) if k > 1 else (labels > 0)[:, None].astype(float)
    A = np.column_stack([X, np.ones(n)])
    if sparse:
        A[np.abs(A) < 0.7] = 0.0
        A = scipy.sparse.csr_matrix(A)
    sw = rng.uniform(0.2, 3.0, n) if weighted else None
    return rng, A, Y, RowWeights(sw, n, np.dtype(np.float64))


def newton_pieces(loss, A, Y, rw, alpha, calls=None):
    """The callables of ``newton_readout`` for the read-out of ``[A, Y]``."""
    calls = {} if calls is None else calls

    def terms(W):
        calls["terms"] = calls.get("terms", 0) + 1
        rows, G = loss.rows_and_gradient(A @ W, Y)
        return rw.total(rows), rw.cross(A, G)

    def product(W, D):
        calls["product"] = calls.get("product", 0) + 1
        return rw.cross(A, loss.hessian_product(A @ W, A @ D))

    def hessian(W):
        calls["hessian"] = calls.get("hessian", 0) + 1
        return loss.hessian_matrix(A, W, rw)

    def objective(W):
        return loss.value(A @ W, Y, rw) + 0.5 * alpha * np.sum(W[:-1] ** 2)

    return terms, product, hessian, objective


def exact_newton(loss, pieces, alpha, start):
    """``newton_readout`` with explicit Hessians from ``start``; ``pieces``:
    those of :func:`newton_pieces`."""
    terms, product, hessian, _ = pieces
    return newton_readout(
        terms,
        product,
        alpha,
        start.shape,
        start,
        hessian=hessian,
        shift_invariant=loss.shift_invariant,
    )


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("loss, k", [(SoftmaxLoss(), 3), (LogisticLoss(), 1)])
def test_hessian_matrix_is_the_finite_difference_of_the_gradient(
    loss, k, weighted, sparse
):
    rng, A, Y, rw = readout_problem(loss, k, weighted=weighted, sparse=sparse)
    terms, _, _, _ = newton_pieces(loss, A, Y, rw, 0.0)
    W = rng.standard_normal((A.shape[1], k))
    H = loss.hessian_matrix(A, W, rw)
    assert H.shape == (W.size, W.size)
    np.testing.assert_allclose(H, H.T, atol=1e-14)
    h = 1e-6
    for j in rng.choice(W.size, min(8, W.size), replace=False):
        E = np.zeros(W.size)
        E[j] = h
        E = E.reshape(W.shape)
        numeric = (terms(W + E)[1] - terms(W - E)[1]).ravel() / (2 * h)
        np.testing.assert_allclose(H[:, j], numeric, atol=1e-8)
    # The products the Newton-CG read-out uses are this matrix's.
    D = rng.standard_normal(W.shape)
    product = rw.cross(A, loss.hessian_product(A @ W, A @ D))
    np.testing.assert_allclose(H @ D.ravel(), np.ravel(product), atol=1e-12)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("loss, k", [(SoftmaxLoss(), 3), (LogisticLoss(), 1)])
@pytest.mark.parametrize("alpha", [1e-4, 1e-2])
def test_exact_newton_readout_is_the_newton_cg_minimiser(loss, k, alpha, weighted):
    rng, A, Y, rw = readout_problem(loss, k, weighted=weighted)
    calls = {}
    pieces = newton_pieces(loss, A, Y, rw, alpha, calls)
    terms, product, hessian, objective = pieces
    init = 0.3 * rng.standard_normal((A.shape[1], k))
    exact = exact_newton(loss, pieces, alpha, init)
    # Explicit Hessians only, no Hessian products, and few Newton steps.
    assert "product" not in calls and 0 < calls["hessian"] <= 15
    cg = newton_readout(terms, product, alpha, init.shape, init)
    assert calls["product"] > calls["hessian"]
    exact, cg = loss.canonical(exact), loss.canonical(cg)
    # Converged to the tolerance of the Newton-CG refit: a gradient norm below
    # 1e-12, and so the same minimiser (the penalised objective is
    # alpha-strongly convex on centred read-outs).
    value, grad = terms(exact)
    grad[:-1] += alpha * exact[:-1]
    assert np.linalg.norm(grad) < 1e-12
    np.testing.assert_allclose(exact, cg, atol=1e-12 / alpha)
    assert objective(exact) <= objective(cg) + 1e-15
    assert objective(exact) < objective(init)


def test_exact_newton_readout_never_returns_a_worse_objective_than_its_start():
    loss, k, alpha = SoftmaxLoss(), 3, 1e-3
    rng, A, Y, rw = readout_problem(loss, k)
    pieces = newton_pieces(loss, A, Y, rw, alpha)
    objective = pieces[-1]
    best = loss.fit_readout(A, Y, rw, alpha)
    for start in (best, best + 1e-9 * rng.standard_normal(best.shape)):
        W = exact_newton(loss, pieces, alpha, start)
        assert objective(W) <= objective(start)


@pytest.mark.parametrize("loss, k", [(SoftmaxLoss(), 4), (LogisticLoss(), 1)])
def test_exact_newton_readout_keeps_its_hessian_near_the_minimiser(loss, k):
    # A warm start near the minimiser (a refit between stages): full steps
    # from the start's Hessian shrink the gradient fast, so the refit takes
    # chord steps (more gradients than Hessians, none halved) and still ends
    # at the minimiser's tolerance.
    alpha = 1e-3
    rng, A, Y, rw = readout_problem(loss, k, n=2000)
    calls = {}
    pieces = newton_pieces(loss, A, Y, rw, alpha, calls)
    terms, objective = pieces[0], pieces[-1]
    best = loss.fit_readout(A, Y, rw, alpha)
    start = best + 1e-3 * rng.standard_normal(best.shape)
    calls.clear()
    W = exact_newton(loss, pieces, alpha, start)
    # Newton's method would take a Hessian per step: one per gradient but
    # the start's and the final comparison with it, when no step is halved.
    assert calls["hessian"] == 1 and calls["terms"] >= 4
    _, grad = terms(W)
    grad[:-1] += alpha * W[:-1]
    assert np.linalg.norm(grad) < 1e-12
    assert objective(W) < objective(start)


def test_exact_newton_readout_handles_a_singular_hessian_without_penalty():
    """``alpha=0`` and a duplicated feature: the Hessian is singular along the
    difference of the two columns; the fit still converges to a minimiser."""
    loss, k = SoftmaxLoss(), 3
    rng, A, Y, rw = readout_problem(loss, k)
    A = np.column_stack([A[:, :1], A])
    terms, product, hessian, objective = newton_pieces(loss, A, Y, rw, 0.0)
    W = loss.fit_readout(A, Y, rw, 0.0)
    assert np.isfinite(W).all()
    _, grad = terms(W)
    assert np.linalg.norm(grad) < 1e-9
    reference = LogisticRegression(C=np.inf, tol=1e-12, max_iter=100_000)
    reference.fit(A[:, :-1], Y.argmax(1))
    np.testing.assert_allclose(
        softmax(A @ W, axis=1), reference.predict_proba(A[:, :-1]), atol=1e-5
    )


def test_explicit_hessian_only_for_few_unknowns(monkeypatch):
    """Above ``_EXPLICIT_HESSIAN_MAX_UNKNOWNS`` the refit takes Hessian products."""
    from skadmm import _losses

    loss, k, alpha = SoftmaxLoss(), 3, 1e-2
    rng, A, Y, rw = readout_problem(loss, k)
    calls = {}
    terms, product, hessian, _ = newton_pieces(loss, A, Y, rw, alpha, calls)
    monkeypatch.setattr(_losses, "_EXPLICIT_HESSIAN_MAX_UNKNOWNS", A.shape[1] * k - 1)
    newton_readout(terms, product, alpha, (A.shape[1], k), hessian=hessian)
    assert "hessian" not in calls and calls["product"] > 0


@pytest.mark.parametrize("n_classes", [2, 3, 7, 8, 12])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("order", ["C", "F"])
def test_softmax_row_reductions_equal_numpys_bit_for_bit(n_classes, dtype, order):
    # The column-by-column row max and sum of the softmax loss (faster than
    # numpy's reductions over a short row axis) leave every value unchanged.
    from skadmm._losses import _row_max, _row_sum

    rng = np.random.default_rng(n_classes)
    O = np.asarray(5 * rng.standard_normal((500, n_classes)), dtype=dtype, order=order)
    np.testing.assert_array_equal(_row_max(O), O.max(axis=1, keepdims=True))
    P = np.exp(O - O.max(axis=1, keepdims=True))
    np.testing.assert_array_equal(_row_sum(P), P.sum(axis=1, keepdims=True))
    Y = one_hot(rng.integers(n_classes, size=500), n_classes).astype(dtype)
    rows, G = SoftmaxLoss().rows_and_gradient(O, Y)
    log_p = O - O.max(axis=1, keepdims=True)
    log_p -= np.log(np.exp(log_p).sum(axis=1, keepdims=True))
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(rows, -(Y * log_p).sum(1), rtol=tol, atol=tol)
    np.testing.assert_allclose(G, np.exp(log_p) - Y, rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n_classes", [2, 3, 7, 8, 12])
def test_row_softmax_is_scipy_s_bit_for_bit(n_classes, dtype):
    # The same operations in the same order (the row sums below 8 columns
    # left to right, as numpy sums them), only without numpy's slow
    # reductions along a short row axis.
    from scipy.special import softmax

    from skadmm._losses import _softmax

    O = (8 * np.random.default_rng(3).standard_normal((2000, n_classes))).astype(dtype)
    O[0] = 1e4  # a row that overflows without the shift
    np.testing.assert_array_equal(_softmax(O), softmax(O, axis=1))

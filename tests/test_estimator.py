"""Behaviour of ADMMResidualRegressor as a scikit-learn estimator."""

import inspect
import pickle
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import InvalidParameterError

import skadmm._memory
from skadmm import ADMMResidualClassifier, ADMMResidualRegressor
from skadmm._solvers import MODE_PARAMS, SOLVERS
from skadmm.datasets import make_csbm
from skadmm.exceptions import DivergenceWarning
from skadmm.graph import hop_features

from ._problems import regression_data


@pytest.fixture(scope="module")
def data():
    return regression_data(160, 6, seed=0, frequency=1.0)


def small(**params):
    # A fixed alpha: "auto" cross-validates on small tables (tested on its own).
    base = dict(
        width=16, n_blocks=2, max_iter=40, random_state=0, solver="radmm", alpha=3e-3
    )
    base.update(params)
    return ADMMResidualRegressor(**base)


def fit_quiet(est, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(*args, **kwargs)


def test_learns_a_nonlinear_function_better_than_ridge(data):
    X, y = data
    est = fit_quiet(ADMMResidualRegressor(random_state=0), X[:120], y[:120])
    ridge = Ridge().fit(X[:120], y[:120])
    assert est.score(X[120:], y[120:]) > ridge.score(X[120:], y[120:]) + 0.2
    assert est.n_iter_ == len(est.loss_curve_) == len(est.objective_curve_)
    assert len(est.residual_curve_) == est.n_iter_
    assert est.best_loss_ == pytest.approx(min(est.loss_curve_))


def test_fitted_attributes_shapes(data):
    X, y = data
    est = fit_quiet(small(width=8, n_blocks=3), X, np.column_stack([y, -y, 2 * y]))
    assert [c.shape for c in est.coefs_] == [(6, 8), (8, 8), (8, 8), (8, 8), (8, 3)]
    assert [b.shape for b in est.intercepts_] == [(8,), (8,), (8,), (8,), (3,)]
    assert est.n_outputs_ == 3 and est.n_features_in_ == 6
    assert est.predict(X).shape == (160, 3)
    assert est.validation_scores_ is None and est.best_validation_score_ is None


def test_1d_and_column_targets(data):
    X, y = data
    est = fit_quiet(small(), X, y)
    assert est.predict(X).shape == (160,)
    est2 = fit_quiet(small(), X, y[:, None])
    assert est2.predict(X).shape == (160, 1)
    np.testing.assert_allclose(est.predict(X), est2.predict(X)[:, 0])


def test_deterministic_and_seed_dependent(data):
    X, y = data
    a = fit_quiet(small(), X, y).predict(X)
    b = fit_quiet(small(), X, y).predict(X)
    c = fit_quiet(small(random_state=1), X, y).predict(X)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_float32_is_kept(data):
    X, y = data
    est = fit_quiet(small(), X.astype(np.float32), y.astype(np.float32))
    assert all(c.dtype == np.float32 for c in est.coefs_)
    assert est.predict(X.astype(np.float32)).dtype == np.float32
    assert np.isfinite(est.predict(X)).all()


def test_zero_weight_equals_dropping_rows(data):
    X, y = data
    sw = np.ones(len(y))
    sw[::4] = 0.0
    a = fit_quiet(small(), X, y, sample_weight=sw)
    b = fit_quiet(small(), X[sw > 0], y[sw > 0])
    np.testing.assert_allclose(a.predict(X), b.predict(X), rtol=1e-10, atol=1e-12)


def test_integer_weights_equal_repeating_rows(data):
    X, y = data
    sw = np.random.default_rng(1).integers(1, 4, len(y))
    a = fit_quiet(small(), X, y, sample_weight=sw)
    b = fit_quiet(small(), np.repeat(X, sw, axis=0), np.repeat(y, sw))
    np.testing.assert_allclose(a.predict(X), b.predict(X), rtol=1e-7, atol=1e-9)


def test_auto_alpha_warns_of_weights_far_below_their_rows(data):
    """Weights that sum to 1 make alpha="auto" see a table of one row (the
    penalty of that rule, 3); it says so and how to scale them. Weights of a
    usual size, and a given alpha, say nothing."""
    X, y = data
    weights = np.ones(len(y))
    kw = dict(max_iter=2, alpha="auto")
    with pytest.warns(UserWarning, match=r"sum to 1 over \d+ rows"):
        est = fit_quiet(small(**kw), X, y, sample_weight=weights / len(y))
    assert est.alpha_ == pytest.approx(3.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        fit_quiet(small(max_iter=2), X, y, sample_weight=weights / len(y))
        fit_quiet(small(**kw), X, y, sample_weight=0.5 * weights)


def test_weights_change_the_fit(data):
    X, y = data
    sw = np.where(X[:, 0] > 0, 5.0, 0.2)
    a = fit_quiet(small(), X, y, sample_weight=sw)
    b = fit_quiet(small(), X, y)
    assert not np.allclose(a.predict(X), b.predict(X))


def test_pandas_feature_names(data):
    pd = pytest.importorskip("pandas")
    X, y = data
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(6)])
    est = fit_quiet(small(), frame, pd.Series(y))
    np.testing.assert_array_equal(est.feature_names_in_, frame.columns)
    with pytest.warns(UserWarning, match="valid feature names"):
        from_array = est.predict(X)
    np.testing.assert_allclose(est.predict(frame), from_array)
    with pytest.raises(ValueError, match="feature names"):
        est.predict(frame.rename(columns={"f0": "other"}))


def test_pickle_round_trip(data):
    X, y = data
    est = fit_quiet(small(warm_start=True), X, y)
    clone_ = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(clone_.predict(X), est.predict(X))
    # The solver state is not pickled (test_pickle.py): the copy continues
    # from its weights, as the original does once its state is dropped. (This
    # held without the line below only while pickling dropped the original's
    # state as well.)
    est._solver_state = None
    fit_quiet(est, X, y)
    fit_quiet(clone_, X, y)
    np.testing.assert_array_equal(clone_.predict(X), est.predict(X))


@pytest.mark.parametrize("solver", ["radmm", "dladmm", "mdlam", "pdadmm"])
def test_warm_start_resumes_the_run(data, solver):
    """Warm-started fits of 12 and 18 iterations equal one fit of 30."""
    X, y = data
    params = dict(tol=0.0, solver=solver)
    full = fit_quiet(small(max_iter=30, **params), X, y)
    warm = small(max_iter=12, warm_start=True, **params)
    fit_quiet(warm, X, y)
    warm.set_params(max_iter=18)
    fit_quiet(warm, X, y)
    assert warm.n_iter_ == 30
    np.testing.assert_allclose(warm.objective_curve_, full.objective_curve_, rtol=1e-12)
    np.testing.assert_allclose(warm.predict(X), full.predict(X), rtol=1e-12)


def test_warm_start_on_new_data_starts_from_the_weights(data):
    X, y = data
    est = fit_quiet(small(warm_start=True), X[:80], y[:80])
    first = est.loss_curve_[-1]
    fit_quiet(est, X[80:], y[80:])
    assert est.n_iter_ == 80 and np.isfinite(est.predict(X)).all()
    assert first > 0
    with pytest.raises(ValueError, match="architecture"):
        fit_quiet(est.set_params(width=5), X, y)


def test_without_warm_start_nothing_is_kept(data):
    X, y = data
    est = fit_quiet(small(), X, y)
    assert est._solver_state is None
    first = est.predict(X)
    fit_quiet(est, X, y)
    np.testing.assert_array_equal(est.predict(X), first)
    assert est.n_iter_ == 40


def test_early_stopping_keeps_the_best_iterate(data):
    X, y = data
    est = fit_quiet(
        small(early_stopping=True, max_iter=100, n_iter_no_change=5, tol=1e-3),
        X,
        y,
    )
    scores = est.validation_scores_
    assert len(scores) == est.n_iter_ == len(est.validation_loss_curve_)
    assert est.best_validation_score_ == max(scores)
    best = int(np.argmax(scores))
    assert est.best_loss_ == pytest.approx(est.validation_loss_curve_[best])
    assert est.n_iter_ < 100


def test_convergence_warning_at_max_iter(data):
    X, y = data
    with pytest.warns(ConvergenceWarning, match="max_iter=3"):
        small(max_iter=3, tol=0.0).fit(X, y)


def test_converged_fit_does_not_warn(data):
    X, y = data
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est = small(max_iter=500, tol=1e-2, n_iter_no_change=3).fit(X, y)
    assert est.n_iter_ < 500


@pytest.mark.parametrize(
    "params",
    [dict(solver="reset", n_blocks=0, width=32), dict(solver="radmm")],
    ids=["reset", "radmm"],
)
def test_stops_at_the_first_window_of_small_mean_decrease(data, params):
    """The run stops at the first iteration after which the merit's mean
    relative decrease over the last n_iter_no_change iterations is below tol,
    recomputed here from objective_curve_ (one value per iteration)."""
    X, y = data
    tol, n = 2e-3, 5
    est = small(max_iter=300, tol=tol, n_iter_no_change=n, **params).fit(X, y)
    curve = np.asarray(est.objective_curve_)
    assert est.n_iter_ == len(curve) < 300

    def stalled(k):  # window of the n iterations ending at iteration k
        return (curve[k - 1 - n] - curve[k - 1]) / n < tol * abs(curve[k - 1])

    assert stalled(len(curve))
    # Windows from the first iteration on are in the curve (the one before
    # starts at the set-up's merit, which the curve does not hold).
    assert not any(stalled(k) for k in range(n + 1, len(curve)))


def test_verbose_prints_progress(data, capsys):
    X, y = data
    fit_quiet(small(verbose=2, max_iter=3), X, y)
    out = capsys.readouterr().out
    assert out.count("Iteration") == 3 and "L_rho" in out and "train MSE" in out


def test_divergence_guard_restores_finite_weights(data):
    X, y = data
    # beta near the float64 limit overflows the first block solve.
    est = small(beta=1e308)
    with pytest.warns(DivergenceWarning, match="beta"):
        est.fit(X, y)
    pred = est.predict(X)
    assert np.isfinite(pred).all()
    assert all(np.isfinite(c).all() for c in est.coefs_)
    assert est.n_iter_ == len(est.loss_curve_)


def test_divergence_after_some_iterations_keeps_last_good_iterate(data, monkeypatch):
    X, y = data
    from skadmm._solvers import RADMMSolver

    original = RADMMSolver.iterate
    calls = {"n": 0}

    def poisoned(problem, run=None):
        original(problem, run)
        calls["n"] += 1
        if calls["n"] == 4:
            problem.W[1][0, 0] = np.nan

    monkeypatch.setattr(RADMMSolver, "iterate", staticmethod(poisoned))
    reference = fit_quiet(small(max_iter=3, tol=0.0), X, y)
    calls["n"] = 0
    with pytest.warns(DivergenceWarning, match="iteration 4"):
        est = small(tol=0.0).fit(X, y)
    assert est.n_iter_ == 3
    np.testing.assert_array_equal(est.predict(X), reference.predict(X))


def test_memory_check_raises_before_allocating(data, monkeypatch):
    X, y = data
    monkeypatch.setattr(skadmm._memory, "memory_limit", lambda: (1000, "test"))
    est = small()
    with pytest.raises(MemoryError, match=r"GiB.*limit: test.*reduce `width`"):
        est.fit(X, y)
    assert not hasattr(est, "coefs_")


BAD_X = {
    "nan": (lambda X: np.where(X > 2, np.nan, X), "NaN"),
    "inf": (lambda X: np.where(X > 2, np.inf, X), "infinity"),
    "empty": (lambda X: X[:0], "0 sample"),
    "one sample": (lambda X: X[:1], "1 sample"),
    "1d": (lambda X: X[:, 0], "2D array"),
    "strings": (lambda X: X.astype(str).astype(object) + "x", "convert"),
    "complex": (lambda X: X + 1j, "Complex"),
}


@pytest.mark.parametrize("case", sorted(BAD_X))
def test_bad_input_is_rejected_before_any_work(data, case, monkeypatch):
    X, y = data
    make, message = BAD_X[case]
    bad = make(X)
    from skadmm import _base

    def fail(*args, **kwargs):  # pragma: no cover - must not be reached
        raise AssertionError("training started")

    monkeypatch.setattr(_base, "init_weights", fail)
    est = small()
    with pytest.raises(ValueError, match=message):
        est.fit(bad, y[: len(bad)] if bad.ndim == 2 else y)
    assert not hasattr(est, "coefs_")


def test_bad_targets_and_weights(data):
    X, y = data
    with pytest.raises(ValueError, match="inconsistent"):
        small().fit(X, y[:-1])
    with pytest.raises(ValueError, match="NaN"):
        small().fit(X, np.where(y > 1, np.nan, y))
    with pytest.raises(ValueError, match="(?i)negative"):
        small().fit(X, y, sample_weight=-np.ones(len(y)))
    with pytest.raises(ValueError):
        small().fit(X, y, sample_weight=np.zeros(len(y)))


@pytest.mark.parametrize(
    "params, message",
    [
        (dict(rho=1.0), "rho"),
        (dict(tau=0.0), "tau"),
        (dict(activation="gelu"), "activation"),
        (dict(splitting="four"), "splitting"),
        (dict(width=0), "width"),
        (dict(validation_fraction=1.0), "validation_fraction"),
    ],
)
def test_invalid_parameters(data, params, message):
    X, y = data
    with pytest.raises(ValueError, match=message):
        small(**params).fit(X, y)


@pytest.mark.parametrize("Estimator", [ADMMResidualRegressor, ADMMResidualClassifier])
def test_n_jobs_zero_is_refused_before_any_work(Estimator):
    # joblib gives 0 workers no meaning; the check must come before the data
    # are even read (an X that cannot be validated would fail otherwise).
    with pytest.raises(InvalidParameterError, match="'n_jobs' parameter"):
        Estimator(n_jobs=0).fit("not an array", None)
    for n_jobs in (-2, -1, 1, 2, None):
        Estimator(n_jobs=n_jobs)._validate_params()


@pytest.mark.parametrize(
    "name", ["width", "n_blocks", "max_iter", "n_iter_no_change", "n_jobs", "n_bins"]
)
def test_a_bool_is_not_a_count(name):
    """bool is an Integral: width=True passed scikit-learn's interval and
    failed inside the fit with "TypeError: an integer is required"."""
    with pytest.raises(InvalidParameterError, match=f"'{name}' parameter"):
        ADMMResidualRegressor(**{name: True}).fit("not an array", None)
    with pytest.raises(InvalidParameterError, match="'n_hops' parameter"):
        hop_features(np.eye(2), np.eye(2), n_hops=True)
    with pytest.raises(InvalidParameterError, match="'n_nodes' parameter"):
        make_csbm(n_nodes=True)


# A value away from the default for every mode parameter.
CHANGED = dict(
    splitting="two",
    update="linearized",
    beta=3.0,
    rho=40.0,
    tau=0.05,
    eta=0.37,
    mu=2.5,
    epsilon=0.2,
    quantize="p",
    quantize_bits=16,
    quantize_levels="fixed",
    layer_workers="dask",
)


@pytest.mark.parametrize("solver", sorted(SOLVERS))
def test_a_parameter_is_warned_about_exactly_when_the_solver_ignores_it(data, solver):
    """The oracle is the fit itself: a parameter the solver reads changes the
    predictions, one it ignores changes nothing and is warned about."""
    assert set(CHANGED) == set(MODE_PARAMS)
    X, y = data
    params = dict(solver=solver, width=8, n_blocks=1, max_iter=4, tol=0.0)

    def fit(**extra):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            pred = small(**params, **extra).fit(X, y).predict(X)
        ignored = [w for w in caught if "ignores" in str(w.message)]
        return pred, ignored

    reference, ignored = fit()
    assert not ignored
    cls = SOLVERS[solver]
    for name, value in CHANGED.items():
        if name in cls.refuses:
            with pytest.raises(ValueError, match=name):
                fit(**{name: value})
            continue
        if name == "layer_workers" and name in cls.reads:
            # Where the layers live changes no iterate (tests/test_layer_actors):
            # here, without a Dask client, it is refused before any work.
            with pytest.raises(ValueError, match="Client"):
                fit(**{name: value})
            continue
        # quantize_bits and quantize_levels are read only with quantize set:
        # test them with quantize.
        base = reference
        extra = {}
        if name in ("quantize_bits", "quantize_levels") and name in cls.reads:
            extra = dict(quantize="p")
            base = fit(**extra)[0]
        pred, ignored = fit(**{name: value}, **extra)
        if name in cls.reads:
            assert not np.array_equal(pred, base), name
            assert not ignored, name
        else:
            np.testing.assert_array_equal(pred, base, err_msg=name)
            (warning,) = ignored
            assert f"solver={solver!r} ignores {name}={value!r}" in str(warning.message)
            assert warning.filename == __file__  # points at the caller of fit


@pytest.mark.parametrize(
    "solver", [s for s, cls in sorted(SOLVERS.items()) if "update" in cls.reads]
)
@pytest.mark.parametrize("splitting", ["two", "three"])
def test_update_is_warned_about_where_the_splitting_ignores_it(data, solver, splitting):
    """The same oracle for ``update`` by splitting: the reset mode's
    two-splitting steps are backtracked gradient steps either way."""
    X, y = data
    params = dict(
        solver=solver, splitting=splitting, width=8, n_blocks=1, max_iter=4, tol=0.0
    )

    def fit(**extra):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            pred = small(**params, **extra).fit(X, y).predict(X)
        return pred, [w for w in caught if "ignores" in str(w.message)]

    reference, _ = fit()
    pred, ignored = fit(update="linearized")
    if splitting in SOLVERS[solver].update_splittings:
        assert not np.array_equal(pred, reference) and not ignored
    else:
        np.testing.assert_array_equal(pred, reference)
        (warning,) = ignored
        assert "update='linearized' with splitting='two'" in str(warning.message)


def test_predict_checks(data):
    X, y = data
    with pytest.raises(NotFittedError):
        small().predict(X)
    est = fit_quiet(small(), X, y)
    with pytest.raises(ValueError, match="features"):
        est.predict(X[:, :3])


def test_early_stopping_needs_validation_rows(data):
    X, y = data
    with pytest.raises(ValueError, match="validation"):
        small(early_stopping=True, validation_fraction=0.01).fit(X[:20], y[:20])


def test_pipeline_cross_val_score(data):
    X, y = data
    pipe = make_pipeline(StandardScaler(), small(max_iter=30))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        scores = cross_val_score(pipe, X, y, cv=3)
    assert scores.shape == (3,) and np.all(scores > 0.3)


def test_grid_search_in_parallel(data):
    X, y = data
    pipe = make_pipeline(StandardScaler(), small(max_iter=20))
    grid = GridSearchCV(
        pipe,
        {"admmresidualregressor__beta": [10.0, 1000.0]},
        cv=2,
        n_jobs=2,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        grid.fit(X, y)
    assert grid.best_params_["admmresidualregressor__beta"] in (10.0, 1000.0)
    # Same winner and scores as the serial search: fits are independent.
    serial = clone(grid).set_params(n_jobs=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        serial.fit(X, y)
    np.testing.assert_allclose(
        grid.cv_results_["mean_test_score"], serial.cv_results_["mean_test_score"]
    )


def test_time_curve_is_increasing_and_continues_with_warm_start(data):
    X, y = data
    est = fit_quiet(small(max_iter=5, tol=0.0, warm_start=True), X, y)
    assert len(est.time_curve_) == est.n_iter_ == 5
    assert np.all(np.diff(est.time_curve_) > 0)
    first = est.time_curve_[-1]
    fit_quiet(est, X, y)
    assert len(est.time_curve_) == 10
    assert est.time_curve_[5] > first and np.all(np.diff(est.time_curve_) > 0)


@pytest.mark.parametrize("c", [1e-6, 1.0, 1e6])
@pytest.mark.parametrize("d", [0.0, -3e3])
def test_predictions_are_equivariant_to_the_units_of_y(data, c, d):
    # The target is standardised inside fit: the fitted function in y's units
    # does not depend on them (only rounding differs).
    X, y = data
    sw = np.random.default_rng(1).uniform(0.5, 2.0, len(y))
    ref = fit_quiet(small(), X, y, sample_weight=sw).predict(X)
    pred = fit_quiet(small(), X, c * y + d, sample_weight=sw).predict(X)
    np.testing.assert_allclose(pred, c * ref + d, rtol=1e-7, atol=1e-7 * c)


def test_constant_target_is_predicted_exactly(data):
    X, _ = data
    est = fit_quiet(small(), X, np.full(len(X), 7.5))
    np.testing.assert_allclose(est.predict(X), 7.5, rtol=1e-12)


def test_loss_curve_is_in_the_units_of_y(data):
    X, y = data
    est = fit_quiet(small(max_iter=5, refit_readout=False), X, 100.0 * y)
    np.testing.assert_allclose(
        est.loss_curve_[-1], np.mean((est.predict(X) - 100.0 * y) ** 2), rtol=1e-6
    )


@pytest.mark.parametrize("target", ["weighted", "two outputs", "classes"])
def test_reset_mode_loss_curve_is_the_loss_of_each_iterate(data, target):
    # The forward-reset mode's curve comes from its objective, not from a
    # forward pass: every point must still be the training loss of that
    # iterate (weighted MSE in the units of y, or the mean log-loss), here
    # the last one (no read-out refit after the run). Outputs of different
    # scales take the forward pass.
    from sklearn.metrics import log_loss

    X, y = data
    sw = np.random.default_rng(1).uniform(0.5, 2.0, len(y))
    params = dict(solver="reset", max_iter=6, refit_readout=False)
    if target == "classes":
        labels = np.digitize(y, np.quantile(y, [1 / 3, 2 / 3]))
        est = ADMMResidualClassifier(**{**small().get_params(), **params})
        est = fit_quiet(est, X, labels, sample_weight=sw)
        expected = log_loss(labels, est.predict_proba(X), sample_weight=sw)
    else:
        Y = 10.0 * y if target == "weighted" else np.column_stack([y, 5.0 * y**2])
        est = fit_quiet(small(**params), X, Y, sample_weight=sw)
        err = (est.predict(X) - Y).reshape(len(y), -1)
        expected = np.average((err**2).mean(axis=1), weights=sw)
    assert len(est.loss_curve_) == est.n_iter_ == 6
    np.testing.assert_allclose(est.loss_curve_[-1], expected, rtol=1e-9)


@pytest.mark.parametrize("estimator", [ADMMResidualRegressor, ADMMResidualClassifier])
def test_each_mode_declares_its_own_parameters_once(estimator):
    """A parameter of one mode only is declared with the mode: the estimators
    take its constraints and documentation from there, and list it in their
    signature."""
    signature = inspect.signature(estimator.__init__).parameters
    for cls in SOLVERS.values():
        for name, (constraints, doc) in cls.own_params.items():
            assert name in signature
            assert estimator._parameter_constraints[name] is constraints
            assert doc.splitlines()[0] in estimator.__doc__
            assert name in cls.reads


def test_lifting_biases_spread_the_hinges_of_one_input_column():
    # With zero lifting biases every relu unit of a single input column is a
    # multiple of relu(x) or relu(-x): the defaults then stalled on sin(3x)
    # for 2 of these 5 seeds (train MSE 0.29, against 0.04 for the others).
    from skadmm._activations import get_activation
    from skadmm._network import init_weights

    W = init_weights(
        1, 100, 0, 1, get_activation("relu"), np.random.RandomState(0), float
    )
    hinges = -W[0][1] / W[0][0]
    assert np.unique(np.round(hinges, 6)).size == 100
    assert np.mean(np.abs(hinges) < 2) > 0.5  # most of them on the data
    # On more columns the units differ by direction; the biases stay zero.
    W = init_weights(
        4, 100, 0, 1, get_activation("relu"), np.random.RandomState(0), float
    )
    assert not W[0][-1].any()
    rng = np.random.default_rng(0)
    x = rng.uniform(-2, 2, (213, 1))
    y = np.sin(3 * x[:, 0]) + 0.2 * rng.standard_normal(213)
    for seed in range(5):
        model = fit_quiet(ADMMResidualRegressor(alpha=1e-3, random_state=seed), x, y)
        assert np.mean((model.predict(x) - y) ** 2) < 0.08, seed

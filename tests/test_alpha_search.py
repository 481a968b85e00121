"""``alpha="auto"``: cross-validated on small tables, fixed on large ones."""

import warnings

import joblib
import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Ridge
from sklearn.model_selection import PredefinedSplit, cross_val_predict
from threadpoolctl import threadpool_limits

import skadmm._base
from skadmm import ADMMResidualRegressor
from skadmm._alpha_search import (
    CLASSIFICATION_ALPHA,
    CV_GRID,
    CV_MAX_ROWS,
    CV_MIN_ROWS,
    FEWER_FOLDS_MIN_ROWS,
    PATH_MIN_ROWS,
    PATH_WEAKEST,
    SAMPLE_ROWS,
    SAMPLE_SEARCH_MAX_ROWS,
    candidates,
    classification_alpha,
    classification_stage_alpha,
    distinct_row_folds,
    distinct_row_sample,
    fixed_alpha,
    planned_fits,
    resolve_alpha,
    search_alpha,
    validated_folds,
)
from skadmm._blas import BLAS_MIN_PRODUCT, blas_thread_budget, largest_product
from skadmm._parallel import search_workers
from skadmm._targets import RegressionTarget

#: The candidates of the penalty path (from PATH_MIN_ROWS summed weights on).
PATH_GRID = (PATH_WEAKEST, *CV_GRID)


def squared_errors(Y, pred):
    return np.sum((np.asarray(pred).reshape(Y.shape) - Y) ** 2, axis=1)


def ridge_fit_predict(alpha, X, Y, sw, X_test):
    # The mean-scale penalty of the package is Ridge's divided by the weight sum.
    total = X.shape[0] if sw is None else sw.sum()
    return Ridge(alpha=alpha * total).fit(X, Y, sample_weight=sw).predict(X_test)


def test_numbers_pass_through_unchanged():
    def never(*args):
        raise AssertionError("no fit for a numeric alpha")

    X = np.zeros((5, 2))
    assert resolve_alpha(0.25, X, X, None, never, squared_errors) == 0.25
    assert resolve_alpha(0, X, X, None, never, squared_errors) == 0.0


def test_tiny_and_large_tables_take_the_fixed_penalty_without_fitting():
    def never(*args):
        raise AssertionError("only mid-sized tables are cross-validated")

    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((400, 2)), rng.standard_normal((400, 1))
    for n in (CV_MIN_ROWS - 1, SAMPLE_SEARCH_MAX_ROWS + 1):
        weights = np.full(400, n / 400)  # weights count as rows
        alpha = resolve_alpha("auto", X, Y, weights, never, squared_errors)
        assert alpha == fixed_alpha(n)
    # Never below a sum-scale penalty of 3 (Ridge(alpha=3) on n rows).
    assert fixed_alpha(30) == pytest.approx(3 / 30)
    assert fixed_alpha(CV_MIN_ROWS - 1) == pytest.approx(3 / (CV_MIN_ROWS - 1))
    # Large tables: a sum-scale 16, continuous with the mean-scale 2e-3.
    assert fixed_alpha(8000) == pytest.approx(2e-3)
    assert fixed_alpha(CV_MAX_ROWS + 1) == pytest.approx(2e-3)
    assert fixed_alpha(50_000) == pytest.approx(16 / 50_000)
    assert fixed_alpha(10**6) == pytest.approx(1.6e-5)


def test_the_sample_is_whole_groups_of_identical_rows():
    """About SAMPLE_ROWS summed weights, never more; a row of integer weight
    k and k copies of it are in the sample or out of it together, so both
    give the same sample; the draw does not depend on the row order."""
    rng = np.random.default_rng(3)
    X = rng.standard_normal((3000, 2))
    Y = rng.standard_normal((3000, 1))
    weights = rng.integers(1, 4, 3000).astype(float)
    rows = distinct_row_sample(X, Y, weights, SAMPLE_ROWS)
    assert SAMPLE_ROWS - 3 < weights[rows].sum() <= SAMPLE_ROWS
    repeat = np.repeat(np.arange(3000), weights.astype(int))
    copies = distinct_row_sample(X[repeat], Y[repeat], None, SAMPLE_ROWS)
    np.testing.assert_array_equal(copies, rows[repeat])
    order = rng.permutation(3000)
    shuffled = distinct_row_sample(X[order], Y[order], weights[order], SAMPLE_ROWS)
    np.testing.assert_array_equal(shuffled, rows[order])


@pytest.mark.parametrize("noise", [0.001, 30.0])
def test_tables_above_cv_max_rows_cross_validate_a_sample(noise):
    """From CV_MAX_ROWS to SAMPLE_SEARCH_MAX_ROWS rows the search runs on the
    sample alone (every fit sees its rows only), chooses as a search of the
    sample would (Ridge oracle on its folds), and the choice is capped at the
    size rule: noise-free data get the weakest penalty, pure noise the rule's,
    not the sample's 1e-2."""
    rng = np.random.default_rng(4)
    n = CV_MAX_ROWS + 1000
    X = rng.standard_normal((n, 30))
    Y = (X[:, :3].sum(axis=1) + noise * rng.standard_normal(n))[:, None]
    rows = distinct_row_sample(X, Y, None, SAMPLE_ROWS)
    seen = []

    def spy(alpha, X_train, Y_train, sw, X_test):
        seen.append(X_train.shape[0] + X_test.shape[0])
        return ridge_fit_predict(alpha, X_train, Y_train, sw, X_test)

    search = search_alpha("auto", X, Y, None, spy, squared_errors)
    # Two validated folds of the sample: the sample's rows, each time.
    assert set(seen) == {rows.sum()}
    alone = search_alpha(
        "auto", X[rows], Y[rows], None, ridge_fit_predict, squared_errors
    )
    assert search.sample_alpha == alone.alpha
    np.testing.assert_array_equal(search.fold_errors, alone.fold_errors)
    assert search.rule == "sample cross-validation"
    assert search.sample_rows == rows.sum()
    assert search.alpha == min(alone.alpha, fixed_alpha(n))
    if noise < 1:
        assert search.alpha == PATH_WEAKEST
    else:
        assert alone.alpha == max(candidates(rows.sum()))
        assert search.alpha == fixed_alpha(n) < alone.alpha
    record = search.as_dict()
    assert record["sample_rows"] == rows.sum()
    assert record["sample_alpha"] == alone.alpha


def test_a_sample_too_small_for_folds_keeps_the_size_rule():
    """Two distinct rows repeated 1,500 times each: the sample is one group,
    too few distinct rows for the folds, so no fit runs and the size rule
    holds."""

    def never(*args):
        raise AssertionError("no fold can be drawn")

    X = np.repeat([[0.0], [1.0]], 1500, axis=0)
    search = search_alpha("auto", X, X.copy(), None, never, squared_errors)
    assert search.rule == "fixed" and search.alpha == fixed_alpha(3000)


def test_estimator_on_a_mid_sized_table_searches_a_sample():
    rng = np.random.default_rng(5)
    X = rng.standard_normal((CV_MAX_ROWS + 500, 3))
    y = np.sin(X[:, 0]) + X[:, 1] ** 2
    est = model(width=8, max_iter=3)
    est = fit(est, X, y)
    record = est.alpha_search_
    assert record["rule"] == "sample cross-validation"
    assert record["sample_rows"] <= SAMPLE_ROWS
    assert est.alpha_ == min(record["sample_alpha"], fixed_alpha(len(y)))
    assert np.shape(record["fold_errors"]) == (2, len(candidates(SAMPLE_ROWS)))


def test_classifier_penalty_shrinks_as_a_sum_scale_penalty_on_large_tables():
    for rule in (classification_alpha, classification_stage_alpha):
        assert rule(500) == CLASSIFICATION_ALPHA
        assert rule(4000) == pytest.approx(CLASSIFICATION_ALPHA)
        assert rule(20_000) == pytest.approx(12 / 20_000)
    # The stages' rule stays a sum-scale 12; the table's falls from 20,000
    # summed weights on, continuously, as the cube of 20,000 / n, to a
    # sum-scale 0.03 from about 147,000 on.
    assert classification_stage_alpha(60_000) == pytest.approx(12 / 60_000)
    assert classification_alpha(20_001) == pytest.approx(12 / 20_001, rel=1e-3)
    assert classification_alpha(30_000) == pytest.approx(12 * (2 / 3) ** 3 / 30_000)
    assert classification_alpha(40_000) == pytest.approx(1.5 / 40_000)
    assert classification_alpha(60_000) == pytest.approx(12 / 27 / 60_000)
    assert classification_alpha(100_000) == pytest.approx(12 * 0.2**3 / 100_000)
    for n in (148_000, 200_000, 10**6):
        assert classification_alpha(n) == pytest.approx(0.03 / n)
    sums = [n * classification_alpha(n) for n in np.geomspace(4000, 10**6, 50)]
    assert np.all(np.diff(sums) <= 1e-12)


def test_folds_keep_copies_together_and_ignore_row_order():
    rng = np.random.default_rng(1)
    X, Y = rng.standard_normal((60, 3)), rng.standard_normal((60, 1))
    fold = distinct_row_folds(X, Y, 3)
    assert np.bincount(fold).min() >= 18  # dealt round-robin: 20 each
    counts = rng.integers(1, 4, 60)
    repeated = distinct_row_folds(
        np.repeat(X, counts, axis=0), np.repeat(Y, counts, axis=0), 3
    )
    np.testing.assert_array_equal(repeated, np.repeat(fold, counts))
    perm = rng.permutation(60)
    np.testing.assert_array_equal(distinct_row_folds(X[perm], Y[perm], 3), fold[perm])


@pytest.mark.parametrize("noise", [0.001, 30.0])
def test_choice_is_the_cross_validation_minimiser(noise):
    rng = np.random.default_rng(2)
    X = rng.standard_normal((120, 40))
    Y = (X[:, :3].sum(axis=1) + noise * rng.standard_normal(120))[:, None]
    chosen = resolve_alpha("auto", X, Y, None, ridge_fit_predict, squared_errors)
    # Oracle: scikit-learn's cross_val_predict on the same folds.
    split = PredefinedSplit(distinct_row_folds(X, Y, 3))
    y = Y.ravel()
    grid = candidates(120)
    assert grid == (*PATH_GRID, 3 / 120)
    errors = [
        np.sum((cross_val_predict(Ridge(alpha=a * 80), X, y, cv=split) - y) ** 2)
        for a in grid
    ]
    assert chosen == grid[int(np.argmin(errors))]
    # Noise-free data asks for the least penalty, pure noise for the most.
    assert chosen == (grid[0] if noise < 1 else grid[-1])


def test_the_weakest_candidate_joins_where_the_path_searches():
    """PATH_WEAKEST is a candidate from PATH_MIN_ROWS summed weights on
    (along the penalty path), not below (every candidate fitted)."""
    assert PATH_WEAKEST < min(CV_GRID)
    assert candidates(PATH_MIN_ROWS - 1) == (*CV_GRID, 3 / (PATH_MIN_ROWS - 1))
    assert candidates(PATH_MIN_ROWS) == (*PATH_GRID, 3 / PATH_MIN_ROWS)
    assert candidates(CV_MAX_ROWS) == PATH_GRID


def test_diverging_candidates_are_never_chosen():
    rng = np.random.default_rng(3)
    X, Y = rng.standard_normal((150, 2)), rng.standard_normal((150, 1))

    def nan_for_smallest(alpha, X, Y, sw, X_test):
        pred = ridge_fit_predict(alpha, X, Y, sw, X_test)
        return pred * np.nan if alpha == CV_GRID[0] else pred

    assert (
        resolve_alpha("auto", X, Y, None, nan_for_smallest, squared_errors)
        != CV_GRID[0]
    )


def fit(est, X, y, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y, **kwargs)


def model(**params):
    return ADMMResidualRegressor(
        **{"width": 16, "max_iter": 30, "random_state": 0, **params}
    )


def test_estimator_adapts_the_penalty_to_the_noise():
    rng = np.random.default_rng(4)
    x = rng.uniform(-2, 2, (150, 1))
    smooth = fit(model(), x, np.sin(3 * x[:, 0]))
    X = rng.standard_normal((150, 10))
    noisy = fit(model(), X, X[:, 0] + 3 * rng.standard_normal(150))
    assert smooth.alpha_ < noisy.alpha_ == candidates(150)[-1]


def test_integer_weights_equal_repeated_rows_with_auto():
    rng = np.random.default_rng(5)
    X = rng.standard_normal((80, 3))
    y = np.tanh(X @ np.ones(3)) + 0.3 * rng.standard_normal(80)
    counts = rng.integers(1, 4, 80)
    assert counts.sum() >= CV_MIN_ROWS  # the cross-validated path
    weighted = fit(model(), X, y, sample_weight=counts)
    repeated = fit(model(), np.repeat(X, counts, axis=0), np.repeat(y, counts))
    assert weighted.alpha_ == repeated.alpha_
    # The same problem summed two ways: rounding may flip one of the line
    # search's doubling decisions (at this table's alpha_, 3 / n, it does:
    # 3e-6), after which the two runs differ by more than rounding.
    np.testing.assert_allclose(
        weighted.predict(X), repeated.predict(X), rtol=1e-5, atol=1e-5
    )


def test_warm_start_keeps_the_chosen_penalty(monkeypatch):
    rng = np.random.default_rng(6)
    x = rng.uniform(-2, 2, (120, 1))
    y = np.sin(3 * x[:, 0])
    est = fit(model(warm_start=True), x, y)
    first = est.alpha_

    def never(*args, **kwargs):
        raise AssertionError("a warm start does not choose alpha again")

    monkeypatch.setattr("skadmm._base.search_alpha", never)
    fit(est, x, y)
    assert est.alpha_ == first


needs_two_cores = pytest.mark.skipif(
    min(joblib.cpu_count(), blas_thread_budget()) < 2,
    reason="needs two cores and BLAS threads",
)


@needs_two_cores
@pytest.mark.parametrize("n", [240, FEWER_FOLDS_MIN_ROWS, CV_MAX_ROWS + 500])
def test_search_on_worker_processes_equals_the_search_in_process(monkeypatch, n):
    """n_jobs=2 runs the candidates' fits on joblib's worker processes; the
    choice, the weights and the predictions are those of n_jobs=1, bit for bit
    (with three validated folds, with two, and on a sample of the rows)."""
    used = []
    original = skadmm._base.run_search

    def spy(tasks, n_workers):
        used.append(n_workers)
        return original(tasks, n_workers)

    monkeypatch.setattr(skadmm._base, "run_search", spy)
    rng = np.random.default_rng(7)
    X = rng.standard_normal((n, 4))
    y = np.sin(2 * X[:, 0]) * X[:, 1] + 0.3 * rng.standard_normal(n)
    serial = fit(model(max_iter=3), X, y)
    # One call per candidate along the penalty path.
    assert len(used) >= 2 and set(used) == {1}
    used.clear()
    parallel = fit(model(max_iter=3, n_jobs=2), X, y)
    assert len(used) >= 2 and set(used) == {2}
    assert parallel.alpha_ == serial.alpha_
    assert len(serial.alpha_search_["fold_errors"]) == validated_folds("auto", n)
    np.testing.assert_array_equal(
        parallel.alpha_search_["fold_errors"], serial.alpha_search_["fold_errors"]
    )
    for a, b in zip(parallel.coefs_, serial.coefs_, strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(parallel.predict(X), serial.predict(X))


@needs_two_cores
def test_search_stays_in_process_where_workers_would_not_help_or_differ():
    assert search_workers(None, 500, 100, 10) == 1
    assert search_workers(1, 500, 100, 10) == 1
    assert search_workers(2, 500, 100, 10) == 2
    with joblib.parallel_config(n_jobs=2):
        assert search_workers(None, 500, 100, 10) == 2
    # Thread-based backends (a nested call from a joblib worker included).
    with joblib.parallel_config(backend="threading"):
        assert search_workers(2, 500, 100, 10) == 1
    # No more workers than the BLAS threads in effect (one in the process
    # workers of GridSearchCV(n_jobs=...) or of a Dask cluster).
    with threadpool_limits(1, user_api="blas"):
        assert search_workers(-1, 500, 100, 10) == 1
    # Products large enough for threaded BLAS: one BLAS thread per fit would
    # change the rounding, so the search runs as it would with n_jobs=1.
    assert largest_product(2000, 400, 10) >= BLAS_MIN_PRODUCT
    assert search_workers(2, 2000, 400, 10) == 1


def test_a_candidate_fit_hides_its_own_warnings():
    """On a worker process no filter of the caller applies: the candidate's
    task itself must keep its convergence warnings from the user."""
    rng = np.random.default_rng(8)
    X, Y = rng.standard_normal((120, 3)), rng.standard_normal((120, 1))
    target = RegressionTarget.fit(Y, None, X.dtype)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model(max_iter=2).fit(X, Y[:, 0])
        assert caught  # an unfinished fit warns...
        caught.clear()
        candidate = skadmm._base._fit_predict_candidate
        pred = candidate(model(max_iter=2), target, 1e-3, X, Y, None, X)
    assert not caught  # ...but not as a candidate
    assert pred.shape == (120, 1) and np.isfinite(pred).all()


def test_search_record_and_verbose_lines(capsys):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((150, 3))
    y = np.sin(X[:, 0]) + 0.1 * rng.standard_normal(150)
    est = ADMMResidualRegressor(width=8, max_iter=5, random_state=0, verbose=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(X, y)
    record = est.alpha_search_
    assert record["rule"] == "cross-validation"
    grid = candidates(150)
    assert record["candidates"] == list(grid)
    assert np.shape(record["fold_errors"]) == (3, len(grid))
    assert np.shape(record["fit_seconds"]) == (3, len(grid))
    # The penalty path fits the largest penalties down to where it stops.
    fitted = np.array(record["fitted"])
    assert fitted.sum() >= 2 and np.all(np.diff(fitted.astype(int)) >= 0)
    seconds = np.array(record["fit_seconds"])
    assert np.all(seconds[:, fitted] > 0) and np.isnan(seconds[:, ~fitted]).all()
    mean = np.array(record["mean_errors"])
    np.testing.assert_allclose(mean, np.sum(record["fold_errors"], axis=0) / 150)
    assert np.isnan(mean[~fitted]).all()
    best = np.flatnonzero(mean == np.nanmin(mean))[-1]
    assert est.alpha_ == record["alpha"] == grid[best]
    assert record["seconds"] >= np.nansum(record["fit_seconds"])
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("ADMMResidualRegressor: 150 rows x 3 features")
    searched = [line for line in out if line.startswith("alpha='auto': fold")]
    assert len(searched) == 3 * fitted.sum()
    stops = [line for line in out if "the path stops" in line]
    assert len(stops) == (not fitted.all())
    assert any(line.startswith("alpha='auto': alpha_=") for line in out)


def test_search_record_of_rules_without_search():
    X, y = np.random.default_rng(0).standard_normal((2, 20, 2))
    y = y[:, 0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = ADMMResidualRegressor(width=4, max_iter=2).fit(X, y)
        assert est.alpha_search_["rule"] == "fixed"
        assert est.alpha_search_["alpha"] == fixed_alpha(20)
        est = ADMMResidualRegressor(width=4, max_iter=2, alpha=0.5).fit(X, y)
        assert est.alpha_search_["rule"] == "given"
        assert "fold_errors" not in est.alpha_search_


def test_fit_time_includes_the_search():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((150, 3))
    y = np.sin(X[:, 0]) + 0.1 * rng.standard_normal(150)
    est = fit(model(), X, y)
    assert est.alpha_search_["rule"] == "cross-validation"
    assert est.fit_time_ > est.alpha_search_["seconds"] + est.time_curve_[-1]


def test_the_path_fits_the_largest_penalties_down_to_the_first_rise(monkeypatch):
    """Pure noise wants the largest penalty: the path fits ``3 / n``, then
    the grid's largest penalty, whose loss is higher on every fold, and
    stops there; the exhaustive search (``PATH_STOPS = False``) fits all six
    and makes the same choice, with the same losses for the candidates both
    fitted."""
    rng = np.random.default_rng(9)
    X, Y = rng.standard_normal((120, 40)), rng.standard_normal((120, 1))
    grid = candidates(120)
    fitted = []

    def spy(alpha, *data):
        fitted.append(alpha)
        return ridge_fit_predict(alpha, *data)

    path = search_alpha("auto", X, Y, None, spy, squared_errors)
    assert fitted == [grid[-1]] * 3 + [grid[-2]] * 3
    assert path.fitted.tolist() == [False, False, False, False, True, True]
    assert np.isnan(path.fit_seconds[:, :4]).all()
    monkeypatch.setattr("skadmm._alpha_search.PATH_STOPS", False)
    fitted.clear()
    full = search_alpha("auto", X, Y, None, spy, squared_errors)
    assert sorted(set(fitted)) == sorted(grid) and full.fitted.all()
    assert path.alpha == full.alpha == grid[-1]
    np.testing.assert_array_equal(path.fold_errors[:, 4:], full.fold_errors[:, 4:])


@pytest.mark.parametrize(
    "n, losses, n_fitted, chosen",
    [
        # The grid alone (300 rows and more): one valley, found; the weakest
        # penalty is not fitted.
        (400, (6, 5, 1, 2, 4), 4, 2),
        # The loss falls all the way: the weakest penalty is fitted, chosen.
        (400, (0.5, 0.8, 1, 2, 4), 5, 0),
        # Two valleys: the path keeps the one nearer the largest penalty.
        (400, (0.2, 0.5, 3, 1, 4), 3, 3),
        # The loss falls from 3 / n to the grid and along it to a valley.
        (120, (6, 5, 1, 2, 2.5, 4), 5, 2),
        # The loss rises from 3 / n to the grid's largest on every fold (the
        # same loss on each here): the path stops and keeps 3 / n, though
        # the loss would fall again further on (two valleys: the one nearer
        # the largest penalty).
        (120, (6, 5, 1, 2, 4, 3), 2, 5),
        # 3 / n best of all: chosen, the path stopping at the grid's largest.
        (120, (6, 5, 3, 2, 4, 0.5), 2, 5),
    ],
)
def test_the_path_stops_at_the_first_rise_along_the_grid(n, losses, n_fitted, chosen):
    """Candidates of known loss (smallest penalty first): which the path fits
    and which it chooses."""
    X, Y = np.arange(90.0)[:, None], np.zeros((90, 1))
    grid = candidates(n)
    level = dict(zip(grid, losses, strict=True))

    def constant(alpha, X_train, Y_train, sw, X_test):
        return np.full((X_test.shape[0], 1), np.sqrt(level[alpha]))

    search = search_alpha("auto", X, Y, np.full(90, n / 90), constant, squared_errors)
    fitted = search.fitted
    assert fitted.sum() == n_fitted
    assert fitted[len(PATH_GRID) :].all()  # 3 / n always
    np.testing.assert_allclose(search.mean_errors[fitted], np.array(losses)[fitted])
    assert np.isnan(search.mean_errors[~fitted]).all()
    assert search.alpha == grid[chosen]


def test_estimator_path_equals_the_exhaustive_search(monkeypatch):
    """On a small noisy table the defaults' path stops early, chooses the
    exhaustive search's penalty and fits its candidates exactly as the
    exhaustive search does (every fit is a normal fit); two fits agree."""
    rng = np.random.default_rng(10)
    X = rng.standard_normal((150, 4))
    y = X[:, 0] + 2.0 * rng.standard_normal(150)
    first = fit(model(), X, y)
    again = fit(model(), X, y)
    record = first.alpha_search_
    fitted = np.array(record["fitted"])
    assert not fitted.all()
    np.testing.assert_array_equal(
        record["fold_errors"], again.alpha_search_["fold_errors"]
    )
    monkeypatch.setattr("skadmm._alpha_search.PATH_STOPS", False)
    full = fit(model(), X, y)
    assert all(full.alpha_search_["fitted"])
    assert first.alpha_ == full.alpha_
    np.testing.assert_array_equal(
        np.array(record["fold_errors"])[:, fitted],
        np.array(full.alpha_search_["fold_errors"])[:, fitted],
    )
    np.testing.assert_array_equal(first.predict(X), full.predict(X))


def test_the_path_goes_on_while_a_candidate_wins_on_some_fold():
    """A candidate above the best in sum but below it on one fold does not
    stop the path (the rule asks for every fold): the smaller penalty
    after it, best of all, is fitted and chosen."""
    X, Y = np.arange(90.0)[:, None], np.zeros((90, 1))
    weights = np.full(90, 400 / 90)  # 400 rows: no 3 / n, two folds
    assert validated_folds("auto", 400) == 2
    fold = distinct_row_folds(X, Y, 3)
    levels = {
        1e-2: (4, 4, 4),
        3e-3: (2, 2, 2),
        1e-3: (3.5, 1, 3),
        3e-4: (1, 1, 1),
        1e-4: (1.5, 1.5, 1.5),
    }
    assert candidates(400) == PATH_GRID == tuple(sorted(levels))

    def by_fold(alpha, X_train, Y_train, sw, X_test):
        rows = X_test[:, 0].astype(int)
        return np.sqrt(np.array(levels[alpha])[fold[rows]])[:, None]

    search = search_alpha("auto", X, Y, weights, by_fold, squared_errors)
    assert search.fitted.all()
    assert search.alpha == 3e-4
    # Above the best on every fold: the path stops there.
    levels[1e-3] = (3, 3, 3)
    search = search_alpha("auto", X, Y, weights, by_fold, squared_errors)
    assert search.fitted.tolist() == [False, False, True, True, True]
    assert search.alpha == 3e-3


def test_three_over_n_stops_the_path_only_where_it_wins_on_every_fold():
    """Below 300 rows the path starts at ``3 / n``, and the grid's largest
    penalty stops it only where it loses to ``3 / n`` on every fold: above
    it in sum but below it on one fold, the path goes on and finds the
    grid's valley (as the exhaustive search would); above it on every fold,
    the path stops and keeps ``3 / n``."""
    X, Y = np.arange(90.0)[:, None], np.zeros((90, 1))
    weights = np.full(90, 120 / 90)  # 120 rows: 3 / n = 0.025, three folds
    assert validated_folds("auto", 120) == 3
    fold = distinct_row_folds(X, Y, 3)
    grid = candidates(120)
    levels = dict(zip(grid, [(3, 3, 3), (2, 2, 2), (1, 1, 1), (2, 2, 2)], strict=False))
    levels[1e-2] = (3, 1.5, 5)
    levels[grid[-1]] = (2, 2, 2)
    assert grid[-1] == 3 / 120 and len(grid) == 6

    def by_fold(alpha, X_train, Y_train, sw, X_test):
        rows = X_test[:, 0].astype(int)
        return np.sqrt(np.array(levels[alpha])[fold[rows]])[:, None]

    search = search_alpha("auto", X, Y, weights, by_fold, squared_errors)
    # 1e-2 sums to 9.5 against 6 but wins on the second fold: the path goes
    # on, 3e-3 (6 in sum, not below 3 / n) and 1e-3 (3) follow, 3e-4 (6,
    # above 1e-3 on every fold) stops it.
    assert search.fitted.tolist() == [False, True, True, True, True, True]
    assert search.alpha == 1e-3
    levels[1e-2] = (3, 2.5, 5)
    search = search_alpha("auto", X, Y, weights, by_fold, squared_errors)
    assert search.fitted.tolist() == [False, False, False, False, True, True]
    assert search.alpha == grid[-1]


def test_tables_under_path_min_rows_fit_every_candidate():
    """Below PATH_MIN_ROWS summed weights the search is exhaustive: a loss
    that would stop the path (a rise after the largest grid penalty) does
    not, and the minimiser is chosen."""
    X, Y = np.arange(60.0)[:, None], np.zeros((60, 1))
    n = PATH_MIN_ROWS - 1
    grid = CV_GRID
    losses = (1, 3, 2, 2.5, 4)  # CV_GRID's, then 3 / n's

    def constant(alpha, X_train, Y_train, sw, X_test):
        level = losses[CV_GRID.index(alpha)] if alpha in CV_GRID else losses[-1]
        return np.full((X_test.shape[0], 1), np.sqrt(level))

    search = search_alpha("auto", X, Y, np.full(60, n / 60), constant, squared_errors)
    assert search.fitted.all() and search.alpha == grid[0]
    path = search_alpha("auto", X, Y, np.full(60, 100 / 60), constant, squared_errors)
    assert not path.fitted.all() and path.alpha == grid[2]


def test_large_tables_validate_on_two_of_the_three_folds(monkeypatch):
    """From FEWER_FOLDS_MIN_ROWS summed weights on, each candidate trains on
    two thirds of the rows, as before, but only the first two folds validate
    it: the losses are a Ridge oracle's on those folds, the choice their
    minimiser, and the two folds' losses those of the three-fold search."""
    rng = np.random.default_rng(11)
    n = FEWER_FOLDS_MIN_ROWS + 200
    X = rng.standard_normal((n, 30))
    Y = (X[:, :3].sum(axis=1) + 3.0 * rng.standard_normal(n))[:, None]
    assert validated_folds("auto", n) == 2
    assert planned_fits("auto", n) == 2 * len(PATH_GRID)
    monkeypatch.setattr("skadmm._alpha_search.PATH_STOPS", False)
    search = search_alpha("auto", X, Y, None, ridge_fit_predict, squared_errors)
    fold = distinct_row_folds(X, Y, 3)
    oracle = np.array(
        [
            [
                np.sum(
                    (
                        Ridge(alpha=a * np.sum(fold != k))
                        .fit(X[fold != k], Y[fold != k, 0])
                        .predict(X[fold == k])
                        - Y[fold == k, 0]
                    )
                    ** 2
                )
                for a in PATH_GRID
            ]
            for k in range(2)
        ]
    )
    np.testing.assert_allclose(search.fold_errors, oracle, rtol=1e-10)
    np.testing.assert_allclose(
        search.mean_errors, oracle.sum(axis=0) / np.sum(fold < 2), rtol=1e-10
    )
    assert search.alpha == PATH_GRID[int(np.argmin(oracle.sum(axis=0)))]
    monkeypatch.setattr("skadmm._alpha_search.FEWER_FOLDS", False)
    full = search_alpha("auto", X, Y, None, ridge_fit_predict, squared_errors)
    assert full.fold_errors.shape == (3, len(PATH_GRID))
    np.testing.assert_array_equal(full.fold_errors[:2], search.fold_errors)


def test_the_number_of_validated_folds_counts_weights_and_searches_only():
    """Summed weights count as rows; a given penalty (compared with a code)
    and tables under the threshold keep all three folds."""
    X, Y = np.arange(300.0)[:, None], np.zeros((300, 1))
    seen = []

    def constant(alpha, X_train, Y_train, sw, X_test):
        seen.append(X_test.shape[0])
        return np.zeros((X_test.shape[0], 1))

    for n, expected in ((150, 3), (600, 2)):  # exact sums of 300 weights
        assert (n >= FEWER_FOLDS_MIN_ROWS) == (expected == 2)
        seen.clear()
        weights = np.full(300, n / 300)
        search = search_alpha("auto", X, Y, weights, constant, squared_errors)
        assert search.fold_errors.shape == (expected, len(candidates(n)))
        assert len(seen) == expected * search.fitted.sum()
        assert validated_folds("auto", n) == expected
        assert validated_folds(1e-3, n) == 3
        assert planned_fits(1e-3, n, code=True) == 6


def test_verbose_says_the_search_validates_on_two_folds(capsys):
    rng = np.random.default_rng(12)
    n = FEWER_FOLDS_MIN_ROWS
    X = rng.standard_normal((n, 3))
    y = np.sin(X[:, 0]) + 0.3 * rng.standard_normal(n)
    est = fit(model(width=8, max_iter=3, verbose=1), X, y)
    record = est.alpha_search_
    fitted = np.array(record["fitted"])
    assert np.shape(record["fold_errors"]) == (2, len(PATH_GRID))
    np.testing.assert_allclose(
        record["mean_errors"],
        np.sum(record["fold_errors"], axis=0) / (2 * n / 3),
        rtol=0.01,
    )
    out = capsys.readouterr().out.splitlines()
    assert (
        f"alpha='auto': {n} rows: each candidate is validated on 2 of its 3 folds"
        in out
    )
    searched = [line for line in out if line.startswith("alpha='auto': fold")]
    assert len(searched) == 2 * fitted.sum()
    assert not any(line.startswith("alpha='auto': fold 3/3") for line in searched)

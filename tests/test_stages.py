"""Progressive row sampling on large tables (``skadmm._stages``)."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import make_friedman1

import skadmm._base
from skadmm import ADMMResidualClassifier, ADMMResidualRegressor, _alpha_search, _stages
from skadmm._alpha_search import fixed_alpha
from skadmm._row_blocks import ROW_BLOCK_ROWS
from skadmm._stages import (
    AUTO_EARLY_STOPPING_ROWS,
    FIRST_STAGE_ROWS,
    MIN_STAGED_ROWS,
    REGRESSOR_MIN_STAGED_ROWS,
    annealed_penalty,
    classifier_stage_plan,
    classifier_windows,
    final_patience,
    stage_alpha,
    stage_iterations,
    stage_penalty,
    stage_plan,
    stage_rows,
    stage_sizes,
    stage_starts,
    stage_tol,
    uses_early_stopping,
    window_runs,
)


@pytest.fixture
def small_stages(monkeypatch):
    """Stages from 400 rows on, the first of 100 rows, so tests stay small."""
    monkeypatch.setattr(_stages, "MIN_STAGED_ROWS", 400)
    monkeypatch.setattr(_stages, "REGRESSOR_MIN_STAGED_ROWS", 400)
    monkeypatch.setattr(_stages, "FIRST_STAGE_ROWS", 100)
    monkeypatch.setattr(_stages, "STAGE_ITER", 12)
    monkeypatch.setattr(_stages, "MIN_STAGE_ITER", 3)
    monkeypatch.setattr(_stages, "CLASSIFIER_WINDOW_ROWS", 200)
    monkeypatch.setattr(_stages, "CLASSIFIER_WINDOWS", 3)
    monkeypatch.setattr(_stages, "CLASSIFIER_WINDOW_ITER", 4)
    monkeypatch.setattr(_stages, "CLASSIFIER_WINDOW_MIN_ROWS", 800)


def friedman(n, seed=0):
    X, y = make_friedman1(n, n_features=6, noise=0.5, random_state=seed)
    return (X - X.mean(0)) / X.std(0), y


def fit(model, X, y, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return model.fit(X, y, **kw)


def test_schedule_rules():
    assert stage_sizes(MIN_STAGED_ROWS) == []
    sizes = stage_sizes(10 * MIN_STAGED_ROWS)
    assert sizes[0] == FIRST_STAGE_ROWS
    assert all(b == 2 * a for a, b in zip(sizes, sizes[1:], strict=False))
    assert sizes[-1] <= _stages.LARGEST_STAGE_FRACTION * 10 * MIN_STAGED_ROWS
    assert 2 * sizes[-1] > _stages.LARGEST_STAGE_FRACTION * 10 * MIN_STAGED_ROWS
    # Small stages run longer than large ones, never fewer than the floor.
    its = [stage_iterations(m) for m in sizes]
    assert its == sorted(its, reverse=True)
    assert its[0] == _stages.STAGE_ITER
    assert stage_iterations(10**9) == _stages.MIN_STAGE_ITER
    # The regressor stages from fewer rows than the classifier.
    assert REGRESSOR_MIN_STAGED_ROWS < MIN_STAGED_ROWS
    assert stage_sizes(REGRESSOR_MIN_STAGED_ROWS, regressor=True) == []
    assert stage_sizes(MIN_STAGED_ROWS, regressor=True)[0] == FIRST_STAGE_ROWS
    # The final run after stages has a short patience on large tables only.
    rows = _stages.LARGE_TABLE_ROWS
    assert final_patience(10, rows + 1, True) == _stages.FINAL_PATIENCE
    assert final_patience(2, rows + 1, True) == 2
    assert final_patience(10, rows, True) == 10
    assert final_patience(10, rows + 1, False) == 10
    # The regressor's stages on large tables run longer; the classifier's
    # and smaller tables' keep the first stage's budget.
    # Those on row blocks: the smaller ones run on one thread at any n_jobs.
    large = stage_plan(rows + 1, regressor=True)
    # ... and end with a float32 stage on all the rows, as the classifier's.
    assert large[-1] == (rows + 1, _stages.regressor_all_rows_iterations(rows + 1))
    large = large[:-1]
    assert [m for m, _ in large] == stage_sizes(rows + 1, regressor=True)
    assert stage_plan(rows, regressor=True)[-1][0] < rows
    assert _stages.stages_on_all_rows(rows + 1, True)
    assert not _stages.stages_on_all_rows(rows, True)
    assert _stages.stages_on_all_rows(MIN_STAGED_ROWS + 1, False)
    assert not _stages.stages_on_all_rows(MIN_STAGED_ROWS, False)
    for m, budget in large:
        first = _stages.LARGE_STAGE_ITER if m >= ROW_BLOCK_ROWS else None
        assert budget == stage_iterations(m, first)
    assert large[0] == (FIRST_STAGE_ROWS, _stages.STAGE_ITER)
    assert large[2][1] > stage_iterations(large[2][0])
    assert stage_plan(rows, regressor=True)[0][1] == _stages.STAGE_ITER
    assert stage_plan(rows + 1)[0][1] == _stages.STAGE_ITER
    assert _stages.LARGE_STAGE_ITER > _stages.STAGE_ITER
    assert uses_early_stopping("auto", AUTO_EARLY_STOPPING_ROWS + 1)
    assert not uses_early_stopping("auto", AUTO_EARLY_STOPPING_ROWS)
    assert uses_early_stopping(True, 10) and not uses_early_stopping(False, 10**6)


def test_regressor_s_stage_on_all_rows_shortens_on_the_largest_tables():
    # Up to REGRESSOR_ALL_ROWS_WORK / REGRESSOR_ALL_ROWS_ITER rows the whole
    # budget, then fewer iterations as the rows grow, never under half.
    most = _stages.REGRESSOR_ALL_ROWS_ITER
    limit = _stages.REGRESSOR_ALL_ROWS_WORK // most
    its = [
        _stages.regressor_all_rows_iterations(n)
        for n in range(10_000, 3_000_000, 7_919)
    ]
    assert its == sorted(its, reverse=True)
    assert (min(its), max(its)) == (most // 2, most)
    assert _stages.regressor_all_rows_iterations(limit) == most
    assert _stages.regressor_all_rows_iterations(limit + 1) == most - 1
    assert _stages.regressor_all_rows_iterations(10**9) == most // 2
    # The benchmark's sizes run all of it (a million rows: 900,000 training
    # rows), twice as many rows fewer.
    assert _stages.regressor_all_rows_iterations(200_000) == 40
    assert _stages.regressor_all_rows_iterations(900_000) == 40
    assert _stages.regressor_all_rows_iterations(1_800_000) == 22


def test_the_regressor_s_stage_on_all_rows_of_the_largest_tables_keeps_the_dtype():
    most = _stages.FLOAT32_ALL_ROWS_MAX_ROWS
    f32, f64 = np.float32, np.float64
    for n in (most // 2, most, most + 1, 10 * most):
        # Samples are float32 at every size, for both estimators.
        assert _stages.stage_dtype(n // 2, n, f64) is f32
        assert _stages.stage_dtype(n // 2, n, f64, regressor=False) is f32
        assert _stages.stage_dtype(n, n, f64, regressor=False) is f32
        assert _stages.stage_dtype(n, n, f64) is (f64 if n > most else f32)
    # float32 data stay float32.
    assert _stages.stage_dtype(2 * most, 2 * most, f32) is f32
    # The benchmark's sizes: 200,000 rows in float32, a million as given.
    assert _stages.stage_dtype(180_000, 180_000, f64) is f32
    assert _stages.stage_dtype(900_000, 900_000, f64) is f64


def _dtype_of_each_run(monkeypatch):
    """The dtype of every solver run's training rows."""
    from skadmm._solvers._base import BaseSolver

    seen = []
    solve = BaseSolver.solve

    def spy(self, problem, monitor, *args, **kwargs):
        seen.append(problem.dtype)
        return solve(self, problem, monitor, *args, **kwargs)

    monkeypatch.setattr(BaseSolver, "solve", spy)
    return seen


@pytest.mark.usefixtures("small_stages")
@pytest.mark.parametrize("Estimator", [ADMMResidualRegressor, ADMMResidualClassifier])
def test_the_regressor_s_stage_on_all_rows_of_the_largest_tables_runs_in_float64(
    Estimator, monkeypatch
):
    monkeypatch.setattr(_stages, "LARGE_TABLE_ROWS", 500)
    monkeypatch.setattr(_stages, "FLOAT32_ALL_ROWS_MAX_ROWS", 900)
    seen = _dtype_of_each_run(monkeypatch)
    X, y = friedman(1000)
    target = y if Estimator is ADMMResidualRegressor else y > np.median(y)
    kw = dict(width=8, random_state=0, max_iter=6, alpha=1e-3)
    est = fit(Estimator(**kw), X, target)
    rows = [s["n_samples"] for s in est.stages_]
    assert rows[-2:] == [1000, 1000]
    # The samples in float32, the final run in float64; between them the
    # stage on all rows: the regressor's in float64 above the limit.
    regressor = Estimator is ADMMResidualRegressor
    last = np.float64 if regressor else np.float32
    assert seen == [np.float32] * (len(rows) - 2) + [last, np.float64]
    monkeypatch.setattr(_stages, "FLOAT32_ALL_ROWS_MAX_ROWS", 1000)
    seen.clear()
    fit(Estimator(**kw), X, target)
    assert seen == [np.float32] * (len(rows) - 1) + [np.float64]


def test_classifier_plan_runs_windows_then_all_rows():
    assert classifier_stage_plan(MIN_STAGED_ROWS) == []
    n = 10 * MIN_STAGED_ROWS
    plan = stage_plan(n)
    assert plan == [(m, stage_iterations(m)) for m in stage_sizes(n)]
    first = _stages.CLASSIFIER_STAGE_ITER
    window, runs = classifier_windows(n)
    assert window == min(_stages.CLASSIFIER_WINDOW_ROWS, n // 3)
    # The windows cover the rows CLASSIFIER_WINDOW_PASSES times, in at most
    # CLASSIFIER_WINDOWS runs (20 of 32,000 rows at 180,000; 11 of 15,000 at
    # 45,000).
    passes = _stages.CLASSIFIER_WINDOW_PASSES
    assert runs == min(_stages.CLASSIFIER_WINDOWS, int(np.ceil(passes * n / window)))
    assert classifier_windows(180_000) == (32_000, 20)
    assert classifier_windows(45_000) == (15_000, 11)
    # Above LARGE_TABLE_ROWS the window runs are longer.
    assert n > _stages.LARGE_TABLE_ROWS
    large = _stages.CLASSIFIER_LARGE_WINDOW_ITER
    assert large > _stages.CLASSIFIER_WINDOW_ITER
    windows = [(window, large)] * runs
    assert classifier_stage_plan(n) == [
        *[(m, stage_iterations(m, first)) for m, _ in plan if m < window],
        *windows,
        (n, _stages.CLASSIFIER_ALL_ROWS_ITER),
    ]
    assert stage_iterations(FIRST_STAGE_ROWS, first) == first
    # At 50,000 rows (45,000 training rows) they keep CLASSIFIER_WINDOW_ITER.
    assert {it for m, it in classifier_stage_plan(45_000) if m == 15_000} == {
        _stages.CLASSIFIER_WINDOW_ITER
    }
    # Up to CLASSIFIER_WINDOW_MIN_ROWS training rows: nested stages only.
    small = _stages.CLASSIFIER_WINDOW_MIN_ROWS
    assert classifier_stage_plan(small) == [
        *[(m, stage_iterations(m, first)) for m in stage_sizes(small)],
        (small, _stages.CLASSIFIER_NESTED_ALL_ROWS_ITER),
    ]
    assert stage_sizes(small)[-1] > classifier_windows(small)[0]
    # The windows take fresh rows: consecutive windows of the permutation,
    # all of them within the 20 windows of a large table.
    sizes = [m for m, _ in classifier_stage_plan(10**6)]
    starts = stage_starts(sizes, 10**6)
    runs = [(m, s) for m, s in zip(sizes, starts, strict=True) if m == 32_000]
    assert [s for _, s in runs] == [32_000 * i for i in range(len(runs))]
    assert len(runs) == _stages.CLASSIFIER_WINDOWS


@pytest.mark.usefixtures("small_stages")
def test_classifier_staged_fit_runs_all_rows_then_polishes(monkeypatch):
    from skadmm._solvers import _reset

    X, y = friedman(900)
    labels = np.digitize(y, np.quantile(y, [1 / 3, 2 / 3]))
    monkeypatch.setattr(_stages, "CLASSIFIER_ALL_ROWS_ITER", 7)
    steps = []
    readout = _reset.ResetSolver._readout

    def spy(self, problem, hidden, kept=False):
        steps.append(self.readout_max_iter)
        return readout(self, problem, hidden, kept)

    monkeypatch.setattr(_reset.ResetSolver, "_readout", spy)
    est = fit(
        ADMMResidualClassifier(width=16, random_state=0, max_iter=200, tol=0.05),
        X,
        labels,
    )
    sizes = [s["n_samples"] for s in est.stages_]
    # A nested stage, three window runs, the stage on all rows, the final run.
    assert sizes == [100, 200, 200, 200, 900, 900]
    assert [s["n_iter"] for s in est.stages_[1:4]] == [4, 4, 4]
    assert est.stages_[4]["n_iter"] <= 7
    # The read-out refits of a staged fit take their own steps ...
    assert set(steps) == {_stages.CLASSIFIER_STAGED_READOUT_STEPS}
    # ... and the final run polishes with the short patience.
    assert "3" in est.stop_reason_ and "10" not in est.stop_reason_
    # Every run's merit (its objective on its rows) never increases.
    start = 0
    for stage in est.stages_:
        segment = np.array(est.objective_curve_[start : start + stage["n_iter"]])
        assert np.all(np.diff(segment) <= 1e-5 * np.abs(segment[1:]))
        start += stage["n_iter"]
    # A small table keeps the solver's steps and the estimator's patience.
    steps.clear()
    est = fit(
        ADMMResidualClassifier(width=16, random_state=0, max_iter=200, tol=0.05),
        X[:300],
        labels[:300],
    )
    assert set(steps) == {_reset.ResetSolver.readout_max_iter}
    assert "10" in est.stop_reason_


@pytest.mark.usefixtures("small_stages")
@pytest.mark.parametrize("Estimator", [ADMMResidualRegressor, ADMMResidualClassifier])
def test_a_later_stage_s_read_out_starts_from_the_last_one(Estimator, monkeypatch):
    # The classifier's stages after the first (and its runs on all rows)
    # start with majorised read-out steps from the last stage's read-out;
    # the first stage and the fitted model's read-out run to convergence, as
    # every refit of the regressor's exact ridge read-out does.
    steps = []
    refit = skadmm._base.refit_readout

    def spy(*args):
        steps.append(args[7] if len(args) > 7 else None)
        return refit(*args)

    monkeypatch.setattr(skadmm._base, "refit_readout", spy)
    X, y = friedman(900)
    if Estimator is ADMMResidualClassifier:
        y = np.digitize(y, np.quantile(y, [1 / 3, 2 / 3]))
    est = fit(Estimator(width=16, random_state=0, max_iter=6), X, y)
    if Estimator is ADMMResidualRegressor:
        assert set(steps) == {None}
        return
    later = _stages.CLASSIFIER_STAGE_START_READOUT_STEPS
    assert steps == [None, *[later] * (len(est.stages_) - 1), None]


def test_stage_rows_are_nested_sorted_and_reproducible():
    rows = stage_rows(1000, [100, 200, 400], np.random.default_rng(0))
    again = stage_rows(1000, [100, 200, 400], np.random.default_rng(0))
    for a, b in zip(rows, again, strict=True):
        np.testing.assert_array_equal(a, b)
    for small, large in zip(rows, rows[1:], strict=False):
        assert set(small) <= set(large)
    assert all(np.all(np.diff(r) > 0) for r in rows)


def test_stages_of_equal_size_are_consecutive_windows_of_the_permutation():
    sizes = [100, 200, 300, 300, 300, 300, 1000]
    assert stage_starts(sizes, 1000) == [0, 0, 0, 300, 600, 900, 0]
    rows = stage_rows(1000, sizes, np.random.default_rng(0))
    order = np.random.default_rng(0).permutation(1000)
    # Growing stages are nested: the permutation's first rows.
    for m, r in zip(sizes[:3], rows, strict=False):
        np.testing.assert_array_equal(r, np.sort(order[:m]))
    # A stage of the same size takes the next window: disjoint from the one
    # before, until the permutation wraps around (the fourth takes its last
    # 100 rows and its first 200).
    assert all(np.all(np.diff(r) > 0) for r in rows)
    for a, b in zip(rows[2:4], rows[3:5], strict=True):
        assert not set(a) & set(b)
    np.testing.assert_array_equal(rows[4], np.sort(order[600:900]))
    np.testing.assert_array_equal(
        rows[5], np.sort(np.concatenate([order[900:], order[:200]]))
    )
    np.testing.assert_array_equal(rows[6], np.arange(1000))


def test_stage_penalty_is_at_least_the_default_of_the_stage_rows():
    # On large tables a sample needs the penalty of a table of its size; the
    # fit's own is a floor (a user's strong penalty is kept).
    n = 10**6
    assert stage_alpha(1e-5, 4000, fixed_alpha, n) == fixed_alpha(4000) == 2e-3
    assert stage_alpha(1e-5, 512_000, fixed_alpha, n) == pytest.approx(16 / 512_000)
    assert stage_alpha(1e-2, 4000, fixed_alpha, n) == 1e-2
    assert stage_alpha(0.0, 10**9, fixed_alpha, 10**10) == pytest.approx(1.6e-8)
    penalties = [stage_alpha(1e-5, m, fixed_alpha, n) for m in stage_sizes(n)]
    assert penalties == sorted(penalties, reverse=True)
    # Smaller staged tables keep the fit's penalty in every stage.
    assert stage_alpha(1e-5, 4000, fixed_alpha, _stages.LARGE_TABLE_ROWS) == 1e-5


def test_window_runs_are_the_classifiers_runs_of_one_size():
    sizes = [m for m, _ in classifier_stage_plan(180_000)]
    positions = window_runs(sizes)
    # Nested stages of 4,000 to 16,000 rows, 20 windows, the stage on all rows.
    assert positions[:3] == [None] * 3 and positions[-1] is None
    assert positions[3:-1] == [(k, 20) for k in range(20)]
    assert window_runs([100, 200, 200, 400, 400, 400, 900]) == [
        None,
        (0, 2),
        (1, 2),
        (0, 3),
        (1, 3),
        (2, 3),
        None,
    ]
    # The regressor's stages grow: none is a window run.
    assert window_runs([m for m, _ in stage_plan(10**6, regressor=True)]) == [None] * 9


def test_window_penalties_fall_geometrically_from_the_stage_rule_to_the_fits():
    rule = _alpha_search.classification_stage_alpha
    n, window, alpha = 180_000, 32_000, 5e-6
    runs = [stage_penalty(alpha, window, window, n, rule, (k, 20)) for k in range(20)]
    assert runs[0] == rule(window) and runs[-1] == pytest.approx(alpha, rel=1e-12)
    ratios = np.array(runs[1:]) / np.array(runs[:-1])
    np.testing.assert_allclose(ratios, (alpha / rule(window)) ** (1 / 19), rtol=1e-12)
    # A given penalty above the rule stays; the regressor's rule ignores
    # windows; a single run of a size is no sequence.
    assert stage_penalty(1.0, window, window, n, rule, (5, 20)) == 1.0
    assert stage_penalty(alpha, 4000, 4000, 10**6, None, (5, 20)) == fixed_alpha(4000)
    assert annealed_penalty(1e-3, 1e-5, 0, 1) == 1e-3
    # Down to a penalty of 0: linearly (geometric steps could not reach it).
    zero = [annealed_penalty(1e-3, 0.0, k, 5) for k in range(5)]
    assert zero == pytest.approx([1e-3, 7.5e-4, 5e-4, 2.5e-4, 0.0])


def test_a_stage_on_all_rows_takes_the_fits_penalty():
    """The classifier's last stage is the fit's own problem: its penalty;
    other stages take stage_alpha, the classifier's rule at every size."""
    rule = _alpha_search.classification_stage_alpha
    n = 50_000
    assert stage_penalty(1e-6, n, float(n), n, rule) == 1e-6
    assert stage_penalty(1e-6, 4000, 4000.0, n, rule) == rule(4000)
    assert stage_penalty(1e-6, 4000, 4000.0, n, None) == 1e-6  # regressor, 50k
    assert stage_penalty(1e-6, 4000, 4000.0, 10**6, None) == fixed_alpha(4000)
    # The stage's summed weight, not its row count, sets the penalty.
    assert stage_penalty(1e-6, 4000, 8000.0, n, rule) == rule(8000)


def _seen_at_each_run(monkeypatch, what):
    """``what(solver, problem)`` at the start of every run of the reset mode
    (a list, filled as the runs start)."""
    from skadmm._solvers import _reset

    seen = []
    setup = _reset.ResetSolver.setup

    def spy(self, problem):
        seen.append(what(self, problem))
        return setup(self, problem)

    monkeypatch.setattr(_reset.ResetSolver, "setup", spy)
    return seen


def test_stage_tol_shrinks_with_the_rows_of_large_stages():
    rows = _stages.STAGE_TOL_ROWS
    for m in (1, 4000, rows):
        assert stage_tol(1e-4, m) == 1e-4
    assert stage_tol(1e-4, 4 * rows) == pytest.approx(5e-5)
    tols = [stage_tol(1e-3, m) for m in np.geomspace(rows, 100 * rows, 9)]
    assert np.all(np.diff(tols) < 0)


def _tol_of_each_run(monkeypatch):
    """The ``tol`` of every solver run (its argument, else the solver's)."""
    from skadmm._solvers._base import BaseSolver

    seen = []
    solve = BaseSolver.solve

    def spy(self, problem, monitor, *args, **kwargs):
        tol = kwargs.get("tol")
        seen.append(self.tol if tol is None else tol)
        return solve(self, problem, monitor, *args, **kwargs)

    monkeypatch.setattr(BaseSolver, "solve", spy)
    return seen


@pytest.mark.usefixtures("small_stages")
def test_large_stages_run_with_their_own_tol(monkeypatch):
    """Stages above ``STAGE_TOL_ROWS`` rows stop on :func:`stage_tol`; the
    smaller ones and the final run on the fit's ``tol``."""
    X, y = friedman(1000)
    seen = _tol_of_each_run(monkeypatch)
    monkeypatch.setattr(_stages, "STAGE_TOL_ROWS", 200)
    est = ADMMResidualRegressor(width=8, random_state=0, alpha=1e-3, tol=0.5)
    fit(est, X, y)
    assert [s["n_samples"] for s in est.stages_] == [100, 200, 400, 1000]
    assert seen == [0.5, 0.5, stage_tol(0.5, 400), 0.5]
    assert stage_tol(0.5, 400) == pytest.approx(0.5 / np.sqrt(2))


@pytest.mark.usefixtures("small_stages")
def test_each_stage_runs_with_its_own_penalty(monkeypatch):
    X, y = friedman(1000)
    sw = np.random.default_rng(0).uniform(0.5, 2.0, len(y))
    seen = _seen_at_each_run(monkeypatch, lambda solver, problem: problem.alpha)
    monkeypatch.setattr(_stages, "LARGE_TABLE_ROWS", 500)
    rows = []
    draw = skadmm._base.stage_rows

    def drawn(*args):
        rows[:] = draw(*args)
        return rows

    monkeypatch.setattr(skadmm._base, "stage_rows", drawn)
    est = ADMMResidualRegressor(width=8, random_state=0, max_iter=4, alpha=1e-4)
    fit(est, X, y, sample_weight=sw)
    # Stages of 100, 200 and 400 rows (their summed weights), then a stage
    # on all rows and the final run, both with the fit's penalty.
    assert [len(r) for r in rows] == [100, 200, 400, 1000]
    expected = [fixed_alpha(sw[r].astype(np.float32).sum()) for r in rows[:3]]
    np.testing.assert_allclose(seen[:3], expected, rtol=1e-6)
    assert seen[3] == seen[4] == est.alpha_ == 1e-4
    # At most LARGE_TABLE_ROWS rows: the fit's penalty in every stage.
    monkeypatch.setattr(_stages, "LARGE_TABLE_ROWS", 1000)
    seen.clear()
    fit(est, X, y, sample_weight=sw)
    assert seen == [1e-4] * 4


@pytest.mark.usefixtures("small_stages")
@pytest.mark.parametrize("large", [False, True, "largest"])
def test_staged_fit_records_every_run_and_each_merit_is_monotone(monkeypatch, large):
    # large: the schedule of large tables (the stages' own penalties, the
    # short final patience, the momentum kept from run to run); "largest":
    # with the stage on all rows in float64.
    if large:
        monkeypatch.setattr(_stages, "LARGE_TABLE_ROWS", 500)
    if large == "largest":
        monkeypatch.setattr(_stages, "FLOAT32_ALL_ROWS_MAX_ROWS", 900)
    carried = _seen_at_each_run(
        monkeypatch,
        lambda solver, _: (
            solver.carry_momentum,
            solver.unit_damping,
            solver.output_damping,
        ),
    )
    X, y = friedman(1000)
    est = fit(ADMMResidualRegressor(width=20, random_state=0, max_iter=15), X, y)
    # ... and the output factor in place of the unit scaling.
    if large:
        assert set(carried) == {(True, None, _stages.REGRESSOR_LARGE_OUTPUT_DAMPING)}
    else:
        assert set(carried) == {(False, _stages.UNIT_DAMPING, None)}
    sizes = [s["n_samples"] for s in est.stages_]
    # 1000 <= AUTO_EARLY_STOPPING_ROWS: every row trains; a large table's
    # stages end with one on all rows (float32) before the final run.
    assert sizes == [100, 200, 400] + [1000] * (2 if large else 1)
    assert est.n_iter_ == sum(s["n_iter"] for s in est.stages_)
    assert len(est.objective_curve_) == est.n_iter_
    assert len(est.loss_curve_) == est.n_iter_
    assert np.all(np.diff(est.time_curve_) >= 0)
    # Within each run the merit (the training objective on that run's rows)
    # never increases; across runs the rows, so the objective, change.
    start = 0
    for stage in est.stages_:
        segment = np.array(est.objective_curve_[start : start + stage["n_iter"]])
        assert np.all(np.diff(segment) <= 1e-4 * np.abs(segment[1:]))
        assert segment[-1] == pytest.approx(stage["objective"])
        start += stage["n_iter"]
    assert est.coefs_[0].dtype == np.float64


@pytest.mark.usefixtures("small_stages")
def test_stages_learn_and_final_run_continues_on_all_rows():
    X, y = friedman(1200)
    X_test, y_test = friedman(2000, seed=1)
    staged = fit(ADMMResidualRegressor(width=20, random_state=0, max_iter=15), X, y)
    first = staged.stages_[0]
    # The stages' start already beats the random features: their last stage's
    # objective is below the first stage's first iterate.
    assert staged.stages_[-2]["objective"] < staged.objective_curve_[0]
    assert first["n_samples"] == 100
    assert staged.score(X_test, y_test) > 0.8


@pytest.mark.usefixtures("small_stages")
@pytest.mark.parametrize("Estimator", [ADMMResidualRegressor, ADMMResidualClassifier])
def test_staged_fit_does_not_depend_on_n_jobs(Estimator):
    # A fixed alpha: the search's worker processes would not see the
    # monkeypatched schedule. The classifier's staged runs take its own
    # settings (the output factor among them).
    X, y = friedman(900)
    if Estimator is ADMMResidualClassifier:
        y = np.digitize(y, np.quantile(y, [1 / 3, 2 / 3]))
    params = dict(width=16, random_state=0, max_iter=8, alpha=1e-3)
    one = fit(Estimator(**params), X, y)
    two = fit(Estimator(**params, n_jobs=2), X, y)
    assert len(one.stages_) > 1
    np.testing.assert_array_equal(one.coefs_[0], two.coefs_[0])
    np.testing.assert_array_equal(one.predict(X), two.predict(X))


@pytest.mark.usefixtures("small_stages")
@pytest.mark.parametrize("early_stopping", [True, False])
def test_final_run_after_stages_stops_with_the_short_patience(
    monkeypatch, early_stopping
):
    monkeypatch.setattr(_stages, "LARGE_TABLE_ROWS", 500)
    X, y = friedman(1000)
    est = ADMMResidualRegressor(
        width=16, random_state=0, max_iter=200, tol=0.05, early_stopping=early_stopping
    )
    fit(est, X, y)
    final = est.stages_[-1]
    assert len(est.stages_) > 1
    # Stopped by validation or tol, after FINAL_PATIENCE iterations without
    # enough progress (the first iteration is the first improvement).
    assert "3" in est.stop_reason_ and "10" not in est.stop_reason_
    assert final["n_iter"] <= 2 * _stages.FINAL_PATIENCE + 1
    # Its true objective never increases.
    curve = np.array(est.objective_curve_[-final["n_iter"] :])
    assert np.all(np.diff(curve) <= 0)
    # Without stages the estimator's own n_iter_no_change holds.
    est = ADMMResidualRegressor(
        width=16, random_state=0, max_iter=200, tol=0.05, early_stopping=early_stopping
    )
    fit(est, X[:300], y[:300])
    assert "10" in est.stop_reason_


@pytest.mark.usefixtures("small_stages")
def test_small_tables_and_other_modes_run_no_stage():
    X, y = friedman(300)
    est = fit(ADMMResidualRegressor(width=16, random_state=0, max_iter=5), X, y)
    assert [s["n_samples"] for s in est.stages_] == [300]
    X, y = friedman(900)
    est = fit(
        ADMMResidualRegressor(width=16, random_state=0, max_iter=5, solver="radmm"),
        X,
        y,
    )
    assert [s["n_samples"] for s in est.stages_] == [900]


@pytest.mark.usefixtures("small_stages")
def test_only_the_regressor_s_staged_runs_extrapolate_and_scale_units(monkeypatch):
    # A regressor's stages and final run extrapolate the read-out (no Gram
    # product at an extrapolated point); small tables and the classifier
    # refit it there. The classifier's staged runs grow eta more slowly,
    # keep every extrapolation that lowers the objective, sweep with
    # first-order targets, cap eta lower and damp the output factor.
    from skadmm import _classifier
    from skadmm._solvers import _reset

    seen, grown, scaled, gains, orders = [], set(), set(), set(), set()
    caps, etas, outputs = set(), [], set()
    setup = _reset.ResetSolver.setup

    def spy(self, problem):
        seen.append(self.extrapolate_readout)
        grown.add(self.grow)
        scaled.add(self.unit_damping)
        gains.add(self.min_gain)
        orders.add(self.first_order_targets)
        caps.add(self.eta_max)
        outputs.add(self.output_damping)
        return setup(self, problem)

    step = _reset.ResetSolver.step

    def spy_step(self, problem, run):
        result = step(self, problem, run)
        etas.append(self.eta)
        return result

    monkeypatch.setattr(_reset.ResetSolver, "setup", spy)
    monkeypatch.setattr(_reset.ResetSolver, "step", spy_step)
    X, y = friedman(900)
    fit(ADMMResidualRegressor(width=16, random_state=0, max_iter=5), X, y)
    assert len(seen) > 1 and all(seen) and grown == {_reset.ResetSolver.grow}
    # ... and scale their hidden weight steps unit by unit.
    assert scaled == {_stages.UNIT_DAMPING}
    assert gains == {_reset.ResetSolver.min_gain} and orders == {False}
    assert caps == {_reset._ETA_MAX} and outputs == {None}
    for spied in (seen, grown, scaled, gains, orders, caps, etas, outputs):
        spied.clear()
    fit(ADMMResidualRegressor(width=16, random_state=0, max_iter=5), X[:300], y[:300])
    assert seen and not any(seen)  # the penalty search's fits too
    assert grown == {_reset.ResetSolver.grow} and scaled == {None}
    assert orders == {False} and caps == {_reset._ETA_MAX} and outputs == {None}
    for spied in (seen, grown, scaled, gains, orders, caps, etas, outputs):
        spied.clear()
    labels = (y > np.median(y)).astype(int)
    # A cap this small fit's steps reach (the default's is 1).
    assert _stages.CLASSIFIER_STAGED_ETA_MAX < _reset._ETA_MAX
    monkeypatch.setattr(_classifier, "CLASSIFIER_STAGED_ETA_MAX", 0.3)
    fit(ADMMResidualClassifier(width=16, random_state=0, max_iter=5), X, labels)
    assert len(seen) > 1 and not any(seen)
    assert grown == {_stages.CLASSIFIER_STAGED_GROW} != {_reset.ResetSolver.grow}
    assert scaled == {None}
    # ... and keep every extrapolation that lowers the objective.
    assert (
        gains == {_stages.CLASSIFIER_STAGED_MIN_GAIN} != {_reset.ResetSolver.min_gain}
    )
    assert orders == {True} == {_stages.CLASSIFIER_STAGED_FIRST_ORDER_TARGETS}
    # ... and their step stops growing at the lower cap.
    assert caps == {0.3} and max(etas) == 0.3
    # ... and their W steps take the output factor.
    assert outputs == {_stages.CLASSIFIER_STAGED_OUTPUT_DAMPING} != {None}


def test_every_staged_classifier_table_takes_the_output_factor():
    # Above LARGE_TABLE_ROWS training rows too, since their window runs
    # were shortened to pay for it (CLASSIFIER_LARGE_WINDOW_ITER).
    settings = ADMMResidualClassifier()._staged_solver_settings
    damping = _stages.CLASSIFIER_STAGED_OUTPUT_DAMPING
    for n_rows in (_stages.LARGE_TABLE_ROWS, _stages.LARGE_TABLE_ROWS + 1, 10**6):
        assert settings(n_rows)["output_damping"] == damping


def test_regressor_tables_above_large_take_the_output_factor_not_unit_scaling():
    # Above LARGE_TABLE_ROWS training rows the factor gained at a million
    # rows; below, it lost at 20,000 and 50,000 rows.
    settings = ADMMResidualRegressor()._staged_solver_settings
    small = settings(_stages.LARGE_TABLE_ROWS)
    large = settings(_stages.LARGE_TABLE_ROWS + 1)
    assert small["unit_damping"] == _stages.UNIT_DAMPING
    assert small["output_damping"] is None
    assert large["unit_damping"] is None
    assert large["output_damping"] == _stages.REGRESSOR_LARGE_OUTPUT_DAMPING


@pytest.mark.usefixtures("small_stages")
def test_warm_start_after_a_staged_fit_continues_on_all_rows():
    X, y = friedman(900)
    est = ADMMResidualRegressor(width=16, random_state=0, max_iter=5, warm_start=True)
    fit(est, X, y)
    n_runs = len(est.stages_)
    fit(est, X, y)
    assert len(est.stages_) == n_runs + 1
    assert est.stages_[-1]["n_samples"] == 900


@pytest.mark.usefixtures("small_stages")
def test_classifier_runs_stages_with_weights():
    X, y = friedman(900)
    labels = (y > np.median(y)).astype(int)
    sw = np.random.default_rng(0).uniform(0.5, 2.0, len(y))
    est = fit(
        ADMMResidualClassifier(width=16, random_state=0, max_iter=6),
        X,
        labels,
        sample_weight=sw,
    )
    # A nested stage, three window runs, all rows, the final run.
    assert [s["n_samples"] for s in est.stages_] == [100, 200, 200, 200, 900, 900]
    assert est.score(X, labels) > 0.8


def test_early_stopping_auto_holds_out_rows_on_large_tables(monkeypatch):
    monkeypatch.setattr(_stages, "AUTO_EARLY_STOPPING_ROWS", 500)
    X, y = friedman(600)
    est = fit(ADMMResidualRegressor(width=8, random_state=0, max_iter=4), X, y)
    assert est.early_stopping_ is True
    assert len(est.validation_scores_) == est.n_iter_
    assert est.stages_[-1]["n_samples"] == 540
    X, y = friedman(400)
    est = fit(ADMMResidualRegressor(width=8, random_state=0, max_iter=4), X, y)
    assert est.early_stopping_ is False and est.validation_scores_ is None


@pytest.mark.usefixtures("small_stages")
def test_interrupted_stage_ends_the_fit_with_finite_float64_weights(monkeypatch):
    from skadmm._solvers._reset import ResetSolver
    from skadmm.exceptions import FitInterruptedWarning

    step, calls = ResetSolver.step, []

    def interrupted(self, problem, run):
        calls.append(problem.rw.n_samples)
        if len(calls) == 20:  # in the second stage
            raise KeyboardInterrupt
        return step(self, problem, run)

    monkeypatch.setattr(ResetSolver, "step", interrupted)
    X, y = friedman(1000)
    est = ADMMResidualRegressor(width=12, random_state=0, max_iter=15, alpha=1e-3)
    with pytest.warns(FitInterruptedWarning):
        est.fit(X, y)
    assert calls[-1] == 200
    assert [s["n_samples"] for s in est.stages_] == [100, 200]
    assert all(W.dtype == np.float64 for W in est.coefs_)
    assert np.isfinite(est.predict(X)).all()


def test_a_stage_at_its_rounding_floor_hands_on_a_usable_step(monkeypatch):
    # Weighted float32 stages reach their rounding floor: every sweep is then
    # rejected and the step shrank until 1/eta overflowed float32, which ended
    # the fit with "a linear system became non-finite" in the next stage. The
    # step now stops shrinking at a floor, and the next run starts afresh.
    from skadmm._solvers import _reset

    monkeypatch.setattr(_stages, "MIN_STAGED_ROWS", 1000)
    monkeypatch.setattr(_stages, "REGRESSOR_MIN_STAGED_ROWS", 1000)
    monkeypatch.setattr(_stages, "FIRST_STAGE_ROWS", 400)
    monkeypatch.setattr(_stages, "STAGE_ITER", 20)
    # The fit's own penalty in every stage: the weaker one reaches the floor.
    monkeypatch.setattr(_stages, "stage_alpha", lambda alpha, *args, **kwargs: alpha)
    # The read-out refitted at extrapolated points: this trajectory reaches
    # the floor (extrapolated, it does not).
    monkeypatch.setattr(
        ADMMResidualRegressor,
        "_staged_solver_settings",
        lambda self, n_rows: {"extrapolate_readout": False},
    )
    rng = np.random.default_rng(0)
    X = rng.standard_normal((3000, 4))
    y = np.sin(2 * X[:, 0]) + X[:, 1] * X[:, 2] + 0.1 * rng.standard_normal(3000)
    sw = rng.uniform(0.5, 2, 3000)
    steps, started = [], []
    setup = _reset.ResetSolver.setup

    def spy(self, problem):
        steps.append(self.eta)
        out = setup(self, problem)
        started.append(self.eta)
        return out

    monkeypatch.setattr(_reset.ResetSolver, "setup", spy)
    params = dict(width=6, n_blocks=1, max_iter=8, alpha=1e-3, random_state=0)
    model = fit(
        ADMMResidualRegressor(**params, early_stopping=False), X, y, sample_weight=sw
    )
    assert [s["n_samples"] for s in model.stages_] == [400, 800, 1600, 3000]
    assert model.stop_reason_.startswith("max_iter")
    # A stage ended at the floor (this is the case the test is about).
    assert min(steps) <= _reset._ETA_MIN
    assert np.isfinite(model.predict(X)).all()
    # Every run starts from the step the last one reached, or afresh where
    # that step collapsed below _ETA_RESTART of the initial one.
    initial = model.eta
    for reached, start in zip(steps, started, strict=True):
        collapsed = reached < _reset._ETA_RESTART * initial
        assert start == (initial if collapsed else reached)


def test_a_later_run_restarts_a_collapsed_step():
    # A step far above _ETA_MIN can still be a collapse: carried into the next
    # stage it grew by _GROW per accepted step, and the stages crawled.
    from skadmm._solvers import _reset

    class Problem:
        """What ResetSolver.setup calls of a problem."""

        W = [np.zeros((3, 2)), np.zeros((3, 1))]

        def prepare_reset(self, *args):
            pass

        def readout_for(self, hidden, max_iter, run, kept):
            return np.zeros((3, 1)), 1.0

        def reset_to_forward(self, run):
            pass

    solver = _reset.ResetSolver(10, 1e-4, 10, eta=0.1, eta_max=10.0, mu=1.0)
    restart = _reset._ETA_RESTART * solver.initial_eta
    for carried, start in [
        (1e3 * _reset._ETA_MIN, 0.1),
        (0.5 * restart, 0.1),
        (2 * restart, 2 * restart),
        (0.01, 0.01),
        (5.0, 5.0),
    ]:
        solver.eta = carried
        solver.setup(Problem())
        assert solver.eta == start


def test_a_later_run_keeps_the_hidden_layers_momentum():
    # The last run's last step still points downhill on the new rows: the
    # hidden layers keep it (in the new run's dtype, the counter capped); the
    # read-out, refitted to the new rows, starts without.
    from skadmm._solvers import _reset

    refitted = np.full((3, 1), 7.0)

    class Problem:
        """What ResetSolver.setup calls of a problem (float64 rows)."""

        dtype = np.dtype(np.float64)
        W = [np.ones((3, 2)), np.zeros((3, 1))]

        def prepare_reset(self, *args):
            pass

        def readout_for(self, hidden, max_iter, run, kept):
            return refitted, 1.0

        def reset_to_forward(self, run):
            pass

    solver = _reset.ResetSolver(10, 1e-4, 10, eta=0.1, eta_max=10.0, mu=1.0)
    solver.setup(Problem())
    assert solver._previous is None and solver._t == 1
    last = [np.full((3, 2), 0.5, dtype=np.float32), np.zeros((3, 1), np.float32)]
    # Off (the classifier's stages): the momentum restarts.
    solver._previous, solver._t, solver._gain = last, 40, 0.25
    solver.setup(Problem())
    assert solver._previous is None and solver._t == 1 and solver._gain == 0.0
    solver.carry_momentum = True
    for t, expected in [(40, _reset._CARRIED_MOMENTUM), (3, 3)]:
        solver._previous, solver._t, solver._gain = last, t, 0.25
        solver.setup(Problem())
        hidden, readout = solver._previous
        assert hidden.dtype == np.float64
        np.testing.assert_array_equal(hidden, last[0])
        np.testing.assert_array_equal(readout, refitted)
        assert readout is not refitted
        assert solver._t == expected and solver._gain == 0.25


@pytest.mark.usefixtures("small_stages")
def test_only_the_regressor_s_stages_on_large_tables_carry_momentum(monkeypatch):
    monkeypatch.setattr(_stages, "LARGE_TABLE_ROWS", 1000)
    assert _stages.carries_momentum(1001) and not _stages.carries_momentum(1000)
    carried = _seen_at_each_run(monkeypatch, lambda solver, _: solver.carry_momentum)
    X, y = friedman(1200)
    for model, rows, carries in [
        (ADMMResidualRegressor, 1200, True),
        (ADMMResidualRegressor, 900, False),
        (ADMMResidualClassifier, 1200, False),
    ]:
        carried.clear()
        target = y[:rows] if carries else y[:rows] > np.median(y)
        est = model(width=8, alpha=1e-3, random_state=0, early_stopping=False)
        fit(est, X[:rows], target)
        assert len(carried) > 2 and set(carried) == {carries}


def _record_run_alphas(monkeypatch):
    """The penalty of every run of a fit (stages, then the run on all rows)."""
    from skadmm._base import BaseADMMResidual

    alphas = []
    make_problem = BaseADMMResidual._make_problem

    def recording(self, X, Y, sw, warm, setting, **kw):
        alphas.append((X.shape[0], setting.alpha))
        return make_problem(self, X, Y, sw, warm, setting, **kw)

    monkeypatch.setattr(BaseADMMResidual, "_make_problem", recording)
    return alphas


@pytest.mark.usefixtures("small_stages")
@pytest.mark.parametrize("weighted", [False, True])
def test_classifier_stages_run_at_the_auto_penalty_of_their_rows(monkeypatch, weighted):
    X, y = friedman(900)
    labels = np.digitize(y, np.quantile(y, [1 / 3, 2 / 3]))
    sw = np.random.default_rng(0).uniform(0.5, 2.0, len(y)) if weighted else None
    # No cap on these small tables: the sum-scale rule decides every penalty,
    # and it falls below the stages' from 200 rows on (20,000 by default).
    monkeypatch.setattr(_alpha_search, "CLASSIFICATION_ALPHA", 1.0)
    monkeypatch.setattr(_alpha_search, "_SUM_PENALTY_RAMP_ROWS", 200)
    alphas = _record_run_alphas(monkeypatch)
    est = fit(
        ADMMResidualClassifier(width=16, random_state=0, max_iter=6),
        X,
        labels,
        sample_weight=sw,
    )
    rule = est._target.stage_alpha
    # Each sampled stage's penalty (the nested stage's, each window run's) is
    # the stages' sum-scale rule on its own summed weights, above the fit's
    # own alpha_ on all rows, the table's weaker rule; the smallest stage's is
    # the strongest. The last stage, on all rows, is the final run's problem
    # in float32.
    *stages, (n_last, last), (n_all, final) = alphas
    assert [n for n, _ in stages] == [100, 200, 200, 200] and n_last == n_all
    assert final == last == est.alpha_
    n_weight = float(n_all if sw is None else sw.sum())
    assert final == est._target.auto_alpha(n_weight) < rule(n_weight)
    # The window runs' penalty falls from the rule on their rows to the fit's
    # (annealed_penalty); the nested stage keeps the rule.
    windows = [a for _, a in stages[1:]]
    if sw is None:
        assert stages[0][1] == rule(100.0)
        assert windows == [annealed_penalty(rule(200.0), final, k, 3) for k in range(3)]
    assert windows[-1] == final and windows == sorted(windows, reverse=True)
    assert all(a > last for a in windows[:-1]) and windows[0] > 1.5 * windows[1]
    assert stages[0][1] > max(windows)
    # stages_ records each run's penalty.
    assert [s["alpha"] for s in est.stages_] == [a for _, a in alphas]
    # Within each run the merit (that run's training objective, at its
    # penalty) never increases.
    start = 0
    for stage in est.stages_:
        segment = np.array(est.objective_curve_[start : start + stage["n_iter"]])
        assert np.all(np.diff(segment) <= 1e-6 * np.abs(segment[1:]))
        start += stage["n_iter"]


@pytest.mark.usefixtures("small_stages")
def test_a_strong_given_alpha_and_the_smaller_regressor_keep_one_penalty(
    monkeypatch,
):
    X, y = friedman(900)
    labels = (y > np.median(y)).astype(int)
    alphas = _record_run_alphas(monkeypatch)
    # A given penalty above the rule on every stage is every stage's.
    model = ADMMResidualClassifier(width=16, random_state=0, max_iter=4, alpha=1.0)
    fit(model, X, labels)
    assert len(alphas) == 6 and {a for _, a in alphas} == {1.0}
    # A given weak one is a floor: the stages take the rule on their rows.
    alphas.clear()
    model.set_params(alpha=1e-6)
    fit(model, X, labels)
    rule = model._target.stage_alpha
    # The window runs' falls from the rule on their rows to the given one.
    annealed = [rule(200.0), np.sqrt(rule(200.0) * 1e-6), 1e-6]
    assert [a for _, a in alphas[:4]] == pytest.approx([rule(100.0), *annealed])
    # The stage on all rows and the final run keep the given one.
    assert alphas[4] == alphas[5] == (900, 1e-6)
    alphas.clear()
    est = fit(ADMMResidualRegressor(width=16, random_state=0, max_iter=4), X, y)
    # The regressor's stages keep its penalty up to LARGE_TABLE_ROWS rows. (The
    # last four runs: before them, the penalty search's fits.)
    assert {a for _, a in alphas[-4:]} == {est.alpha_}

"""Users see and steer long fits: exact warm-start continuation, progress
lines, explicit validation data."""

import warnings

import numpy as np
import pytest
import sklearn
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score, mean_squared_error, r2_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.class_weight import compute_class_weight

import skadmm._monitor
import skadmm._solvers._base
from skadmm import ADMMResidualClassifier, ADMMResidualRegressor
from skadmm._alpha_search import fixed_alpha
from skadmm._solvers import SOLVERS
from skadmm.exceptions import DivergenceWarning, FitInterruptedWarning, NumericalError

from ._problems import StopAt, regression_data

MODES = sorted(SOLVERS)


@pytest.fixture(scope="module")
def data():
    return regression_data(120, 5, seed=0, frequency=1.0)


def params(**extra):
    base = dict(
        width=16,
        n_blocks=1,
        alpha=3e-3,
        tol=0.0,
        early_stopping=False,
        random_state=0,
    )
    base.update(extra)
    return base


def quiet_fit(est, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(*args, **kwargs)


@pytest.mark.parametrize("solver", MODES)
def test_ten_warm_fits_of_twenty_equal_one_fit_of_two_hundred(data, solver):
    """The kept solver state includes the mode's step state (reset: eta, the
    line-search factor and the momentum), so stepping a fit resumes the same
    trajectory."""
    X, y = data
    full = quiet_fit(ADMMResidualRegressor(max_iter=200, **params(solver=solver)), X, y)
    warm = ADMMResidualRegressor(max_iter=20, warm_start=True, **params(solver=solver))
    for _ in range(10):
        quiet_fit(warm, X, y)
    assert warm.n_iter_ == full.n_iter_ == 200
    fitted = zip(
        warm.coefs_ + warm.intercepts_, full.coefs_ + full.intercepts_, strict=True
    )
    for a, b in fitted:
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    for name in ("loss_curve_", "objective_curve_", "residual_curve_"):
        np.testing.assert_allclose(
            getattr(warm, name), getattr(full, name), rtol=1e-10, atol=1e-12
        )
    assert len(warm.time_curve_) == 200 and np.all(np.diff(warm.time_curve_) >= 0)


def test_reset_classifier_resumes_exactly(data):
    """Cross-entropy's read-out refit is a few warm-started steps: a resumed
    run must not refit it at its start."""
    X, y = data
    labels = (y > np.median(y)).astype(int)
    kw = params(solver="reset")
    full = quiet_fit(ADMMResidualClassifier(max_iter=30, **kw), X, labels)
    warm = ADMMResidualClassifier(max_iter=10, warm_start=True, **kw)
    for _ in range(3):
        quiet_fit(warm, X, labels)
    np.testing.assert_allclose(warm.objective_curve_, full.objective_curve_, rtol=1e-10)
    np.testing.assert_allclose(
        warm.predict_proba(X), full.predict_proba(X), rtol=1e-10, atol=1e-12
    )


def test_stepping_with_warm_start_warns_only_without_it(data):
    """max_iter reached by a warm-started fit is a step of a longer fit, not a
    failure to converge: no ConvergenceWarning per call."""
    X, y = data
    warm = ADMMResidualRegressor(max_iter=3, warm_start=True, **params())
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        for _ in range(3):
            warm.fit(X, y)
    assert warm.stop_reason_.startswith("max_iter")
    with pytest.warns(ConvergenceWarning, match="max_iter=3"):
        ADMMResidualRegressor(max_iter=3, **params()).fit(X, y)


class FakeClock:
    """Seconds that advance by ``step`` at every reading.

    A run reads its clock once at its start, once per iteration and once at
    its end, so iteration ``k`` ends ``k * step`` seconds after the start.
    """

    def __init__(self, step):
        self.step, self.now = step, 0.0

    def __call__(self):
        self.now += self.step
        return self.now


@pytest.fixture
def fake_clock(monkeypatch):
    clock = FakeClock(0.5)
    monkeypatch.setattr(skadmm._solvers._base, "CLOCK", clock)
    return clock


def progress_lines(out):
    return [line for line in out.splitlines() if line.startswith("Iteration")]


def test_verbose_1_prints_a_line_every_two_seconds_and_a_closing_line(
    data, capsys, fake_clock
):
    X, y = data
    quiet_fit(ADMMResidualRegressor(max_iter=20, verbose=1, **params()), X, y)
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("ADMMResidualRegressor: 120 rows x 5 features")
    lines = progress_lines("\n".join(out))
    # 0.5 s per iteration: one line every 4 iterations, not every max_iter // 20.
    assert [line.split(":")[0] for line in lines] == [
        f"Iteration {k}/20" for k in (4, 8, 12, 16, 20)
    ]
    # Iteration 4: 2 s elapsed at 0.5 s each, 16 iterations left.
    assert lines[0].startswith("Iteration 4/20: train MSE = ")
    assert lines[0].endswith(", 2.0s elapsed, at most 8.0s left")
    assert "objective" not in lines[0] and "validation" not in lines[0]
    assert out[-1] == (
        "Stopped after 20 iterations in 10.50s: max_iter=20 iterations reached."
    )


def test_progress_shows_the_training_loss_in_the_units_of_y(data, capsys, fake_clock):
    X, y = data
    est = quiet_fit(
        ADMMResidualRegressor(max_iter=8, verbose=1, **params()), X, 1000.0 * y
    )
    line = progress_lines(capsys.readouterr().out)[0]
    shown = float(line.split("train MSE = ")[1].split(",")[0])
    assert shown == pytest.approx(est.loss_curve_[3], rel=1e-5)
    assert shown > 100.0  # not the standardised objective


def test_verbose_2_prints_every_iteration_with_the_merit(data, capsys, fake_clock):
    X, y = data
    quiet_fit(ADMMResidualRegressor(max_iter=5, verbose=2, **params()), X, y)
    lines = progress_lines(capsys.readouterr().out)
    assert len(lines) == 5
    assert all("objective = " in line and "residual = " in line for line in lines)


def test_closing_line_says_why_the_run_stopped(data, capsys, fake_clock):
    X, y = data
    ADMMResidualRegressor(max_iter=200, verbose=1, **params(tol=0.5)).fit(X, y)
    assert "decreased by less than tol=0.5" in capsys.readouterr().out.splitlines()[-1]
    es = params(early_stopping=True, n_iter_no_change=2)
    est = quiet_fit(ADMMResidualRegressor(max_iter=200, verbose=1, **es), X, y)
    out = capsys.readouterr().out
    assert "validation R2 = " in progress_lines(out)[0]
    assert out.splitlines()[-1].endswith(
        "validation score did not improve by more than tol=0 for 2 consecutive "
        "iterations."
    )
    assert est.stop_reason_.startswith("validation score did not improve")


def test_closing_line_after_an_interrupt(data, capsys, monkeypatch):
    X, y = data
    update = skadmm._monitor.ForwardMonitor.update

    def interrupt_at_3(self, problem, iteration, loss=None):
        if iteration == 3:
            raise KeyboardInterrupt
        return update(self, problem, iteration, loss)

    monkeypatch.setattr(skadmm._monitor.ForwardMonitor, "update", interrupt_at_3)
    with pytest.warns(FitInterruptedWarning):
        est = ADMMResidualRegressor(max_iter=10, verbose=1, **params()).fit(X, y)
    last = capsys.readouterr().out.splitlines()[-1]
    assert last.startswith("Stopped after 2 iterations in ")
    assert last.endswith("interrupted by the user at iteration 3.")
    assert est.n_iter_ == 2


def test_closing_line_after_a_failure(data, capsys):
    X, y = data
    with pytest.warns(DivergenceWarning):
        ADMMResidualRegressor(
            max_iter=10, verbose=1, **params(solver="radmm", beta=1e308)
        ).fit(X, y)
    last = capsys.readouterr().out.splitlines()[-1]
    assert last.startswith("Stopped after 0 iterations in ")
    assert "failed: ADMM iteration 1" in last


@pytest.fixture(scope="module")
def validation():
    rng = np.random.default_rng(1)
    X_val = rng.standard_normal((40, 5))
    return X_val, np.sin(X_val[:, 0]) + X_val[:, 1] * X_val[:, 2]


@pytest.mark.parametrize("early_stopping", ["auto", True])
def test_explicit_validation_data_drive_early_stopping(
    data, validation, early_stopping
):
    """With X_val and y_val every training row trains, and the validation
    curves are those of X_val (early_stopping="auto" then holds)."""
    X, y = data
    X_val, y_val = validation
    # Without the read-out refit, the returned network is the kept iterate.
    kw = params(early_stopping=early_stopping, refit_readout=False)
    est = quiet_fit(
        ADMMResidualRegressor(max_iter=6, **kw), X, y, X_val=X_val, y_val=y_val
    )
    assert est.early_stopping_ is True
    assert est.stages_[-1]["n_samples"] == 120
    assert len(est.validation_scores_) == est.n_iter_ == 6
    assert est.best_validation_score_ == pytest.approx(
        r2_score(y_val, est.predict(X_val)), rel=1e-10
    )
    assert est.best_loss_ == pytest.approx(
        mean_squared_error(y_val, est.predict(X_val)), rel=1e-10
    )


def test_validation_weights_weigh_the_scores(data, validation):
    X, y = data
    X_val, y_val = validation
    w = np.r_[np.ones(20), np.zeros(20)]
    kw = params(early_stopping=True, refit_readout=False)
    est = quiet_fit(
        ADMMResidualRegressor(max_iter=6, **kw),
        X,
        y,
        X_val=X_val,
        y_val=y_val,
        sample_weight_val=w,
    )
    assert est.best_validation_score_ == pytest.approx(
        r2_score(y_val[:20], est.predict(X_val[:20])), rel=1e-10
    )


def test_validation_data_are_checked(data, validation):
    X, y = data
    X_val, y_val = validation
    est = ADMMResidualRegressor(max_iter=2, **params(early_stopping="auto"))
    with pytest.raises(ValueError, match="early_stopping=False"):
        ADMMResidualRegressor(**params()).fit(X, y, X_val=X_val, y_val=y_val)
    with pytest.raises(ValueError, match="y_val"):
        est.fit(X, y, X_val=X_val)
    with pytest.raises(ValueError, match="X_val"):
        est.fit(X, y, y_val=y_val)
    with pytest.raises(ValueError, match="sample_weight_val"):
        est.fit(X, y, sample_weight_val=np.ones(40))
    with pytest.raises(ValueError, match="features"):
        est.fit(X, y, X_val=X_val[:, :3], y_val=y_val)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        est.fit(X, y, X_val=X_val, y_val=y_val[:30])
    with pytest.raises(ValueError, match="NaN"):
        est.fit(X, y, X_val=np.where(X_val > 2, np.nan, X_val), y_val=y_val)
    # Said of y_val, not of a warm start (this fit has none).
    with pytest.raises(ValueError, match="^y_val has 2 outputs and y has 1.$"):
        est.fit(X, y, X_val=X_val, y_val=np.c_[y_val, y_val])


def test_classifier_validation_labels_must_be_known(data, validation):
    X, y = data
    X_val, y_val = validation
    labels = np.where(y > np.median(y), "a", "b")
    est = ADMMResidualClassifier(max_iter=3, **params(early_stopping=True))
    with pytest.raises(ValueError, match="y_val contains labels that y does not"):
        est.fit(X, labels, X_val=X_val, y_val=np.full(40, "c"))
    quiet_fit(est, X, labels, X_val=X_val, y_val=np.where(y_val > 0, "a", "b"))
    assert len(est.validation_scores_) == est.n_iter_


def test_validation_data_are_routed_through_a_pipeline(data, validation):
    X, y = data
    X_val, y_val = validation
    shift = 100.0
    with sklearn.config_context(enable_metadata_routing=True):
        kw = params(early_stopping=True, refit_readout=False)
        est = ADMMResidualRegressor(max_iter=6, **kw)
        est.set_fit_request(X_val=True, y_val=True)
        pipe = Pipeline(
            [("scale", StandardScaler()), ("net", est)], transform_input=["X_val"]
        )
        quiet_fit(pipe, X + shift, y, X_val=X_val + shift, y_val=y_val)
        predicted = pipe.predict(X_val + shift)
    net = pipe.named_steps["net"]
    assert net.early_stopping_ and net.stages_[-1]["n_samples"] == 120
    assert net.best_validation_score_ == pytest.approx(
        r2_score(y_val, predicted), rel=1e-10
    )


@pytest.mark.parametrize("solver", ["reset", "radmm"])
def test_a_callback_sees_each_iteration_and_stops_the_fit(data, solver):
    pytest.importorskip("sklearn.callback")
    X, y = data
    callback = StopAt(4, X, y)
    kw = params(solver=solver, refit_readout=False)
    est = ADMMResidualRegressor(max_iter=50, **kw).set_callbacks(callback)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est.fit(X, y)
    assert est.n_iter_ == 4 and callback.begun == 4 and callback.fits == 1
    assert est.stop_reason_ == "a callback stopped the fit at iteration 4"
    # The estimator given at iteration k predicts with its weights: the last
    # one is the returned network (no final read-out refit here).
    assert callback.scores[-1] == pytest.approx(est.score(X, y), rel=1e-12)
    reference = quiet_fit(ADMMResidualRegressor(max_iter=4, **kw), X, y)
    np.testing.assert_allclose(est.predict(X), reference.predict(X), rtol=1e-12)


class RecordTasks:
    """A fit callback that records every task it sees end, and asks to stop
    at the end of the ``stop_at``-th task named ``stop_on``."""

    def __init__(self, stop_on=None, stop_at=None):
        self.stop_on, self.stop_at = stop_on, stop_at
        self.begun, self.ended, self.fitted = [], [], []

    def setup(self, estimator, context):
        pass

    def teardown(self, estimator, context):
        pass

    def on_fit_task_begin(self, estimator, context):
        self.begun.append(context.task_name)

    def on_fit_task_end(self, estimator, context, *, fitted_estimator=None):
        parent = None if context.parent is None else context.parent.task_name
        self.ended.append((context.task_name, context.task_id, parent))
        self.fitted.append(fitted_estimator)
        seen = [name for name, _, _ in self.ended].count(context.task_name)
        return context.task_name == self.stop_on and seen == self.stop_at


def test_the_penalty_search_fits_are_subtasks_of_the_fit(data):
    """On 120 rows alpha="auto" cross-validates up to six penalties on three
    folds (the penalty path may stop before the smallest), each fit a leaf
    task under the fit's task, before its iterations."""
    pytest.importorskip("sklearn.callback")
    X, y = data
    callback = RecordTasks()
    est = ADMMResidualRegressor(max_iter=3, **params(alpha="auto"))
    quiet_fit(est.set_callbacks(callback), X, y)
    assert est.alpha_search_["rule"] == "cross-validation"
    assert len(est.alpha_search_["candidates"]) == 6
    n_fits = 3 * sum(est.alpha_search_["fitted"])
    assert n_fits >= 6
    names = ["alpha-search-fit"] * n_fits + ["iteration"] * 3
    assert callback.begun == ["fit"] + names
    assert callback.ended == [(name, i, "fit") for i, name in enumerate(names)] + [
        ("fit", 0, None)
    ]
    # A candidate's task has no fitted estimator; an iteration's has.
    assert callback.fitted[:n_fits] == [None] * n_fits
    assert all(f is not None for f in callback.fitted[n_fits : n_fits + 3])


def test_the_search_tasks_are_the_same_on_worker_processes(data):
    """With n_jobs=2 the candidates are fitted on worker processes: their
    tasks are opened and closed here as the results arrive."""
    pytest.importorskip("sklearn.callback")
    X, y = data
    kw = params(alpha="auto", width=8)
    callbacks, alphas = [], []
    for n_jobs in (None, 2):
        callback = RecordTasks()
        est = ADMMResidualRegressor(max_iter=2, n_jobs=n_jobs, **kw)
        quiet_fit(est.set_callbacks(callback), X, y)
        callbacks.append(callback.ended)
        alphas.append(est.alpha_search_["fold_errors"])
    assert len(callbacks[1]) == 3 * sum(est.alpha_search_["fitted"]) + 2 + 1
    assert callbacks[0] == callbacks[1]
    np.testing.assert_array_equal(alphas[0], alphas[1])


def test_callbacks_do_not_change_the_penalty_search(data):
    """The candidates never carry the callbacks: alpha_, the search's record
    and the fitted network are bit-identical with and without them."""
    pytest.importorskip("sklearn.callback")
    X, y = data
    kw = params(alpha="auto")
    plain = quiet_fit(ADMMResidualRegressor(max_iter=3, **kw), X, y)
    watched = ADMMResidualRegressor(max_iter=3, **kw).set_callbacks(RecordTasks())
    quiet_fit(watched, X, y)
    assert watched.alpha_ == plain.alpha_
    np.testing.assert_array_equal(
        watched.alpha_search_["fold_errors"], plain.alpha_search_["fold_errors"]
    )
    np.testing.assert_array_equal(watched.predict(X), plain.predict(X))


def test_a_callback_stops_the_fit_during_the_penalty_search(data):
    """Stopping at the end of the 4th candidate fit ends the search and the
    fit: no further fit and no iteration runs, and the estimator is a whole
    fitted one (the initial network, random features and their best read-out,
    with the penalty of a table that is not cross-validated)."""
    pytest.importorskip("sklearn.callback")
    X, y = data
    callback = RecordTasks(stop_on="alpha-search-fit", stop_at=4)
    est = ADMMResidualRegressor(max_iter=20, **params(alpha="auto"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        est.set_callbacks(callback).fit(X, y)
    assert callback.begun == ["fit"] + ["alpha-search-fit"] * 4
    assert [name for name, _, _ in callback.ended][-1] == "fit"
    assert est.n_iter_ == 0 and est.loss_curve_ == []
    assert est.stop_reason_ == (
        "a callback stopped the fit during the penalty search, after 4 of its 18 fits"
    )
    search = est.alpha_search_
    assert search["rule"] == "stopped" and search["n_fits"] == 4
    assert est.alpha_ == fixed_alpha(X.shape[0])
    assert np.isfinite(est.predict(X)).all()
    assert [W.shape for W in est.coefs_] == [(5, 16), (16, 16), (16, 1)]


def test_without_callbacks_nothing_changes(data):
    X, y = data
    est = quiet_fit(ADMMResidualRegressor(max_iter=3, **params()), X, y)
    assert not hasattr(est, "_callback_fit_ctx")


def test_a_callback_stops_a_staged_fit_within_its_stage():
    """On a table of more than 20,000 rows the iterations of the stages are
    tasks as well: a callback ends the fit there, without the later runs."""
    pytest.importorskip("sklearn.callback")
    rng = np.random.default_rng(0)
    X = rng.standard_normal((25_000, 4))
    y = np.sin(X[:, 0])
    callback = StopAt(3, X[:500], y[:500])
    est = ADMMResidualRegressor(width=8, alpha=1e-3, max_iter=5, random_state=0)
    est.set_callbacks(callback).fit(X, y)
    assert est.n_iter_ == 3 and [s["n_samples"] for s in est.stages_] == [4000]
    assert est.coefs_[0].dtype == np.float64
    assert est.stop_reason_ == "a callback stopped the fit at iteration 3"


def test_the_held_out_embedding_fits_are_tasks_with_their_iterations():
    """embedding="auto" on more than 2,000 rows: each candidate's fit is a
    task of the fit, its search fits and iterations tasks below it; a
    callback sees them and stops the fit in the first candidate, which is
    then the model."""
    pytest.importorskip("sklearn.callback")
    rng = np.random.default_rng(0)
    X = rng.standard_normal((2_500, 3))
    y = X[:, 0] + 0.3 * rng.standard_normal(2_500)
    kw = dict(embedding="auto", width=8, max_iter=4, random_state=0)
    plain = quiet_fit(ADMMResidualRegressor(**kw), X, y)
    callback = RecordTasks()
    est = quiet_fit(ADMMResidualRegressor(**kw).set_callbacks(callback), X, y)
    np.testing.assert_array_equal(est.predict(X), plain.predict(X))
    parents = {(name, parent) for name, _, parent in callback.ended}
    assert parents == {
        ("fit", None),
        ("embedding-fit", "fit"),
        ("alpha-search-fit", "embedding-fit"),
        ("iteration", "embedding-fit"),
    }
    assert [name for name, _, _ in callback.ended].count("iteration") == 8
    stopping = RecordTasks(stop_on="iteration", stop_at=3)
    est = quiet_fit(ADMMResidualRegressor(**kw).set_callbacks(stopping), X, y)
    assert est.n_iter_ == 3
    assert est.stop_reason_ == "a callback stopped the fit at iteration 3"
    assert est.alpha_search_["embedding"] == "none"
    assert est.alpha_search_["embedding_rule"] == "stopped"
    assert [name for name, _, _ in stopping.ended].count("embedding-fit") == 1
    # A stop in the second candidate ends the fit with that one too.
    stopping = RecordTasks(stop_on="iteration", stop_at=6)
    est = quiet_fit(ADMMResidualRegressor(**kw).set_callbacks(stopping), X, y)
    assert est.alpha_search_["embedding"] != "none" and est.n_iter_ == 2
    assert est.alpha_search_["embedding_rule"] == "stopped"
    assert est.stop_reason_ == "a callback stopped the fit at iteration 2"
    # Each candidate's task hands its own fitted model to the callbacks.
    tasks = [
        (name, fitted)
        for (name, _, _), fitted in zip(callback.ended, callback.fitted, strict=True)
    ]
    models = [fitted for name, fitted in tasks if name == "embedding-fit"]
    assert [m.n_iter_ for m in models] == [4, 4]
    assert [m.embedding_.kind for m in models][0] == "none"


def test_a_failed_fit_still_tears_its_callbacks_down(data):
    """scikit-learn tears the callbacks down after fit from what it set on
    the estimator, which the restore of a failed fit must leave in place
    (a ProgressBar's thread otherwise outlived the process's work)."""
    pytest.importorskip("sklearn.callback")

    class Log(RecordTasks):
        def __init__(self):
            super().__init__()
            self.calls = []

        def setup(self, estimator, context):
            self.calls.append("setup")

        def teardown(self, estimator, context):
            self.calls.append("teardown")

    X, y = data
    log = Log()
    est = ADMMResidualRegressor(max_iter=2, **params()).set_callbacks(log)
    with pytest.raises(ValueError, match="non-zero"):
        est.fit(X, y, sample_weight=np.zeros(len(y)))
    assert log.calls == ["setup", "teardown"]
    assert not hasattr(est, "_callback_fit_ctx")


def test_an_interrupt_in_a_callback_leaves_the_curves_consistent(data):
    """Ctrl-C inside a callback's code at iteration 3 ends the fit with the
    weights of iteration 2, and the monitor's curves end there too."""
    pytest.importorskip("sklearn.callback")

    class Interrupt(RecordTasks):
        def on_fit_task_end(self, estimator, context, *, fitted_estimator=None):
            super().on_fit_task_end(estimator, context)
            if len(self.ended) == 3:
                raise KeyboardInterrupt

    X, y = data
    est = ADMMResidualRegressor(max_iter=20, **params(early_stopping=True))
    with pytest.warns(FitInterruptedWarning):
        est.set_callbacks(Interrupt()).fit(X, y)
    assert est.n_iter_ == 2
    for curve in ("loss_curve_", "validation_scores_", "objective_curve_"):
        assert len(getattr(est, curve)) == 2, curve


def test_a_refit_that_fails_leaves_the_estimator_as_it_was(data):
    """validate_data records the new columns before the scale check refuses
    them: the fitted model once kept 4 features' weights and a count of 3."""
    X, y = data
    est = quiet_fit(ADMMResidualRegressor(max_iter=3, **params()), X, y)
    before, predicted = dict(vars(est)), est.predict(X)
    with pytest.raises(NumericalError):
        est.fit(X[:, :3] * 1e200, y)
    with pytest.raises(ValueError, match="at least one non-zero"):
        est.fit(X[:, :3], y, sample_weight=np.zeros(len(y)))
    assert vars(est).keys() == before.keys()
    assert all(vars(est)[key] is value for key, value in before.items())
    np.testing.assert_array_equal(est.predict(X), predicted)
    first = ADMMResidualRegressor(**params())
    with pytest.raises(NumericalError):
        first.fit(X * 1e200, y)
    assert vars(first) == vars(ADMMResidualRegressor(**params()))


def test_a_warm_fit_failing_at_its_end_never_resumes_its_state(data):
    """A warm fit that raises after storing its new kept state (a callback at
    the end of the fit task) is rolled back to the previous model, whose kept
    problem the failed fit iterated in place: that state is dropped, so the
    next warm fit starts from the previous weights."""
    pytest.importorskip("sklearn.callback")

    class Boom(RecordTasks):
        armed = False

        def on_fit_task_end(self, estimator, context, *, fitted_estimator=None):
            if self.armed and context.task_name == "fit":
                raise KeyboardInterrupt
            return False

    X, y = data
    boom = Boom()
    est = ADMMResidualRegressor(max_iter=5, warm_start=True, **params())
    quiet_fit(est.set_callbacks(boom), X, y)
    coefs = [c.copy() for c in est.coefs_]
    boom.armed = True
    with pytest.raises(KeyboardInterrupt):
        quiet_fit(est, X, y)
    assert est.n_iter_ == 5 and est._solver_state is None
    for a, b in zip(est.coefs_, coefs, strict=True):
        np.testing.assert_array_equal(a, b)


def test_a_warm_fit_takes_a_new_numeric_alpha(data):
    """A number set between warm fits is the next fit's penalty (user guide,
    "Warm starts"), where the first fit's was once kept; "auto" keeps the
    penalty it resolved to."""
    X, y = data
    est = ADMMResidualRegressor(max_iter=5, warm_start=True, **params(alpha=1e-3))
    quiet_fit(est, X, y)
    norm = np.linalg.norm(est.coefs_[0])
    quiet_fit(est.set_params(alpha=10.0), X, y)
    assert est.alpha_ == 10.0 and est.alpha_search_["rule"] == "given"
    assert np.linalg.norm(est.coefs_[0]) < 0.5 * norm
    auto = ADMMResidualRegressor(max_iter=2, warm_start=True, **params(alpha="auto"))
    first = quiet_fit(auto, X, y).alpha_
    quiet_fit(auto, X, y)
    assert auto.alpha_ == first and auto.alpha_search_["rule"] == "kept"


def test_validation_rows_take_the_training_class_weights(data, validation):
    X, y = data
    X_val, y_val = validation
    labels = (y > np.quantile(y, 0.7)).astype(int)  # 30 % positive
    labels_val = (y_val > 0).astype(int)
    kw = params(early_stopping=True, refit_readout=False)
    est = ADMMResidualClassifier(max_iter=5, class_weight="balanced", **kw)
    quiet_fit(est, X, labels, X_val=X_val, y_val=labels_val)
    per_class = compute_class_weight("balanced", classes=np.array([0, 1]), y=labels)
    expected = accuracy_score(
        labels_val, est.predict(X_val), sample_weight=per_class[labels_val]
    )
    assert est.best_validation_score_ == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("solver", ["reset", "radmm"])
def test_warm_start_with_a_new_alpha_restarts_the_step_control(solver):
    """A warm fit with another alpha has another objective: it continues
    from the kept iterate without comparing against the old merit (no
    spurious increase, a monotone run of its own)."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 4))
    y = np.sin(X[:, 0]) + 0.1 * rng.standard_normal(200)
    est = ADMMResidualRegressor(
        width=12,
        solver=solver,
        alpha=1e-3,
        max_iter=15,
        tol=0.0,
        warm_start=True,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", DivergenceWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y)
        est.set_params(alpha=0.3)
        est.fit(X, y)
    second = np.array(est.objective_curve_[15:])
    assert len(second) == 15
    if solver == "reset":
        assert np.all(np.diff(second) <= 1e-10 * np.abs(second[1:]))


def _step_until_stopped(est, X, y, **fit_params):
    """Warm fits of ``est`` until early stopping ends the run (at most 100)."""
    for _ in range(100):
        quiet_fit(est, X, y, **fit_params)
        if est.stop_reason_.startswith("validation score"):
            break
    return est


@pytest.mark.parametrize("given", [False, True], ids=["split", "X_val"])
@pytest.mark.parametrize("solver", ["reset", "radmm"])
def test_warm_fits_with_early_stopping_equal_one_fit(data, validation, solver, given):
    """The best score, best weights and no-improvement count go on with the
    kept solver state: stepping an early-stopped fit by max_iter=2 (fewer than
    n_iter_no_change, so no call would stop on its own count) stops at the
    iteration one fit stops at, with the same best network."""
    X, y = data
    fit_params = dict(zip(("X_val", "y_val"), validation, strict=True)) if given else {}
    kw = params(solver=solver, early_stopping=True, n_iter_no_change=3, width=24)
    full = quiet_fit(ADMMResidualRegressor(max_iter=300, **kw), X, y, **fit_params)
    assert full.stop_reason_.startswith("validation score"), full.stop_reason_
    stepped = ADMMResidualRegressor(max_iter=2, warm_start=True, **kw)
    _step_until_stopped(stepped, X, y, **fit_params)
    assert stepped.n_iter_ == full.n_iter_
    assert stepped.stop_reason_ == full.stop_reason_
    np.testing.assert_allclose(
        stepped.validation_scores_, full.validation_scores_, rtol=1e-10
    )
    assert stepped.best_validation_score_ == pytest.approx(
        full.best_validation_score_, rel=1e-12
    )
    for a, b in zip(
        stepped.coefs_ + stepped.intercepts_,
        full.coefs_ + full.intercepts_,
        strict=True,
    ):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


def test_early_stopping_state_restarts_on_other_validation_rows(data, validation):
    """Other validation rows make other scores: the kept best score is not
    compared with them (the solver state itself still goes on)."""
    X, y = data
    X_val, y_val = validation
    kw = params(early_stopping=True, n_iter_no_change=50)
    est = ADMMResidualRegressor(max_iter=5, warm_start=True, **kw)
    quiet_fit(est, X, y, X_val=X_val, y_val=y_val)
    quiet_fit(est, X, y, X_val=X_val[:20], y_val=y_val[:20])
    assert est.best_validation_score_ == pytest.approx(
        max(est.validation_scores_[5:]), rel=1e-12
    )


def test_scikit_learn_scoring_monitor_logs_every_iteration(data):
    callback_module = pytest.importorskip("sklearn.callback")
    X, y = data
    monitor = callback_module.ScoringMonitor(scoring="r2")
    est = ADMMResidualRegressor(width=8, max_iter=6, alpha=1e-3, tol=0.0)
    est.set_callbacks(monitor)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(X, y)
    rows = monitor.get_logs().data
    iterations = [r for r in rows if r["task_name"] == "iteration"]
    assert len(iterations) == est.n_iter_ == 6
    # The root task's score is the returned model's.
    root = [r for r in rows if r["task_name"] == "fit"]
    assert root[-1]["r2"] == pytest.approx(est.score(X, y), rel=1e-12)


def test_scikit_learn_progress_bar_runs(data):
    callback_module = pytest.importorskip("sklearn.callback")
    pytest.importorskip("rich")
    X, y = data
    est = ADMMResidualRegressor(width=8, max_iter=3, alpha=1e-3)
    est.set_callbacks(callback_module.ProgressBar())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(X, y)
    assert est.n_iter_ == 3

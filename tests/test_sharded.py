"""One fit sharded over the row chunks of a Dask collection.

The sharded fit sums every Gram matrix, cross product and loss chunk by chunk
(in chunk order) where the in-process fit makes one BLAS call over all rows,
so the two agree up to the rounding of those sums: on these short runs the
predictions agree to 1e-8 relative (measured: 1e-14 to 1e-12). Across worker
counts the sums are the same, so the sharded fits are bit-identical.
"""

import os
import time
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_limits

from skadmm import ADMMResidualClassifier, ADMMResidualRegressor
from skadmm.exceptions import (
    FitInterruptedWarning,
    InputScaleWarning,
    WorkerLostError,
)

from ._problems import StopAt

distributed = pytest.importorskip("distributed")
dask = pytest.importorskip("dask")
da = pytest.importorskip("dask.array")

RTOL = 1e-8
CHUNK = 150


def data(n=600, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 4))
    y = np.sin(2 * X[:, 0]) + X[:, 1] * X[:, 2] + 0.1 * rng.standard_normal(n)
    return X, y


def labels(y, n_classes):
    edges = np.quantile(y, np.linspace(0, 1, n_classes + 1)[1:-1])
    return np.searchsorted(edges, y)


def params(**kw):
    base = dict(width=6, n_blocks=1, max_iter=8, alpha=1e-3, random_state=0)
    base.update(kw)
    return base


def fit_quietly(model, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(*args, **kwargs)


def local_fit(model, X, y, **kwargs):
    # The shards' products run on one BLAS thread; so does the reference.
    with threadpool_limits(1, user_api="blas"):
        return fit_quietly(model, X, y, **kwargs)


def chunked(*arrays):
    return [None if a is None else da.from_array(a, chunks=CHUNK) for a in arrays]


def actors_left(client):
    return sum(client.run(lambda dask_worker: len(dask_worker.state.actors)).values())


@pytest.fixture(scope="module")
def client():
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=False,
            dashboard_address=":0",
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


def assert_close(a, b):
    scale = np.max(np.abs(a))
    np.testing.assert_allclose(a, b, rtol=0, atol=RTOL * scale)


@pytest.mark.parametrize("solver", ["reset", "radmm"])
def test_sharded_regressor_equals_the_local_fit(client, solver):
    X, y = data()
    local = local_fit(ADMMResidualRegressor(**params(solver=solver)), X, y)
    sharded = fit_quietly(
        ADMMResidualRegressor(**params(solver=solver)), *chunked(X, y)
    )
    assert sharded.n_iter_ == local.n_iter_
    assert_close(local.predict(X), sharded.predict(X))
    np.testing.assert_allclose(
        sharded.objective_curve_, local.objective_curve_, rtol=1e-10
    )
    np.testing.assert_allclose(sharded.loss_curve_, local.loss_curve_, rtol=1e-10)
    assert actors_left(client) == 0
    # Only weights and width x width sums crossed, both ways.
    assert set(sharded.exchange_bytes_) == {"to workers", "from workers"}


@pytest.mark.parametrize("solver", ["reset", "radmm"])
@pytest.mark.parametrize("n_classes", [2, 3])
def test_sharded_classifier_equals_the_local_fit(client, solver, n_classes):
    X, y = data()
    c = labels(y, n_classes)
    kw = params(solver=solver)
    local = local_fit(ADMMResidualClassifier(**kw), X, c)
    sharded = fit_quietly(ADMMResidualClassifier(**kw), *chunked(X, c))
    np.testing.assert_array_equal(sharded.classes_, local.classes_)
    assert_close(local.predict_proba(X), sharded.predict_proba(X))
    assert actors_left(client) == 0


def test_sample_weights_and_auto_alpha_as_in_process(client):
    X, y = data()
    sw = np.random.default_rng(1).uniform(0.0, 2.0, len(y))
    sw[:40] = 0.0  # dropped rows, as in process
    kw = params(alpha="auto")
    local = local_fit(ADMMResidualRegressor(**kw), X, y, sample_weight=sw)
    Xd, yd, swd = chunked(X, y, sw)
    sharded = fit_quietly(ADMMResidualRegressor(**kw), Xd, yd, sample_weight=swd)
    # 600 rows: alpha="auto" cross-validates (on the driver, as in process).
    assert sharded.alpha_search_["rule"] == local.alpha_search_["rule"]
    assert sharded.alpha_ == local.alpha_
    assert_close(local.predict(X), sharded.predict(X))


def test_mid_sized_tables_search_a_sample_as_in_process(client):
    """Above CV_MAX_ROWS training rows alpha="auto" cross-validates a sample
    of the rows: gathered on the driver, the same sample and choice as in
    process."""
    from skadmm._alpha_search import CV_MAX_ROWS

    X, y = data(CV_MAX_ROWS + 400)
    kw = params(alpha="auto", early_stopping=False, max_iter=3)
    local = local_fit(ADMMResidualRegressor(**kw), X, y)
    sharded = fit_quietly(ADMMResidualRegressor(**kw), *chunked(X, y))
    assert local.alpha_search_["rule"] == "sample cross-validation"
    for key in ("rule", "alpha", "sample_rows", "sample_alpha"):
        assert sharded.alpha_search_[key] == local.alpha_search_[key], key
    # The target's scale is summed per chunk: the losses agree to rounding.
    np.testing.assert_allclose(
        sharded.alpha_search_["fold_errors"],
        local.alpha_search_["fold_errors"],
        rtol=1e-10,
    )
    assert actors_left(client) == 0


def test_results_do_not_depend_on_the_workers(client):
    """The sums follow the chunk order: one worker or two, the same bits."""
    X, y = data()
    two = fit_quietly(ADMMResidualRegressor(**params()), *chunked(X, y))
    first = sorted(client.scheduler_info()["workers"])[0]
    Xd, yd = (client.persist(a, workers=[first]) for a in chunked(X, y))
    one = fit_quietly(ADMMResidualRegressor(**params()), Xd, yd)
    np.testing.assert_array_equal(one.predict(X), two.predict(X))


def test_dask_dataframe_input_and_dask_predictions(client):
    dd = pytest.importorskip("dask.dataframe")
    pd = pytest.importorskip("pandas")
    X, y = data()
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    Xf = dd.from_pandas(frame, npartitions=4)
    yf = dd.from_pandas(pd.Series(y), npartitions=4)
    model = fit_quietly(ADMMResidualRegressor(**params()), Xf, yf)
    assert list(model.feature_names_in_) == ["a", "b", "c", "d"]
    reference = fit_quietly(ADMMResidualRegressor(**params()), *chunked(X, y))
    assert_close(reference.predict(X), model.predict(frame))
    # Dask in, Dask out (lazy, row chunks kept); NumPy in, NumPy out.
    Xd = da.from_array(X, chunks=CHUNK)
    pred = reference.predict(Xd)
    assert isinstance(pred, da.Array) and pred.chunks[0] == Xd.chunks[0]
    np.testing.assert_array_equal(pred.compute(), reference.predict(X))
    clf = fit_quietly(ADMMResidualClassifier(**params()), X, labels(y, 3))
    proba = clf.predict_proba(Xd)
    assert proba.shape == (len(X), 3)
    np.testing.assert_array_equal(proba.compute(), clf.predict_proba(X))
    np.testing.assert_array_equal(clf.predict(Xd).compute(), clf.predict(X))


def test_dask_predictions_check_the_column_names(client):
    """As for a pandas frame: reordered or renamed columns are refused (they
    once gave other predictions, silently), the right ones predict without
    a warning per chunk, and an array warns once that it has no names."""
    dd = pytest.importorskip("dask.dataframe")
    pd = pytest.importorskip("pandas")
    X, y = data()
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    model = fit_quietly(ADMMResidualRegressor(**params(max_iter=2)), frame, y)
    Xf = dd.from_pandas(frame, npartitions=4)
    for wrong in (Xf[["d", "c", "b", "a"]], Xf.rename(columns={"a": "z"})):
        with pytest.raises(ValueError, match="feature names should match"):
            model.predict(wrong)
    expected = model.predict(frame)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(model.predict(Xf).compute(), expected)
    with pytest.warns(UserWarning, match="does not have valid feature names") as w:
        model.predict(da.from_array(X, chunks=CHUNK)).compute()
    assert len(w) == 1


def test_input_scale_is_warned_about_from_the_chunks_summaries(client):
    X, y = data()
    X[:, 2] += 30.0  # root mean square about 30, in every chunk
    X[:, 3] *= 1e-3  # the range of all chunks together, about 0.007
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ADMMResidualRegressor(**params(max_iter=2)).fit(*chunked(X, y))
    (message,) = [str(w.message) for w in caught if w.category is InputScaleWarning]
    rms = np.sqrt(np.mean(X[:, 2] ** 2))
    assert f"1 column(s) with a root mean square above 10 (column 2: {rms:.3g})" in (
        message
    )
    spread = np.ptp(X[:, 3])
    assert f"1 varying column(s) spanning less than 0.05 (column 3: {spread:.3g})" in (
        message
    )
    assert "dask_ml.preprocessing.StandardScaler" in message


@pytest.mark.parametrize("Estimator", [ADMMResidualRegressor, ADMMResidualClassifier])
def test_empty_chunks_and_chunks_of_zero_weight_fit_as_in_process(client, Estimator):
    # Both used to fail inside the workers (reshaping an empty y).
    X, y = data()
    if Estimator is ADMMResidualClassifier:
        y = labels(y, 3)
    sw = np.ones(len(y))
    sw[:CHUNK] = 0.0  # the whole first chunk
    X[:CHUNK] *= 1e3  # not read: no input scale warning
    rows = (0, *[CHUNK] * (len(y) // CHUNK), 0)
    Xd = da.from_array(X, chunks=(rows, X.shape[1]))
    yd, swd = (da.from_array(a, chunks=(rows,)) for a in (y, sw))
    assert Xd.chunks[0][0] == Xd.chunks[0][-1] == 0
    local = local_fit(Estimator(**params()), X, y, sample_weight=sw)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sharded = Estimator(**params()).fit(Xd, yd, sample_weight=swd)
    assert not [w for w in caught if w.category is InputScaleWarning]
    predict = "predict_proba" if Estimator is ADMMResidualClassifier else "predict"
    assert_close(getattr(local, predict)(X), getattr(sharded, predict)(X))
    assert actors_left(client) == 0


def test_early_stopping_holds_out_chunks(client):
    X, y = data(900)
    model = fit_quietly(
        ADMMResidualRegressor(**params(early_stopping=True, max_iter=12)),
        *chunked(X, y),
    )
    assert model.early_stopping_
    assert len(model.validation_scores_) == model.n_iter_
    assert model.best_validation_score_ > 0.5
    # One chunk cannot be split.
    with pytest.raises(ValueError, match="holds out whole row chunks"):
        ADMMResidualRegressor(**params(early_stopping=True)).fit(
            da.from_array(X, chunks=900), da.from_array(y, chunks=900)
        )
    # Held-out chunks of zero weight leave nothing to score (once 0 / 0).
    held = np.random.RandomState(0).permutation(6)[0]  # random_state's draw
    weights = np.ones(900)
    weights[held * CHUNK : (held + 1) * CHUNK] = 0.0
    with pytest.raises(ValueError, match=rf"held out for early stopping \(\[{held}\]"):
        ADMMResidualRegressor(**params(early_stopping=True)).fit(
            *chunked(X, y, weights)
        )
    assert actors_left(client) == 0


def test_auto_alpha_warns_of_fractional_weights_as_in_process(client):
    X, y = data()
    weights = np.full(len(y), 1.0 / len(y))
    with pytest.warns(UserWarning, match="sum to 1 over 600 rows"):
        model = fit_quietly(
            ADMMResidualRegressor(**params(alpha="auto", max_iter=2)),
            *chunked(X, y, weights),
        )
    assert model.alpha_search_["rule"] == "fixed"


def test_bad_input_and_unsupported_settings_are_refused_and_leave_nothing(client):
    X, y = data()
    X[400, 1] = np.nan
    with pytest.raises(ValueError, match="Row chunk 2 of X"):
        ADMMResidualRegressor(**params()).fit(*chunked(X, y))
    assert actors_left(client) == 0
    X, y = data()
    for bad in (np.nan, np.inf):
        weights = np.ones(len(y))
        weights[200] = bad
        with pytest.raises(ValueError, match="Row chunk 1 of sample_weight"):
            ADMMResidualRegressor(**params()).fit(*chunked(X, y, weights))
    X, y = data()
    with pytest.raises(ValueError, match="solver='dladmm'"):
        ADMMResidualRegressor(**params(solver="dladmm")).fit(*chunked(X, y))
    model = ADMMResidualRegressor(**params())
    assert not hasattr(model, "coefs_")


def test_no_client_or_a_cluster_without_workers_is_refused_before_any_work():
    """Both Dask fits (sharded rows, layers on workers) say what to do when no
    client is active or its cluster has no workers, and fit nothing."""
    X, y = data()
    fits = [
        lambda model: model.fit(*chunked(X, y)),
        lambda model: model.fit(X, y),
    ]
    models = [
        ADMMResidualRegressor(**params()),
        ADMMResidualRegressor(**params(solver="pdadmm", layer_workers="dask")),
    ]
    try:
        distributed.get_client()
    except ValueError:
        for fit, model in zip(fits, models, strict=True):
            with pytest.raises(ValueError, match="none is active: create one"):
                fit(model)
    # Under xdist another test's client may be active: the check below still
    # runs, as the new client becomes the default.
    with (
        distributed.LocalCluster(
            n_workers=0, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster),
    ):
        for fit, model in zip(fits, models, strict=True):
            with pytest.raises(ValueError, match="has no workers: start them"):
                fit(model)
    assert not any(hasattr(model, "coefs_") for model in models)


def test_interrupt_keeps_the_last_iterate_and_releases_the_workers(
    client, monkeypatch, interrupt_third_sweep
):
    X, y = data()
    with pytest.warns(FitInterruptedWarning):
        model = ADMMResidualRegressor(**params()).fit(*chunked(X, y))
    assert model.n_iter_ == 2
    assert actors_left(client) == 0

    # Outside the iterations Ctrl-C ends the fit; nothing stays behind.
    def stop(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("skadmm._sharded_fit.refit_readout_on", stop)
    with pytest.raises(KeyboardInterrupt):
        ADMMResidualRegressor(**params()).fit(*chunked(X, y))
    assert actors_left(client) == 0

    # Ctrl-C in a terminal also stops a LocalCluster's worker processes
    # started there: the interrupted fit keeps its last iterate anyway
    # (without the final refit), where it raised WorkerLostError.
    from skadmm._sharded import ShardedProblem, refit_readout_on

    sweeps, sweep = [], ShardedProblem.reset_sweep

    def interrupted(self, beta, run):
        sweeps.append(beta)
        if len(sweeps) == 3:
            raise KeyboardInterrupt
        return sweep(self, beta, run)

    def lost_after_the_interrupt(*args, **kwargs):
        if len(sweeps) >= 3:
            raise WorkerLostError("The Dask worker tcp://w holding rows was lost")
        return refit_readout_on(*args, **kwargs)

    monkeypatch.setattr(ShardedProblem, "reset_sweep", interrupted)
    monkeypatch.setattr(
        "skadmm._sharded_fit.refit_readout_on", lost_after_the_interrupt
    )
    with pytest.warns(FitInterruptedWarning):
        model = ADMMResidualRegressor(**params()).fit(*chunked(X, y))
    assert model.n_iter_ == 2 and np.isfinite(model.predict(X)).all()
    assert actors_left(client) == 0
    # Without an interrupt a lost worker still ends the fit.
    sweeps[:] = [1.0] * 3
    with pytest.raises(WorkerLostError):
        ADMMResidualRegressor(**params()).fit(*chunked(X, y))
    assert actors_left(client) == 0


def test_memory_guard_checks_each_workers_share():
    X, y = data(2000)
    # Thread workers measure this whole process's memory against their limit:
    # with Dask's pause at 80 % of 64 MiB they stopped running tasks once the
    # test process had grown (the data chunks were never placed, a hang seen
    # under pytest-xdist). Only the limit matters here, so switch the worker's
    # own memory management off.
    no_pause = {
        f"distributed.worker.memory.{name}": False
        for name in ("target", "spill", "pause", "terminate")
    }
    with (
        dask.config.set(no_pause),
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=False,
            memory_limit="64MiB",
            dashboard_address=":0",
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        model = ADMMResidualRegressor(width=1000, n_blocks=3, max_iter=2)
        with pytest.raises(MemoryError, match="holds .* rows of X"):
            model.fit(*chunked(X, y))
        assert actors_left(client) == 0
        assert not hasattr(model, "coefs_")


def test_process_workers_equal_the_local_fit_and_a_lost_worker_is_reported():
    """Worker processes (arrays cross by pickle): the same result as in
    process; then a worker killed mid-fit gives WorkerLostError, no hang and
    no fitted estimator."""
    X, y = data()
    local = local_fit(ADMMResidualRegressor(**params()), X, y)
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        sharded = fit_quietly(ADMMResidualRegressor(**params()), *chunked(X, y))
        assert_close(local.predict(X), sharded.predict(X))
        assert actors_left(client) == 0

        # Kill a worker process at the third sweep: mid-fit, deterministically.
        from skadmm._sharded import ShardedProblem

        victim = max(client.run(os.getpid).values())
        sweep = ShardedProblem.reset_sweep
        calls = []

        def killing(self, beta, run):
            calls.append(beta)
            if len(calls) == 3:
                os.kill(victim, 9)
            return sweep(self, beta, run)

        model = ADMMResidualRegressor(**params(max_iter=50, tol=0.0))
        tick = time.perf_counter()
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(ShardedProblem, "reset_sweep", killing)
            with pytest.raises(WorkerLostError, match="call fit again"):
                model.fit(*chunked(X, y))
        assert time.perf_counter() - tick < 60
        assert not hasattr(model, "coefs_")


def test_an_actor_refusing_the_call_of_a_lost_worker_is_a_lost_worker():
    """After client.restart() an actor refuses the call itself ("Worker
    holding Actor was lost", a RuntimeError before any future exists): the
    same WorkerLostError as a call whose result is lost."""
    from skadmm._pinned import PinnedActors

    class Gone:
        def __getattr__(self, name):
            raise RuntimeError("Worker holding Actor was lost.  Status: cancelled")

    pinned = object.__new__(PinnedActors)
    pinned.actors, pinned.workers = [Gone()], ["tcp://w"]
    pinned.what, pinned._lost, pinned._futures = "row chunks of X", set(), [None]
    with pytest.raises(WorkerLostError, match="tcp://w holding row chunks of X"):
        pinned.call("summary")
    assert pinned._lost == {"tcp://w"}


def test_threads_settings_are_warned_about_and_change_nothing(client):
    """n_jobs and n_regions mean nothing to a sharded fit: a warning says so,
    and the fit is the one without them."""
    X, y = data()
    plain = fit_quietly(ADMMResidualRegressor(**params()), *chunked(X, y))
    with pytest.warns(UserWarning, match="ignores n_jobs=2 and n_regions=2"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model = ADMMResidualRegressor(**params(n_jobs=2, n_regions=2))
            model.fit(*chunked(X, y))
    np.testing.assert_array_equal(model.predict(X), plain.predict(X))
    assert actors_left(client) == 0


@pytest.fixture
def small_stages(monkeypatch):
    """Stages from 1,000 rows on (400, 800, 1,600 of 3,000), so tests stay small."""
    from skadmm import _stages

    monkeypatch.setattr(_stages, "MIN_STAGED_ROWS", 1000)
    monkeypatch.setattr(_stages, "REGRESSOR_MIN_STAGED_ROWS", 1000)
    monkeypatch.setattr(_stages, "FIRST_STAGE_ROWS", 400)
    monkeypatch.setattr(_stages, "STAGE_ITER", 12)


def test_sharded_stages_are_the_local_fits_stages(client, small_stages, monkeypatch):
    """The same samples, warm starts and merits as in process: with the stages
    in float64 the predictions agree as without stages. In float32 (the
    default) their different summation order flips line-search decisions, so
    the two fits end at different networks (see the page "Scaling out")."""
    from skadmm import _stages
    from skadmm._solvers._base import BaseSolver

    X, y = data(3000)
    kw = params(early_stopping=False)
    reference = fit_quietly(ADMMResidualRegressor(**kw), *chunked(X, y))
    monkeypatch.setattr(_stages, "STAGE_DTYPE", np.float64)
    # The largest stage stops on its own tol (_stages.stage_tol), in both.
    monkeypatch.setattr(_stages, "STAGE_TOL_ROWS", 800)
    tols, solve = [], BaseSolver.solve

    def spy(self, *args, **kwargs):
        tol = kwargs.get("tol")
        tols.append(self.tol if tol is None else tol)
        return solve(self, *args, **kwargs)

    monkeypatch.setattr(BaseSolver, "solve", spy)
    local = local_fit(ADMMResidualRegressor(**kw), X, y)
    sharded = fit_quietly(ADMMResidualRegressor(**kw), *chunked(X, y))
    tol = local.tol
    assert tols == 2 * [tol, tol, _stages.stage_tol(tol, 1600), tol]
    rows = [s["n_samples"] for s in sharded.stages_]
    assert rows == [s["n_samples"] for s in local.stages_] == [400, 800, 1600, 3000]
    assert sharded.n_iter_ == local.n_iter_
    np.testing.assert_allclose(
        sharded.objective_curve_, local.objective_curve_, rtol=1e-10
    )
    assert_close(local.predict(X), sharded.predict(X))
    # float32 stages: the same schedule, and a network as good.
    assert [s["n_samples"] for s in reference.stages_] == rows
    assert reference.score(X, y) > local.score(X, y) - 0.05
    assert actors_left(client) == 0


def test_sharded_classifier_stages_are_the_local_fits_stages(
    client, small_stages, monkeypatch
):
    """The classifier's own schedule on the cluster, as in process: its
    nested stage and window runs (the same rows: the last window wraps around
    the permutation), its stage on all the rows (the fit's penalty), then the
    final run with its short patience. With the stages in float64 both fits
    make the same iterations to rounding."""
    from skadmm import _classifier, _stages

    # The default output damping (0.03) lets each iteration amplify the
    # rounding of the sums' order about twofold: the two fits part by
    # 1e-8 within twenty iterations. Damping 1 keeps them within 1e-11.
    monkeypatch.setattr(_classifier, "CLASSIFIER_STAGED_OUTPUT_DAMPING", 1.0)

    monkeypatch.setattr(_stages, "CLASSIFIER_STAGE_ITER", 6)
    monkeypatch.setattr(_stages, "CLASSIFIER_ALL_ROWS_ITER", 5)
    # Four window runs of 900 of the 3,000 rows: the last wraps around.
    monkeypatch.setattr(_stages, "CLASSIFIER_WINDOW_ROWS", 900)
    monkeypatch.setattr(_stages, "CLASSIFIER_WINDOWS", 4)
    monkeypatch.setattr(_stages, "CLASSIFIER_WINDOW_ITER", 3)
    monkeypatch.setattr(_stages, "CLASSIFIER_WINDOW_MIN_ROWS", 2000)
    monkeypatch.setattr(_stages, "STAGE_DTYPE", np.float64)
    # Which runs hold their trials' features for the read-out refits: all
    # but the final run after the stages, as in process.
    from skadmm._sharded import ShardedProblem

    problems = []  # each run's, kept alive so that none is seen twice
    objective_of = ShardedProblem.objective_of

    def spy(self, hidden, readout, run):
        if not any(p is self for p in problems):
            problems.append(self)
        return objective_of(self, hidden, readout, run)

    monkeypatch.setattr(ShardedProblem, "objective_of", spy)
    X, y = data(3000)
    c = labels(y, 3)
    kw = params(early_stopping=False, max_iter=8)
    local = local_fit(ADMMResidualClassifier(**kw), X, c)
    sharded = fit_quietly(ADMMResidualClassifier(**kw), *chunked(X, c))
    rows = [s["n_samples"] for s in sharded.stages_]
    assert rows == [s["n_samples"] for s in local.stages_]
    assert rows == [400, 800, 900, 900, 900, 900, 3000, 3000]
    held = [(p.rw.n_samples, p.hold_trials) for p in problems]
    assert held == [(m, True) for m in rows[:-1]] + [(3000, False)]
    n_iter = [s["n_iter"] for s in sharded.stages_]
    assert n_iter == [s["n_iter"] for s in local.stages_]
    assert n_iter[2:7] == [3, 3, 3, 3, 5]
    # The same penalties: the window runs' falls to the fit's own.
    alphas = [s["alpha"] for s in sharded.stages_]
    assert alphas == pytest.approx([s["alpha"] for s in local.stages_], rel=1e-12)
    windows = alphas[2:6]
    assert windows == sorted(windows, reverse=True) and windows[0] > windows[1]
    assert windows[-1] == alphas[-1] == sharded.alpha_
    np.testing.assert_allclose(
        sharded.objective_curve_, local.objective_curve_, rtol=1e-9
    )
    assert_close(local.predict_proba(X), sharded.predict_proba(X))
    assert actors_left(client) == 0


def test_sharded_stages_do_not_depend_on_the_workers(client, small_stages):
    X, y = data(3000)
    sw = np.random.default_rng(1).uniform(0.5, 2.0, len(y))
    kw = params(early_stopping=False)
    two = fit_quietly(
        ADMMResidualRegressor(**kw), *chunked(X, y), sample_weight=chunked(sw)[0]
    )
    first = sorted(client.scheduler_info()["workers"])[0]
    Xd, yd, swd = (client.persist(a, workers=[first]) for a in chunked(X, y, sw))
    one = fit_quietly(ADMMResidualRegressor(**kw), Xd, yd, sample_weight=swd)
    assert len(one.stages_) == 4
    np.testing.assert_array_equal(one.predict(X), two.predict(X))
    # Each stage's merit never increases on its own rows.
    start = 0
    for stage in one.stages_:
        curve = np.asarray(one.objective_curve_[start : start + stage["n_iter"]])
        assert np.all(np.diff(curve) <= 1e-6 * np.abs(curve[:-1]))
        start += stage["n_iter"]


def test_callbacks_see_and_stop_a_sharded_fit(client):
    pytest.importorskip("sklearn.callback")
    X, y = data()
    callback = StopAt(3, X, y)
    model = ADMMResidualRegressor(**params(max_iter=20, refit_readout=False))
    model.set_callbacks(callback)
    fit_quietly(model, *chunked(X, y))
    assert model.n_iter_ == 3
    assert model.stop_reason_ == "a callback stopped the fit at iteration 3"
    # The callback's network of the last iteration is the fitted one.
    assert callback.scores[-1] == pytest.approx(model.score(X, y), rel=1e-12)
    assert actors_left(client) == 0


def test_chunks_equal_to_the_row_blocks_give_the_local_fit_bit_for_bit(
    client, monkeypatch
):
    """A table large enough for row blocks, chunked as the in-process fit
    blocks it: both sum the same blocks in the same order (the workers' shards
    keep their state, the in-process blocks rebuild it: the same arithmetic).
    The classifier's encoding is the labels, so the iterates are bit-identical;
    the regressor's target scaler is summed per chunk, which rounds its mean
    and scale differently (last bits only). Without stages, whose float32
    sums would round differently (see test_sharded_stages_are_the_local_fits_stages)."""
    from skadmm import _stages
    from skadmm._row_blocks import ROW_BLOCK_ROWS, n_row_blocks

    monkeypatch.setattr(_stages, "REGRESSOR_MIN_STAGED_ROWS", _stages.MIN_STAGED_ROWS)

    X, y = data(2 * ROW_BLOCK_ROWS + 500)
    blocks = n_row_blocks(*X.shape)
    assert blocks == 2
    chunks = tuple(np.diff(np.linspace(0, len(y), blocks + 1).astype(int)).tolist())
    kw = params(max_iter=4, early_stopping=False)
    c = labels(y, 3)
    local = local_fit(ADMMResidualClassifier(**kw), X, c)
    sharded = fit_quietly(
        ADMMResidualClassifier(**kw),
        da.from_array(X, chunks=(chunks, -1)),
        da.from_array(c, chunks=chunks),
    )
    np.testing.assert_array_equal(local.predict_proba(X), sharded.predict_proba(X))
    local = local_fit(ADMMResidualRegressor(**kw), X, y)
    sharded = fit_quietly(
        ADMMResidualRegressor(**kw),
        da.from_array(X, chunks=(chunks, -1)),
        da.from_array(y, chunks=chunks),
    )
    assert_close(local.predict(X), sharded.predict(X))
    assert actors_left(client) == 0


def test_memory_guard_counts_one_chunk_of_state_for_streamed_shards():
    # Reset-mode shards hold one chunk's state at a time, RADMM's all their
    # rows': a limit between the two admits the first and refuses the second.
    from types import SimpleNamespace

    from skadmm._memory import estimate_fit_nbytes
    from skadmm._sharded_fit import _check_worker_memory

    rows, held, order = [1000] * 8, [list(range(8))], ["w"]
    shape = dict(width=64, n_blocks=2, itemsize=8, early_stopping=False)
    one_chunk = estimate_fit_nbytes(8000, 5, 1, row_blocks=8, **shape)
    every_row = estimate_fit_nbytes(8000, 5, 1, solver="radmm", **shape)
    assert one_chunk < every_row
    limit = (one_chunk + every_row) // 2
    info = {"workers": {"w": {"memory_limit": limit, "metrics": {"memory": 0}}}}
    client = SimpleNamespace(
        sync=lambda call, **kwargs: call(**kwargs),
        scheduler=SimpleNamespace(identity=lambda n_workers: info),
    )
    target = SimpleNamespace(n_outputs=1)
    args = (client, rows, held, order, 5, target, np.dtype(np.float64))
    reset = ADMMResidualRegressor(width=64, n_blocks=2)
    _check_worker_memory(reset, *args, False)
    with pytest.raises(MemoryError, match="holds 8000 rows of X"):
        _check_worker_memory(
            ADMMResidualRegressor(width=64, n_blocks=2, solver="radmm"), *args, False
        )
    # Row weights count, as in process (they were left out).
    weighted = estimate_fit_nbytes(8000, 5, 1, row_blocks=8, weighted=True, **shape)
    assert weighted > one_chunk
    info["workers"]["w"]["memory_limit"] = (one_chunk + weighted) // 2
    _check_worker_memory(reset, *args, False)
    with pytest.raises(MemoryError, match="holds 8000 rows of X"):
        _check_worker_memory(reset, *args, True)

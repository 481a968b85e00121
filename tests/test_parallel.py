"""Parallel regional updates: regions, identical results, threads and failures."""

import os
import signal
import threading
import time
import warnings

import numpy as np
import pytest
from joblib import Parallel, cpu_count, delayed, parallel_config
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_limits

import skadmm._base
import skadmm._blas
from skadmm import ADMMResidualRegressor
from skadmm._blas import BLAS_MIN_PRODUCT, blas_threads_for
from skadmm._parallel import Team, plan_parallelism, split_layers
from skadmm._solvers import RADMMSolver
from skadmm._splitting import ThreeSplitRelaxation, TwoSplitRelaxation

from ._threads import ThreadMeeting

# Short fits stop at max_iter on purpose.
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
needs_two_cores = pytest.mark.skipif(cpu_count() < 2, reason="needs two cores")


def deep(**params):
    # 10 layers: room for up to five regions.
    base = dict(
        width=12, n_blocks=8, max_iter=25, random_state=0, solver="radmm", alpha=3e-3
    )
    base.update(params)
    return ADMMResidualRegressor(**base)


@pytest.mark.parametrize("n_layers", range(1, 12))
def test_split_layers_is_a_balanced_contiguous_partition(n_layers):
    for n_regions in range(1, max(1, n_layers // 2) + 1):
        regions = split_layers(n_layers, n_regions)
        assert len(regions) == n_regions
        assert regions[0][0] == 0 and regions[-1][1] == n_layers
        assert all(a[1] == b[0] for a, b in zip(regions[:-1], regions[1:], strict=True))
        sizes = [stop - start for start, stop in regions]
        assert max(sizes) - min(sizes) <= 1
        assert n_regions == 1 or min(sizes) >= 2


def test_too_many_regions_is_refused_before_any_work(data, monkeypatch):
    X, y = data
    est = ADMMResidualRegressor(n_blocks=4, n_regions=4)
    monkeypatch.setattr(ThreeSplitRelaxation, "__init__", lambda *a, **k: 1 / 0)
    with pytest.raises(ValueError, match=r"n_regions=4 needs at least 8 layers.*6"):
        est.fit(X, y)
    assert not hasattr(est, "coefs_")


@pytest.mark.parametrize("splitting", ["three", "two"])
@pytest.mark.parametrize("n_regions", [1, 2, 3, 5])
def test_results_are_bit_identical_for_any_n_jobs(data, splitting, n_regions):
    X, y = data
    params = dict(splitting=splitting, n_regions=n_regions)
    if splitting == "two":
        params["activation"] = "tanh"
    if n_regions == 3:
        # Also the row-parallel forward pass of early stopping.
        params.update(early_stopping=True, n_iter_no_change=50)
    fits = [deep(n_jobs=n, **params).fit(X, y) for n in (1, 2, -1)]
    ref = fits[0]
    assert ref.n_iter_ > 5
    for est in fits[1:]:
        assert est.n_iter_ == ref.n_iter_
        for a, b in zip(
            est.coefs_ + est.intercepts_, ref.coefs_ + ref.intercepts_, strict=True
        ):
            np.testing.assert_array_equal(a, b)
        assert est.objective_curve_ == ref.objective_curve_
        assert est.loss_curve_ == ref.loss_curve_
        assert est.validation_scores_ == ref.validation_scores_


@needs_two_cores
@pytest.mark.parametrize("splitting", ["three", "two"])
def test_one_blas_thread_per_region_whatever_the_budget(splitting, monkeypatch):
    # n_regions=2 with a budget of 1 or 2 BLAS threads: one thread per product in
    # both, so the same bits; also for the products outside the iterations (the
    # initial and final read-out, whose A^T A rounds differently on 2 threads).
    # Large enough for OpenBLAS to thread its products, and counted as large by
    # the size rule (which would otherwise give one thread anyway).
    monkeypatch.setattr(skadmm._blas, "BLAS_MIN_PRODUCT", 0)
    rng = np.random.default_rng(2)
    X = rng.standard_normal((5000, 16))
    y = np.sin(X[:, 0]) + X[:, 1] * X[:, 2]
    params = dict(
        width=128,
        n_blocks=2,
        max_iter=2,
        random_state=0,
        splitting=splitting,
        solver="radmm",
    )
    with threadpool_limits(1, user_api="blas"):
        one = ADMMResidualRegressor(n_regions=2, n_jobs=1, **params).fit(X, y)
    with threadpool_limits(2, user_api="blas"):
        two = ADMMResidualRegressor(n_regions=2, n_jobs=2, **params).fit(X, y)
    for a, b in zip(
        one.coefs_ + one.intercepts_, two.coefs_ + two.intercepts_, strict=True
    ):
        np.testing.assert_array_equal(a, b)
    assert one.objective_curve_ == two.objective_curve_


def test_regions_change_the_iterates_but_not_the_quality(data):
    X, y = data
    one = deep(max_iter=60).fit(X, y)
    three = deep(max_iter=60, n_regions=3).fit(X, y)
    assert not np.array_equal(one.coefs_[3], three.coefs_[3])
    assert three.loss_curve_[-1] < 1.5 * one.loss_curve_[-1]
    assert np.all(np.diff(three.objective_curve_) <= 1e-12 * three.objective_curve_[0])


@needs_two_cores
def test_workers_really_share_the_regions(data, monkeypatch):
    X, y = data
    meeting = ThreadMeeting()
    original = RADMMSolver._sweep_region

    def spy(problem, start, stop):
        meeting.enter()
        original(problem, start, stop)

    monkeypatch.setattr(RADMMSolver, "_sweep_region", staticmethod(spy))
    with threadpool_limits(2, user_api="blas"):
        deep(n_jobs=2, n_regions=4).fit(X, y)
    assert len(meeting.threads) == 2


# Shapes (n_samples, width, n_features) whose largest product is far above and
# below BLAS_MIN_PRODUCT.
LARGE = dict(n_samples=10**6, width=256, n_features=8)
SMALL = dict(n_samples=200, width=12, n_features=5)


def test_plan_never_oversubscribes():
    with threadpool_limits(2, user_api="blas"):
        assert plan_parallelism(-1, 2, 6, **LARGE).n_workers == min(2, cpu_count())
        assert plan_parallelism(-1, 2, 6, **LARGE).blas_threads == 1
        plan = plan_parallelism(None, None, 6, **LARGE)
        assert (plan.n_regions, plan.n_workers) == (1, 1)
        assert plan.blas_threads == min(2, cpu_count())
        # The BLAS threads depend on the regions only, never on n_jobs.
        assert plan_parallelism(1, 2, 6, **LARGE).blas_threads == 1
    with threadpool_limits(1, user_api="blas"):
        assert plan_parallelism(-1, 3, 6, **LARGE).n_workers == 1
    with parallel_config(n_jobs=2), threadpool_limits(2, user_api="blas"):
        assert plan_parallelism(None, 3, 6, **LARGE).n_workers == min(2, cpu_count())


@needs_two_cores
def test_no_oversubscription_inside_parallel_grid_search_workers():
    # loky gives each of its 2 workers cpu_count() // 2 BLAS threads.
    plans = Parallel(n_jobs=2, backend="loky")(
        delayed(plan_parallelism)(-1, 2, 6, **LARGE) for _ in range(2)
    )
    budget = cpu_count() // 2
    for plan in plans:
        assert plan.n_workers * plan.blas_threads <= budget


def test_blas_threads_follow_the_size_of_the_largest_product():
    # Hand-counted multiply-adds: the hidden products (n x w by w x w), or the
    # lifting Gram matrix (d x n by n x d) when there are more features.
    t = BLAS_MIN_PRODUCT
    assert blas_threads_for(8, 100, 100, 11) == 1  # 1e6 multiply-adds
    assert blas_threads_for(8, t, 1, 1) == 8  # exactly the threshold
    assert blas_threads_for(8, t - 1, 1, 1) == 1
    assert blas_threads_for(8, t // 64 + 1, 8, 2) == 8  # width dominates
    assert blas_threads_for(8, t // 64 + 1, 2, 8) == 8  # features dominate
    assert blas_threads_for(8, t // 64 - 1, 8, 8) == 1
    # Never more than the budget, never fewer than one.
    for budget in (0, 1, 3, 16):
        for shape in (SMALL, LARGE):
            assert 1 <= blas_threads_for(budget, **shape) <= max(1, budget)


@pytest.mark.parametrize("budget", [1, 2, 4, 16])
@pytest.mark.parametrize("regions", [1, 2, 3])
def test_plan_gives_small_problems_one_thread_and_large_ones_their_share(
    budget, regions, monkeypatch
):
    monkeypatch.setattr("skadmm._parallel.blas_thread_budget", lambda: budget)
    monkeypatch.setattr("skadmm._parallel.cpu_count", lambda: 16)
    assert plan_parallelism(None, regions, 6, **SMALL).blas_threads == 1
    assert plan_parallelism(None, regions, 6, **LARGE).blas_threads == max(
        1, budget // regions
    )


def _spy_blas_threads(monkeypatch):
    seen = []
    original = skadmm._base.fit_blas_limits

    def spy(threads):
        seen.append(threads)
        return original(threads)

    monkeypatch.setattr(skadmm._base, "fit_blas_limits", spy)
    return seen


@needs_two_cores
@pytest.mark.parametrize("large", [False, True])
def test_bit_identical_for_any_n_jobs_on_both_sides_of_the_size_rule(
    large, monkeypatch
):
    # Large enough for OpenBLAS to thread its products (checked below), so a
    # thread count that followed n_jobs would change the bits; moving the
    # threshold puts the problem on either side of the rule.
    rng = np.random.default_rng(3)
    X = rng.standard_normal((1000, 5))
    y = np.sin(2 * X[:, 0]) + X[:, 1] * X[:, 2]
    params = dict(n_blocks=2, width=32, max_iter=3)
    product = X.shape[0] * 32 * 32
    monkeypatch.setattr(skadmm._blas, "BLAS_MIN_PRODUCT", product + (not large))
    seen = _spy_blas_threads(monkeypatch)
    with threadpool_limits(2, user_api="blas"):
        fits = [deep(n_jobs=n, **params).fit(X, y) for n in (None, 2, -1)]
    assert seen == [2 if large else 1] * 3
    ref = fits[0]
    for est in fits[1:]:
        for a, b in zip(
            est.coefs_ + est.intercepts_, ref.coefs_ + ref.intercepts_, strict=True
        ):
            np.testing.assert_array_equal(a, b)
        assert est.objective_curve_ == ref.objective_curve_
    if large:
        with threadpool_limits(1, user_api="blas"):
            one = deep(**params).fit(X, y)
        assert not all(
            np.array_equal(a, b) for a, b in zip(one.coefs_, ref.coefs_, strict=True)
        ), "OpenBLAS did not thread this problem: the test cannot see thread counts"


@needs_two_cores
def test_default_small_fit_runs_on_one_blas_thread(data, monkeypatch):
    seen = _spy_blas_threads(monkeypatch)
    with threadpool_limits(2, user_api="blas"):
        ADMMResidualRegressor(max_iter=2, random_state=0).fit(*data)
    # alpha='auto' adds its cross-validation fits: every one on one thread.
    assert seen and set(seen) == {1}


def test_n_jobs_with_one_region_is_silently_serial(data):
    X, y = data
    ref = deep(max_iter=5).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.simplefilter("ignore", ConvergenceWarning)  # max_iter on purpose
        est = deep(n_jobs=2, max_iter=5).fit(X, y)
    for a, b in zip(est.coefs_, ref.coefs_, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("cls", [ThreeSplitRelaxation, TwoSplitRelaxation])
def test_worker_exception_reaches_the_caller(data, monkeypatch, cls):
    X, y = data
    original = RADMMSolver._sweep_region
    calls = {"n": 0, "thread": None}
    main = threading.main_thread()

    def failing(problem, start, stop):
        if start == 0:
            calls["n"] += 1
            if calls["n"] == 3:
                time.sleep(0.05)  # let a worker thread take the other region
        elif calls["n"] == 3:
            calls["thread"] = threading.current_thread()
            raise RuntimeError(f"region starting at layer {start} broke")
        original(problem, start, stop)

    monkeypatch.setattr(RADMMSolver, "_sweep_region", staticmethod(failing))
    before = set(threading.enumerate())
    params = dict(splitting=cls.name, n_jobs=2, n_regions=2, warm_start=True)
    est = deep(**params)
    with threadpool_limits(2, user_api="blas"):
        with pytest.raises(RuntimeError, match="region starting at layer 5 broke"):
            est.fit(X, y)
    assert not hasattr(est, "coefs_")
    assert set(threading.enumerate()) <= before
    if cpu_count() >= 2:
        assert calls["thread"] is not main


def test_exception_drops_a_kept_solver_state(data, monkeypatch):
    X, y = data
    est = deep(n_jobs=2, n_regions=2, warm_start=True, max_iter=3).fit(X, y)
    coefs = [c.copy() for c in est.coefs_]
    assert est._solver_state is not None

    def broken(self, k):
        raise FloatingPointError("boundary exploded")

    monkeypatch.setattr(ThreeSplitRelaxation, "update_boundary", broken)
    with pytest.raises(FloatingPointError, match="boundary exploded"):
        est.fit(X, y)
    # The fitted model is the last good one; the half-updated state is gone.
    for a, b in zip(est.coefs_, coefs, strict=True):
        np.testing.assert_array_equal(a, b)
    assert est._solver_state is None


def test_no_thread_is_left_alive_after_fit(data):
    X, y = data
    before = set(threading.enumerate())
    deep(n_jobs=2, n_regions=3).fit(X, y)
    assert set(threading.enumerate()) <= before


@pytest.mark.skipif(
    signal.getsignal(signal.SIGINT) is signal.SIG_IGN,
    reason="SIGINT is ignored in this process (started as a background job)",
)
def test_ctrl_c_stops_a_parallel_fit_promptly(data):
    X, y = data
    est = deep(n_jobs=2, n_regions=3, max_iter=100_000, tol=0.0)
    before = set(threading.enumerate())
    timer = threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    start = time.perf_counter()
    try:
        with pytest.warns(ConvergenceWarning, match="interrupted by the user"):
            est.fit(X, y)
    finally:
        timer.cancel()
    assert time.perf_counter() - start < 10
    assert 0 < est.n_iter_ < 100_000
    assert np.isfinite(est.predict(X)).all()
    assert est._solver_state is None
    timer.join()
    assert set(threading.enumerate()) <= before


def test_team_runs_every_task_once_and_reraises_the_first_error():
    done = []
    lock = threading.Lock()

    def task(i):
        with lock:
            done.append(i)

    with Team(2) as team:
        for _ in range(50):
            team.run([lambda i=i: task(i) for i in range(5)])
        with pytest.raises(KeyError, match="worker"):
            team.run([lambda: (_ for _ in ()).throw(KeyError("worker"))])
        team.run([lambda: task(99)])
    assert sorted(done) == sorted(list(range(5)) * 50 + [99])


def test_team_runs_a_phase_of_one_task_in_the_caller_without_waking_the_others():
    # A stage of a few thousand rows has one block: its phases are single
    # tasks, and waking the other threads for each costs the GIL's
    # hand-overs for nothing.
    threads = []
    with Team(2) as team:
        team.run([lambda: threads.append(threading.current_thread())] * 2)
        phase = team._phase
        for _ in range(20):
            team.run([lambda: threads.append(threading.current_thread())])
        assert team._phase == phase
    assert threads[2:] == [threading.current_thread()] * 20

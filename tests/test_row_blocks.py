"""Row blocks of an in-process fit on the fit's threads (skadmm._row_blocks)."""

import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_limits

import skadmm._row_blocks as row_blocks
from skadmm import ADMMResidualClassifier, ADMMResidualRegressor
from skadmm._parallel import plan_parallelism
from skadmm._row_blocks import (
    BALANCED_BLOCKS,
    MIN_BLOCKED_ROWS,
    ROW_BLOCK_ROWS,
    n_row_blocks,
)
from skadmm.exceptions import FitInterruptedWarning

from ._threads import meet_in_row_blocks

N = MIN_BLOCKED_ROWS + 500  # two blocks


def data(n=N, d=5, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.randn(n, d)
    y = np.sin(X[:, 0]) + X[:, 1] * X[:, 2] + 0.1 * rng.randn(n)
    return X, y


@pytest.fixture(autouse=True)
def unstaged_regressor(monkeypatch):
    """The regressor fits these tables of about MIN_BLOCKED_ROWS rows without
    stages (as the classifier does), unless a test sets its own threshold."""
    import skadmm._stages as stages

    monkeypatch.setattr(stages, "REGRESSOR_MIN_STAGED_ROWS", stages.MIN_STAGED_ROWS)


def params(**kw):
    base = dict(width=12, max_iter=6, random_state=0, early_stopping=False, tol=0.0)
    return {**base, **kw}


def fit(est, X, y, **kw):
    with warnings.catch_warnings():
        # max_iter is small on purpose.
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y, **kw)


def test_block_count_depends_on_rows_and_input_width_only():
    assert n_row_blocks(MIN_BLOCKED_ROWS - 1, 20) == 1
    assert n_row_blocks(MIN_BLOCKED_ROWS, 20) == 2
    # Fewer than BALANCED_BLOCKS: an even count, shared equally by two threads.
    assert n_row_blocks(3 * ROW_BLOCK_ROWS, 20) == 4
    assert n_row_blocks(BALANCED_BLOCKS * ROW_BLOCK_ROWS + 7, 20) == BALANCED_BLOCKS
    assert n_row_blocks((BALANCED_BLOCKS + 1) * ROW_BLOCK_ROWS, 20) == (
        BALANCED_BLOCKS + 1
    )
    # The runs of a blocked fit (its stages): two blocks from any rows.
    assert n_row_blocks(4000, 20, min_rows=0) == 2
    assert n_row_blocks(MIN_BLOCKED_ROWS - 1, 20, min_rows=0) == 2
    # Inputs so wide that a block would take the dual step: one problem.
    assert n_row_blocks(MIN_BLOCKED_ROWS, 4 * ROW_BLOCK_ROWS) == 1


@pytest.mark.parametrize("first", [4500, 9000])
def test_the_stages_of_a_blocked_fit_run_on_blocks_too(first, monkeypatch):
    # Stages from ROW_BLOCK_ROWS rows on run on two blocks or more, so n_jobs=2
    # computes them on two threads, bit for bit as one; smaller ones in one
    # problem. first=9000: the first stage is blocked, its weights drawn in
    # the fit's float64 for rows cast to float32.
    import skadmm._base as base
    import skadmm._stages as stages

    monkeypatch.setattr(stages, "MIN_STAGED_ROWS", 10_000)
    monkeypatch.setattr(stages, "REGRESSOR_MIN_STAGED_ROWS", 10_000)
    monkeypatch.setattr(stages, "FIRST_STAGE_ROWS", first)
    monkeypatch.setattr(stages, "STAGE_ITER", 3)
    monkeypatch.setattr(stages, "MIN_STAGE_ITER", 2)
    runs = []
    problem = base.row_block_problem

    def spy(X, *args):
        made = problem(X, *args)
        runs.append((X.shape[0], args[8], X.dtype.name, made.dtype.name))
        return made

    monkeypatch.setattr(base, "row_block_problem", spy)
    X, y = data()
    predictions = []
    sizes = [4500, 9000] if first == 4500 else [9000]
    for n_jobs in (1, 2):
        runs.clear()
        model = fit(ADMMResidualRegressor(**params(n_jobs=n_jobs)), X, y)
        assert [s["n_samples"] for s in model.stages_] == [*sizes, N]
        # The blocked stage computes in its rows' float32.
        assert runs == [
            (9000, 2, "float32", "float32"),
            (N, 2, "float64", "float64"),
        ]
        predictions.append(model.predict(X))
    np.testing.assert_array_equal(*predictions)


def test_a_large_tables_output_factor_on_blocks_does_not_depend_on_n_jobs(
    monkeypatch,
):
    # Above LARGE_TABLE_ROWS the regressor's W steps take the output factor:
    # the blocks return their Gram matrices of the moves, which the driver
    # sums in the blocks' order, so two threads give one thread's bits.
    import skadmm._stages as stages
    from skadmm._solvers import _reset

    for name, value in [
        ("MIN_STAGED_ROWS", 10_000),
        ("REGRESSOR_MIN_STAGED_ROWS", 10_000),
        ("LARGE_TABLE_ROWS", 10_000),
        ("FIRST_STAGE_ROWS", 9000),
        ("LARGE_STAGE_ITER", 6),
        ("REGRESSOR_ALL_ROWS_ITER", 6),
    ]:
        monkeypatch.setattr(stages, name, value)
    seen = set()
    setup = _reset.ResetSolver.setup

    def spy(self, problem):
        seen.add((self.unit_damping, self.output_damping))
        return setup(self, problem)

    monkeypatch.setattr(_reset.ResetSolver, "setup", spy)
    X, y = data()
    predictions = []
    for n_jobs in (1, 2):
        model = fit(ADMMResidualRegressor(**params(n_jobs=n_jobs)), X, y)
        assert [s["n_samples"] for s in model.stages_] == [9000, N, N]
        predictions.append(model.predict(X))
    assert seen == {(None, stages.REGRESSOR_LARGE_OUTPUT_DAMPING)}
    np.testing.assert_array_equal(*predictions)


def test_plan_runs_blocks_on_threads_with_one_blas_thread_each():
    shape = dict(n_samples=N, width=100, n_features=20)
    with threadpool_limits(2, user_api="blas"):
        plan = plan_parallelism(2, None, 2, **shape, row_blocks=2)
        assert (plan.n_workers, plan.blas_threads, plan.row_blocks) == (
            min(2, row_blocks_cpu()),
            1,
            2,
        )
        assert plan.forward_blocks == 2
        # n_jobs=None: the cores its BLAS threads would have used.
        assert plan_parallelism(None, None, 2, **shape, row_blocks=2).n_workers == (
            min(2, row_blocks_cpu())
        )
        assert plan_parallelism(1, None, 2, **shape, row_blocks=2).n_workers == 1
    with threadpool_limits(1, user_api="blas"):
        # Never more workers than the budget of cores.
        assert plan_parallelism(2, None, 2, **shape, row_blocks=2).n_workers == 1


def row_blocks_cpu():
    from joblib import cpu_count

    return cpu_count()


def test_only_the_reset_mode_three_splitting_without_warm_start_is_blocked():
    X, _ = data()
    assert ADMMResidualRegressor(**params())._plan_parallelism(*X.shape).row_blocks == 2
    for kw in (
        dict(warm_start=True),
        dict(splitting="two"),
        dict(solver="radmm"),
    ):
        plan = ADMMResidualRegressor(**params(**kw))._plan_parallelism(*X.shape)
        assert plan.row_blocks == 1, kw
    # Early stopping's validation split leaves too few rows for two blocks.
    est = ADMMResidualRegressor(**params(early_stopping=True))
    assert est._plan_parallelism(MIN_BLOCKED_ROWS + 10, 5).row_blocks == 1


@pytest.mark.parametrize(
    "make",
    [
        lambda X, y: (ADMMResidualRegressor(**params()), y, None),
        lambda X, y: (
            ADMMResidualRegressor(**params()),
            y,
            np.random.RandomState(1).uniform(0.2, 2.0, len(y)),
        ),
        lambda X, y: (
            ADMMResidualClassifier(**params()),
            np.digitize(y, np.quantile(y, [0.3, 0.7])),
            None,
        ),
    ],
    ids=["regressor", "weighted", "classifier"],
)
def test_results_do_not_depend_on_n_jobs_and_match_one_block(make, monkeypatch):
    X, y = data()
    est, target, sw = make(X, y)
    predictions = {}
    for n_jobs in (1, 2):
        model = fit(est.set_params(n_jobs=n_jobs), X, target, sample_weight=sw)
        assert isinstance(model.stages_, list) and model.n_iter_ == 6
        predictions[n_jobs] = _outputs(model, X)
        curve = model.objective_curve_
    # Bit-identical: the blocks and their summation order are fixed by the rows.
    np.testing.assert_array_equal(predictions[1], predictions[2])
    # One block (the rows in one problem): the same iterates up to the rounding
    # of the summed reductions.
    monkeypatch.setattr(row_blocks, "MIN_BLOCKED_ROWS", 10**9)
    monkeypatch.setattr("skadmm._base.n_row_blocks", row_blocks.n_row_blocks)
    assert est._plan_parallelism(*X.shape).row_blocks == 1
    single = fit(est.set_params(n_jobs=1), X, target, sample_weight=sw)
    one = _outputs(single, X)
    # Its true training objective, iteration by iteration: the blocks' sums.
    np.testing.assert_allclose(curve, single.objective_curve_, rtol=1e-9)
    scale = np.max(np.abs(one))
    np.testing.assert_allclose(predictions[1], one, rtol=0, atol=1e-7 * scale)
    # The rounding differs at all (the test compares two different paths).
    assert not np.array_equal(predictions[1], one)


@pytest.mark.parametrize("classifier", [False, True])
def test_streamed_blocks_equal_blocks_that_keep_their_state(classifier, monkeypatch):
    # The streamed blocks rebuild each block's state from the weights at every
    # call; the stored ones keep it: the same arithmetic, the same bits.
    from skadmm._shard import RowShard, StreamedRowShard

    X, y = data()
    sw = np.random.RandomState(1).uniform(0.2, 2.0, len(y))
    if classifier:
        est = ADMMResidualClassifier(**params(n_blocks=1))
        y = np.digitize(y, np.quantile(y, [0.3, 0.7]))
    else:
        est = ADMMResidualRegressor(**params(n_blocks=1))
    assert row_blocks.BLOCK_SHARD is StreamedRowShard
    streamed = fit(est, X, y, sample_weight=sw)
    monkeypatch.setattr(row_blocks, "BLOCK_SHARD", RowShard)
    stored = fit(clone(est), X, y, sample_weight=sw)
    np.testing.assert_array_equal(streamed.objective_curve_, stored.objective_curve_)
    np.testing.assert_array_equal(_outputs(streamed, X), _outputs(stored, X))


@pytest.mark.parametrize("steps", [None, 3])
def test_a_blocked_problem_starts_from_the_in_process_read_out(steps):
    # The read-out a blocked problem starts from is the in-process refit's,
    # its sums gathered from the blocks: Newton to convergence, or (a later
    # stage of the classifier) ``steps`` majorised steps from the given one.
    from skadmm._activations import get_activation
    from skadmm._losses import SoftmaxLoss
    from skadmm._network import init_weights
    from skadmm._readout import refit_readout
    from skadmm._row_blocks import row_block_problem

    X, y = data()
    Y = np.eye(3)[np.digitize(y, np.quantile(y, [0.3, 0.7]))]
    sw = np.random.RandomState(1).uniform(0.2, 2.0, len(y))
    act = get_activation("relu")
    rng = np.random.default_rng(0)
    weights = init_weights(X.shape[1], 12, 1, 3, act, rng, np.float64)
    weights[-1] = 0.1 * np.random.RandomState(2).randn(*weights[-1].shape)
    loss, alpha = SoftmaxLoss(), 1e-3

    def run_in_order(tasks):
        for task in tasks:
            task()

    expected = refit_readout(X, Y, sw, weights, act, alpha, loss, steps)[-1]
    params = dict(alpha=alpha, beta=1.0, rho=1.0, tau=0.0)
    problem = row_block_problem(
        X, Y, sw, weights, act, loss, "exact", params, run_in_order, 2, steps
    )
    np.testing.assert_allclose(problem.W[-1], expected, rtol=1e-9, atol=1e-12)


def test_a_blocks_held_features_are_its_own_on_any_thread_and_go_before_a_refit():
    # Any of the fit's threads may run a block: the trials' features it
    # holds are kept once per block, not once per thread that ran it, and a
    # Newton refit (the one after a run) drops them before it computes every
    # row's features, so the two never take memory at once.
    import threading

    from skadmm._activations import get_activation
    from skadmm._losses import SoftmaxLoss
    from skadmm._network import init_weights
    from skadmm._row_blocks import row_block_problem

    X, y = data()
    Y = np.eye(3)[np.digitize(y, np.quantile(y, [0.3, 0.7]))]
    act = get_activation("relu")
    rng = np.random.default_rng(0)
    weights = init_weights(X.shape[1], 12, 1, 3, act, rng, np.float64)
    params = dict(alpha=1e-3, beta=1.0, rho=1.0, tau=0.0)

    def run_in_order(tasks):
        for task in tasks:
            task()

    problem = row_block_problem(
        X, Y, None, weights, act, SoftmaxLoss(), "exact", params, run_in_order, 2
    )
    block, hidden = problem.shards.pinned.shards[0], problem.W[:-1]
    held = []

    def hold():
        block.forward_slot(hidden, 0)
        block.hold_features("slot0")
        held.append(block._held["slot0"])
        block.release_features("slot0")

    hold()
    other = threading.Thread(target=hold)
    other.start()
    other.join()
    (first,), (second,) = held
    assert np.shares_memory(first, second)
    hold()
    block.hold_features("slot0")
    block.refit_features(hidden)
    assert not block._held and not block._buffers.arrays
    np.testing.assert_allclose(next(block._features("refit")), first, rtol=1e-12)


def test_streamed_blocks_of_unequal_rows_on_threads_equal_stored_blocks(monkeypatch):
    # Six blocks of unequal rows on two threads: each thread's workspace
    # arrays grow and shrink from block to block (views of their first rows),
    # and the iterates are still the stored blocks' bit for bit.
    from skadmm._shard import RowShard

    X, y = data(n=5 * ROW_BLOCK_ROWS + 5, d=3)
    est = ADMMResidualRegressor(**params(n_blocks=2, max_iter=3, n_jobs=2))
    assert n_row_blocks(*X.shape) == 6
    assert len(set(np.diff(np.linspace(0, len(y), 7).astype(int)))) == 2
    streamed = fit(est, X, y)
    monkeypatch.setattr(row_blocks, "BLOCK_SHARD", RowShard)
    stored = fit(clone(est), X, y)
    np.testing.assert_array_equal(streamed.objective_curve_, stored.objective_curve_)
    np.testing.assert_array_equal(streamed.predict(X), stored.predict(X))


def test_streamed_blocks_build_their_augmented_input_once(monkeypatch):
    # Every sweep and forward pass reads a block's [X, 1]: each block builds
    # it once per run, not at every call.
    import skadmm._shard as shard

    built = []
    augment = shard.augment
    monkeypatch.setattr(shard, "augment", lambda X: built.append(len(X)) or augment(X))
    X, y = data()
    fit(ADMMResidualRegressor(**params(max_iter=4)), X, y)
    assert sorted(built) == sorted(np.diff(np.linspace(0, len(y), 3).astype(int)))


def test_a_streamed_shards_augmented_input_follows_its_stage_rows():
    # A sharded fit's stage holds a subset of the rows: the kept [X, 1] must
    # be that of the stage's rows, and of all rows again after it.
    from skadmm._shard import StreamedRowShard

    X, y = data(n=50)
    shard = StreamedRowShard.of_rows(0, X, y[:, None], None, ("uniform", 50), "relu")
    np.testing.assert_array_equal(shard._inputs()[0][:, :-1], X)
    shard.set_stage_order(np.random.RandomState(0).get_state(), 50, [0])
    shard.begin_stage(20, np.float32)
    stage = shard._inputs()[0]
    assert stage.shape == (20, X.shape[1] + 1) and stage.dtype == np.float32
    np.testing.assert_array_equal(stage[:, :-1], shard.train[0][0])
    np.testing.assert_array_equal(stage[:, -1], 1.0)
    shard.end_stage()
    np.testing.assert_array_equal(shard._inputs()[0][:, :-1], X)


def test_a_shards_stage_holds_the_rows_of_the_in_process_stage():
    # Nested stages and consecutive windows (skadmm._stages.stage_rows): a
    # shard of a table's rows in two chunks holds each stage's rows of the
    # in-process fit, from the ranks of its own rows only.
    from skadmm._shard import StreamedRowShard
    from skadmm._stages import stage_rows, stage_starts

    X, y = data(n=50)
    sizes = [10, 20, 20, 20, 50]
    rng = np.random.RandomState(0)
    state = rng.get_state()
    expected = stage_rows(50, sizes, rng)
    shard = StreamedRowShard.of_rows(0, X, y[:, None], None, ("uniform", 50), "relu")
    shard.train = [(X[:30], y[:30, None], None), (X[30:], y[30:, None], None)]
    shard.set_stage_order(state, 50, [0, 30])
    for m, start, rows in zip(sizes, stage_starts(sizes, 50), expected, strict=True):
        shard.begin_stage(m, np.float64, start)
        held = np.concatenate([part[0] for part in shard.train])
        np.testing.assert_array_equal(held, X[rows])
        shard.end_stage()


def _counted_forward_passes(monkeypatch):
    """A 3-class table of two row blocks, and the count of the streamed
    blocks' forward passes from now on (``passes["n"]``)."""
    import skadmm._shard as shard

    X, y = data()
    y = np.digitize(y, np.quantile(y, [0.3, 0.7]))
    passes = {"n": 0}
    forward = shard.augmented_hidden_into

    def counted(*args, **kwargs):
        passes["n"] += 1
        return forward(*args, **kwargs)

    monkeypatch.setattr(shard, "augmented_hidden_into", counted)
    return X, y, passes


def test_streamed_blocks_hold_a_slots_features_during_a_readout_refit(monkeypatch):
    """A cross-entropy refit inside the iterations reads its slot's features
    seven times; the streamed blocks compute them once for it, with the
    same bits as when they redo the forward pass at every read."""
    import skadmm._shard as shard

    X, y, passes = _counted_forward_passes(monkeypatch)
    est = ADMMResidualClassifier(**params(n_blocks=1))
    held = fit(est, X, y)
    held_passes, passes["n"] = passes["n"], 0
    monkeypatch.setattr(shard.StreamedRowShard, "hold_features", lambda s, key: None)
    redone = fit(clone(est), X, y)
    np.testing.assert_array_equal(held.objective_curve_, redone.objective_curve_)
    np.testing.assert_array_equal(_outputs(held, X), _outputs(redone, X))
    assert held_passes < 0.6 * passes["n"]


def test_streamed_blocks_keep_the_line_search_trials_features(monkeypatch):
    """The cross-entropy's read-out is refitted on the chosen trial's
    features: the streamed blocks keep every trial's until that refit
    instead of redoing the chosen one's, with the same bits."""
    import skadmm._shard as shard

    X, y, passes = _counted_forward_passes(monkeypatch)
    est = ADMMResidualClassifier(**params(n_blocks=1))
    kept = fit(est, X, y)
    kept_passes, passes["n"] = passes["n"], 0

    def redo(self, hidden, readout, slot, hold=True):
        # Each trial's features computed for its loss only.
        self.forward_slot(hidden, slot)
        return self.loss_value(f"slot{slot}", readout, self._spec["loss"])

    monkeypatch.setattr(shard.StreamedRowShard, "objective_terms", redo)
    redone = fit(clone(est), X, y)
    np.testing.assert_array_equal(kept.objective_curve_, redone.objective_curve_)
    np.testing.assert_array_equal(_outputs(kept, X), _outputs(redone, X))
    # One forward pass less per line search (per block).
    assert kept_passes < passes["n"]


def test_the_final_run_after_stages_redoes_its_trials_features(monkeypatch):
    """The classifier's final run after stages (short, in the data's dtype)
    does not hold two copies of every row's features for its read-out
    refits: its blocks redo them, with the bits of the held ones."""
    import skadmm._stages as stages
    from skadmm._sharded import ShardedProblem

    for name, value in [
        ("MIN_STAGED_ROWS", 10_000),
        ("FIRST_STAGE_ROWS", 9000),
        ("CLASSIFIER_STAGE_ITER", 4),
        ("CLASSIFIER_NESTED_ALL_ROWS_ITER", 3),
    ]:
        monkeypatch.setattr(stages, name, value)
    X, y = data()
    y = np.digitize(y, np.quantile(y, [0.3, 0.7]))
    runs = set()
    objective_of = ShardedProblem.objective_of

    def spy(self, hidden, readout, run):
        runs.add((self.rw.n_samples, self.dtype.name, self.hold_trials))
        return objective_of(self, hidden, readout, run)

    monkeypatch.setattr(ShardedProblem, "objective_of", spy)
    est = ADMMResidualClassifier(**params(n_blocks=1))
    redone = fit(est, X, y)
    assert [s["n_samples"] for s in redone.stages_] == [9000, N, N]
    assert runs == {
        (9000, "float32", True),
        (N, "float32", True),
        (N, "float64", False),
    }
    # Held features give the same fit, bit for bit.
    always = property(lambda self: True, lambda self, value: None)
    monkeypatch.setattr(ShardedProblem, "hold_trials", always, raising=False)
    runs.clear()
    held = fit(clone(est), X, y)
    assert (N, "float64", True) in runs
    np.testing.assert_array_equal(held.objective_curve_, redone.objective_curve_)
    np.testing.assert_array_equal(_outputs(held, X), _outputs(redone, X))


def _outputs(model, X):
    if hasattr(model, "predict_proba"):
        return model.predict_proba(X)
    return model.predict(X)


def test_row_blocked_objective_never_increases():
    X, y = data()
    model = fit(ADMMResidualRegressor(**params(max_iter=15)), X, y)
    curve = np.asarray(model.objective_curve_)
    assert len(curve) == 15
    assert np.all(np.diff(curve) <= 1e-12 * np.abs(curve[:-1]))
    assert curve[-1] < curve[0]
    assert model.exchange_bytes_ is None


def test_blocks_run_on_several_threads(monkeypatch):
    X, y = data()
    meeting = meet_in_row_blocks(monkeypatch)
    with threadpool_limits(2, user_api="blas"):
        fit(ADMMResidualRegressor(**params(n_jobs=2)), X, y)
    assert len(meeting.threads) == min(2, row_blocks_cpu())


def test_ctrl_c_keeps_the_last_iterate(interrupt_third_sweep):
    X, y = data()
    with pytest.warns(FitInterruptedWarning):
        model = ADMMResidualRegressor(**params(n_jobs=2)).fit(X, y)
    assert model.n_iter_ == 2
    assert np.isfinite(model.predict(X)).all()


def test_an_error_in_a_block_reaches_the_caller(monkeypatch):
    X, y = data()

    def broken(self, *args):
        raise RuntimeError("block failed")

    monkeypatch.setattr("skadmm._shard.StreamedRowShard.reset_sweep_sums", broken)
    model = ADMMResidualRegressor(**params(n_jobs=2))
    with pytest.raises(RuntimeError, match="block failed"):
        model.fit(X, y)
    assert not hasattr(model, "coefs_")


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("n_outputs", [1, 3])
def test_read_out_gradient_in_cache_sized_pieces_equals_the_whole_products(
    weighted, n_outputs
):
    # The majorised read-out step's gradient A^T S (P - Y) of a row block's
    # kept features, taken in pieces of product_chunk_rows rows (each piece's
    # A W and A^T S grad while in cache), against the two whole products.
    from skadmm._losses import LogisticLoss, SoftmaxLoss
    from skadmm._rows import RowWeights, product_chunk_rows
    from skadmm._shard import _gradient_sums

    rng = np.random.default_rng(3)
    width = 9
    n = 3 * product_chunk_rows(width, np.float64) + 17  # four pieces, one short
    A = np.maximum(rng.standard_normal((n, width)), 0.0)
    A[:, -1] = 1.0
    W = rng.standard_normal((width, n_outputs))
    labels = rng.integers(0, max(2, n_outputs), n)
    if n_outputs == 1:
        loss, Y = LogisticLoss(), labels[:, None].astype(np.float64)
    else:
        loss, Y = SoftmaxLoss(), np.eye(n_outputs)[labels]
    sample_weight = rng.uniform(0.5, 2.0, n) if weighted else None
    rw = RowWeights(sample_weight, n, np.dtype(np.float64))

    whole = _gradient_sums(A, None, Y, W, loss, rw, chunk=False)
    _, G = loss.rows_and_gradient(A @ W, Y)
    S = (
        np.full(n, 1.0 / n)
        if sample_weight is None
        else sample_weight / sample_weight.sum()
    )
    np.testing.assert_allclose(whole, A.T @ (S[:, None] * G), rtol=1e-12, atol=1e-15)
    pieces = _gradient_sums(A, None, Y, W, loss, rw, chunk=True)
    np.testing.assert_allclose(pieces, whole, rtol=1e-12, atol=1e-15)
    # Outputs already computed (a forward pass's fused product) give the
    # same bits: held and streamed features round alike.
    given = _gradient_sums(A, A @ W, Y, W, loss, rw, chunk=True)
    np.testing.assert_array_equal(given, pieces)
    # A chunk without training rows (all of them held out) sums to zeros.
    empty = RowWeights(None, 1, np.dtype(np.float64)).restrict(slice(0, 0))
    none = _gradient_sums(A[:0], None, Y[:0], W, loss, empty, chunk=True)
    np.testing.assert_array_equal(none, np.zeros((width, n_outputs)))

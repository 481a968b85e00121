"""``fit`` on Dask collections: the estimator's fit with its rows on the workers.

:func:`fit_sharded` is what :meth:`BaseADMMResidual._fit` runs when ``X`` (or
``y``) is a Dask array or DataFrame. It validates the input chunk by chunk on
the workers, checks each worker's share of the fit against its memory limit,
pins one row shard per worker next to its chunks (see :func:`_shard_class`), and
runs the estimator's solver on a :class:`~skadmm._sharded.ShardedProblem`.
Nothing of the fit stays on the workers afterwards, whatever happens (error,
lost worker, Ctrl-C); the estimator's attributes are set only at the end.
"""

import time
from collections.abc import Callable
from functools import partial
from typing import NamedTuple

import numpy as np
from sklearn.base import is_classifier
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import type_of_target

from ._activations import get_activation
from ._alpha_search import (
    CV_MIN_ROWS,
    SAMPLE_SEARCH_MAX_ROWS,
    AlphaSearch,
    fixed_alpha,
    warn_fractional_weights,
)
from ._blas import fit_blas_limits
from ._callbacks import FitCallbacks
from ._checks import max_input_scale, warn_input_scale
from ._dask_input import as_dask_array, feature_names, is_dask_collection
from ._memory import estimate_fit_nbytes
from ._pinned import PinnedActors, active_client, cluster_workers, placement
from ._shard import RowShard, StreamedRowShard
from ._sharded import (
    SHARDED_SOLVERS,
    ShardedMonitor,
    ShardedProblem,
    ShardSet,
    refit_readout_on,
    sum_in_order,
)
from ._solvers import SOLVERS
from ._stages import (
    stage_penalty,
    stage_starts,
    stage_tol,
    uses_early_stopping,
    window_runs,
)
from ._targets import ClassificationTarget, RegressionTarget
from ._warn import warn
from .exceptions import NumericalError, WorkerLostError

#: BLAS threads of the shards' computations and the driver's solves (the
#: sums then round as an in-process fit's on one thread).
BLAS_THREADS = 1


class ShardedHooks(NamedTuple):
    """The estimator's own steps of a fit, which the sharded fit runs as an
    in-process fit would (given by the estimator, see ``_base``)."""

    #: ``resolve_alpha(X, Y, sw, warm, target, callbacks) -> (alpha, record)``.
    resolve_alpha: Callable
    #: ``make_solver() -> BaseSolver``.
    make_solver: Callable
    #: ``initial_weights(n_features, n_outputs, activation, rng, dtype)``.
    initial_weights: Callable
    #: ``callback_attributes(target, weights, iteration)``: the fitted
    #: attributes a callback's ``fitted_estimator`` gets.
    callback_attributes: Callable


class ShardedFit(NamedTuple):
    """What a sharded fit produced, for the estimator to store."""

    weights: list
    result: object
    monitor: object
    problem: object
    target: object
    alpha: float
    alpha_search: dict
    n_features: int
    feature_names: object
    #: The completed stages' ``(result, monitor, n_rows)``.
    stages: list
    #: The fit's :class:`~skadmm._callbacks.FitCallbacks` (to close).
    callbacks: object


def fit_sharded(est, hooks, X, y, sample_weight, X_val=None, y_val=None, sw_val=None):
    """Fit the estimator ``est`` (read-only: its parameters) on the Dask
    collections ``X, y``; return a :class:`ShardedFit` (see the module)."""
    _check_supported(est, X_val, y_val, sw_val)
    client = _client()
    if not is_dask_collection(X):
        raise ValueError(
            "y is a Dask collection but X is not: pass X as a Dask array or "
            "DataFrame too (the fit is sharded over X's row chunks), or both as "
            "NumPy arrays."
        )
    names = feature_names(X)
    X = as_dask_array(X, "X")
    if getattr(X, "ndim", None) != 2:
        raise ValueError(f"X must be 2-D (rows x features); got shape {X.shape}.")
    X = X.rechunk({1: -1})
    if 0 in X.chunks[0] and X.shape[0]:
        # An empty row chunk would make a shard without rows: drop it (the
        # sums over the other chunks are the same).
        X = X.rechunk({0: tuple(n for n in X.chunks[0] if n)})
    y = _rows_like(y, X, "y")
    sw = _rows_like(sample_weight, X, "sample_weight")
    arrays = client.persist([a for a in (X, y, sw) if a is not None])
    X, y = arrays[0], arrays[1]
    sw = arrays[2] if sw is not None else None
    x_futures = _chunk_futures(X)
    y_futures = _chunk_futures(y)
    sw_futures = _chunk_futures(sw) if sw is not None else [None] * len(x_futures)
    n_chunks = len(x_futures)
    rows = [int(n) for n in X.chunks[0]]

    rng = check_random_state(est.random_state)
    # The held-out chunks are drawn from a generator of their own: the
    # initial weights are then those of an in-process fit given the same
    # validation rows (X_val, y_val), with an integer random_state.
    split_rng = check_random_state(est.random_state)
    early = uses_early_stopping(est.early_stopping, X.shape[0])
    validation = []
    if early:
        if n_chunks < 2:
            raise ValueError(
                "Early stopping in a sharded fit holds out whole row chunks, but "
                "X has one chunk: rechunk X into several row chunks "
                "(X.rechunk({0: ...})), or set early_stopping=False."
            )
        n_val = min(n_chunks - 1, max(1, round(est.validation_fraction * n_chunks)))
        validation = sorted(int(i) for i in split_rng.permutation(n_chunks)[:n_val])

    workers = placement(client, x_futures)
    by_worker = {}
    for i, worker in enumerate(workers):
        by_worker.setdefault(worker, []).append(i)
    order = sorted(by_worker)
    held = [by_worker[w] for w in order]
    specs = [
        (
            BLAS_THREADS,
            [
                (i, x_futures[i], y_futures[i], sw_futures[i], i in validation)
                for i in chunks
            ],
        )
        for chunks in held
    ]
    shard = _shard_class(est)
    pinned = PinnedActors(client, shard, specs, order, what="row chunks of X")
    try:
        shards = ShardSet(pinned, held, validation)
        fitted = _run(
            est, hooks, shards, client, X, y, rows, held, order, validation, rng
        )
    finally:
        pinned.close()
    return fitted._replace(feature_names=names)


def _run(est, hooks, shards, client, X, y, rows, held, order, validation, rng):
    """The fit on the pinned shards, as a :class:`ShardedFit` (without the
    feature names)."""
    summary = shards.call("summary", kind="all")
    n_features = X.shape[1]
    _check_chunks(summary, n_features)
    dtype = np.dtype(X.dtype if X.dtype in (np.float32, np.float64) else np.float64)
    train = [i for i in range(len(rows)) if i not in validation]
    largest = max(s["max_abs"] for s in summary)
    limit = max_input_scale(X.shape[0], n_features, est.width, dtype)
    if largest > limit:
        raise NumericalError(
            f"max|X| = {largest:.3g} is too large for {dtype} arithmetic with "
            f"{X.shape[0]} samples, {n_features} features and width {est.width} "
            f"(the limit is {limit:.3g}). Standardise X (for example with "
            "dask_ml.preprocessing.StandardScaler)."
        )
    # The chunks' column summaries combine into those of all of X.
    columns = [s["columns"] for s in summary if s["columns"] is not None]
    if columns:
        counts, sums, low, high = zip(*columns, strict=True)
        warn_input_scale(
            sum(counts),
            np.sum(sums, axis=0),
            np.min(low, axis=0),
            np.max(high, axis=0),
            advice="Standardise X (for example with "
            "dask_ml.preprocessing.StandardScaler).",
        )
    target = _make_target(est, shards, summary, y, dtype)
    weighted = any(s["weight_sum"] is not None for s in summary)
    _check_worker_memory(
        est, client, rows, held, order, n_features, target, dtype, weighted
    )
    # Rows of weight 0 are dropped (exact: they contribute nothing).
    kept = shards.call("encode", target, dtype, kind="all")
    n_train = sum(kept[i] for i in train)
    norm, n_weight = _normalisation(summary, train, n_train, weighted)
    if est.alpha == "auto" and weighted:
        warn_fractional_weights(n_weight, n_train, target)
    shards.pinned.call("set_norm", norm, est.activation)
    callbacks = FitCallbacks(est, X, y, None)
    alpha, record = _resolve_alpha(
        est, hooks, shards, target, n_weight, weighted, callbacks
    )

    activation = get_activation(est.activation)
    loss = target.loss
    n_outputs = target.n_outputs
    solver_cls = SOLVERS[est.solver]
    params = solver_cls.problem_params(est.get_params(), alpha)
    solver = hooks.make_solver()
    attributes = partial(hooks.callback_attributes, target)
    run = _Run(est, solver, params, loss, activation, target, callbacks, attributes)
    with fit_blas_limits(BLAS_THREADS):
        weights = hooks.initial_weights(n_features, n_outputs, activation, rng, dtype)
        stages = []
        # The estimator's own schedule (the classifier's ends with a stage on
        # all the rows), solver settings and final patience, as in one process.
        schedule = est._stage_plan(n_train) if solver_cls.staged else []
        if schedule:
            for key, value in est._staged_solver_settings(n_train).items():
                setattr(solver, key, value)
            offsets = np.cumsum([0] + [kept[i] for i in train])[:-1]
            offset_of = dict(zip(train, offsets.tolist(), strict=True))
            stages, weights = _run_stages(
                run, shards, weights, schedule, n_train, offset_of, rng, dtype
            )
        if stages and (
            not stages[-1][0].completed or stages[-1][1].stopped_by_callback
        ):
            # A stage failed, was interrupted or stopped by a callback: it
            # ends the fit, with its last iterate in the data's dtype.
            (result, monitor, problem), stages = stages[-1], stages[:-1]
            weights = [W.astype(dtype) for W in result.weights]
        else:
            problem, monitor, result = run.solve(
                shards,
                weights,
                n_train,
                validation=bool(validation),
                patience=est._final_patience(n_train, bool(stages)),
                readout_steps=est._stage_readout_steps() if stages else None,
                # As in process: the short final run after stages redoes its
                # trials' features instead of holding two copies of its rows'.
                hold_trials=not stages,
            )
            weights = result.weights
            if validation and monitor.best_weights is not None:
                weights = monitor.best_weights
        try:
            if est.refit_readout:
                refitted = [
                    *weights[:-1],
                    refit_readout_on(shards, weights, loss, alpha),
                ]
                if np.isfinite(refitted[-1]).all():
                    weights = refitted
            finite = all(np.isfinite(W).all() for W in weights) and all(
                shards.call("forward_finite", weights)
            )
        except WorkerLostError:
            if not result.interrupted:
                raise
            # Ctrl-C in a terminal also stops the worker processes of a
            # LocalCluster started there (they share its process group): the
            # interrupted fit keeps its last iterate, as promised, without
            # the final refit and the workers' check of its predictions.
            finite = all(np.isfinite(W).all() for W in weights)
    if not finite:
        raise NumericalError(
            "Training produced weights that are not finite, or whose predictions "
            "on the training data overflow; the estimator was not fitted. "
            "Standardise X and y, or raise alpha."
        )
    return ShardedFit(
        target.fold(weights),
        result,
        monitor,
        problem,
        target,
        alpha,
        record,
        n_features,
        None,
        stages,
        callbacks,
    )


class _Run(NamedTuple):
    """What every run of a sharded fit (its stages, the run on all rows) shares."""

    est: object
    solver: object
    params: dict
    loss: object
    activation: object
    target: object
    callbacks: object
    attributes: Callable

    def solve(
        self,
        shards,
        weights,
        n_rows,
        validation=False,
        max_iter=None,
        name="",
        alpha=None,
        patience=None,
        tol=None,
        readout_steps=None,
        hold_trials=True,
    ):
        """One run of the solver on ``shards``' rows from ``weights`` (read-out
        refitted first, as an in-process fit's problem is); ``(problem,
        monitor, result)``. ``alpha``: the run's penalty (``None``: the fit's;
        a stage's is :func:`~skadmm._stages.stage_penalty`); ``patience``: its
        ``n_iter_no_change`` (``None``: the estimator's); ``tol``: its relative
        ``tol`` (``None``: the estimator's; a stage's is
        :func:`~skadmm._stages.stage_tol`); ``readout_steps``: the read-out
        takes that many majorised steps from ``weights[-1]`` instead of
        running to convergence (a later stage's, as in process);
        ``hold_trials``: :attr:`~skadmm._sharded.ShardedProblem.hold_trials`."""
        est = self.est
        patience = est.n_iter_no_change if patience is None else patience
        params = self.params if alpha is None else {**self.params, "alpha": alpha}
        weights = [
            *weights[:-1],
            refit_readout_on(
                shards, weights, self.loss, params["alpha"], readout_steps
            ),
        ]
        shards.pinned.call("build", weights, params, est.update, self.loss)
        problem = ShardedProblem(
            shards,
            weights,
            n_rows,
            self.target.n_outputs,
            self.loss,
            est.update,
            **params,
        )
        problem.hold_trials = hold_trials
        monitor = ShardedMonitor(
            shards,
            self.activation,
            validation,
            est.tol,
            patience,
            self.target,
            self.callbacks,
            self.attributes,
        )
        self.solver.n_iter_no_change = patience
        result = self.solver.solve(
            problem, monitor, max_iter=max_iter, name=name, tol=tol
        )
        return problem, monitor, result


def _run_stages(run, shards, weights, schedule, n_train, offset_of, rng, dtype):
    """The stages ``schedule`` (``(rows, max_iter)`` each, the estimator's
    ``_stage_plan``) of a progressive fit (see ``skadmm._stages``) on the
    shards' training rows: the in-process fit's samples (the same permutation
    of the training rows, drawn from ``rng``), each chunk holding its own rows
    of a stage in the estimator's dtype for it (``_stage_dtype``). Returns
    ``(stages, weights)`` as ``_base._run_stages`` does."""
    rule = run.target.stage_alpha
    state = rng.get_state()
    rng.permutation(n_train)  # the driver's generator moves on as in process
    offsets = [[offset_of[c] for c in held if c in offset_of] for held in shards.chunks]
    shards.pinned.call_each("set_stage_order", [(state, n_train, o) for o in offsets])
    train = [[c for c in held if c in offset_of] for held in shards.chunks]
    stages = []
    sizes = [m for m, _ in schedule]
    starts, windows = stage_starts(sizes, n_train), window_runs(sizes)
    for i, ((m, max_iter), start) in enumerate(zip(schedule, starts, strict=True)):
        stage_dtype = run.est._stage_dtype(m, n_train, dtype)
        parts = shards.pinned.call("begin_stage", m, stage_dtype, start)
        try:
            counts = [
                [c for c, part in zip(held, out, strict=True) if part[0]]
                for held, out in zip(train, parts, strict=True)
            ]
            kept = [part for out in parts for part in out if part[0]]
            shards.pinned.call("set_stage_norm", _stage_norm(kept, m))
            stage = ShardSet(shards.pinned, counts, ())
            # The stage's summed weight, as in process.
            n_stage = m if kept[0][1] is None else sum(p[1] for p in kept)
            alpha = stage_penalty(
                run.params["alpha"], m, n_stage, n_train, rule, windows[i]
            )
            problem, monitor, result = run.solve(
                stage,
                weights,
                m,
                max_iter=max_iter,
                name=f"Stage {i + 1}/{len(schedule)} ({m} rows)",
                alpha=alpha,
                tol=stage_tol(run.est.tol, m),
                readout_steps=run.est._stage_readout_steps() if i else None,
            )
        finally:
            shards.pinned.call("end_stage")
        shards.sent += stage.sent
        shards.received += stage.received
        if not result.completed or monitor.stopped_by_callback:
            stages.append((result, monitor, problem))
            break
        stages.append((result, monitor, m, alpha))
        weights = result.weights
    return stages, [W.astype(dtype) for W in weights]


def _stage_norm(parts, m):
    """The row-weight normalisation of a stage's ``m`` rows, from its chunks'
    ``(rows, weight sum, min, max)`` (as in process: uniform when every
    weight is the same)."""
    if parts[0][1] is None:
        return ("uniform", m)
    low, high = min(p[2] for p in parts), max(p[3] for p in parts)
    if low == high:
        return ("uniform", m)
    return ("weighted", sum(p[1] for p in parts))


def _shard_class(est):
    """The class of a sharded fit's shards.

    The forward-reset mode's take :class:`~skadmm._shard.StreamedRowShard`,
    as the in-process row blocks do: a worker then holds its data and one
    chunk's state at a time (in a workspace reused from call to call), not
    every row's. RADMM keeps multipliers, so its shards keep their state
    (:class:`~skadmm._shard.RowShard`). The arithmetic is the same either way:
    chunks equal to an in-process fit's row blocks give its iterates bit for
    bit.
    """
    return StreamedRowShard if est.solver == "reset" else RowShard


def _check_supported(est, X_val, y_val, sw_val):
    problems = []
    if est.solver not in SHARDED_SOLVERS:
        problems.append(
            f"solver={est.solver!r} (sharded: {', '.join(map(repr, SHARDED_SOLVERS))})"
        )
    if est.splitting != "three":
        problems.append(f"splitting={est.splitting!r} (sharded: 'three')")
    if est.warm_start:
        problems.append("warm_start=True")
    # embedding="auto" is "none" there: a sharded table is large, and its
    # choice would be one more sharded fit.
    if est.embedding not in ("none", "auto"):
        problems.append(f"embedding={est.embedding!r} (sharded: 'none')")
    if getattr(est, "class_weight", None) is not None:
        problems.append("class_weight (pass the weights as sample_weight)")
    if X_val is not None or y_val is not None or sw_val is not None:
        problems.append("X_val/y_val (early stopping holds out row chunks)")
    if problems:
        raise ValueError(
            "A fit on Dask collections (sharded over the workers) does not "
            f"support {'; '.join(problems)}. Change these parameters, or pass "
            "NumPy arrays (X.compute()) for an in-process fit."
        )
    ignored = [
        f"{name}={getattr(est, name)!r}"
        for name in ("n_jobs", "n_regions")
        if getattr(est, name) is not None
    ]
    if ignored:
        warn(
            f"A fit on Dask collections ignores {' and '.join(ignored)}: its "
            "parallelism is the cluster's workers (one row shard each). Leave "
            "them at None.",
            UserWarning,
        )


def _client():
    return active_client(
        "A fit on Dask collections (sharded over the workers)",
        "pass NumPy arrays (X.compute()) for an in-process fit",
    )


def _rows_like(v, X, name):
    """``v`` as a Dask array with the row chunks of ``X`` (``None`` stays)."""
    if v is None:
        return None
    import dask.array as da

    if is_dask_collection(v):
        v = as_dask_array(v, name)
    else:
        v = np.asarray(v)
    if v.ndim not in (1, 2) or v.shape[0] != X.shape[0]:
        raise ValueError(
            f"{name} has shape {v.shape}, but X has {X.shape[0]} rows: they must "
            "have the same number of rows."
        )
    chunks = (X.chunks[0],) + tuple((n,) for n in v.shape[1:])
    if isinstance(v, np.ndarray):
        return da.from_array(v, chunks=chunks)
    return v.rechunk(chunks)


def _chunk_futures(a):
    """The futures of the row chunks of the persisted Dask array ``a``, in order."""
    from distributed import futures_of

    by_key = {f.key: f for f in futures_of(a)}
    keys = a.__dask_keys__()
    return [by_key[k[0] if isinstance(k, list) else k] for k in keys]


def _check_chunks(summary, n_features):
    for i, s in enumerate(summary):
        if s["features"] != n_features or not s["finite"]:
            raise ValueError(
                f"Row chunk {i} of X is not a finite numeric array of "
                f"{n_features} features (NaN, infinity or non-numeric values); "
                "clean or impute X first."
            )
        if not s["y_finite"]:
            raise ValueError(f"Row chunk {i} of y contains NaN or infinity.")
        if s["negative"]:
            raise ValueError("Negative values in sample_weight are not allowed.")
        if s["weight_sum"] is not None and not np.isfinite(s["weight_sum"]):
            raise ValueError(
                f"Row chunk {i} of sample_weight contains NaN or infinity (or "
                "its sum overflows)."
            )
    if sum(s["rows"] for s in summary) < 2:
        raise ValueError("A fit needs at least 2 samples.")
    if all(s["weight_sum"] is not None for s in summary) and not (
        sum(s["weight_sum"] for s in summary) > 0
    ):
        raise ValueError("sample_weight must have a positive sum.")
    held = [i for i, s in enumerate(summary) if s["validation"]]
    if held and not any(
        summary[i]["weight_sum"] is None or summary[i]["weight_sum"] > 0 for i in held
    ):
        # Early stopping would score an empty validation set (0 / 0).
        raise ValueError(
            f"The row chunks held out for early stopping ({held}) have no rows "
            "of positive weight: set early_stopping=False, or another "
            "random_state (it draws the held-out chunks), or spread the "
            "zero-weight rows over the chunks."
        )


def _make_target(est, shards, summary, y, dtype):
    """The target encoding of the fit, from sums over the chunks of ``y``."""
    if is_classifier(est):
        labels = np.unique(np.concatenate(shards.call("labels", kind="all")))
        kind = type_of_target(labels)
        if kind not in ("binary", "multiclass") or y.ndim != 1:
            raise ValueError(
                "ADMMResidualClassifier supports binary and multiclass targets; "
                f"got a {kind!r} target."
            )
        if len(labels) < 2:
            raise ValueError(
                "The classifier needs samples of at least 2 classes with positive "
                f"weight; the data has only the class {labels[0]!r}."
            )
        return ClassificationTarget(labels)
    # As skadmm._targets.fit_target_scaler: the weighted mean and standard
    # deviation of y / max|y|, scaled back (two passes over the chunks).
    top = np.max(shards.call("target_top", kind="all"), axis=0).astype(np.float64)
    limit = np.sqrt(np.finfo(dtype).max) / 1e3
    if not (top <= limit).all():
        raise ValueError(
            f"max|y| = {float(np.max(top)):.3g} is too large: its squared errors "
            f"overflow {dtype} (the limit is {limit:.3g}). Rescale y."
        )
    top[top == 0] = 1.0
    weight, first, _ = sum_in_order(
        shards.call("target_moments", top, None, kind="all")
    )
    mean = first / weight
    _, _, second = sum_in_order(shards.call("target_moments", top, mean, kind="all"))
    scale = np.sqrt(second / weight)
    scale[scale < 10 * np.finfo(scale.dtype).eps] = 1.0
    return RegressionTarget(
        (mean * top).astype(dtype), (scale * top).astype(dtype), y.ndim == 1
    )


def _normalisation(summary, train, n, weighted):
    """The weight normalisation of the ``n`` training rows, and their summed
    weight."""
    if not weighted:
        return ("uniform", n), float(n)
    positive = [summary[i]["weight_pos"] for i in train if summary[i]["weight_pos"]]
    total = sum(summary[i]["weight_sum"] for i in train)
    if not positive or not total > 0:
        raise ValueError(
            "sample_weight of the training chunks must have a positive sum."
        )
    low, high = min(p[0] for p in positive), max(p[1] for p in positive)
    if low == high:
        # Equal positive weights: every kept row weighs the same (as in process).
        return ("uniform", n), float(total)
    return ("weighted", total), float(total)


def _resolve_alpha(est, hooks, shards, target, n_weight, weighted, callbacks):
    """``alpha`` and its record (``alpha_search_``), as the in-process fit's."""
    tick = time.perf_counter()
    if est.alpha != "auto":
        search = AlphaSearch(float(est.alpha), "given")
    elif target.auto_alpha is not None:
        alpha = target.auto_alpha(n_weight)
        search = AlphaSearch(alpha, "fixed", (alpha,))
    elif CV_MIN_ROWS <= n_weight <= SAMPLE_SEARCH_MAX_ROWS:
        # A table this small is cross-validated in process (on a sample above
        # CV_MAX_ROWS), as it would be locally: its rows (at most ten
        # thousand) come to the driver once.
        data = shards.call("training_rows")
        Xs = np.concatenate([d[0] for d in data])
        Ys = np.concatenate([d[1] for d in data])
        sws = np.concatenate([d[2] for d in data]) if weighted else None
        return hooks.resolve_alpha(Xs, Ys, sws, False, target, callbacks)
    else:
        alpha = fixed_alpha(n_weight)
        search = AlphaSearch(alpha, "fixed", (alpha,))
    record = search.as_dict()
    record["seconds"] = time.perf_counter() - tick
    return search.alpha, record


def _check_worker_memory(
    est, client, rows, held, order, n_features, target, dtype, weighted
):
    """``MemoryError`` if a worker's share of the fit exceeds its memory limit.

    Each worker holds the state of its own rows only (the weights are small),
    so its share is the in-process estimate for its rows, which must fit
    beside what the worker process already uses; checked before any state is
    allocated. Streamed shards (:func:`_shard_class`) hold one chunk's state at
    a time, counted as row blocks of the largest chunk's rows. A worker without
    a limit never blocks the fit.
    """
    streamed = _shard_class(est) is StreamedRowShard
    info = cluster_workers(client)
    for worker, chunks in zip(order, held, strict=True):
        limit = info.get(worker, {}).get("memory_limit") or 0
        n_rows = sum(rows[i] for i in chunks)
        # ceil(n_rows / blocks) is at least the largest chunk's rows.
        blocks = n_rows // max(rows[i] for i in chunks) if streamed else 1
        need = estimate_fit_nbytes(
            n_rows,
            n_features,
            target.n_outputs,
            width=est.width,
            n_blocks=est.n_blocks,
            itemsize=dtype.itemsize,
            solver=est.solver,
            splitting=est.splitting,
            update=est.update,
            early_stopping=False,
            refit_readout=est.refit_readout,
            # Row weights add their copies, as in process.
            weighted=weighted,
            row_blocks=max(blocks, 1),
            # The classifier's held trial features and its float32 stage on
            # all the rows, as in one process.
            classifier=isinstance(target, ClassificationTarget),
        )
        # What the worker process already uses (its data chunks included).
        used = info.get(worker, {}).get("metrics", {}).get("memory") or 0
        if limit and need + used > limit:
            raise MemoryError(
                f"The Dask worker {worker} holds {n_rows} rows of X "
                f"({len(chunks)} chunks), whose share of the fit needs about "
                f"{need / 2**30:.3g} GiB besides the {used / 2**30:.3g} GiB the "
                f"worker uses, above its memory limit of "
                f"{limit / 2**30:.3g} GiB. To fit: use more workers (or workers "
                "with more memory), rebalance the chunks (client.rebalance), "
                "pass float32 data, or reduce `width` or `n_blocks`."
            )

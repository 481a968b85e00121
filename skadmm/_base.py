"""What the regressor and the classifier share: parameters, validation, the fit.

:class:`BaseADMMResidual` holds the whole scikit-learn layer (parameter
constraints, input checks, the memory guard, sample weights, the validation
split, ``alpha="auto"``, the solver run, warm start, the fitted attributes and
warnings). An estimator adds only its target encoding (a *target* object: the
loss, how the encoding folds into the read-out, the curves' loss and the
validation score) and its prediction methods.
"""

import inspect
import time
import warnings
from abc import ABC, abstractmethod
from contextlib import nullcontext
from dataclasses import dataclass, replace
from functools import partial
from numbers import Real
from typing import NamedTuple

import numpy as np
from joblib import hash as joblib_hash
from sklearn.base import BaseEstimator, clone, is_classifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    validate_data,
)

from ._activations import ACTIVATIONS, get_activation
from ._alpha_search import (
    CV_MAX_ROWS,
    AlphaSearch,
    distinct_row_folds,
    fixed_alpha,
    planned_fits,
    search_alpha,
    warn_fractional_weights,
)
from ._blas import blas_threads_for, fit_blas_limits, small_products
from ._callbacks import CallbackSupportMixin, FitCallbacks, SearchStopped
from ._checks import (
    check_fitted_network,
    check_input_scale,
    check_predictions,
    column_scale,
    warn_input_scale,
)
from ._dask_input import is_dask_collection
from ._embeddings import (
    AUTO_CODE,
    PARAMETER_VALUES,
    encoded_shape,
    make_embedding,
    resolve_n_bins,
)
from ._interrupt import interrupts_propagate
from ._layer_actors import layer_client, solve_on_dask
from ._memory import check_fit_memory
from ._monitor import ForwardMonitor
from ._network import (
    append_identity_blocks,
    init_weights,
    predict_outputs,
    row_blocks_forward,
    stack_weights,
)
from ._parallel import (
    Team,
    plan_parallelism,
    run_search,
    search_workers,
    split_layers,
)
from ._params import Count
from ._readout import refit_readout
from ._row_blocks import ROW_BLOCK_ROWS, n_row_blocks, row_block_problem
from ._sharded import ShardedProblem, refit_readout_on
from ._solvers import SOLVERS, ignored_params, own_param_constraints
from ._solvers._base import SolverResult
from ._splitting import SPLITTINGS
from ._stages import (
    carries_momentum,
    final_patience,
    regressor_step_scaling,
    stage_dtype,
    stage_penalty,
    stage_plan,
    stage_rows,
    stage_tol,
    uses_early_stopping,
    window_runs,
)
from ._warn import warn
from .exceptions import (
    DivergenceWarning,
    FitInterruptedWarning,
    InconsistentVersionWarning,
)

# Parameters whose change makes a kept solver state unusable for warm_start.
_STATE_KEYS = (
    "width",
    "n_blocks",
    "activation",
    "splitting",
    "update",
    "solver",
    "quantize",
    "quantize_bits",
    "quantize_levels",
)


@dataclass(frozen=True)
class FitSetting:
    """What every run of one fit shares (the stages' and the final one's)."""

    activation: object
    #: The random state of the fit's draws (initial weights, stage rows).
    rng: object
    alpha: float
    target: object
    plan: object
    solver: object = None
    #: Runs a phase's tasks (the fit's team of threads).
    run: object = None
    #: The fit's callbacks and the function of ``(weights, iteration)``
    #: giving a callback's fitted attributes (see ``ForwardMonitor``).
    callbacks: object = None
    attributes: object = None


class KeptRun(NamedTuple):
    """What ``warm_start`` keeps of a fit to go on from exactly."""

    #: The relaxation at its last iterate.
    problem: object
    #: The parameters of ``_STATE_KEYS`` it was built with.
    config: dict
    #: A hash of the training data (the next fit must be on the same).
    fingerprint: str
    #: The penalties it runs with.
    penalties: dict
    #: The solver's step state (``BaseSolver.state``), after a completed run.
    step_state: dict | None = None
    #: ``(validation key, ForwardMonitor.state())`` of its early stopping.
    monitor_state: tuple | None = None


class BaseADMMResidual(CallbackSupportMixin, BaseEstimator, ABC):
    """Base class of the estimators: everything but the target and predictions.

    Subclasses define ``_validate_xy``, ``_n_outputs_for``, ``_make_target``
    and, optionally, ``_weigh_samples`` (class weights).
    """

    _parameter_constraints = {
        "width": [Count(1, None, closed="left")],
        "n_blocks": [Count(0, None, closed="left")],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "solver": [StrOptions(set(SOLVERS))],
        "splitting": [StrOptions(set(SPLITTINGS))],
        "update": [StrOptions({"proximal", "linearized"})],
        "beta": [Interval(Real, 0, None, closed="neither"), StrOptions({"auto"})],
        "rho": [Interval(Real, 1, None, closed="neither"), StrOptions({"auto"})],
        "tau": [Interval(Real, 0, None, closed="neither")],
        "eta": [Interval(Real, 0, None, closed="neither")],
        "mu": [Interval(Real, 0, None, closed="left")],
        "alpha": [Interval(Real, 0, None, closed="left"), StrOptions({"auto"})],
        "max_iter": [Count(1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "early_stopping": ["boolean", StrOptions({"auto"})],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Count(1, None, closed="left")],
        "refit_readout": ["boolean"],
        # joblib's convention: 0 workers has no meaning, refused before any work.
        "n_jobs": [
            Count(None, -1, closed="right"),
            Count(1, None, closed="left"),
            None,
        ],
        "n_regions": [Count(1, None, closed="left"), None],
        "random_state": ["random_state"],
        "warm_start": ["boolean"],
        "verbose": ["verbose"],
        # The parameters of one mode only, declared with the mode.
        **own_param_constraints(),
        "embedding": [StrOptions(set(PARAMETER_VALUES))],
        "n_bins": [Count(2, None, closed="left"), StrOptions({"auto"})],
    }

    def __init__(
        self,
        width=100,
        n_blocks=0,
        *,
        activation="relu",
        solver="reset",
        splitting="three",
        update="proximal",
        beta="auto",
        rho="auto",
        tau=1e-3,
        eta=0.1,
        mu=1.0,
        alpha="auto",
        max_iter=500,
        tol=1e-4,
        early_stopping="auto",
        validation_fraction=0.1,
        n_iter_no_change=10,
        refit_readout=True,
        n_jobs=None,
        n_regions=None,
        random_state=None,
        warm_start=False,
        verbose=0,
        epsilon=0.01,
        quantize=None,
        quantize_bits=8,
        quantize_levels="step",
        layer_workers=None,
        embedding="none",
        n_bins="auto",
    ):
        self.width = width
        self.n_blocks = n_blocks
        self.activation = activation
        self.solver = solver
        self.splitting = splitting
        self.update = update
        self.beta = beta
        self.rho = rho
        self.tau = tau
        self.eta = eta
        self.mu = mu
        self.alpha = alpha
        self.max_iter = max_iter
        self.tol = tol
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.refit_readout = refit_readout
        self.n_jobs = n_jobs
        self.n_regions = n_regions
        self.random_state = random_state
        self.warm_start = warm_start
        self.verbose = verbose
        self.epsilon = epsilon
        self.quantize = quantize
        self.quantize_bits = quantize_bits
        self.quantize_levels = quantize_levels
        self.layer_workers = layer_workers
        self.embedding = embedding
        self.n_bins = n_bins

    def __getstate__(self):
        """State for pickling, without the solver state kept by ``warm_start``.

        That state holds arrays of the size of the training data (hundreds of
        times the fitted weights); a warm-started fit of an unpickled model
        starts from its weights instead. The state records the skadmm version,
        checked by :meth:`__setstate__`.
        """
        # A copy: on Python 3.11+ object.__getstate__ returns the instance's
        # own __dict__, which pickling must not change.
        state = dict(super().__getstate__())
        state.pop("_solver_state", None)
        # scikit-learn stores its own version only for its own estimators.
        state["_skadmm_version"] = _package_version()
        return state

    def __setstate__(self, state):
        """Restore a pickled state; warn if another skadmm version pickled it."""
        state = dict(state)
        version = state.pop("_skadmm_version", None)
        current = _package_version()
        if version != current:
            warnings.warn(
                InconsistentVersionWarning(
                    estimator_name=type(self).__name__,
                    current_version=current,
                    original_version=version,
                ),
                stacklevel=2,
            )
        super().__setstate__(state)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    def __sklearn_is_fitted__(self):
        # validate_data sets n_features_in_ before a fit can still fail.
        return hasattr(self, "coefs_")

    # ------------------------------------------------------------------ hooks
    @abstractmethod
    def _validate_xy(self, X, y, reset):
        """``validate_data`` of ``X, y`` with the estimator's target rules."""

    @abstractmethod
    def _n_outputs_for(self, y):
        """Outputs of the network trained on ``y`` (for the memory guard)."""

    @abstractmethod
    def _make_target(self, y, sample_weight, dtype):
        """The target object of a first fit on ``y`` (rows of positive weight)."""

    def _weigh_samples(self, y, sample_weight, train=None):
        """Sample weights of the fit (the classifier folds in class weights).

        ``train``: ``(y, sample_weight)`` of the training rows, when ``y`` are
        validation rows (they take the training rows' class weights).
        """
        return sample_weight

    # -------------------------------------------------------------------- fit
    def _fit(
        self,
        X,
        y,
        sample_weight,
        X_val=None,
        y_val=None,
        sample_weight_val=None,
        callbacks=None,
    ):
        """The fit shared by the estimators (see their ``fit``); a fit that
        raises leaves the estimator as it was.

        ``callbacks``: the :class:`~skadmm._callbacks.FitCallbacks` of a fit
        that is a task of another one (``None``: this fit's own).
        """
        # validate_data sets n_features_in_ and feature_names_in_ before the
        # checks that may still refuse the data (scale, weights, memory), and
        # a refit that failed left them describing other data than the kept
        # coefs_: predict then refused the fitted model's own columns.
        before = dict(vars(self))
        try:
            return self._fit_or_raise(
                X, y, sample_weight, X_val, y_val, sample_weight_val, callbacks
            )
        except BaseException:
            failed = dict(vars(self))
            vars(self).clear()
            vars(self).update(before)
            # scikit-learn's callback management tears the callbacks down
            # after fit from what it set on the estimator: that stays.
            for name in _CALLBACK_KEYS:
                vars(self).pop(name, None)
                if name in failed:
                    setattr(self, name, failed[name])
            # A kept solver state (warm_start) the fit dropped or replaced may
            # have been iterated in place: it is never resumed.
            if failed.get("_solver_state") is not before.get("_solver_state"):
                self._solver_state = None
            raise

    def _fit_or_raise(
        self, X, y, sample_weight, X_val, y_val, sample_weight_val, callbacks
    ):
        """:meth:`_fit` without the restore on failure."""
        if is_dask_collection(X) or is_dask_collection(y):
            # Rows sharded over the Dask workers (see skadmm._sharded_fit).
            return self._fit_sharded(
                X, y, sample_weight, X_val, y_val, sample_weight_val
            )
        fit_start = time.perf_counter()
        self._warn_ignored_params()
        # Before any work: layer_workers="dask" needs an active Dask client.
        dask_client = self._layer_client()
        given_validation = _check_validation_args(
            X_val, y_val, sample_weight_val, self.early_stopping
        )
        warm = self.warm_start and hasattr(self, "coefs_")
        X, y = self._validate_xy(X, y, reset=not warm)
        if callbacks is None:
            callbacks = FitCallbacks(self, X, y, sample_weight)
        sw = None
        if sample_weight is not None:
            sw = _check_sample_weight(
                sample_weight, X, dtype=X.dtype, ensure_non_negative=True
            )
        # embedding="auto" on a table too large to cross-validate: the choice
        # is one more fit (see _fit_auto_held_out).
        auto = self.embedding == "auto" and not warm
        if auto and float(X.shape[0] if sw is None else sw.sum()) > CV_MAX_ROWS:
            return self._fit_auto_held_out(
                X, y, sw, X_val, y_val, sample_weight_val, fit_start, callbacks
            )
        # The validation rows take the class weights of every training row.
        weighed_on = (y, sw)
        sw = self._weigh_samples(y, sw)
        keep = None
        if sw is not None:
            if not sw.sum() > 0:
                raise ValueError("sample_weight must have a positive sum.")
            # A zero-weight row contributes nothing: dropping it is exact.
            keep = sw > 0
        # The plan of the fit (regions, workers, BLAS threads), decided once,
        # from the rows it trains on and the network's input width (that of
        # the embedded X, at its widest).
        n_rows = X.shape[0] if keep is None else int(keep.sum())
        plan = self._plan_parallelism(n_rows, self._input_width(X, n_rows))
        # Before anything of the fit is allocated (see skadmm._memory).
        check_fit_memory(
            self.get_params(),
            X,
            self._n_outputs_for(y),
            sw is not None,
            plan,
            is_classifier(self),
        )
        check_input_scale(X, self.width)
        if keep is not None and not keep.all():
            X, y, sw = X[keep], y[keep], sw[keep]
        if self.embedding in ("none", "auto"):
            # On the rows trained on; the other embeddings standardise every
            # column themselves.
            warn_input_scale(*column_scale(X))
        # The network's input: the numeric embedding of X, fitted on these rows
        # (kept from the first fit when warm; see skadmm._embeddings). With
        # embedding="auto" X stays as it is until the penalty search has
        # chosen between its two candidates, each fitted on these rows.
        if auto:
            candidates = self._fit_auto_candidates(X, sw)
            embedding = candidates["none"]
        else:
            embedding = self._fit_embedding(X, sw, warm)
        X = embedding.transform(X)
        # The network is trained on the encoded target (kept from the first fit
        # when warm, since the stored network's outputs are in its units).
        target = self._target if warm else self._make_target(y, sw, X.dtype)
        validation = None
        if given_validation:
            X_val, Y_val, sw_val = self._validation_data(
                X.dtype, weighed_on, X_val, y_val, sample_weight_val, target
            )
            # (Encoded, with embedding="auto", once it is chosen.)
            validation = (embedding.transform(X_val), Y_val, sw_val)
        Y = target.encode(y, X.dtype)

        if self.verbose:
            print(
                f"{type(self).__name__}: {X.shape[0]} rows x {X.shape[1]} features, "
                f"solver={self.solver!r}, width={self.width}, "
                f"n_blocks={self.n_blocks}, alpha={self.alpha!r}",
                flush=True,
            )
        rng = check_random_state(self.random_state)
        if validation is None:
            X, Y, sw, validation = self._split_validation(X, Y, sw, rng, target)
        code = (AUTO_CODE, candidates[AUTO_CODE].n_bins) if auto else None
        alpha, alpha_search = self._resolve_alpha(
            X, Y, sw, warm, target, callbacks, code
        )
        if auto:
            # The rows the search saw raw enter the network in the chosen code.
            embedding = candidates[alpha_search["embedding"]]
            X = embedding.transform(X)
            if validation is not None:
                validation = (embedding.transform(validation[0]), *validation[1:])
        # A callback stopped the fit during the penalty search: it ends with
        # the initial network, no iteration run.
        stopped = alpha_search["rule"] == "stopped"
        # What the early-stopping state of a kept problem (warm_start) is
        # matched against: the validation rows it was measured on.
        validation_key = (
            joblib_hash(validation)
            if self.warm_start and validation is not None
            else None
        )
        activation = get_activation(self.activation)
        loss = target.loss
        # Every product of the fit (initial read-out, iterations, final refit)
        # runs on the same BLAS threads, so results depend on the data shape and
        # n_regions only.
        with fit_blas_limits(plan.blas_threads):
            solver = self._make_solver()
            attributes = partial(self._callback_attributes, target, embedding)
            try:
                with Team(plan.n_workers) as team:
                    predict = row_blocks_forward(
                        team.run, plan.forward_blocks, activation, plan.threaded_blas
                    )
                    setting = FitSetting(
                        activation,
                        rng,
                        alpha,
                        target,
                        plan,
                        solver,
                        team.run,
                        callbacks,
                        attributes,
                    )
                    monitor = ForwardMonitor(
                        X,
                        Y,
                        sw,
                        validation,
                        self.tol,
                        self.n_iter_no_change,
                        target,
                        predict,
                        callbacks,
                        attributes,
                    )
                    stages, weights = [], None
                    if not stopped:
                        stages, weights = self._run_stages(X, Y, sw, warm, setting)
                    if stopped:
                        problem, kept = self._make_problem(X, Y, sw, warm, setting)
                        monitor.stop_by_callback()
                        result = SolverResult(
                            weights=problem.weights(),
                            converged=True,
                            stop_reason=(
                                "a callback stopped the fit during the penalty "
                                f"search, after {alpha_search['n_fits']} of its "
                                f"{alpha_search['n_planned']} fits"
                            ),
                        )
                    elif stages and (
                        not stages[-1][0].completed or stages[-1][1].stopped_by_callback
                    ):
                        # A stage failed, was interrupted or stopped by a
                        # callback: it ends the fit, with its last finite
                        # iterate in the data's dtype.
                        (result, monitor, problem), stages = stages[-1], stages[:-1]
                        kept = None
                        result = replace(
                            result, weights=[W.astype(X.dtype) for W in result.weights]
                        )
                    else:
                        problem, kept = self._make_problem(
                            X,
                            Y,
                            sw,
                            warm,
                            setting,
                            start=weights,
                            readout_steps=self._stage_readout_steps(),
                        )
                        problem.set_regions(self._regions(problem, plan))
                        if stages and isinstance(problem, ShardedProblem):
                            # The final run after stages is short and in the
                            # data's dtype: its row blocks redo the trials'
                            # features instead of holding two copies of every
                            # row's (float64: 1.4 GB at a million rows, over
                            # half of the classifier's peak). Same bits.
                            problem.hold_trials = False
                        # A kept problem (warm_start) carries the step state its
                        # last run reached and, for the same validation rows,
                        # its early-stopping state: the run goes on from them
                        # exactly.
                        if kept is not None and kept.monitor_state is not None:
                            if kept.monitor_state[0] == validation_key:
                                monitor.restore(kept.monitor_state[1])
                        resume = None if kept is None else kept.step_state
                        name = f"Run on all {X.shape[0]} rows" if stages else ""
                        patience = self._final_patience(X.shape[0], bool(stages))
                        monitor.n_iter_no_change = patience
                        solver.n_iter_no_change = patience
                        if dask_client is None:
                            result = solver.solve(
                                problem, monitor, run=team.run, resume=resume, name=name
                            )
                        else:
                            # Every layer on a Dask worker; the returned problem
                            # stands for the run's (its weights, its bytes), and
                            # a kept one (warm_start) gets the final state back.
                            result, problem = solve_on_dask(
                                solver,
                                problem,
                                monitor,
                                dask_client,
                                plan,
                                keep=kept is not None,
                                resume=resume,
                                name=name,
                            )
                        if kept is not None and result.completed:
                            kept = kept._replace(
                                step_state=solver.state(),
                                monitor_state=(validation_key, monitor.state()),
                            )
                    weights = result.weights
                    if validation is not None and monitor.best_weights is not None:
                        weights = monitor.best_weights
                    if self.refit_readout:
                        # On the team: the rows may be in blocks (_row_blocks).
                        refitted = _refit_readout(
                            problem, X, Y, sw, weights, activation, alpha, loss
                        )
                        if np.isfinite(refitted[-1]).all():
                            weights = refitted
            except BaseException:
                # A kept solver state may have been partly updated: never resume it.
                self._solver_state = None
                raise
        weights = target.fold(weights)
        self._solver_state = None  # kept again by _store only if the fit succeeds
        check_fitted_network(weights, X, activation)
        self._target = target
        self.embedding_ = embedding
        self.alpha_ = alpha
        self.alpha_search_ = alpha_search
        self._store(weights, result, monitor, problem, kept, warm, stages)
        self.fit_time_ = time.perf_counter() - fit_start
        # A task of another fit (embedding="auto") ends with this model.
        callbacks.end_fit(self._fitted_state() if callbacks.parent else None)
        return self

    def _fitted_state(self):
        """The attributes a fit set, but the parameters, the input checks and
        the callbacks (what a held-out candidate hands to its estimator)."""
        own = set(self.get_params()) | {"n_features_in_", "feature_names_in_"}
        return {
            name: value
            for name, value in vars(self).items()
            if name not in own and not name.startswith(("_skl_callbacks", "_callback"))
        }

    def _fit_sharded(self, X, y, sample_weight, X_val, y_val, sample_weight_val):
        """The fit on Dask collections, its rows sharded over the workers (see
        ``skadmm._sharded_fit``); the estimator changes only once it is done."""
        from ._sharded_fit import ShardedHooks, fit_sharded

        fit_start = time.perf_counter()

        def callback_attributes(target, weights, iteration):
            # X enters the sharded network as it is (embeddings are refused);
            # the first layer's weights have a row per feature, plus the bias.
            features = np.empty((0, weights[0].shape[0] - 1))
            embedding = make_embedding("none", 2).fit(features)
            return self._callback_attributes(target, embedding, weights, iteration)

        hooks = ShardedHooks(
            self._resolve_alpha,
            self._make_solver,
            self._initial_weights,
            callback_attributes,
        )
        fitted = fit_sharded(
            self, hooks, X, y, sample_weight, X_val, y_val, sample_weight_val
        )
        self._solver_state = None
        self.n_features_in_ = fitted.n_features
        if fitted.feature_names is not None:
            self.feature_names_in_ = fitted.feature_names
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        self._target = fitted.target
        # X enters the sharded network as it is (embeddings are refused).
        self.embedding_ = make_embedding("none", 2).fit(
            np.empty((0, fitted.n_features))
        )
        self.alpha_ = fitted.alpha
        self.alpha_search_ = fitted.alpha_search
        self._store(
            fitted.weights,
            fitted.result,
            fitted.monitor,
            fitted.problem,
            None,
            False,
            fitted.stages,
        )
        self.fit_time_ = time.perf_counter() - fit_start
        fitted.callbacks.end_fit()
        return self

    def _callback_attributes(self, target, embedding, weights, iteration):
        """Fitted attributes of a network with the solver's ``weights`` (the
        ``fitted_estimator`` of a callback)."""
        weights = target.fold(weights)
        return dict(
            embedding_=embedding,
            coefs_=[W[:-1].copy() for W in weights],
            intercepts_=[W[-1].copy() for W in weights],
            _target=target,
            _fitted_config={key: getattr(self, key) for key in _STATE_KEYS},
        )

    def _run_stages(self, X, Y, sw, warm, setting):
        """The stages of a progressive fit on a large table (see ``_stages``).

        Returns ``(stages, weights)``: ``(result, monitor, n_rows, alpha)``
        of every completed stage run, and the weights the final run starts from
        (``None``: the fit's own start, when there are no stages). A stage
        whose run failed, was interrupted or was stopped by a callback ends
        the list, as ``(result, monitor, problem)``. ``setting``: the fit's
        :class:`FitSetting`, whose callbacks the stages share.
        """
        staged = not warm and self._solver_class().staged
        schedule = self._stage_plan(X.shape[0]) if staged else []
        if not schedule:
            return [], None
        sizes = [m for m, _ in schedule]
        for key, value in self._staged_solver_settings(X.shape[0]).items():
            setattr(setting.solver, key, value)
        plan, rng = setting.plan, setting.rng
        # The classifier's least stage penalty (None: the regressor's rule).
        rule = setting.target.stage_alpha
        weights = self._initial_weights(
            X.shape[1], Y.shape[1], setting.activation, rng, X.dtype
        )
        stages, windows = [], window_runs(sizes)
        for i, rows in enumerate(stage_rows(X.shape[0], sizes, rng)):
            max_iter = schedule[i][1]
            # A stage on all the rows casts the arrays themselves: gathering
            # them first would copy all rows in float64 (and in the data's
            # dtype it takes them as they are).
            every = slice(None) if len(rows) == X.shape[0] else rows
            dtype = self._stage_dtype(len(rows), X.shape[0], X.dtype)
            Xs = X[every].astype(dtype, copy=False)
            Ys = Y[every].astype(dtype, copy=False)
            sws = None if sw is None else sw[every].astype(dtype, copy=False)
            # A stage's products are those of its own rows: small ones run on
            # one BLAS thread, as a small table's would (see ``_blas``).
            threads = blas_threads_for(
                plan.blas_threads, len(rows), self.width, X.shape[1]
            )
            stage = replace(
                setting,
                plan=replace(plan, blas_threads=threads),
                alpha=stage_penalty(
                    setting.alpha,
                    len(rows),
                    len(rows) if sws is None else float(sws.sum()),
                    X.shape[0],
                    rule,
                    windows[i],
                ),
            )
            predict = row_blocks_forward(
                setting.run, plan.forward_blocks, setting.activation, threads > 1
            )
            monitor = ForwardMonitor(
                Xs,
                Ys,
                sws,
                None,
                self.tol,
                self.n_iter_no_change,
                setting.target,
                predict,
                setting.callbacks,
                setting.attributes,
            )
            with fit_blas_limits(threads):
                # Each stage after the first starts from the last one's
                # read-out (see _stage_readout_steps).
                problem, _ = self._make_problem(
                    Xs,
                    Ys,
                    sws,
                    False,
                    stage,
                    start=weights,
                    readout_steps=self._stage_readout_steps() if i else None,
                )
                problem.set_regions(self._regions(problem, plan))
                result = setting.solver.solve(
                    problem,
                    monitor,
                    run=setting.run,
                    max_iter=max_iter,
                    name=f"Stage {i + 1}/{len(sizes)} ({len(rows)} rows)",
                    tol=stage_tol(self.tol, len(rows)),
                )
            if not result.completed or monitor.stopped_by_callback:
                stages.append((result, monitor, problem))
                break
            # Only the curves outlive a completed stage: its rows, state and
            # monitor's data are freed before the next, larger one.
            monitor.release_data()
            stages.append((result, monitor, len(rows), stage.alpha))
            del problem, Xs, Ys, sws
            weights = result.weights
        return stages, [W.astype(X.dtype) for W in weights]

    def _stage_plan(self, n_rows):
        """``(rows, max_iter)`` of the stages of a first fit on ``n_rows``
        training rows (see ``_stages``; none on small tables): the
        regressor's (the classifier has its own)."""
        return stage_plan(n_rows, regressor=True)

    def _stage_dtype(self, n_stage_rows, n_rows, data_dtype):
        """The dtype of a stage of ``n_stage_rows`` of ``n_rows`` training
        rows (``data_dtype``: the fit's; see ``skadmm._stages.stage_dtype``)."""
        return stage_dtype(n_stage_rows, n_rows, data_dtype)

    def _stage_readout_steps(self):
        """How a stage after the first refits the read-out it starts from:
        ``None``, to the optimum (the regressor's ridge solution, exact and
        cheap), or that many majorised steps (the classifier's, see
        ``skadmm._stages.CLASSIFIER_STAGE_START_READOUT_STEPS``)."""
        return None

    def _staged_solver_settings(self, n_rows):
        """Solver attributes of a fit with stages (stages and final run) on
        ``n_rows`` training rows."""
        # The read-out moves with the extrapolated weights, not refitted:
        # a Gram product per iteration fewer. On large tables each run keeps
        # the last one's momentum (see ``ResetSolver``). The hidden weight
        # step is scaled unit by unit, or on large tables takes the output
        # factor (``regressor_step_scaling``).
        return {
            "extrapolate_readout": True,
            "carry_momentum": carries_momentum(n_rows),
            **regressor_step_scaling(n_rows),
        }

    def _final_patience(self, n_rows, staged):
        """``n_iter_no_change`` of the run on all ``n_rows`` training rows
        (``staged``: after stages). After stages the regressor's final run
        crawls: a short patience on large tables."""
        return final_patience(self.n_iter_no_change, n_rows, staged)

    def _layer_client(self):
        """The Dask client of ``layer_workers`` (``None``: the layers run in
        this process, or the solver does not read it)."""
        if self.layer_workers is None or "layer_workers" not in (
            self._solver_class().reads
        ):
            return None
        return layer_client(self.layer_workers)

    def _warn_ignored_params(self):
        """Warn when a parameter is set that the chosen ``solver`` does not read."""
        signature = inspect.signature(type(self).__init__).parameters
        defaults = {name: p.default for name, p in signature.items()}
        phrases = ignored_params(self.solver, self.get_params(deep=False), defaults)
        if phrases:
            warn(
                f"solver={self.solver!r} ignores {'; '.join(phrases)}. Leave "
                "them at their defaults, or choose a solver that reads them.",
                UserWarning,
            )

    def _resolve_alpha(self, X, Y, sw, warm, target, callbacks, code=None):
        """``alpha`` with ``"auto"`` resolved (kept from the first fit when warm),
        and the record of how (``alpha_search_``).

        A callback stopping the search (``callbacks``: the fit's) leaves the
        penalty of a table that is not cross-validated, with the rule
        ``"stopped"`` and the fits done (``n_fits`` of ``n_planned``).

        ``code``: ``(kind, n_bins)`` of ``embedding="auto"`` (``None``: the
        embedding is not chosen here): the same folds then also
        cross-validate that code at the chosen penalty (at the given or
        fixed one when there is no search), and the record says which
        embedding was chosen (``"embedding"``, ``"embedding_rule"``, the
        cross-validated ``"embedding_errors"``).
        """
        stopped = {}
        tick = time.perf_counter()
        n = float(X.shape[0] if sw is None else sw.sum())
        if self.alpha == "auto" and not warm and sw is not None:
            warn_fractional_weights(n, X.shape[0], target)
        search_code = None
        if code is not None:
            search_code = (code[0], self._code_fit_predict(X, target, *code))
        if warm and self.alpha == "auto":
            # A number given since the first fit takes effect (see the user
            # guide, "Warm starts"); "auto" keeps the penalty it resolved to.
            search = AlphaSearch(float(self.alpha_), "kept")
        elif self.alpha != "auto" and search_code is None:
            search = AlphaSearch(float(self.alpha), "given")
        else:
            alpha, rule = self.alpha, None
            if self.alpha == "auto" and target.auto_alpha is not None:
                alpha, rule = target.auto_alpha(n), "fixed"
            if alpha == "auto" or search_code is not None:
                try:
                    search = self._search_alpha(
                        X, Y, sw, target, callbacks, alpha, search_code
                    )
                except SearchStopped as stop:
                    fallback = fixed_alpha(n) if alpha == "auto" else float(alpha)
                    search = AlphaSearch(fallback, "stopped", (fallback,))
                    stopped = dict(n_fits=stop.n_fits, n_planned=stop.n_planned)
            else:
                search = AlphaSearch(float(alpha), rule, (float(alpha),))
            if rule is not None and search.rule == "given":
                search.rule = rule
        record = search.as_dict()
        record.update(stopped)
        if code is not None and "embedding" not in record:
            # Too few (distinct) rows for the folds, or a stopped search.
            record.update(embedding="none", embedding_rule="too few rows")
            if stopped:
                record["embedding_rule"] = "stopped"
        record["seconds"] = time.perf_counter() - tick
        if self.verbose and self.alpha == "auto" and not warm:
            print(
                f"alpha='auto': alpha_={search.alpha:g} ({search.rule}, "
                f"{record['seconds']:.2f}s)",
                flush=True,
            )
        if self.verbose and code is not None:
            errors = record.get("embedding_errors", {})
            detail = ", ".join(f"{k} {v:.5g}" for k, v in errors.items())
            print(
                f"embedding='auto': {record['embedding']!r} "
                f"({record['embedding_rule']}{': ' + detail if detail else ''})",
                flush=True,
            )
        return search.alpha, record

    def _code_fit_predict(self, X, target, kind, n_bins):
        """``fit_predict`` of ``embedding="auto"``'s code candidates: the
        model with the code ``kind`` (``n_bins`` bins, those of the fit),
        its encoder fitted on each fold's own training rows."""
        template = self._search_template(X)
        template.set_params(embedding=kind, n_bins=n_bins)
        return partial(_fit_predict_candidate, template, target)

    def _search_template(self, X):
        """The unfitted model of the penalty search's candidates (on ``X``,
        already embedded: the candidates take it as it is)."""
        n_workers = search_workers(self.n_jobs, X.shape[0], self.width, X.shape[1])
        # X is already embedded: the candidates take it as it is. They run in
        # process: many small fits, possibly on joblib's workers, where no
        # Dask client is active.
        template = clone(self).set_params(
            warm_start=False, verbose=0, embedding="none", layer_workers=None
        )
        # clone shares the callbacks: the candidates' fits are not the user's.
        template.__dict__.pop("_skl_callbacks", None)
        # The candidates' results do not depend on n_jobs; on worker processes
        # they leave the cores to each other.
        if n_workers > 1:
            template.set_params(n_jobs=1)
        return template

    def _search_alpha(self, X, Y, sw, target, callbacks, alpha="auto", code=None):
        """``alpha="auto"``'s cross-validated search (see ``_alpha_search``);
        ``alpha`` a number with ``code``: that penalty against the code."""
        n_workers = search_workers(self.n_jobs, X.shape[0], self.width, X.shape[1])
        fit_predict = partial(_fit_predict_candidate, self._search_template(X), target)
        run = partial(run_search, n_workers=n_workers)
        # Each candidate fit is a callback task of this fit (see _callbacks).
        n = float(X.shape[0] if sw is None else sw.sum())
        run = callbacks.search_run(
            run,
            in_process=n_workers == 1,
            n_planned=planned_fits(alpha, n, code is not None),
        )

        def report(fold, alpha, error, seconds, embedding="none"):
            code = "" if embedding == "none" else f", embedding={embedding!r}"
            print(
                f"alpha='auto': fold {fold + 1}/3, alpha={alpha:g}{code}: "
                f"validation loss {error:.5g} ({seconds:.2f}s)",
                flush=True,
            )

        def note(text):
            print(f"alpha='auto': {text}", flush=True)

        if not self.verbose:
            note = None
        return search_alpha(
            alpha,
            X,
            Y,
            sw,
            fit_predict,
            target.cv_errors,
            run,
            report if self.verbose else None,
            code,
            note,
        )

    def _solver_class(self):
        """The class of the ``solver`` mode; a private subclass of the estimator
        may return a variant of it (benchmarks and tests inject variants so)."""
        return SOLVERS[self.solver]

    def _fit_embedding(self, X, sw, warm):
        """The numeric embedding of the fit on ``X`` (see ``_embeddings``)."""
        # What a warm fit must share with the first (n_bins means nothing to
        # "none").
        params = (self.embedding, None if self.embedding == "none" else self.n_bins)
        if warm:
            # A model pickled before embeddings existed read X as it is.
            fitted = getattr(self, "embedding_", None)
            if fitted is None:
                fitted = make_embedding("none", 2).fit(X)
            if params != fitted.params:
                raise ValueError(
                    "warm_start=True needs the embedding of the previous fit "
                    f"(embedding, n_bins)={fitted.params}; got {params}."
                )
            return fitted
        n_bins = resolve_n_bins(
            self.n_bins, float(X.shape[0] if sw is None else sw.sum())
        )
        return make_embedding(self.embedding, n_bins, params=params).fit(X, sw)

    def _fit_auto_candidates(self, X, sw):
        """``embedding="auto"``'s two encoders fitted on the fit's rows ``X``
        (weights ``sw``), by kind: ``"none"`` and ``AUTO_CODE``."""
        n_bins = resolve_n_bins(
            self.n_bins, float(X.shape[0] if sw is None else sw.sum())
        )
        # A warm fit must repeat embedding="auto" (and n_bins) to go on.
        params = ("auto", self.n_bins)
        return {
            kind: make_embedding(kind, n_bins, params=params).fit(X, sw)
            for kind in ("none", AUTO_CODE)
        }

    def _fit_auto_held_out(
        self, X, y, sw, X_val, y_val, sample_weight_val, fit_start, callbacks
    ):
        """``embedding="auto"`` on more than ``CV_MAX_ROWS`` training rows:
        one fit with no code and one with ``AUTO_CODE``, both on the same
        training rows, and the one with the lower loss on held-out rows is
        the fitted model (a tie keeps no code).

        The held-out rows are ``X_val`` when given (the fits train on every
        row), else about a ``validation_fraction`` of the rows, identical
        rows together (:meth:`_held_out_split`): one extra fit in all, the
        two fits run on the other rows, and the held-out rows are the
        early-stopping validation rows of both fits when early stopping is
        on. ``sw``: the validated sample weights (before class weights,
        which each fit applies itself).
        """
        tick = time.perf_counter()
        if X_val is not None:
            train = (X, y, sw)
            X_ho, y_ho = self._validate_xy(X_val, y_val, reset=False)
            sw_ho = None
            if sample_weight_val is not None:
                sw_ho = _check_sample_weight(
                    sample_weight_val, X_ho, dtype=X.dtype, ensure_non_negative=True
                )
            held = (X_ho, y_ho, sw_ho)
        else:
            train, held = self._held_out_split(X, y, sw)
        early = X_val is not None or uses_early_stopping(
            self.early_stopping, X.shape[0]
        )
        fits, losses, seconds = {}, {}, {}
        for kind in ("none", AUTO_CODE):
            model = clone(self).set_params(
                embedding=kind, warm_start=False, verbose=max(self.verbose - 1, 0)
            )
            # The callbacks follow each fit as a task of this one (its
            # iterations below it), not as the candidate's own.
            model.__dict__.pop("_skl_callbacks", None)
            task = callbacks.subfit("embedding-fit", *train)
            given = dict(
                zip(("X_val", "y_val", "sample_weight_val"), held, strict=True)
            )
            start = time.perf_counter()
            # Only the chosen fit's warnings reach the user.
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                model._fit(*train, **(given if early else {}), callbacks=task)
            seconds[kind] = time.perf_counter() - start
            losses[kind] = _held_out_loss(model, train, held)
            fits[kind] = (model, caught)
            if self.verbose:
                print(
                    f"embedding='auto': {kind!r} held-out loss "
                    f"{losses[kind]:.5g} ({seconds[kind]:.2f}s)",
                    flush=True,
                )
            if task.asked_stop:
                # A callback stopped the fit: it ends with this candidate.
                break
        if not task.asked_stop:  # a tie keeps no code
            kind = min(losses, key=lambda k: (losses[k], k != "none"))
        model, caught = fits[kind]
        for w in caught:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        # The chosen fit's fitted state becomes this estimator's (its
        # parameters and input checks stay this estimator's own).
        for name, value in model._fitted_state().items():
            setattr(self, name, value)
        self.embedding_.params = ("auto", self.n_bins)
        record = dict(model.alpha_search_)
        record.update(
            embedding=kind,
            embedding_rule="stopped" if task.asked_stop else "held-out",
            embedding_errors=losses,
            embedding_fit_seconds=seconds,
            held_out_rows=held[0].shape[0],
            embedding_seconds=time.perf_counter() - tick,
        )
        self.alpha_search_ = record
        if self.verbose:
            print(
                f"embedding='auto': {kind!r} (held-out: "
                + ", ".join(f"{k} {v:.5g}" for k, v in losses.items())
                + ")",
                flush=True,
            )
        self.fit_time_ = time.perf_counter() - fit_start
        callbacks.end_fit()
        return self

    def _held_out_split(self, X, y, sw):
        """``(train, held)``: ``(X, y, sw)`` of the rows ``embedding="auto"``
        fits on and of those it compares on, about a ``validation_fraction``.

        Identical ``(x, y)`` rows fall on the same side, as in the penalty
        search's folds (:func:`~skadmm._alpha_search.distinct_row_folds`,
        its fixed seed: the choice is part of the model, not of its random
        initialisation): a row of weight ``k`` and ``k`` copies of it split
        alike, and a code that memorises repeated rows gains nothing on the
        held-out side (on Wine red, 240 of 1,599 rows repeat another one).
        """
        n_parts = max(2, round(1.0 / self.validation_fraction))
        labels = np.asarray(y).reshape(X.shape[0], -1)
        if labels.dtype.kind not in "biuf":
            labels = np.unique(labels, return_inverse=True)[1].reshape(X.shape[0], -1)
        part = distinct_row_folds(X, labels, n_parts)
        held = part == 0
        if is_classifier(self):
            # A class of fewer rows than parts trains (its held-out share is
            # too small to score, and the fit must see every class).
            classes, counts = np.unique(y, return_counts=True)
            held[np.isin(y, classes[counts < n_parts])] = False
        if held.all() or not held.any():
            held = np.arange(X.shape[0]) % n_parts == 0
        return tuple(
            tuple(None if a is None else a[rows] for a in (X, y, sw))
            for rows in (~held, held)
        )

    def _input_width(self, X, n_rows):
        """Columns of the network's input: ``X``'s, or its embedding's at
        the widest (see ``skadmm._embeddings``)."""
        n_bins = resolve_n_bins(self.n_bins, float(n_rows))
        return encoded_shape(self.embedding, n_bins, X)[0]

    def _make_solver(self):
        return self._solver_class().from_params(self.get_params())

    def _regions(self, problem, plan):
        """The regions of layers of ``problem`` under ``plan``."""
        per_region = self._solver_class().layers_per_region
        return split_layers(len(problem.W), plan.n_regions, per_region)

    def _plan_parallelism(self, n_samples, n_features):
        """Regions, workers and BLAS threads of a fit on ``n_samples`` rows
        (see ``_parallel``)."""
        shape = dict(n_samples=n_samples, width=self.width, n_features=n_features)
        blocks = 1
        if self._solver_class().row_blocked and self.splitting == "three":
            if not self.warm_start:
                # The rows left for training by early stopping's split.
                n_train = n_samples
                if uses_early_stopping(self.early_stopping, n_samples):
                    n_train -= int(np.ceil(self.validation_fraction * n_samples))
                blocks = n_row_blocks(n_train, n_features)
        return plan_parallelism(
            self.n_jobs,
            self.n_regions,
            self.n_blocks + 2,
            **shape,
            row_blocks=blocks,
            per_region=self._solver_class().layers_per_region,
        )

    def _split_validation(self, X, Y, sw, rng, target):
        if not uses_early_stopping(self.early_stopping, X.shape[0]):
            return X, Y, sw, None
        arrays = (X, Y) if sw is None else (X, Y, sw)
        split = train_test_split(
            *arrays,
            test_size=self.validation_fraction,
            random_state=rng,
            stratify=target.stratify(Y),
        )
        X, X_val, Y, Y_val = split[:4]
        sw, sw_val = (None, None) if sw is None else split[4:]
        if X_val.shape[0] < 2 or X.shape[0] < 2:
            raise ValueError(
                f"early_stopping needs at least 2 training and 2 validation "
                f"samples; validation_fraction={self.validation_fraction} of "
                f"{X.shape[0] + X_val.shape[0]} samples gives {X_val.shape[0]} "
                "for validation. Raise validation_fraction or disable "
                "early_stopping."
            )
        return X, Y, sw, (X_val, Y_val, sw_val)

    def _validation_data(
        self, dtype, weighed_on, X_val, y_val, sample_weight_val, target
    ):
        """``(X_val, Y_val, sw_val)`` of a fit given validation data, validated
        as the training data; ``weighed_on``: the training ``(y,
        sample_weight)`` the class weights are computed on."""
        X_val, y_val = self._validate_xy(X_val, y_val, reset=False)
        X_val = X_val.astype(dtype, copy=False)
        sw_val = None
        if sample_weight_val is not None:
            sw_val = _check_sample_weight(
                sample_weight_val, X_val, dtype=dtype, ensure_non_negative=True
            )
        sw_val = self._weigh_samples(y_val, sw_val, train=weighed_on)
        if sw_val is not None and not sw_val.sum() > 0:
            raise ValueError("sample_weight_val must have a positive sum.")
        return X_val, target.encode(y_val, dtype, "y_val"), sw_val

    def _initial_weights(self, n_features, n_outputs, activation, rng, dtype):
        """Random initial weights of a first fit, drawn from ``rng``."""
        return init_weights(
            n_features, self.width, self.n_blocks, n_outputs, activation, rng, dtype
        )

    def _make_problem(self, X, Y, sw, warm, setting, start=None, readout_steps=None):
        """The relaxation at its initial iterate (or the kept one, when warm),
        and what ``warm_start`` keeps of it (a :class:`KeptRun`, or ``None``
        without ``warm_start``).

        ``setting``: the run's :class:`FitSetting` (its plan decides whether the
        problem multiplies whole arrays, for threaded BLAS).

        ``start``: the weights a first fit starts from (the last stage's of a
        progressive fit), instead of random ones; the read-out is refitted, to
        convergence or, with ``readout_steps``, by that many majorised steps
        from ``start``'s (a cross-entropy's; see ``_stage_readout_steps``).
        """
        solver_cls = self._solver_class()
        activation, alpha, target = setting.activation, setting.alpha, setting.target
        plan, rng = setting.plan, setting.rng
        params = solver_cls.problem_params(self.get_params(), alpha)
        config = {key: getattr(self, key) for key in _STATE_KEYS}
        # Only a kept state (warm_start) is matched against the data.
        fingerprint = joblib_hash((X, Y, sw)) if self.warm_start else None
        kept = getattr(self, "_solver_state", None)
        if warm and kept is not None:
            if kept.config == config and kept.fingerprint == fingerprint:
                problem = kept.problem
                problem.set_threaded_blas(plan.threaded_blas)
                if kept.penalties != params:
                    # New penalties (alpha, beta, ...) make a new objective:
                    # the kept step state's merit and the best validation
                    # score of the old run no longer apply, so the run
                    # restarts its step control and early stopping from the
                    # kept iterate.
                    problem.set_penalties(**params)
                    kept = KeptRun(problem, config, fingerprint, params)
                return problem, kept
        if warm:
            fitted = (self._fitted_config["width"], self._fitted_config["n_blocks"])
            weights = target.unfold(
                stack_weights(self.coefs_, self.intercepts_, X.dtype)
            )
            # Greedy depth growth: blocks with zero branch weights appended
            # after the fitted ones leave the network's function unchanged.
            grows = (
                solver_cls.grows_depth
                and fitted[0] == self.width
                and self.n_blocks > fitted[1]
            )
            if grows:
                weights = append_identity_blocks(
                    weights, self.n_blocks - fitted[1], activation
                )
            elif fitted != (self.width, self.n_blocks):
                growth = (
                    " (solver='pdadmm' can also grow it: same width, more n_blocks)"
                    if not solver_cls.grows_depth
                    else " or, to grow it, the same width and more n_blocks"
                )
                raise ValueError(
                    "warm_start=True needs the architecture of the previous fit "
                    f"(width, n_blocks)={fitted}{growth}; got "
                    f"{(self.width, self.n_blocks)}."
                )
        elif start is not None:
            weights = start
        else:
            readout_steps = None  # random weights: the read-out from scratch
            weights = self._initial_weights(
                X.shape[1], Y.shape[1], activation, rng, X.dtype
            )
        # A blocked table blocks its runs, its stages from ROW_BLOCK_ROWS rows
        # on included (each by its own rows; see _row_blocks).
        blocked = plan.row_blocks > 1 and not warm
        n_blocks = n_row_blocks(*X.shape, min_rows=ROW_BLOCK_ROWS) if blocked else 1
        if n_blocks > 1:
            # Rows in fixed blocks on the fit's threads (see _row_blocks); the
            # read-out is refitted there.
            problem = row_block_problem(
                X,
                Y,
                sw,
                weights,
                activation,
                target.loss,
                self.update,
                params,
                setting.run,
                n_blocks,
                readout_steps,
            )
            return problem, None
        cls = solver_cls.problem_class(self.splitting)
        if not warm:
            # Start from the best read-out of the random features: the multiplier
            # then starts at its residual instead of at Y itself.
            weights = refit_readout(
                X, Y, sw, weights, activation, alpha, target.loss, readout_steps
            )
        problem = cls(
            X,
            Y,
            sw,
            weights,
            activation,
            update=self.update,
            loss=target.loss,
            threaded_blas=plan.threaded_blas,
            **params,
        )
        if not self.warm_start:
            return problem, None
        return problem, KeptRun(problem, config, fingerprint, params)

    def _store(self, weights, result, monitor, problem, kept, warm, stages=()):
        """Set every fitted attribute at once, after the run has ended.

        The curves hold the iterations of every stage of a progressive fit,
        then the final run's (and, when warm, the previous fits' before them).
        """
        es = monitor.validation is not None
        curves = dict(
            loss=[], objective=[], time=[], residual=[], step=[], scores=[], val_loss=[]
        )
        n_iter, records = 0, []
        if warm:
            n_iter, records = self.n_iter_, list(self.stages_)
            curves.update(
                loss=self.loss_curve_,
                objective=self.objective_curve_,
                time=self.time_curve_,
                residual=self.residual_curve_,
                step=self.weight_step_curve_,
                scores=self.validation_scores_ or [],
                val_loss=self.validation_loss_curve_ or [],
            )
        runs = list(stages)
        runs.append((result, monitor, problem.rw.n_samples, problem.alpha))
        for run_result, run_monitor, n_rows, run_alpha in runs:
            offset = curves["time"][-1] if curves["time"] else 0.0
            n_iter += run_result.n_iter
            curves["loss"] = curves["loss"] + run_monitor.loss_curve
            curves["objective"] = curves["objective"] + run_result.objective_curve
            curves["time"] = curves["time"] + [
                offset + t for t in run_result.time_curve
            ]
            curves["residual"] = curves["residual"] + run_result.residual_curve
            curves["step"] = curves["step"] + run_result.step_curve
            curves["scores"] = curves["scores"] + run_monitor.validation_scores
            curves["val_loss"] = curves["val_loss"] + run_monitor.validation_loss_curve
            records.append(
                dict(
                    n_samples=n_rows,
                    alpha=float(run_alpha),
                    n_iter=run_result.n_iter,
                    objective=(run_result.objective_curve or [np.nan])[-1],
                    seconds=(run_result.time_curve or [0.0])[-1],
                )
            )
        self.coefs_ = [W[:-1].copy() for W in weights]
        self.intercepts_ = [W[-1].copy() for W in weights]
        self.n_outputs_ = problem.Y.shape[1]
        exchange = getattr(problem, "exchange_bytes", None)
        self.exchange_bytes_ = exchange() if exchange is not None else None
        self.n_iter_ = n_iter
        self.stages_ = records
        self.loss_curve_ = curves["loss"]
        self.objective_curve_ = curves["objective"]
        self.time_curve_ = curves["time"]
        self.residual_curve_ = curves["residual"]
        self.weight_step_curve_ = curves["step"]
        self.early_stopping_ = es
        self.validation_scores_ = curves["scores"] if es else None
        self.validation_loss_curve_ = curves["val_loss"] if es else None
        self.best_validation_score_ = monitor.best_score if es else None
        self.best_loss_ = monitor.best_loss
        self.stop_reason_ = result.stop_reason or result.failure
        self._fitted_config = {key: getattr(self, key) for key in _STATE_KEYS}
        # Only warm_start keeps the (large) solver state between fits; a run that
        # failed leaves an inconsistent state, which is dropped.
        keep_state = (
            self.warm_start and result.failure is None and not result.interrupted
        )
        self._solver_state = kept if keep_state else None
        if result.failure is not None:
            warn(result.failure, DivergenceWarning)
        elif result.interrupted:
            warn(
                f"Training {result.stop_reason}; the weights of the last "
                "completed iteration were kept.",
                FitInterruptedWarning,
            )
        elif not result.converged and not self.warm_start:
            # With warm_start, reaching max_iter is how a fit is stepped (it
            # goes on exactly, see BaseSolver.solve): stop_reason_ says so
            # instead of a warning per call.
            warn(
                f"Training reached max_iter={self.max_iter} iterations without "
                "converging. Raise max_iter, or tol, or use early_stopping=True.",
                ConvergenceWarning,
            )

    def _forward(self, X):
        """Network output for ``X`` (validated), in the units of the fit's target."""
        check_is_fitted(self)
        X = validate_data(
            self, X, accept_sparse="csr", dtype=(np.float64, np.float32), reset=False
        )
        # Models pickled before embeddings existed have none.
        embedding = getattr(self, "embedding_", None)
        if embedding is not None:
            X = embedding.transform(X)
        activation = get_activation(self._fitted_config["activation"])
        return check_predictions(
            predict_outputs(X, self.coefs_, self.intercepts_, activation, False)
        )


def _refit_readout(problem, X, Y, sw, weights, activation, alpha, loss):
    """``weights`` with the read-out refitted on all the training rows: on the
    row blocks of ``problem`` when it holds them all (see ``_row_blocks``)."""
    if isinstance(problem, ShardedProblem) and problem.rw.n_samples == X.shape[0]:
        return [*weights[:-1], refit_readout_on(problem.shards, weights, loss, alpha)]
    return refit_readout(X, Y, sw, weights, activation, alpha, loss)


#: What scikit-learn's callback management sets on an estimator during fit
#: and reads after it (to tear the callbacks down).
_CALLBACK_KEYS = ("_callback_fit_ctx", "_skl_callbacks_to_teardown")


def _check_validation_args(X_val, y_val, sample_weight_val, early_stopping):
    """Whether validation data were given; ``ValueError`` if they are
    incomplete or ``early_stopping=False`` (they would be ignored)."""
    if X_val is None and y_val is None:
        if sample_weight_val is not None:
            raise ValueError("sample_weight_val is given without X_val and y_val.")
        return False
    if X_val is None or y_val is None:
        given, missing = ("X_val", "y_val") if y_val is None else ("y_val", "X_val")
        raise ValueError(f"{given} is given to fit but {missing} is not.")
    if early_stopping is False:
        raise ValueError(
            "X_val and y_val are given to fit, but early_stopping=False, which "
            "would ignore them. Set early_stopping to 'auto' or True (they are "
            "then its validation data), or do not pass them."
        )
    return True


def _package_version():
    # Imported late: the package's __init__ imports this module first.
    from . import __version__

    return __version__


def _held_out_loss(model, train, held):
    """Loss per unit weight of the fitted ``model`` on the ``held`` rows
    ``(X, y, sample_weight)``, in the units of the penalty search (its
    target's ``cv_errors``), class weights those of the ``train`` rows."""
    X, y, sw = held
    sw = model._weigh_samples(y, sw, train=train[1:])
    errors = model._target.held_out_errors(model, X, y)
    if not np.isfinite(errors).all():
        return np.inf
    return float(np.average(errors, weights=sw))


def _fit_predict_candidate(template, target, alpha, X_train, Y_train, sw_train, X_test):
    """Predictions on ``X_test`` of ``template`` fitted with penalty ``alpha``.

    One fit of ``alpha="auto"``'s search; it may run on a joblib worker
    process, so it sets up for itself what the search expects: the candidate's
    own warnings hidden, Ctrl-C stopping the whole search rather than one fit,
    and, when the products are small, one BLAS thread for the fit and the
    predictions alike (so the result is the same in any process).
    """
    model = clone(template).set_params(alpha=alpha)
    small = small_products(X_train.shape[0], template.width, X_train.shape[1])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with interrupts_propagate(), fit_blas_limits(1) if small else nullcontext():
            model.fit(X_train, target.cv_target(Y_train), sample_weight=sw_train)
            return target.cv_predict(model, X_test)

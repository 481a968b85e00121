"""scikit-learn layer: parameters, validation, tags, fitted attributes, warnings."""

import warnings
from numbers import Integral, Real

import numpy as np
from joblib import hash as joblib_hash
from sklearn.base import BaseEstimator, RegressorMixin, _fit_context, clone
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
from ._blas import fit_blas_limits
from ._checks import check_fitted_network, check_input_scale, check_predictions
from ._interrupt import interrupts_propagate
from ._memory import check_fit_memory
from ._monitor import ForwardMonitor
from ._network import init_weights, predict_outputs, stack_weights
from ._parallel import Team, plan_parallelism, row_blocks_forward, split_layers
from ._penalty import resolve_alpha
from ._readout import refit_readout
from ._solvers import SOLVERS
from ._splitting import SPLITTINGS
from ._target import (
    fit_target_scaler,
    fold_into_readout,
    standardise,
    unfold_readout,
)
from .exceptions import DivergenceWarning, FitInterruptedWarning

# Largest step of the reset solver: beyond it the relu z-steps flip so many units
# that the sweep's direction is no longer useful (the line search extends steps).
_ETA_MAX = 10.0

# Parameters whose change makes a kept solver state unusable for warm_start.
_STATE_KEYS = ("width", "n_blocks", "activation", "splitting", "update", "solver")


class ADMMResidualRegressor(RegressorMixin, BaseEstimator):
    """Residual network regressor trained by proximal ADMM, without backpropagation.

    The model is a fully connected residual network: a lifting layer
    ``U_1 = s(X W_1 + b_1)``, ``n_blocks`` residual blocks
    ``U_l = U_{l-1} + s(U_{l-1} W_l + b_l)`` and a linear read-out. Training
    minimises the mean squared error plus an L2 penalty through a relaxed problem
    in which each layer's output is an auxiliary variable; the links between
    layers become quadratic penalties and every block update is an exact
    minimisation (Cholesky solves, elementwise problems) or a proximal-gradient
    step with sufficient decrease. Two training modes drive these blocks
    (``solver``): forward-reset block descent (the default), whose every
    iteration lowers the true training objective and whose hidden layers
    learn, and the paper's ADMM (``beta``, ``rho``), whose augmented Lagrangian
    never increases. See the :ref:`user guide <user_guide>`.

    Parameters
    ----------
    width : int, default=100
        Number of units of every hidden layer.
    n_blocks : int, default=0
        Number of residual blocks after the lifting layer (0 gives a network
        with one hidden layer). On the regression benchmark suite, deeper
        networks were slower and no more accurate with either solver (see the
        user guide), hence the default.
    activation : {"relu", "leaky_relu", "tanh", "sigmoid"}, default="relu"
        Activation of every hidden layer (leaky_relu has slope 0.01).
    solver : {"reset", "radmm"}, default="reset"
        Training mode. ``"radmm"`` is the paper's proximal ADMM over the relaxed
        problem (merit: the augmented Lagrangian; parameters ``beta``, ``rho``,
        ``tau``, ``update``; parallel regional updates). ``"reset"`` is
        forward-reset block descent: each iteration resets the auxiliaries to
        the forward pass, carries the output error to every layer in one
        backward sweep of the same exact blocks, refits every hidden layer by
        ridge regression on its new target and the read-out on the new
        features, and accepts the step only if the training objective
        decreases (parameters ``eta``, ``mu``; either splitting). Its hidden
        layers learn, and it is the default: it won the regression benchmark
        suite (see the user guide for the trade-off).
    splitting : {"three", "two"}, default="three"
        Relaxation. ``"three"`` keeps pre-activations as auxiliaries and solves
        every block exactly; ``"two"`` drops them (one ``n_samples x width``
        array less per layer) and takes backtracked proximal-gradient steps for
        the blocks inside the activation. With ``solver="reset"`` it reached
        the three-splitting's accuracy on the benchmark suite (within the
        spread of the folds), in 0.6 to 1.0 times its fit time (see the user
        guide).
    update : {"proximal", "linearized"}, default="proximal"
        ``"proximal"`` solves each quadratic block exactly (Cholesky); ``"linearized"``
        replaces that solve by one proximal-gradient step.
    beta : float, default=1000.0
        Weight of the penalties that relax the links between layers. Larger
        values keep the auxiliaries closer to the forward network.
    rho : float, default=2.0
        ADMM penalty of the read-out constraint; must be greater than 1 for the
        augmented Lagrangian to decrease monotonically.
    tau : float, default=1e-3
        Weight of the proximal terms (must be positive).
    eta : float, default=0.1
        Initial step of ``solver="reset"``: the inverse weight of the relaxation
        penalties during its backward sweep. Adapted during training.
    mu : float, default=1.0
        Proximal weight of the hidden-layer ridge steps of ``solver="reset"``,
        relative to the mean diagonal of each layer's input Gram matrix: larger
        values damp the whitening of the steps (steadier, better generalising
        steps; the line search restores their length).
    alpha : float or "auto", default="auto"
        L2 penalty on the weights (biases excluded), on the scale of the mean
        squared error. ``"auto"`` adapts it to the noise of the table: on 100
        to 2000 training rows (the sum of ``sample_weight``) it takes the value
        of ``(1e-3, 3e-3, 1e-2)`` with the lowest 3-fold cross-validated MSE
        (nine extra fits of the same model on two thirds of the rows; identical
        rows share a fold, so integer weights still equal repeated rows); on
        other tables ``max(3e-3, 3 / n)``, ``n`` the number of rows. The value
        used is ``alpha_``; a warm start keeps it. See the user guide,
        "Regularisation".
    max_iter : int, default=200
        Maximum number of ADMM iterations.
    tol : float, default=1e-4
        Training stops (converged) when the relative decrease of the augmented
        Lagrangian stays below ``tol`` for ``n_iter_no_change`` iterations in a
        row. With early stopping it also stops when the validation R^2 has not
        improved by at least ``tol`` for ``n_iter_no_change`` iterations.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the training data, stop when its R^2
        stops improving and keep the weights of the best iteration.
    validation_fraction : float, default=0.1
        Fraction of the training data held out with ``early_stopping``.
    n_iter_no_change : int, default=10
        Number of iterations without improvement that stop training.
    refit_readout : bool, default=True
        After ADMM, replace the read-out by the ridge solution (penalty
        ``alpha``) on the forward network's last hidden layer, so that the
        returned network's read-out is exactly optimal for its own features
        rather than for the auxiliary variables. With early stopping it is
        refitted on the training part for the kept iterate. ``False`` returns
        the ADMM iterate as it is.
    n_jobs : int, default=None
        Number of worker threads of the parallel regional update (at most
        ``n_regions`` run). ``None`` means 1 unless in a
        :func:`joblib.parallel_config` context; ``-1`` means all processors.
        Results never depend on ``n_jobs``: with the same ``n_regions`` they are
        bit-identical for any value. Workers times BLAS threads never exceed the
        BLAS threads in effect when ``fit`` is called. With ``n_regions=None``
        (one region) there is nothing to run in parallel and ``n_jobs`` is
        ignored, silently: choosing regions from it would make the results
        depend on ``n_jobs``. See :ref:`parallel`.
    n_regions : int, default=None
        Number of regions of the parallel regional update: contiguous groups of
        at least two layers (the network has ``n_blocks + 2``) whose interiors
        are updated at the same time, then their boundaries. ``None`` means one
        region, the serial algorithm. The iterates depend on ``n_regions``;
        every matrix product runs on ``budget // n_regions`` BLAS threads, or on
        one when the products are too small to gain from more.
    random_state : int, RandomState instance or None, default=None
        Seed of the weight initialisation and of the validation split.
    warm_start : bool, default=False
        Reuse the weights (and, on the same training data and architecture, the
        whole solver state: auxiliaries and multiplier) of the previous call to
        ``fit``; the curves and ``n_iter_`` then continue. With early stopping
        the kept solver state is that of the last iteration, while ``coefs_``
        hold the best one. The solver state is not pickled (nor
        copied by :func:`copy.deepcopy`): an unpickled model warm-starts from
        its weights.
    verbose : int, default=0
        Print progress: ``1`` about twenty lines per fit, ``2`` every iteration.

    Attributes
    ----------
    coefs_ : list of ndarray
        Weight matrices; ``coefs_[i]`` has shape ``(fan_in, fan_out)``.
    intercepts_ : list of ndarray
        Bias vectors; ``intercepts_[i]`` has shape ``(fan_out,)``.
    n_iter_ : int
        Number of ADMM iterations run (summed over warm-started fits).
    loss_curve_ : list of float
        Training MSE of the forward network after each iteration.
    time_curve_ : list of float
        Wall-clock seconds from the start of the iterations to the end of each
        one, evaluation of the forward network included (continued by
        warm-started fits).
    objective_curve_ : list of float
        The solver's merit function after each iteration, which never
        increases: the augmented Lagrangian ``L_rho`` (``solver="radmm"``) or
        the regularised training objective (``solver="reset"``).
    residual_curve_ : list of float
        Root of the summed squared relaxation residuals after each iteration:
        how far the auxiliary variables are from the forward pass (for
        ``solver="reset"``, at the end of the sweep, before the next reset).
    weight_step_curve_ : list of float
        Relative change of the hidden weights in each iteration,
        ``||W_new - W_old|| / ||W_old||`` over all hidden layers (read-out
        excluded): how much the hidden layers learn.
    validation_scores_ : list of float or None
        Validation R^2 after each iteration (with ``early_stopping``; continued
        by warm-started fits).
    validation_loss_curve_ : list of float or None
        Validation MSE after each iteration (with ``early_stopping``).
    best_validation_score_ : float or None
        Best validation R^2 of the last fit (with ``early_stopping``).
    best_loss_ : float
        With ``early_stopping``, the validation MSE of the kept iterate;
        otherwise the lowest training MSE reached.
    alpha_ : float
        The L2 penalty used by the last fit (``alpha`` with ``"auto"``
        resolved).
    n_outputs_ : int
        Number of outputs.
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during ``fit``, when ``X`` has string column names.

    See Also
    --------
    sklearn.neural_network.MLPRegressor : Multi-layer perceptron trained by
        backpropagation.

    Notes
    -----
    One iteration costs ``O(n_blocks * (n_samples * width**2 + width**3))`` and
    the auxiliary state holds two (``splitting="two"``) or three arrays of shape
    ``(n_samples, width)`` per hidden layer. Inputs should be standardised.

    References
    ----------
    J. Xu, Y. Li, W. Xing. "ADMM Algorithms for Residual Network Training:
    Convergence Analysis and Parallel Implementation", arXiv:2310.15334.

    Examples
    --------
    >>> from sklearn.datasets import make_regression
    >>> from sklearn.model_selection import train_test_split
    >>> from skadmm import ADMMResidualRegressor
    >>> X, y = make_regression(n_samples=300, n_features=5, noise=1.0, random_state=0)
    >>> y = y / y.std()
    >>> X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    >>> reg = ADMMResidualRegressor(random_state=0).fit(X_train, y_train)
    >>> reg.score(X_test, y_test) > 0.9
    True
    """

    _parameter_constraints = {
        "width": [Interval(Integral, 1, None, closed="left")],
        "n_blocks": [Interval(Integral, 0, None, closed="left")],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "solver": [StrOptions(set(SOLVERS))],
        "splitting": [StrOptions(set(SPLITTINGS))],
        "update": [StrOptions({"proximal", "linearized"})],
        "beta": [Interval(Real, 0, None, closed="neither")],
        "rho": [Interval(Real, 1, None, closed="neither")],
        "tau": [Interval(Real, 0, None, closed="neither")],
        "eta": [Interval(Real, 0, None, closed="neither")],
        "mu": [Interval(Real, 0, None, closed="left")],
        "alpha": [Interval(Real, 0, None, closed="left"), StrOptions({"auto"})],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "refit_readout": ["boolean"],
        "n_jobs": [Integral, None],
        "n_regions": [Interval(Integral, 1, None, closed="left"), None],
        "random_state": ["random_state"],
        "warm_start": ["boolean"],
        "verbose": ["verbose"],
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
        beta=1000.0,
        rho=2.0,
        tau=1e-3,
        eta=0.1,
        mu=1.0,
        alpha="auto",
        max_iter=200,
        tol=1e-4,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        refit_readout=True,
        n_jobs=None,
        n_regions=None,
        random_state=None,
        warm_start=False,
        verbose=0,
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

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def __getstate__(self):
        """State for pickling, without the solver state kept by ``warm_start``.

        That state holds arrays of the size of the training data (hundreds of
        times the fitted weights); a warm-started fit of an unpickled model
        starts from its weights instead.
        """
        state = super().__getstate__()
        state.pop("_solver_state", None)
        return state

    def __sklearn_is_fitted__(self):
        # validate_data sets n_features_in_ before a fit can still fail.
        return hasattr(self, "coefs_")

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Train the residual network by ADMM.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data; float32 input is trained in float32.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Target values.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the samples. Each row's terms of the training
            problem are weighted, so a weight of 2 equals repeating the row and a
            weight of 0 equals dropping it.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        warm = self.warm_start and hasattr(self, "coefs_")
        X, y = validate_data(
            self,
            X,
            y,
            multi_output=True,
            y_numeric=True,
            dtype=(np.float64, np.float32),
            ensure_min_samples=2,
            reset=not warm,
        )
        # Before anything of the fit is allocated (see skadmm._memory).
        check_fit_memory(self, X, y, sample_weight)
        check_input_scale(X, self.width)
        Y = np.asarray(y, dtype=X.dtype).reshape(X.shape[0], -1)
        if warm and Y.shape[1] != self.n_outputs_:
            raise ValueError(
                f"warm_start=True but y has {Y.shape[1]} outputs and the fitted "
                f"model has {self.n_outputs_}; set warm_start=False to refit."
            )
        sw = None
        if sample_weight is not None:
            sw = _check_sample_weight(
                sample_weight, X, dtype=X.dtype, ensure_non_negative=True
            )
            if not sw.sum() > 0:
                raise ValueError("sample_weight must have a positive sum.")
            # A zero-weight row contributes nothing: dropping it is exact.
            keep = sw > 0
            if not keep.all():
                X, Y, sw = X[keep], Y[keep], sw[keep]
        # Train on the z-scored target (kept from the first fit when warm, since
        # the stored network's outputs are in those units).
        if warm:
            y_mean, y_scale = self._y_mean, self._y_scale
        else:
            y_mean, y_scale = fit_target_scaler(Y, sw)
        Y = standardise(Y, y_mean, y_scale)

        plan = self._plan_parallelism(X)
        rng = check_random_state(self.random_state)
        X, Y, sw, validation = self._split_validation(X, Y, sw, rng)
        alpha = self._resolve_alpha(X, Y, sw, warm)
        activation = get_activation(self.activation)
        # Every product of the fit (initial read-out, iterations, final refit)
        # runs on the same BLAS threads, so results depend on the data shape and
        # n_regions only.
        with fit_blas_limits(plan.blas_threads):
            problem = self._make_problem(X, Y, sw, activation, rng, warm, alpha)
            problem.set_regions(split_layers(len(problem.W), plan.n_regions))
            monitor = ForwardMonitor(
                X,
                Y,
                sw,
                activation,
                validation,
                self.tol,
                self.n_iter_no_change,
                y_scale=y_scale,
            )
            solver = self._make_solver()
            try:
                with Team(plan.n_workers) as team:
                    monitor.predict = row_blocks_forward(
                        team.run, plan.n_regions, activation
                    )
                    result = solver.solve(problem, monitor, run=team.run)
            except BaseException:
                # A kept solver state may have been partly updated: never resume it.
                self._solver_state = None
                raise
            weights = result.weights
            if self.early_stopping and monitor.best_weights is not None:
                weights = monitor.best_weights
            if self.refit_readout:
                refitted = refit_readout(X, Y, sw, weights, activation, alpha)
                if np.isfinite(refitted[-1]).all():
                    weights = refitted
        weights = fold_into_readout(weights, y_mean, y_scale)
        self._solver_state = None  # kept again by _store only if the fit succeeds
        check_fitted_network(weights, X, activation)
        self._y_mean, self._y_scale = y_mean, y_scale
        self.alpha_ = alpha
        self._store(weights, result, monitor, problem, y, warm)
        return self

    def _resolve_alpha(self, X, Y, sw, warm):
        """``alpha`` with ``"auto"`` resolved (kept from the first fit when warm)."""
        if warm and self.alpha == "auto":
            return self.alpha_

        def fit_predict(alpha, X_train, Y_train, sw_train, X_test):
            model = clone(self).set_params(alpha=alpha, warm_start=False, verbose=0)
            with interrupts_propagate():  # Ctrl-C stops the search, not one fit
                model.fit(X_train, Y_train, sample_weight=sw_train)
            return model.predict(X_test)

        alpha = resolve_alpha(self.alpha, X, Y, sw, fit_predict)
        if self.verbose and self.alpha == "auto":
            print(f"alpha='auto': alpha_={alpha:g}")
        return alpha

    def _make_solver(self):
        common = (self.max_iter, self.tol, self.n_iter_no_change)
        if self.solver == "reset":
            return SOLVERS["reset"](
                *common,
                eta=self.eta,
                eta_max=_ETA_MAX,
                mu=self.mu,
                verbose=self.verbose,
            )
        return SOLVERS["radmm"](*common, verbose=self.verbose)

    def _plan_parallelism(self, X):
        """Regions, workers and BLAS threads of this fit (see ``_parallel``)."""
        shape = dict(n_samples=X.shape[0], width=self.width, n_features=X.shape[1])
        return plan_parallelism(self.n_jobs, self.n_regions, self.n_blocks + 2, **shape)

    def _split_validation(self, X, Y, sw, rng):
        if not self.early_stopping:
            return X, Y, sw, None
        arrays = (X, Y) if sw is None else (X, Y, sw)
        split = train_test_split(
            *arrays, test_size=self.validation_fraction, random_state=rng
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

    def _make_problem(self, X, Y, sw, activation, rng, warm, alpha):
        """The splitting at its initial iterate (or the kept one, when warm)."""
        if self.solver == "reset":
            # The reset solver sets beta, rho and tau itself (see ResetSolver).
            params = dict(beta=1.0 / self.eta, rho=1.0, tau=0.0, alpha=alpha)
        else:
            params = dict(beta=self.beta, rho=self.rho, tau=self.tau, alpha=alpha)
        config = {key: getattr(self, key) for key in _STATE_KEYS}
        fingerprint = joblib_hash((X, Y, sw))
        kept = getattr(self, "_solver_state", None)
        if warm and kept is not None:
            problem, kept_config, kept_fingerprint = kept
            if kept_config == config and kept_fingerprint == fingerprint:
                for key, value in params.items():
                    setattr(problem, key, value)
                return problem
        if warm:
            fitted = (self._fitted_config["width"], self._fitted_config["n_blocks"])
            if fitted != (self.width, self.n_blocks):
                raise ValueError(
                    "warm_start=True needs the architecture of the previous fit "
                    f"(width, n_blocks)={fitted}; got {(self.width, self.n_blocks)}."
                )
            weights = unfold_readout(
                stack_weights(self.coefs_, self.intercepts_, X.dtype),
                self._y_mean,
                self._y_scale,
            )
        else:
            weights = init_weights(
                X.shape[1],
                self.width,
                self.n_blocks,
                Y.shape[1],
                activation,
                rng,
                X.dtype,
            )
        cls = SPLITTINGS[self.splitting]
        if not warm:
            # Start from the best read-out of the random features: the multiplier
            # then starts at the ridge residual instead of at Y itself.
            weights = refit_readout(X, Y, sw, weights, activation, alpha)
        problem = cls(X, Y, sw, weights, activation, update=self.update, **params)
        problem.fingerprint_config = (config, fingerprint)
        return problem

    def _store(self, weights, result, monitor, problem, y, warm):
        """Set every fitted attribute at once, after the run has ended."""
        previous = (
            dict(
                n_iter=self.n_iter_,
                loss=self.loss_curve_,
                objective=self.objective_curve_,
                time=self.time_curve_,
                residual=self.residual_curve_,
                step=self.weight_step_curve_,
                scores=self.validation_scores_ or [],
                val_loss=self.validation_loss_curve_ or [],
            )
            if warm
            else dict(
                n_iter=0,
                loss=[],
                objective=[],
                time=[],
                residual=[],
                step=[],
                scores=[],
                val_loss=[],
            )
        )
        self.coefs_ = [W[:-1].copy() for W in weights]
        self.intercepts_ = [W[-1].copy() for W in weights]
        self.n_outputs_ = problem.Y.shape[1]
        self._y_1d = np.ndim(y) == 1
        self.n_iter_ = previous["n_iter"] + result.n_iter
        self.loss_curve_ = previous["loss"] + monitor.loss_curve
        self.objective_curve_ = previous["objective"] + result.objective_curve
        offset = previous["time"][-1] if previous["time"] else 0.0
        self.time_curve_ = previous["time"] + [offset + t for t in result.time_curve]
        self.residual_curve_ = previous["residual"] + result.residual_curve
        self.weight_step_curve_ = previous["step"] + result.step_curve
        es = self.early_stopping
        self.validation_scores_ = (
            previous["scores"] + monitor.validation_scores if es else None
        )
        self.validation_loss_curve_ = (
            previous["val_loss"] + monitor.validation_loss_curve if es else None
        )
        self.best_validation_score_ = monitor.best_score if es else None
        self.best_loss_ = monitor.best_loss
        self._fitted_config = {key: getattr(self, key) for key in _STATE_KEYS}
        # Only warm_start keeps the (large) solver state between fits; a run that
        # failed leaves an inconsistent state, which is dropped.
        keep_state = (
            self.warm_start and result.failure is None and not result.interrupted
        )
        self._solver_state = (
            (problem, *problem.fingerprint_config) if keep_state else None
        )
        if result.failure is not None:
            warnings.warn(result.failure, DivergenceWarning, stacklevel=3)
        elif result.interrupted:
            warnings.warn(
                f"Training {result.stop_reason}; the weights of the last "
                "completed iteration were kept.",
                FitInterruptedWarning,
                stacklevel=3,
            )
        elif not result.converged:
            warnings.warn(
                f"Training reached max_iter={self.max_iter} iterations without "
                "converging. Raise max_iter, or tol, or use early_stopping=True.",
                ConvergenceWarning,
                stacklevel=3,
            )

    def predict(self, X):
        """Predict with the forward pass of the trained network.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            Predicted values.
        """
        check_is_fitted(self)
        X = validate_data(self, X, dtype=(np.float64, np.float32), reset=False)
        activation = get_activation(self._fitted_config["activation"])
        return check_predictions(
            predict_outputs(X, self.coefs_, self.intercepts_, activation, self._y_1d)
        )

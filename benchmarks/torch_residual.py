"""Backpropagation baseline: skadmm's residual network trained in PyTorch.

:class:`TorchResidualRegressor` trains exactly the network of
:class:`skadmm.ADMMResidualRegressor` (same layers, same initial weights for the
same ``random_state``, same training objective) by minibatch Adam or SGD with
momentum, so that the benchmarks compare training algorithms and nothing else.

"Same architecture" is checked by value: the initial weights are drawn by
:func:`skadmm._network.init_weights` and the PyTorch forward pass agrees with
:func:`skadmm._network.forward` to rounding (about 1e-15 relative in float64);
``predict`` runs :func:`skadmm._network.forward` itself on the fitted
``coefs_`` and ``intercepts_``.

PyTorch is an optional dependency of the benchmarks, imported when ``fit`` runs::

    pip install torch==2.13.0

Use from a benchmark script in this folder as ``from torch_residual import
TorchResidualRegressor``.
"""

import time
import warnings
from numbers import Integral, Real

import numpy as np
from joblib import cpu_count
from sklearn.base import BaseEstimator, RegressorMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import r2_score
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from skadmm._activations import ACTIVATIONS, LEAKY_SLOPE, get_activation
from skadmm._network import init_weights, predict_outputs
from skadmm.exceptions import DivergenceWarning


def import_torch():
    """Return the ``torch`` module, or raise an ImportError that says how to get it."""
    try:
        import torch
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "TorchResidualRegressor needs PyTorch, an optional dependency of the "
            "skadmm benchmarks: pip install torch==2.13.0"
        ) from exc
    return torch


def torch_activation(name):
    """The PyTorch function computing skadmm's activation ``name``."""
    torch = import_torch()
    functions = {
        "relu": torch.relu,
        "leaky_relu": lambda z: torch.nn.functional.leaky_relu(z, LEAKY_SLOPE),
        "tanh": torch.tanh,
        "sigmoid": torch.sigmoid,
    }
    return functions[name]


def torch_forward(X, coefs, intercepts, activation):
    """Forward pass of the residual network on tensors.

    The same computation as :func:`skadmm._network.forward`, with each weight
    matrix split into ``coefs[i]`` of shape ``(fan_in, fan_out)`` and
    ``intercepts[i]`` of shape ``(fan_out,)``::

        U = s(X W_1 + b_1);  U = U + s(U W_l + b_l) for each block;  U W_L + b_L

    Parameters
    ----------
    X : torch.Tensor of shape (n_samples, n_features)
        Input.
    coefs, intercepts : list of torch.Tensor
        Weights and biases of the lifting layer, the blocks and the read-out.
    activation : callable
        Elementwise activation on tensors (see :func:`torch_activation`).

    Returns
    -------
    out : torch.Tensor of shape (n_samples, n_outputs)
        Predictions.
    """
    if len(coefs) == 1:
        return X @ coefs[0] + intercepts[0]
    U = activation(X @ coefs[0] + intercepts[0])
    for W, b in zip(coefs[1:-1], intercepts[1:-1], strict=True):
        U = U + activation(U @ W + b)
    return U @ coefs[-1] + intercepts[-1]


class TorchResidualRegressor(RegressorMixin, BaseEstimator):
    """skadmm's residual network trained by backpropagation (PyTorch, float64).

    The network is that of :class:`skadmm.ADMMResidualRegressor`: a lifting
    layer ``U_1 = s(X W_1 + b_1)``, ``n_blocks`` residual blocks
    ``U_l = U_{l-1} + s(U_{l-1} W_l + b_l)`` and a linear read-out, initialised by
    :func:`skadmm._network.init_weights` with the same random draws as skadmm for
    the same ``random_state``. Training minimises skadmm's objective, on every
    minibatch ``B``::

        1/(2|B|) sum_{i in B} ||f(x_i) - y_i||^2 + alpha/2 sum_l ||W_l||_F^2

    (biases not penalised; the squared norm sums over outputs), with Adam or SGD
    with momentum, for at most ``max_iter`` epochs. All computations are in
    float64.

    Parameters
    ----------
    width : int, default=64
        Number of units of every hidden layer.
    n_blocks : int, default=4
        Number of residual blocks after the lifting layer.
    activation : {"relu", "leaky_relu", "tanh", "sigmoid"}, default="relu"
        Activation of every hidden layer (leaky_relu has slope 0.01).
    optimizer : {"adam", "sgd"}, default="adam"
        ``"adam"``: :class:`torch.optim.Adam` (betas 0.9, 0.999, eps 1e-8, as
        scikit-learn's MLP). ``"sgd"``: :class:`torch.optim.SGD` with
        ``momentum`` (heavy ball, no Nesterov), constant learning rate.
    learning_rate : float, default=1e-3
        Step size, constant (scikit-learn's ``learning_rate_init``), for both
        optimizers. For SGD with momentum 0.9, 1e-3 is also the safer choice:
        with 1e-2 one of the 5 CV folds of Wine Quality white (width 64, 4
        blocks) reached a test MSE of 17.5 (mean 4.2), while 1e-3 gave 0.515 on
        average (Adam 0.579, MLPRegressor 0.486). Deep networks from skadmm's
        initialisation need smaller SGD steps still (see ``bench_resnet40.py``).
    momentum : float, default=0.9
        Momentum of SGD (ignored by Adam).
    batch_size : int, "auto" or "full", default="auto"
        Minibatch size. ``"auto"`` is ``min(200, n_samples)`` as in
        :class:`~sklearn.neural_network.MLPRegressor`; ``"full"`` (or any value
        ``>= n_samples``) is full-batch gradient descent, one step per epoch.
    max_iter : int, default=200
        Maximum number of epochs (passes over the training data).
    alpha : float, default=1e-4
        L2 penalty on the weights (biases excluded), with skadmm's scaling
        ``alpha/2 sum ||W||^2`` added to the mean loss (scikit-learn's MLP divides
        its penalty by the number of samples instead).
    tol : float, default=1e-4
        Stopping tolerance, as in scikit-learn's MLP: an epoch that does not lower
        the best training objective (``objective_curve_``) by at least ``tol``
        counts as no improvement; with ``early_stopping``, one that does not raise
        the best validation R^2 by at least ``tol``.
    n_iter_no_change : int, default=10
        Training stops after more than ``n_iter_no_change`` epochs in a row
        without improvement (scikit-learn's MLP rule).
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the training data, stop on its R^2
        and keep the weights of the best epoch.
    validation_fraction : float, default=0.1
        Fraction of the training data held out with ``early_stopping`` (split as
        skadmm splits it, so both estimators train on the same rows).
    shuffle : bool, default=True
        Reshuffle the training rows before every epoch.
    random_state : int, RandomState instance or None, default=None
        Seed of the validation split, of the initial weights (the same as
        skadmm's) and, through a seed drawn after them, of the minibatch
        shuffles (a private :class:`torch.Generator`: the global torch seed is
        neither used nor changed).
    n_threads : int, default=None
        Threads of PyTorch's intra-op pool during ``fit``
        (:func:`torch.set_num_threads`, restored afterwards). ``None`` leaves
        PyTorch's setting (by default one per core); ``-1`` means
        :func:`joblib.cpu_count` and ``-k`` that count minus ``k - 1``, as in
        joblib. Values above the number of cores are clipped to it.
    verbose : int, default=0
        Print one line per epoch.

    Attributes
    ----------
    coefs_ : list of ndarray
        Weight matrices; ``coefs_[i]`` has shape ``(fan_in, fan_out)``.
    intercepts_ : list of ndarray
        Bias vectors; ``intercepts_[i]`` has shape ``(fan_out,)``.
    n_iter_ : int
        Number of epochs run.
    loss_curve_ : list of float
        Training MSE of the network after each epoch, evaluated on the whole
        training set (as skadmm's ``loss_curve_``; mean over rows and outputs).
    objective_curve_ : list of float
        Training objective after each epoch on the whole training set:
        ``1/(2N) ||f(X) - Y||^2 + alpha/2 sum ||W||^2``, the problem skadmm
        relaxes (skadmm's own ``objective_curve_`` is its relaxed Lagrangian).
    time_curve_ : list of float
        Wall-clock seconds from the start of the first epoch to the end of each
        one, evaluation on the training (and validation) data included and
        evaluation on ``eval_set`` excluded.
    eval_loss_curve_ : list of float or None
        MSE on ``eval_set`` after each epoch, when ``fit`` was given one.
    validation_scores_ : list of float or None
        Validation R^2 after each epoch (with ``early_stopping``).
    best_validation_score_ : float or None
        Best validation R^2 (with ``early_stopping``).
    best_loss_ : float
        Lowest training objective reached.
    n_outputs_ : int
        Number of outputs.
    n_features_in_ : int
        Number of features seen during ``fit``.

    See Also
    --------
    skadmm.ADMMResidualRegressor : The same network trained by ADMM.
    sklearn.neural_network.MLPRegressor : Plain MLP trained by backpropagation.

    Notes
    -----
    Divergence (a non-finite training loss) stops training with a
    :class:`skadmm.exceptions.DivergenceWarning`; the weights of the last finite
    epoch are kept and the curves end there.

    Examples
    --------
    >>> from sklearn.datasets import make_regression
    >>> from torch_residual import TorchResidualRegressor
    >>> X, y = make_regression(n_samples=200, n_features=5, random_state=0)
    >>> reg = TorchResidualRegressor(width=16, n_blocks=2, max_iter=50,
    ...                              random_state=0).fit(X, y / y.std())
    """

    _parameter_constraints = {
        "width": [Interval(Integral, 1, None, closed="left")],
        "n_blocks": [Interval(Integral, 0, None, closed="left")],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "optimizer": [StrOptions({"adam", "sgd"})],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "momentum": [Interval(Real, 0, 1, closed="left")],
        "batch_size": [
            Interval(Integral, 1, None, closed="left"),
            StrOptions({"auto", "full"}),
        ],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "n_threads": [Integral, None],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        width=64,
        n_blocks=4,
        *,
        activation="relu",
        optimizer="adam",
        learning_rate=1e-3,
        momentum=0.9,
        batch_size="auto",
        max_iter=200,
        alpha=1e-4,
        tol=1e-4,
        n_iter_no_change=10,
        early_stopping=False,
        validation_fraction=0.1,
        shuffle=True,
        random_state=None,
        n_threads=None,
        verbose=0,
    ):
        self.width = width
        self.n_blocks = n_blocks
        self.activation = activation
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.momentum = momentum
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.alpha = alpha
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.shuffle = shuffle
        self.random_state = random_state
        self.n_threads = n_threads
        self.verbose = verbose

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, eval_set=None):
        """Train the network by backpropagation.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data (converted to float64).
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Target values.
        eval_set : tuple (X_eval, y_eval), default=None
            Data on which the MSE is recorded after every epoch
            (``eval_loss_curve_``); it plays no part in training or stopping.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        torch = import_torch()
        X, y = validate_data(
            self,
            X,
            y,
            multi_output=True,
            y_numeric=True,
            dtype=np.float64,
            ensure_min_samples=2,
        )
        Y = np.asarray(y, dtype=np.float64).reshape(X.shape[0], -1)
        self._y_1d = np.ndim(y) == 1
        evaluation = None
        if eval_set is not None:
            X_eval, y_eval = eval_set
            X_eval = validate_data(self, X_eval, dtype=np.float64, reset=False)
            Y_eval = np.asarray(y_eval, dtype=np.float64).reshape(X_eval.shape[0], -1)
            if Y_eval.shape[1] != Y.shape[1]:
                raise ValueError(
                    f"eval_set has {Y_eval.shape[1]} outputs, y has {Y.shape[1]}."
                )
            evaluation = (torch.from_numpy(X_eval), torch.from_numpy(Y_eval))

        # Same order of random draws as skadmm: validation split, then weights.
        rng = check_random_state(self.random_state)
        validation = None
        if self.early_stopping:
            X, X_val, Y, Y_val = train_test_split(
                X, Y, test_size=self.validation_fraction, random_state=rng
            )
            if X.shape[0] < 2 or X_val.shape[0] < 2:
                raise ValueError(
                    "early_stopping needs at least 2 training and 2 validation "
                    f"samples; validation_fraction={self.validation_fraction} is "
                    "too small or too large for this data."
                )
            validation = (torch.from_numpy(X_val), Y_val)
        weights = init_weights(
            X.shape[1],
            self.width,
            self.n_blocks,
            Y.shape[1],
            get_activation(self.activation),
            rng,
            np.float64,
        )
        generator = torch.Generator().manual_seed(int(rng.randint(2**31 - 1)))

        previous_threads = torch.get_num_threads()
        n_threads = self._n_threads()
        try:
            if n_threads is not None:
                torch.set_num_threads(n_threads)
            self._train(torch, X, Y, weights, generator, validation, evaluation)
        finally:
            torch.set_num_threads(previous_threads)
        return self

    def _n_threads(self):
        """Threads for torch during fit, or None to leave torch's setting."""
        if self.n_threads is None:
            return None
        cores = cpu_count()
        if self.n_threads == 0:
            raise ValueError("n_threads=0 is not valid; use None, -1 or k >= 1.")
        k = self.n_threads if self.n_threads > 0 else cores + 1 + self.n_threads
        return int(min(max(k, 1), cores))

    def _batch_size(self, n_samples):
        if self.batch_size == "auto":
            return min(200, n_samples)
        if self.batch_size == "full":
            return n_samples
        if self.batch_size > n_samples:
            warnings.warn(
                f"batch_size={self.batch_size} is larger than the {n_samples} "
                "training samples; using full batches.",
                UserWarning,
                stacklevel=3,
            )
        return min(self.batch_size, n_samples)

    def _make_optimizer(self, torch, params):
        lr = self.learning_rate
        if self.optimizer == "adam":
            return torch.optim.Adam(params, lr=lr, betas=(0.9, 0.999), eps=1e-8)
        return torch.optim.SGD(params, lr=lr, momentum=self.momentum)

    def _train(self, torch, X, Y, weights, generator, validation, evaluation):
        """The epochs; sets every fitted attribute at the end."""
        act = torch_activation(self.activation)
        coefs = [torch.tensor(W[:-1], requires_grad=True) for W in weights]
        intercepts = [torch.tensor(W[-1], requires_grad=True) for W in weights]
        optimizer = self._make_optimizer(torch, coefs + intercepts)
        X_t, Y_t = torch.from_numpy(X), torch.from_numpy(Y)
        n_samples = X.shape[0]
        batch = self._batch_size(n_samples)
        half_alpha = 0.5 * self.alpha

        def objective(X_b, Y_b):
            """1/(2|B|) ||f(X_b) - Y_b||^2 + alpha/2 sum ||W||^2, and the MSE."""
            sq = (torch_forward(X_b, coefs, intercepts, act) - Y_b).square().sum()
            penalty = sum(W.square().sum() for W in coefs)
            return 0.5 * sq / X_b.shape[0] + half_alpha * penalty, sq

        loss_curve, objective_curve, time_curve = [], [], []
        eval_curve = [] if evaluation is not None else None
        scores = [] if validation is not None else None
        best_loss, best_score, no_improvement = np.inf, -np.inf, 0
        best = _snapshot(coefs, intercepts)
        last_finite = best
        converged, diverged = False, False
        elapsed, tick = 0.0, time.perf_counter()
        for epoch in range(1, self.max_iter + 1):
            order = (
                torch.randperm(n_samples, generator=generator)
                if self.shuffle
                else torch.arange(n_samples)
            )
            for start in range(0, n_samples, batch):
                rows = order[start : start + batch]
                optimizer.zero_grad(set_to_none=True)
                loss, _ = objective(X_t[rows], Y_t[rows])
                loss.backward()
                optimizer.step()
            with torch.no_grad():
                value, sq = objective(X_t, Y_t)
                value = float(value)
                mse = float(sq) / Y.size
                score = None
                if validation is not None:
                    X_val, Y_val = validation
                    pred = torch_forward(X_val, coefs, intercepts, act).numpy()
                    score = r2_score(Y_val, pred) if np.isfinite(pred).all() else None
            if not np.isfinite(value) or (validation is not None and score is None):
                diverged = True
                break
            last_finite = _snapshot(coefs, intercepts)
            elapsed += time.perf_counter() - tick
            loss_curve.append(mse)
            objective_curve.append(value)
            time_curve.append(elapsed)
            if eval_curve is not None:
                with torch.no_grad():
                    X_e, Y_e = evaluation
                    pred = torch_forward(X_e, coefs, intercepts, act)
                    eval_curve.append(float((pred - Y_e).square().mean()))
            tick = time.perf_counter()
            if self.verbose:
                extra = "" if score is None else f", validation R2 = {score:.4f}"
                print(
                    f"Epoch {epoch}, train MSE = {mse:.6g}, objective = "
                    f"{value:.8g}{extra}, {elapsed:.2f}s"
                )
            # scikit-learn MLP's rule (_update_no_improvement_count).
            if validation is not None:
                scores.append(score)
                no_improvement = (
                    no_improvement + 1 if score < best_score + self.tol else 0
                )
                if score > best_score:
                    best_score, best = score, last_finite
            else:
                no_improvement = (
                    no_improvement + 1 if value > best_loss - self.tol else 0
                )
            best_loss = min(best_loss, value)
            if no_improvement > self.n_iter_no_change:
                converged = True
                break

        final = best if validation is not None and scores else last_finite
        self.coefs_ = [c for c, _ in final]
        self.intercepts_ = [b for _, b in final]
        self.n_outputs_ = Y.shape[1]
        self.n_iter_ = len(loss_curve)
        self.loss_curve_ = loss_curve
        self.objective_curve_ = objective_curve
        self.time_curve_ = time_curve
        self.eval_loss_curve_ = eval_curve
        self.validation_scores_ = scores
        self.best_validation_score_ = best_score if validation is not None else None
        self.best_loss_ = best_loss
        if diverged:
            warnings.warn(
                f"Epoch {epoch}: the training loss became non-finite. Training "
                f"stopped and the weights of the last finite epoch ({epoch - 1}) "
                "were kept. Lower learning_rate or scale the input.",
                DivergenceWarning,
                stacklevel=3,
            )
        elif not converged:
            warnings.warn(
                f"Stochastic optimizer: maximum iterations ({self.max_iter}) "
                "reached and the optimization hasn't converged yet.",
                ConvergenceWarning,
                stacklevel=3,
            )

    def predict(self, X):
        """Predict with :func:`skadmm._network.forward` on the fitted weights.

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
        X = validate_data(self, X, dtype=np.float64, reset=False)
        activation = get_activation(self.activation)
        return predict_outputs(X, self.coefs_, self.intercepts_, activation, self._y_1d)


def _snapshot(coefs, intercepts):
    """Copies of the current weights as NumPy arrays, ``[(coef, intercept), ...]``."""
    return [
        (c.detach().numpy().copy(), b.detach().numpy().copy())
        for c, b in zip(coefs, intercepts, strict=True)
    ]

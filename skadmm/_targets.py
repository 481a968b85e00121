"""Target objects: how an estimator's ``y`` becomes the network's training target.

The shared fit (``skadmm._base``) asks its estimator's target object for the
encoded training target, the loss, how the encoding folds into the read-out,
the curves' loss and the validation score; :class:`Target` lists what a target
provides.

*Regression* (:class:`RegressionTarget`): standardisation inside ``fit``.

The penalties ``beta``, ``rho`` and ``alpha`` weigh terms whose size depends on the
units of ``y``; training on the weighted z-score of each output makes the fitted
function equivariant to an affine change of units (see the user guide, "Target
standardisation"). The network is trained on the standardised target and the
transform is folded into the read-out afterwards, so ``coefs_`` and
``intercepts_`` describe the network in the units of ``y``.

*Classification* (:class:`ClassificationTarget`): class labels as one-hot rows
(or one column). Multiclass targets are one-hot rows trained with the softmax
cross-entropy on one output per class; a binary target is one column (1 for
``classes_[1]``) trained with :class:`~skadmm._losses.LogisticLoss`, the two-
class softmax in an orthonormal basis of its zero-sum outputs. The binary
network's read-out is scaled by ``sqrt(2)`` when stored, so that the fitted
network outputs the log-odds (``decision_function``).
"""

from abc import ABC, abstractmethod

import numpy as np
from sklearn.metrics import r2_score
from sklearn.preprocessing import StandardScaler

from ._alpha_search import classification_alpha, classification_stage_alpha
from ._losses import LogisticLoss, SoftmaxLoss, SquaredLoss, center_columns
from ._rows import RowWeights


class Target(ABC):
    """What the shared fit needs of an estimator's target encoding.

    Attributes a target defines: ``loss`` (a loss object of
    ``skadmm._losses``), ``n_outputs`` (network outputs), ``curve_name`` and
    ``score_name`` (the names of ``loss_curve_``'s loss and of the validation
    score, for progress lines) and ``auto_alpha`` (``alpha="auto"`` as a
    function of the summed sample weights, or ``None``: cross-validated, with
    :meth:`cv_target`, :meth:`cv_predict` and :meth:`cv_errors`).
    """

    loss = None
    n_outputs = None
    curve_name = score_name = ""
    auto_alpha = None
    #: The least penalty of a stage of a progressive fit as a function of its
    #: summed weights (``None``: the regressor's rule of ``skadmm._stages``).
    stage_alpha = None
    #: Early stopping on the validation loss (``curve_loss``) instead of the
    #: validation score (see :class:`~skadmm._monitor.ForwardMonitor`).
    stops_on_loss = False

    @classmethod
    @abstractmethod
    def fit(cls, y, sample_weight, dtype):
        """The target of a first fit on ``y`` (rows of positive weight)."""

    @abstractmethod
    def encode(self, y, dtype, name="y"):
        """The network's 2-D training target for ``y``; ``ValueError`` when it
        does not fit this target (``name``: ``"y"`` of a warm start, whose
        first fit made the target, or ``"y_val"`` of the training ``y``'s)."""

    @abstractmethod
    def fold(self, weights):
        """Weights that output ``y``'s units, from weights trained on the
        encoded target (the fitted attributes)."""

    @abstractmethod
    def unfold(self, weights):
        """The inverse of :meth:`fold` (a warm start's weights)."""

    @abstractmethod
    def stratify(self, Y):
        """Labels to stratify a validation split on, or ``None``."""

    @abstractmethod
    def curve_loss(self, Y, out, sample_weight):
        """The loss of ``loss_curve_`` for the network outputs ``out``."""

    @abstractmethod
    def score(self, Y, out, sample_weight):
        """The validation score of early stopping (higher is better)."""

    def cv_target(self, Y):
        """The ``y`` a candidate fit of ``alpha="auto"`` is given."""
        raise NotImplementedError

    def cv_predict(self, model, X):
        """A candidate's predictions, comparable with :meth:`cv_errors`."""
        raise NotImplementedError

    def cv_errors(self, Y, pred):
        """Per-row validation errors of a candidate."""
        raise NotImplementedError

    def held_out_errors(self, model, X, y):
        """:meth:`cv_errors` on the rows ``(X, y)`` of a ``model`` fitted on the
        user's ``y`` (``embedding="auto"``'s held-out comparison)."""
        raise NotImplementedError


# Head room below the square root of the largest float for the squared errors.
_MARGIN = 1e3


def as_columns(y, dtype=None):
    """``y`` as a 2-D array, a 1-D ``y`` as one column: also for a ``y``
    without rows (a sharded fit's chunk of zero weights), where
    ``reshape(0, -1)`` has no size to infer."""
    y = np.asarray(y, dtype=dtype)
    return y[:, None] if y.ndim == 1 else y


def fit_target_scaler(Y, sample_weight):
    """Weighted mean and scale of every output.

    The statistics are computed on ``Y / max|Y|`` (per output) and scaled back:
    the variance of ``y`` itself overflows from ``|y| ~ 1e155`` and underflows
    to zero below ``1e-155`` in float64, where the standard deviation is still
    representable. A constant output gets the scale ``max|y|`` (1 for zeros),
    so its standardised values are its rounding noise relative to its size.
    """
    top = np.max(np.abs(Y), axis=0)
    # Squared errors in the units of y (loss_curve_, scores) must stay finite.
    limit = np.sqrt(np.finfo(Y.dtype).max) / _MARGIN
    if not (top <= limit).all():
        raise ValueError(
            f"max|y| = {float(np.max(top)):.3g} is too large: its squared errors "
            f"overflow {Y.dtype} (the limit is {limit:.3g}). Rescale y, for example "
            "divide it by a power of ten."
        )
    top[top == 0] = 1.0
    scaler = StandardScaler().fit(Y / top, sample_weight=sample_weight)
    with np.errstate(over="ignore"):
        mean, scale = scaler.mean_ * top, scaler.scale_ * top
    if not (np.isfinite(mean).all() and np.isfinite(scale).all()):
        raise ValueError(
            "The mean or standard deviation of y overflows its floating type; "
            "rescale y (for example divide it by a power of ten)."
        )
    return mean.astype(Y.dtype), scale.astype(Y.dtype)


def standardise(Y, mean, scale):
    """``(Y - mean) / scale``; ``ValueError`` if it overflows (``|y|`` near the max)."""
    with np.errstate(over="ignore", invalid="ignore"):
        Z = (Y - mean) / scale
    if not np.isfinite(Z).all():
        raise ValueError(
            "Standardising y overflows its floating type; rescale y (for example "
            "divide it by a power of ten)."
        )
    return Z


def fold_into_readout(weights, mean, scale):
    """Weights whose read-out predicts in the units of ``y``."""
    readout = weights[-1] * scale
    readout[-1] += mean
    return [*weights[:-1], readout]


def unfold_readout(weights, mean, scale):
    """Inverse of :func:`fold_into_readout` (to warm-start in standardised units)."""
    readout = weights[-1].copy()
    readout[-1] -= mean
    return [*weights[:-1], readout / scale]


class RegressionTarget(Target):
    """The regressor's target encoding: the weighted z-score of every output.

    The shared fit (``skadmm._base``) asks its estimator's target object for the
    encoded training target, the loss, how to fold the encoding into the
    read-out, and the curves' loss and validation score.
    """

    loss = SquaredLoss()
    curve_name, score_name = "MSE", "R2"
    #: ``alpha="auto"`` cross-validates (``skadmm._alpha_search``).
    auto_alpha = None

    def __init__(self, mean, scale, one_dimensional):
        self.mean, self.scale = mean, scale
        self.one_dimensional = one_dimensional
        self.n_outputs = mean.shape[0]

    @classmethod
    def fit(cls, y, sample_weight, dtype):
        """Scaler of ``y`` (rows of positive weight)."""
        Y = as_columns(y, dtype)
        return cls(*fit_target_scaler(Y, sample_weight), np.ndim(y) == 1)

    def encode(self, y, dtype, name="y"):
        """Standardised 2-D target; ``ValueError`` on a different number of outputs."""
        Y = as_columns(y, dtype)
        if Y.shape[1] != self.n_outputs and name != "y":
            raise ValueError(
                f"{name} has {Y.shape[1]} outputs and y has {self.n_outputs}."
            )
        if Y.shape[1] != self.n_outputs:
            raise ValueError(
                f"warm_start=True but y has {Y.shape[1]} outputs and the fitted "
                f"model has {self.n_outputs}; set warm_start=False to refit."
            )
        return standardise(Y, self.mean, self.scale)

    def fold(self, weights):
        return fold_into_readout(weights, self.mean, self.scale)

    def unfold(self, weights):
        return unfold_readout(weights, self.mean, self.scale)

    def stratify(self, Y):
        """Labels to stratify a validation split on (none for regression)."""
        return None

    def curve_loss(self, Y, out, sample_weight):
        """Mean squared error in the units of ``y`` (``loss_curve_``)."""
        return weighted_mse(Y, out, sample_weight, self.scale)

    def curve_from_loss(self, loss):
        """:meth:`curve_loss` of a network whose training loss (the squared
        loss of the fit, ``1/2 sum_i s_i ||out_i - Y_i||^2``) is ``loss``;
        ``None`` where the outputs' scales differ (the curve weighs them)."""
        scale = np.ravel(self.scale)
        if np.any(scale != scale[0]):
            return None
        return 2.0 * loss * float(scale[0]) ** 2 / self.n_outputs

    def score(self, Y, out, sample_weight):
        """Validation R^2 (early stopping)."""
        return r2_score(Y, out, sample_weight=sample_weight)

    # alpha="auto": models are fitted on the encoded target and compared by the
    # summed weighted squared error of their predictions.
    def cv_target(self, Y):
        return Y

    def cv_predict(self, model, X):
        return np.asarray(model.predict(X)).reshape(X.shape[0], -1)

    def cv_errors(self, Y, pred):
        return np.sum((pred - Y) ** 2, axis=1)

    def held_out_errors(self, model, X, y):
        # The model predicts in the units of y: standardised as the target.
        pred = self.encode(self.cv_predict(model, X), X.dtype)
        return self.cv_errors(self.encode(y, X.dtype), pred)


def weighted_mse(Y, pred, sample_weight, y_scale=None):
    """Mean squared error over rows (weighted) and outputs.

    ``Y`` and ``pred`` are standardised targets; with ``y_scale`` the error is
    reported in the units of the original target.
    """
    err = pred - Y
    if y_scale is not None:
        err *= y_scale
    sq = (err**2).mean(axis=1)
    return float(np.average(sq, weights=sample_weight))


class ClassificationTarget(Target):
    """Classes of the fit and the loss, curves and score that go with them."""

    curve_name, score_name = "log-loss", "accuracy"
    stops_on_loss = True
    #: ``alpha="auto"`` on ``n`` summed weights (no cross-validation).
    auto_alpha = staticmethod(classification_alpha)
    #: The least penalty of a stage of a progressive fit on ``n`` summed
    #: weights (``skadmm._stages.stage_alpha``).
    stage_alpha = staticmethod(classification_stage_alpha)

    def __init__(self, classes):
        self.classes = classes
        self.binary = len(classes) == 2
        self.loss = LogisticLoss() if self.binary else SoftmaxLoss()
        self.n_outputs = 1 if self.binary else len(classes)

    @classmethod
    def fit(cls, y, sample_weight, dtype):
        """Classes of ``y`` (the rows of positive weight); two at least."""
        classes = np.unique(y)
        if len(classes) < 2:
            raise ValueError(
                "The classifier needs samples of at least 2 classes with positive "
                f"weight; the data has only the class {classes[0]!r}."
            )
        return cls(classes)

    def indices(self, y, name="y"):
        """Index of each label in ``classes``; ``ValueError`` for an unseen one
        (``name`` as in :meth:`encode`)."""
        index = np.searchsorted(self.classes, y)
        index[index == len(self.classes)] = 0
        unseen = self.classes[index] != y
        if unseen.any() and name != "y":
            raise ValueError(
                f"{name} contains labels that y does not have (among its rows "
                f"of positive weight): {np.unique(y[unseen])[:5].tolist()}; the "
                f"classes of y are {self.classes.tolist()}."
            )
        if unseen.any():
            raise ValueError(
                f"y contains labels not seen in the first fit: "
                f"{np.unique(y[unseen])[:5].tolist()}; the fitted classes are "
                f"{self.classes.tolist()}. Set warm_start=False to refit."
            )
        return index

    def encode(self, y, dtype, name="y"):
        index = self.indices(y, name)
        if self.binary:
            return (index == 1).astype(dtype)[:, None]
        Y = np.zeros((len(y), len(self.classes)), dtype=dtype)
        Y[np.arange(len(y)), index] = 1.0
        return Y

    def true_index(self, Y):
        """Class index of each encoded row."""
        return (Y[:, 0] > 0.5).astype(np.intp) if self.binary else Y.argmax(axis=1)

    def decode(self, Y):
        return self.classes[self.true_index(Y)]

    # embedding="auto" (the classifier's penalty is not searched): candidates
    # are fitted on the labels and compared by their cross-entropy.
    def cv_target(self, Y):
        return self.decode(Y)

    def cv_predict(self, model, X):
        """Probabilities in the columns of ``classes`` (0 for a class that a
        fold's training rows lack)."""
        proba = np.zeros((X.shape[0], len(self.classes)))
        columns = np.searchsorted(self.classes, model.classes_)
        proba[:, columns] = model.predict_proba(X)
        return proba

    def cv_errors(self, Y, pred):
        p = pred[np.arange(Y.shape[0]), self.true_index(Y)]
        # sklearn.metrics.log_loss's clipping: a certain wrong class is finite.
        return -np.log(np.clip(p, np.finfo(pred.dtype).eps, 1.0))

    def held_out_errors(self, model, X, y):
        return self.cv_errors(self.encode(y, X.dtype), self.cv_predict(model, X))

    def fold(self, weights):
        """Weights whose output is the log-odds (binary) or centred logits.

        The softmax ignores a constant added to every logit of a row, so the
        read-out's component along the all-ones output is not determined by
        the loss (nor penalised, in the bias); removing it makes the logits,
        hence ``decision_function``, one function of the training problem.
        """
        if not self.binary:
            return [*weights[:-1], center_columns(weights[-1])]
        return [*weights[:-1], weights[-1] * LogisticLoss.scale]

    def unfold(self, weights):
        if not self.binary:
            return [W.copy() for W in weights]
        return [*weights[:-1], weights[-1] / LogisticLoss.scale]

    def stratify(self, Y):
        """Labels for a stratified validation split (if every class has 2 rows)."""
        index = self.true_index(Y)
        counts = np.bincount(index, minlength=len(self.classes))
        return index if counts.min() >= 2 else None

    def curve_loss(self, Y, out, sample_weight):
        """Mean cross-entropy (``loss_curve_``), ``out`` in training units."""
        rw = RowWeights(sample_weight, Y.shape[0], out.dtype)
        return self.loss.value(out, Y, rw)

    def curve_from_loss(self, loss):
        """:meth:`curve_loss` of a network whose training loss is ``loss``:
        the same mean cross-entropy."""
        return loss

    def score(self, Y, out, sample_weight):
        """Validation accuracy (early stopping)."""
        if self.binary:
            predicted = (out[:, 0] > 0).astype(np.intp)
        else:
            predicted = out.argmax(axis=1)
        hit = predicted == self.true_index(Y)
        return float(np.average(hit, weights=sample_weight))

"""ADMMResidualClassifier: softmax (or logistic) cross-entropy on the read-out."""

import numpy as np
from scipy.special import log_expit, log_softmax
from sklearn.base import ClassifierMixin, _fit_context
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import column_or_1d, validate_data

from ._base import BaseADMMResidual
from ._dask_input import is_dask_collection, predict_blocks
from ._docs import fill_doc
from ._stages import (
    CLASSIFIER_STAGE_START_READOUT_STEPS,
    CLASSIFIER_STAGED_ETA_MAX,
    CLASSIFIER_STAGED_FIRST_ORDER_TARGETS,
    CLASSIFIER_STAGED_GROW,
    CLASSIFIER_STAGED_MIN_GAIN,
    CLASSIFIER_STAGED_OUTPUT_DAMPING,
    CLASSIFIER_STAGED_READOUT_STEPS,
    FINAL_PATIENCE,
    classifier_stage_plan,
    stage_dtype,
)
from ._targets import ClassificationTarget


@fill_doc(
    loss="cross-entropy",
    loss_short="cross-entropy",
    score="accuracy",
    stopping="log-loss",
    readout="penalised cross-entropy fit (Newton-CG)",
    alpha_auto="""``"auto"`` means ``min(3e-3, 12 / n)`` (``n`` the
        number of rows, or the sum of ``sample_weight``) up to 20,000 rows,
        without cross-validation: on the classification benchmark suite
        3e-3 gave a cross-entropy at most LogisticRegression's on every
        table, and cross-validating cost ten times the fit; larger tables
        need less shrinkage (a sum-scale penalty of 12, falling as
        ``12 (20,000 / n)^3`` to 0.03 above 20,000 rows). The stages of a
        large table's fit take ``min(3e-3, 12 / m)`` on their own ``m``
        rows.""",
)
class ADMMResidualClassifier(ClassifierMixin, BaseADMMResidual):
    """Residual network classifier trained by proximal ADMM, without backpropagation.

    The network of :class:`ADMMResidualRegressor` (a lifting layer,
    ``n_blocks`` residual blocks and a linear read-out) with the softmax
    cross-entropy on its outputs, one per class; for two classes, the logistic
    loss on one output, which is the two-class softmax restricted to its
    zero-sum outputs (the same model, half the read-out). The training problem
    is the regressor's with this loss: the ADMM output block becomes a per-row
    proximal step of the cross-entropy, solved to machine precision by a
    safeguarded Newton method, and the read-out refits are penalised logistic
    regressions. All five training modes of the regressor (``solver``) work
    unchanged. See the :ref:`user guide <classification>`.

    Parameters
    ----------
    $parameters
    class_weight : dict, "balanced" or None, default=None
        Weights of the classes, multiplied into ``sample_weight``: a dict
        ``{label: weight}``, ``"balanced"`` (``n_samples / (n_classes *
        count)``), or ``None`` (all 1). Weights must be finite and
        non-negative; a class of weight 0, as rows of weight 0, is not
        trained on (nor in ``classes_``).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    $attributes

    See Also
    --------
    ADMMResidualRegressor : The same network and training for regression.
    sklearn.neural_network.MLPClassifier : Multi-layer perceptron trained by
        backpropagation.

    Notes
    -----
    ``n_outputs_`` is the number of classes, or 1 for two classes, whose
    output is the log-odds of ``classes_[1]``. Inputs should be standardised.
    Early stopping follows the validation log-loss, not the accuracy
    (``validation_scores_``), which moves in steps of one row: on large
    tables it stopped the run on all rows after a dozen iterations while the
    log-loss still fell (see the user guide, "Early stopping").

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.model_selection import train_test_split
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skadmm import ADMMResidualClassifier
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    >>> clf = make_pipeline(StandardScaler(), ADMMResidualClassifier(random_state=0))
    >>> clf.fit(X_train, y_train).score(X_test, y_test) > 0.95
    True
    """

    _parameter_constraints = {
        **BaseADMMResidual._parameter_constraints,
        "class_weight": [dict, StrOptions({"balanced"}), None],
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
        class_weight=None,
    ):
        shared = dict(locals())
        del shared["self"], shared["class_weight"], shared["__class__"]
        super().__init__(**shared)
        self.class_weight = class_weight

    def _validate_xy(self, X, y, reset):
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse="csr",
            dtype=(np.float64, np.float32),
            ensure_min_samples=2,
            reset=reset,
        )
        y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        kind = type_of_target(y)
        if kind not in ("binary", "multiclass"):
            raise ValueError(
                f"ADMMResidualClassifier supports binary and multiclass targets; "
                f"got a {kind!r} target."
            )
        return X, y

    def _n_outputs_for(self, y):
        n_classes = len(np.unique(y))
        return 1 if n_classes <= 2 else n_classes

    def _make_target(self, y, sample_weight, dtype):
        return ClassificationTarget.fit(y, sample_weight, dtype)

    def _weigh_samples(self, y, sample_weight, train=None):
        if self.class_weight is None:
            return sample_weight
        # "balanced" counts the rows by their weights, so that a weight of 2
        # still equals a repeated row; rows of weight 0 do not count.
        y_fit, sw_fit = (y, sample_weight) if train is None else train
        positive = slice(None) if sw_fit is None else sw_fit > 0
        classes = np.unique(y_fit[positive])
        per_class = compute_class_weight(
            self.class_weight,
            classes=classes,
            y=y_fit[positive],
            sample_weight=None if sw_fit is None else sw_fit[positive],
        )
        # Class weights multiply the sample weights, which must not be
        # negative: a negative one dropped its class's rows in silence.
        if not (np.isfinite(per_class).all() and (per_class >= 0).all()):
            given = dict(zip(classes.tolist(), per_class.tolist(), strict=True))
            raise ValueError(
                "class_weight must give every class a finite, non-negative "
                f"weight; got {given}."
            )
        index = np.clip(np.searchsorted(classes, y), 0, len(classes) - 1)
        dtype = np.float64 if sample_weight is None else sample_weight.dtype
        weights = np.where(classes[index] == y, per_class[index], 0.0).astype(dtype)
        return weights if sample_weight is None else weights * sample_weight

    def _stage_plan(self, n_rows):
        return classifier_stage_plan(n_rows)

    def _stage_dtype(self, n_stage_rows, n_rows, data_dtype):
        return stage_dtype(n_stage_rows, n_rows, data_dtype, regressor=False)

    def _stage_readout_steps(self):
        return CLASSIFIER_STAGE_START_READOUT_STEPS

    def _staged_solver_settings(self, n_rows):
        # Two read-out steps per refit inside the iterations: at 50,000 rows
        # as good a fit as five, 12 % faster (see ``classifier_stage_plan``).
        # The read-out is refitted at an extrapolated point, not extrapolated
        # (the regressor's setting): extrapolated, 50,000 rows took 30 % less
        # time but lost 0.013 log-loss and half a point of accuracy. eta
        # grows more slowly (see ``CLASSIFIER_STAGED_GROW``). Each stage's
        # momentum restarts (see ``ResetSolver.carry_momentum``), and builds
        # up with every extrapolation that lowers the objective (see
        # ``CLASSIFIER_STAGED_MIN_GAIN``). The sweep's targets are first
        # order (see ``CLASSIFIER_STAGED_FIRST_ORDER_TARGETS``), and eta
        # stops growing where their direction is still good (see
        # ``CLASSIFIER_STAGED_ETA_MAX``). The W steps take the output
        # factor (see ``CLASSIFIER_STAGED_OUTPUT_DAMPING``).
        return {
            "extrapolate_readout": False,
            "carry_momentum": False,
            "grow": CLASSIFIER_STAGED_GROW,
            "min_gain": CLASSIFIER_STAGED_MIN_GAIN,
            "readout_max_iter": CLASSIFIER_STAGED_READOUT_STEPS,
            "first_order_targets": CLASSIFIER_STAGED_FIRST_ORDER_TARGETS,
            "eta_max": CLASSIFIER_STAGED_ETA_MAX,
            "output_damping": CLASSIFIER_STAGED_OUTPUT_DAMPING,
        }

    def _final_patience(self, n_rows, staged):
        # After a stage on all the rows the final run only polishes.
        if staged:
            return min(self.n_iter_no_change, FINAL_PATIENCE)
        return self.n_iter_no_change

    @property
    def classes_(self):
        """Class labels (``ndarray of shape (n_classes,)``)."""
        return self._target.classes

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(
        self,
        X,
        y,
        sample_weight=None,
        *,
        X_val=None,
        y_val=None,
        sample_weight_val=None,
    ):
        """Train the residual network.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data; float32 input is trained in float32. Sparse input
            (CSR, CSC, or any scipy.sparse matrix or array, converted to CSR)
            stays sparse: only the first layer's products read it. A Dask
            array or DataFrame (with ``y`` and ``sample_weight`` as Dask or
            NumPy arrays) is fitted sharded over the workers of the active
            ``distributed.Client``, its rows staying where they are (see
            :ref:`sharded_fit`).
        y : array-like of shape (n_samples,)
            Class labels (integers, strings, ...); two classes at least.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the samples, multiplied by the class
            weights. A weight of 2 equals repeating the row and a weight of 0
            equals dropping it (and ``alpha="auto"`` counts rows by their
            weights). On tables of more than 10,000 rows it does not:
            ``early_stopping="auto"`` and the stages count rows, not weights.

        X_val : {array-like, sparse matrix} of shape (n_val, n_features), default=None
            Validation data of early stopping, instead of a held-out
            ``validation_fraction`` of ``X`` (all of whose rows then train);
            needs ``y_val`` and ``early_stopping`` set to ``"auto"`` (which
            then holds) or ``True``. Checked as ``X``. In a
            :class:`~sklearn.pipeline.Pipeline` it is transformed as ``X`` with
            ``Pipeline(..., transform_input=["X_val"])``, and routed with
            ``set_fit_request(X_val=True, y_val=True)`` under
            ``sklearn.set_config(enable_metadata_routing=True)``.
        y_val : array-like of shape (n_val,), default=None
            Class labels of ``X_val``.
        sample_weight_val : array-like of shape (n_val,), default=None
            Weights of the validation rows, multiplied by the class weights of
            the training rows.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        return self._fit(X, y, sample_weight, X_val, y_val, sample_weight_val)

    def decision_function(self, X):
        """Network outputs: the log-odds of ``classes_[1]``, or one logit per class.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            Log-odds for two classes, logits otherwise.
        """
        if is_dask_collection(X):
            return predict_blocks(self, "decision_function", X)
        out = self._forward(X)
        return out.ravel() if self._target.binary else out

    def predict_log_proba(self, X):
        """Log of the class probabilities.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            Log-probability of each class, in the order of ``classes_``.
        """
        if is_dask_collection(X):
            return predict_blocks(self, "predict_log_proba", X)
        scores = self.decision_function(X)
        if self._target.binary:
            return np.column_stack([log_expit(-scores), log_expit(scores)])
        return log_softmax(scores, axis=1)

    def predict_proba(self, X):
        """Class probabilities.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probability of each class, in the order of ``classes_``; rows sum
            to one.
        """
        if is_dask_collection(X):
            return predict_blocks(self, "predict_proba", X)
        return np.exp(self.predict_log_proba(X))

    def predict(self, X):
        """Most probable class.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Predicted class labels.
        """
        if is_dask_collection(X):
            return predict_blocks(self, "predict", X)
        scores = self.decision_function(X)
        index = (scores > 0).astype(np.intp) if scores.ndim == 1 else scores.argmax(1)
        return self.classes_[index]

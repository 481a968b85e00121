"""ADMMResidualRegressor: the squared loss on a standardised target."""

import numpy as np
from sklearn.base import RegressorMixin, _fit_context
from sklearn.utils.validation import validate_data

from ._base import BaseADMMResidual
from ._dask_input import is_dask_collection, predict_blocks
from ._docs import fill_doc
from ._targets import RegressionTarget


@fill_doc(
    loss="squared error",
    loss_short="MSE",
    score="R^2",
    stopping="R^2",
    readout="ridge solution",
    alpha_auto="""``"auto"`` adapts it to the noise of the table: on 30
        to 2000 training rows (the sum of ``sample_weight``) it takes the value
        of ``(3e-4, 1e-3, 3e-3, 1e-2)`` (and ``3 / n`` below 300 rows, ``1e-4``
        from 100 rows on) with the lowest 3-fold cross-validated MSE, along
        the penalty path from the largest (at most fifteen extra fits of the
        same model on two thirds of the rows below 100 rows, eighteen below
        300, ten from 300 on, where two of the folds are validated; identical
        rows share a fold, so integer weights still equal repeated rows); on
        smaller tables ``max(2e-3, 3 / n)``, on larger ones ``min(2e-3, 16 /
        n)`` (a sum-scale penalty: more rows pin a network of fixed size down),
        ``n`` the number of rows.""",
)
class ADMMResidualRegressor(RegressorMixin, BaseADMMResidual):
    """Residual network regressor trained by proximal ADMM, without backpropagation.

    The model is a fully connected residual network: a lifting layer
    ``U_1 = s(X W_1 + b_1)``, ``n_blocks`` residual blocks
    ``U_l = U_{l-1} + s(U_{l-1} W_l + b_l)`` and a linear read-out. Training
    minimises the mean squared error plus an L2 penalty through a relaxed problem
    in which each layer's output is an auxiliary variable; the links between
    layers become quadratic penalties and every block update is an exact
    minimisation (Cholesky solves, elementwise problems) or a proximal-gradient
    step with sufficient decrease. Five training modes drive such blocks
    (``solver``): forward-reset block descent (``"reset"``, the default), whose
    every iteration lowers the true training objective and whose hidden layers
    learn; the paper's ADMM (``"radmm"``), whose augmented Lagrangian never
    increases; dlADMM (``"dladmm"``) and mDLAM (``"mdlam"``), sweeps of
    linearised, backtracked steps (see :ref:`dladmm` and :ref:`mdlam`); and
    pdADMM (``"pdadmm"``), a relaxation in which every layer has its own
    input, so that all layers are updated at once (see :ref:`pdadmm`). See the
    :ref:`user guide <user_guide>` and :ref:`modes`.

    Parameters
    ----------
    $parameters

    Attributes
    ----------
    $attributes

    See Also
    --------
    sklearn.neural_network.MLPRegressor : Multi-layer perceptron trained by
        backpropagation.

    Notes
    -----
    One iteration costs ``O((n_blocks + 1) * (n_samples * width**2 + width**3))``
    for the residual blocks and the read-out, plus ``O(n_samples * n_features *
    (n_features + width) + n_features**3)`` for the lifting layer (Gram
    matrices, Cholesky factorisations and products with the ``(n_samples,
    width)`` auxiliaries). The auxiliary state holds two (``splitting="two"``)
    or three arrays of shape ``(n_samples, width)`` per hidden layer. Inputs
    should be standardised.

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

    def _validate_xy(self, X, y, reset):
        return validate_data(
            self,
            X,
            y,
            multi_output=True,
            y_numeric=True,
            accept_sparse="csr",
            dtype=(np.float64, np.float32),
            ensure_min_samples=2,
            reset=reset,
        )

    def _n_outputs_for(self, y):
        return 1 if y.ndim == 1 else y.shape[1]

    def _make_target(self, y, sample_weight, dtype):
        return RegressionTarget.fit(y, sample_weight, dtype)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

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
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Target values.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the samples. Each row's terms of the training
            problem are weighted, so a weight of 2 equals repeating the row and a
            weight of 0 equals dropping it (and ``alpha="auto"`` counts rows by
            their weights). On tables of more than 10,000 rows it does not:
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
        y_val : array-like of shape (n_val,) or (n_val, n_outputs), default=None
            Target values of ``X_val``.
        sample_weight_val : array-like of shape (n_val,), default=None
            Weights of the validation rows (scores and losses are weighted by them).

        Returns
        -------
        self : object
            Fitted estimator.
        """
        return self._fit(X, y, sample_weight, X_val, y_val, sample_weight_val)

    def predict(self, X):
        """Predict with the forward pass of the trained network.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            Predicted values.
        """
        if is_dask_collection(X):
            return predict_blocks(self, "predict", X)
        out = self._forward(X)
        return out.ravel() if self._target.one_dimensional else out

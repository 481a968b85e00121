"""The estimators' numeric embeddings as a scikit-learn transformer.

For the baselines (MLPRegressor, MLPClassifier) with the same input as the
ADMM estimators: ``make_pipeline(StandardScaler(), EmbeddingTransformer(),
MLPRegressor())`` fits the encoder on the training rows of each fold, as the
estimators' ``embedding`` parameter does.
"""

from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from skadmm._embeddings import make_embedding, resolve_n_bins

#: The estimators' embedding kinds, "none" first.
EMBEDDINGS = ("none", "piecewise", "hat", "onehot", "periodic")
#: ADMM models the suites judge as training modes (against MLP, random
#: features, LogisticRegression).
ADMM_MODES = {
    "default": {},
    "radmm": {"solver": "radmm"},
    **{f"embedding_{kind}": {"embedding": kind} for kind in EMBEDDINGS},
    "embedding_auto": {"embedding": "auto"},
}


class EmbeddingTransformer(TransformerMixin, BaseEstimator):
    """``embedding`` and ``n_bins`` as in the estimators (``"auto"`` resolved
    on the rows of ``fit``)."""

    def __init__(self, embedding="onehot", n_bins="auto"):
        self.embedding = embedding
        self.n_bins = n_bins

    def fit(self, X, y=None, sample_weight=None):
        X = validate_data(self, X, accept_sparse="csr")
        n_rows = X.shape[0] if sample_weight is None else float(sample_weight.sum())
        n_bins = resolve_n_bins(self.n_bins, n_rows)
        self.embedding_ = make_embedding(self.embedding, n_bins).fit(X, sample_weight)
        return self

    def transform(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse="csr", reset=False)
        return self.embedding_.transform(X)

"""Sparse X: accepted in fit and the prediction methods, and never densified.

A fit on a sparse table must give the fit on the same table dense (up to the
rounding of the products, which sum in another order), in every mode; the
sparse fit must need less memory where the table is mostly zeros.
"""

import tracemalloc
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder

from skadmm import ADMMResidualClassifier, ADMMResidualRegressor
from skadmm._rows import RowWeights, rows_of
from skadmm._wide import DualRidge, dual_largest_eigenvalue

from ._problems import estimator_memory_parts

SOLVERS = ["reset", "radmm", "dladmm", "pdadmm", "mdlam"]
# alpha=0.1 keeps the blocks well conditioned: the rounding differences of
# sparse and dense products then stay near machine precision (a tiny alpha
# amplifies them over the iterations, as any change of summation order).
PARAMS = dict(width=8, n_blocks=1, max_iter=3, random_state=0, alpha=0.1)


def _data(n=120, d=30, density=0.2, seed=0):
    rng = np.random.default_rng(seed)
    X = sp.random(n, d, density=density, random_state=seed, format="csr")
    y = rng.standard_normal(n)
    labels = (rng.random(n) > 0.5).astype(int)
    return X, y, labels


def _fit(est, X, y, **fit_params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return est.fit(X, y, **fit_params)


def _outputs(est, X):
    if isinstance(est, ADMMResidualClassifier):
        return np.column_stack([est.decision_function(X), est.predict_proba(X)])
    return est.predict(X)


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("Est", [ADMMResidualRegressor, ADMMResidualClassifier])
@pytest.mark.parametrize("fmt", ["csr", "csc", "csr_array"])
def test_sparse_fit_equals_dense_fit(solver, Est, fmt):
    X, y, labels = _data()
    target = y if Est is ADMMResidualRegressor else labels
    Xs = sp.csr_array(X) if fmt == "csr_array" else X.asformat(fmt)
    dense = _fit(Est(solver=solver, **PARAMS), X.toarray(), target)
    sparse = _fit(Est(solver=solver, **PARAMS), Xs, target)
    expected = _outputs(dense, X.toarray())
    np.testing.assert_allclose(_outputs(sparse, Xs), expected, rtol=0, atol=1e-10)
    # Prediction on sparse input equals prediction on the same rows dense.
    np.testing.assert_allclose(_outputs(dense, Xs), expected, rtol=0, atol=1e-12)
    assert sparse.score(Xs, target) == pytest.approx(
        dense.score(X.toarray(), target), abs=1e-10
    )


@pytest.mark.parametrize("solver", ["reset", "radmm", "pdadmm"])
def test_sparse_with_weights_early_stopping_and_auto_alpha(solver):
    # Weighted Gram and cross products, train_test_split of a sparse X and
    # the alpha search's folds.
    X, y, labels = _data(n=160)
    sw = np.random.default_rng(1).uniform(0.5, 2.0, X.shape[0])
    params = dict(PARAMS, early_stopping=True, solver=solver)
    # The regressor's alpha="auto" cross-validates on this table (the sparse
    # folds must be the dense ones); the classifier's is a fixed small alpha,
    # which amplifies the rounding differences (see PARAMS).
    for Est, target, alpha in [
        (ADMMResidualRegressor, y, "auto"),
        (ADMMResidualClassifier, labels, 0.1),
    ]:
        params["alpha"] = alpha
        dense = _fit(Est(**params), X.toarray(), target, sample_weight=sw)
        sparse = _fit(Est(**params), X, target, sample_weight=sw)
        assert sparse.alpha_ == dense.alpha_
        if alpha == "auto":
            assert sparse.alpha_search_["rule"] == "cross-validation"
        np.testing.assert_allclose(
            _outputs(sparse, X), _outputs(dense, X.toarray()), rtol=0, atol=1e-10
        )


def test_one_hot_pipeline_matches_dense_one_hot():
    rng = np.random.default_rng(0)
    cats = rng.choice(["a", "b", "c", "d", "e"], size=(200, 3))
    y = (cats[:, 0] == "a") * 1.0 + (cats[:, 1] == "c") * 2.0 + rng.normal(0, 0.1, 200)
    params = dict(width=16, n_blocks=1, max_iter=5, random_state=0, alpha=0.1)
    sparse = make_pipeline(OneHotEncoder(), ADMMResidualRegressor(**params))
    dense = make_pipeline(
        OneHotEncoder(sparse_output=False), ADMMResidualRegressor(**params)
    )
    assert sp.issparse(OneHotEncoder().fit_transform(cats))
    _fit(sparse, cats, y)
    _fit(dense, cats, y)
    np.testing.assert_allclose(
        sparse.predict(cats), dense.predict(cats), rtol=0, atol=1e-10
    )


@pytest.mark.parametrize(
    "config",
    [
        dict(solver="reset"),
        dict(solver="reset", splitting="two"),
        dict(solver="radmm", update="linearized", weighted=True),
        dict(solver="dladmm"),
        dict(solver="pdadmm", weighted=True),
    ],
)
def test_wide_text_like_table_matches_dense(config):
    # 5001 columns for 300 rows: the lifting layer takes the dual (N x N)
    # weight steps, on a sparse [X, 1].
    X = sp.random(300, 5000, density=0.01, random_state=0, format="csr")
    y = np.asarray(X[:, :50].sum(axis=1)).ravel()
    y += np.random.default_rng(0).normal(0, 0.01, 300)
    config = dict(config)
    sw = np.linspace(0.5, 2.0, 300) if config.pop("weighted", False) else None
    params = dict(width=8, max_iter=2, random_state=0, alpha=0.1, **config)
    sparse = _fit(ADMMResidualRegressor(**params), X, y, sample_weight=sw)
    dense = _fit(ADMMResidualRegressor(**params), X.toarray(), y, sample_weight=sw)
    np.testing.assert_allclose(
        sparse.predict(X), dense.predict(X.toarray()), rtol=0, atol=1e-10
    )


@pytest.mark.parametrize("weighted", [False, True])
def test_row_weights_and_dual_step_on_sparse_input(weighted):
    rng = np.random.default_rng(0)
    A = sp.random(40, 120, density=0.1, random_state=0, format="csr")
    A = sp.csr_matrix(sp.hstack([A, np.ones((40, 1))]))
    B = rng.standard_normal((40, 3))
    sw = rng.uniform(0.5, 2.0, 40) if weighted else None
    rw = RowWeights(sw, 40, np.dtype(np.float64))
    D = A.toarray()
    np.testing.assert_allclose(rw.gram(A), rw.gram(D), atol=1e-13)
    np.testing.assert_allclose(rw.cross(A, B), rw.cross(D, B), atol=1e-13)
    assert rw.sq_norm(A) == pytest.approx(rw.sq_norm(D), rel=1e-13)
    R = rng.standard_normal((121, 3))
    np.testing.assert_allclose(
        DualRidge(A, rw, 2.0, 0.3, 0.1).solve(R),
        DualRidge(D, rw, 2.0, 0.3, 0.1).solve(R),
        atol=1e-10,
    )
    assert dual_largest_eigenvalue(A, rw, 2.0, 0.3) == pytest.approx(
        dual_largest_eigenvalue(D, rw, 2.0, 0.3), rel=1e-10
    )


def _one_hot_table(n_rows=20_000, n_cols=2_000, density=0.005, seed=0):
    rng = np.random.default_rng(seed)
    per_row = int(n_cols * density)
    cols = np.concatenate(
        [rng.choice(n_cols, per_row, replace=False) for _ in range(n_rows)]
    )
    rows = np.repeat(np.arange(n_rows), per_row)
    X = sp.csr_matrix((np.ones(len(cols)), (rows, cols)), shape=(n_rows, n_cols))
    y = np.asarray(X[:, :20].sum(axis=1)).ravel() + rng.normal(0, 0.1, n_rows)
    return X, y


def _peak(fit):
    tracemalloc.start()
    try:
        fit()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_sparse_fit_peak_memory_below_dense():
    X, y = _one_hot_table()
    params = dict(width=16, max_iter=2, random_state=0, alpha=0.1)
    Xd = X.toarray()
    dense = _peak(lambda: _fit(ADMMResidualRegressor(**params), Xd, y))
    sparse = _peak(lambda: _fit(ADMMResidualRegressor(**params), X, y))
    # The dense fit holds at least [X, 1] (320 MB); the sparse one its CSR.
    assert sparse < 0.5 * dense, (sparse, dense)


def test_memory_guard_counts_nonzeros():
    X, y = _one_hot_table(n_rows=5_000)
    est = ADMMResidualRegressor(width=16, max_iter=2, early_stopping=False)
    dense = estimator_memory_parts(est, X.toarray(), y, None)
    sparse = estimator_memory_parts(est, X, y, None)
    key = "state: augmented input [X, 1]"
    # CSR of [X, 1]: (nnz + rows) values and indices, rows + 1 row starts.
    nnz = X.nnz + X.shape[0]
    assert sparse[key] == pytest.approx(
        nnz * (8 + X.indices.itemsize) + (X.shape[0] + 1) * X.indices.itemsize,
        rel=1e-3,
    )
    assert dense[key] == X.shape[0] * (X.shape[1] + 1) * 8
    # The rest (here the lifting layer's (d + 1) x (d + 1) block solve, dense
    # either way) is the same.
    saved = sum(dense.values()) - sum(sparse.values())
    assert saved >= dense[key] - sparse[key]


def test_float32_sparse_input_trains_in_float32():
    X, y, _ = _data()
    X = X.astype(np.float32)
    sparse = _fit(ADMMResidualRegressor(**PARAMS), X, y)
    dense = _fit(ADMMResidualRegressor(**PARAMS), X.toarray(), y)
    assert sparse.coefs_[0].dtype == np.float32
    np.testing.assert_allclose(
        sparse.predict(X), dense.predict(X.toarray()), rtol=0, atol=1e-5
    )


def test_fit_on_one_row_block_never_slices_its_sparse_input(monkeypatch):
    # Slicing a scipy.sparse matrix copies it even when the slice is every
    # row; a table of one row block was copied for every forward pass.
    slices = []
    for cls in (sp.csr_matrix, sp.csr_array, sp.csc_matrix, sp.csc_array):

        def spy(self, key, original=cls.__getitem__):
            slices.append(key)
            return original(self, key)

        monkeypatch.setattr(cls, "__getitem__", spy)
    X, y, _ = _data(n=40, d=10)
    _fit(ADMMResidualRegressor(alpha=1e-3, max_iter=20, random_state=0), X, y)
    assert slices == []


def test_rows_of_is_the_array_itself_for_all_its_rows():
    X = sp.random(10, 4, density=0.5, format="csr", random_state=0)
    for rows in (slice(None), slice(0, 10), slice(0, 50)):
        assert rows_of(X, rows) is X
    part = rows_of(X, slice(2, 7))
    assert part.shape == (5, 4)
    np.testing.assert_array_equal(part.toarray(), X.toarray()[2:7])

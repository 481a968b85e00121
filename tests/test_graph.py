"""Hop features of a graph: the function against a dense oracle, the transformer
in pipelines and searches over node indices."""

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import Pipeline

import skadmm
from skadmm.datasets import make_csbm
from skadmm.graph import HopFeatures, hop_features


def _random_graph(n=30, density=0.15, seed=0, weighted=True, isolated=()):
    """A symmetric, non-negative random adjacency with optional isolated nodes."""
    rng = np.random.default_rng(seed)
    upper = np.triu(rng.random((n, n)) < density, k=1)
    weights = rng.uniform(0.5, 2.0, (n, n)) if weighted else np.ones((n, n))
    A = np.where(upper, weights, 0.0)
    A = A + A.T
    A[list(isolated), :] = 0.0
    A[:, list(isolated)] = 0.0
    return A


def _oracle(A, X, n_hops, normalization, self_loops):
    """Dense reference: Â built as a dense matrix, then its powers."""
    A_tilde = A + np.eye(len(A)) if self_loops else A.copy()
    degree = A_tilde.sum(axis=1)
    with np.errstate(divide="ignore"):
        inv = np.where(degree > 0, 1.0 / degree, 0.0)
    if normalization == "gcn":
        A_hat = np.sqrt(inv)[:, None] * A_tilde * np.sqrt(inv)[None, :]
    else:
        A_hat = inv[:, None] * A_tilde
    return np.hstack([np.linalg.matrix_power(A_hat, k) @ X for k in range(n_hops + 1)])


@pytest.mark.parametrize("normalization", ["gcn", "random_walk"])
@pytest.mark.parametrize("self_loops", [True, False])
@pytest.mark.parametrize("n_hops", [0, 1, 3])
def test_matches_dense_oracle(normalization, self_loops, n_hops):
    # Nodes 3 and 7 are isolated: without self loops their degree is zero.
    A = _random_graph(isolated=(3, 7))
    X = np.random.default_rng(1).standard_normal((len(A), 4))
    expected = _oracle(A, X, n_hops, normalization, self_loops)
    for adjacency in (A, sp.csr_matrix(A), sp.csr_array(A), sp.coo_matrix(A)):
        got = hop_features(
            adjacency,
            X,
            n_hops=n_hops,
            normalization=normalization,
            self_loops=self_loops,
        )
        assert isinstance(got, np.ndarray)
        assert got.shape == (len(A), 4 * (n_hops + 1))
        assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
    assert np.isfinite(got).all()


def test_large_sparse_graph_needs_no_dense_square():
    # A dense 200,000 x 200,000 matrix (or a dense power of Â) would need
    # 320 GB: the products must stay sparse.
    n = 200_000
    path = sp.diags([np.ones(n - 1), np.ones(n - 1)], [-1, 1], format="csr")
    X = np.zeros((n, 2))
    X[0, 0] = 1.0
    got = hop_features(path, X, n_hops=3, normalization="random_walk")
    assert got.shape == (n, 8)
    # After 3 hops the mass at node 0 has reached node 3 and no further.
    assert np.flatnonzero(got[:, 6]).tolist() == [0, 1, 2, 3]


def test_isolated_node_without_self_loops_has_zero_diffusions():
    A = _random_graph(isolated=(3,))
    X = np.ones((len(A), 2))
    got = hop_features(A, X, n_hops=2, self_loops=False)
    assert_array_equal(got[3], [1.0, 1.0, 0.0, 0.0, 0.0, 0.0])


def test_random_walk_preserves_constants():
    # Rows of D^-1 (A + I) sum to 1: a constant feature stays constant.
    A = _random_graph(isolated=(5,))
    got = hop_features(A, np.ones((len(A), 1)), n_hops=4, normalization="random_walk")
    assert_allclose(got, 1.0)


@pytest.mark.parametrize("container", [sp.csr_matrix, sp.csr_array, sp.csc_matrix])
@pytest.mark.parametrize("normalization", ["gcn", "random_walk"])
def test_sparse_X_gives_equal_sparse_csr(container, normalization):
    A = sp.csr_matrix(_random_graph())
    rng = np.random.default_rng(2)
    X = np.where(rng.random((len(A.toarray()), 6)) < 0.3, 1.0, 0.0)
    dense = hop_features(A, X, n_hops=3, normalization=normalization)
    sparse = hop_features(A, container(X), n_hops=3, normalization=normalization)
    assert sp.issparse(sparse) and sparse.format == "csr"
    # The container type follows X: sparse array in, sparse array out.
    assert isinstance(sparse, sp.sparray) == isinstance(container(X), sp.sparray)
    assert_allclose(sparse.toarray(), dense, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("sparse_X", [False, True])
def test_float32_preserved_float64_otherwise(sparse_X):
    A = _random_graph()
    X = np.random.default_rng(3).random((len(A), 3))
    wrap = sp.csr_matrix if sparse_X else np.asarray
    out32 = hop_features(A, wrap(X.astype(np.float32)), n_hops=2)
    assert out32.dtype == np.float32
    assert hop_features(A, wrap(X.astype(np.int64)), n_hops=2).dtype == np.float64
    expected = hop_features(A, X, n_hops=2)
    out32 = out32.toarray() if sparse_X else out32
    assert_allclose(out32, expected, rtol=1e-5, atol=1e-6)


def test_inputs_are_not_modified():
    A = sp.csr_matrix(_random_graph())
    A_copy = A.copy()
    X = np.random.default_rng(4).random((A.shape[0], 3))
    X_copy = X.copy()
    hop_features(A, X, n_hops=2, self_loops=False)
    hop_features(A, X, n_hops=2, normalization="random_walk", self_loops=False)
    assert_array_equal(A.toarray(), A_copy.toarray())
    assert_array_equal(X, X_copy)


def test_symmetrize_uses_elementwise_maximum():
    A = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 2.0], [0.0, 3.0, 0.0]])
    X = np.eye(3)
    expected = hop_features(np.maximum(A, A.T), X, n_hops=2)
    assert_allclose(hop_features(A, X, n_hops=2, symmetrize=True), expected)
    assert_allclose(
        hop_features(sp.csr_matrix(A), X, n_hops=2, symmetrize=True), expected
    )


@pytest.mark.parametrize(
    "adjacency, n_rows, message",
    [
        (np.ones((3, 4)), 3, "must be square"),
        (np.ones((4, 4)) - np.eye(4), 3, "4 nodes but X has 3 rows"),
        (np.array([[0.0, -1.0], [-1.0, 0.0]]), 2, "negative weights"),
        (np.array([[0.0, np.nan], [np.nan, 0.0]]), 2, "NaN or infinite"),
        (sp.csr_matrix([[0.0, np.inf], [np.inf, 0.0]]), 2, "NaN or infinite"),
        (np.array([[0.0, 1.0], [0.0, 0.0]]), 2, "not symmetric.*symmetrize=True"),
        (sp.csr_matrix([[0.0, 1.0], [2.0, 0.0]]), 2, "not symmetric"),
    ],
)
def test_adjacency_validation(adjacency, n_rows, message):
    with pytest.raises(ValueError, match=message):
        hop_features(adjacency, np.ones((n_rows, 2)))


def test_parameter_validation():
    A, X = np.zeros((2, 2)), np.ones((2, 1))
    with pytest.raises(ValueError, match="normalization"):
        hop_features(A, X, normalization="sym")
    with pytest.raises(ValueError, match="n_hops"):
        hop_features(A, X, n_hops=-1)
    with pytest.raises(ValueError, match="n_hops"):
        hop_features(A, X, n_hops=1.5)


def test_public_submodule():
    assert skadmm.graph.hop_features is hop_features


# -- HopFeatures -----------------------------------------------------------------


@pytest.fixture(scope="module")
def csbm():
    return make_csbm(
        n_nodes=400, n_features=8, homophily=0.9, feature_signal=0.7, random_state=0
    )


def test_transformer_selects_rows_of_hop_features(csbm):
    A, F, _ = csbm
    nodes = np.array([[5], [0], [399], [5]])
    hops = HopFeatures(A, F, n_hops=2, normalization="random_walk").fit(nodes)
    expected = hop_features(A, F, n_hops=2, normalization="random_walk")
    assert_allclose(hops.hop_features_, expected)
    assert_allclose(hops.transform(nodes), expected[[5, 0, 399, 5]])
    # Any node can be transformed, not only the ones seen in fit.
    assert_allclose(hops.transform([[7]]), expected[[7]])
    assert hops.n_nodes_ == 400
    assert hops.n_features_in_ == 1
    names = hops.get_feature_names_out()
    assert len(names) == 24 and names[0] == "hop0_x0" and names[-1] == "hop2_x7"


def test_transformer_fit_ignores_labels(csbm):
    A, F, y = csbm
    nodes = np.arange(50).reshape(-1, 1)
    with_y = HopFeatures(A, F).fit(nodes, y[:50]).hop_features_
    shuffled = HopFeatures(A, F).fit(nodes, y[:50][::-1]).hop_features_
    assert_array_equal(with_y, shuffled)


def test_transformer_keeps_sparse_features(csbm):
    A, F, _ = csbm
    out = HopFeatures(A, sp.csr_matrix(F), n_hops=1).fit_transform([[1], [2]])
    assert sp.issparse(out) and out.shape == (2, 16)


def test_transformer_accepts_whole_float_indices(csbm):
    A, F, _ = csbm
    hops = HopFeatures(A, F, n_hops=1).fit(np.arange(10).reshape(-1, 1))
    assert_allclose(hops.transform([[3.0]]), hops.transform([[3]]))


@pytest.mark.parametrize(
    "X, message",
    [
        (np.array([[0, 1], [2, 3]]), "column of node indices"),
        (np.array([[0.5], [1.0]]), "integer node indices"),
        (np.array([[0], [400]]), r"in \[0, 399\]"),
        (np.array([[-1], [3]]), r"in \[0, 399\]"),
    ],
)
def test_transformer_rejects_bad_indices(csbm, X, message):
    A, F, _ = csbm
    with pytest.raises(ValueError, match=message):
        HopFeatures(A, F).fit(X)
    fitted = HopFeatures(A, F).fit([[0]])
    # In transform, scikit-learn's own check of the column count comes first.
    with pytest.raises(ValueError, match=f"{message}|expecting 1 features"):
        fitted.transform(X)


def test_transformer_validates_graph_and_params(csbm):
    A, F, _ = csbm
    with pytest.raises(ValueError, match="400 nodes but features has 10 rows"):
        HopFeatures(A, F[:10]).fit([[0]])
    with pytest.raises(ValueError, match="n_hops"):
        HopFeatures(A, F, n_hops=-2).fit([[0]])
    with pytest.raises(ValueError, match="normalization"):
        HopFeatures(A, F, normalization="none").fit([[0]])


def test_clone_keeps_the_graph(csbm):
    A, F, _ = csbm
    hops = clone(HopFeatures(A, F, n_hops=2))
    assert hops.get_params()["n_hops"] == 2
    assert_array_equal(hops.features, F)


def test_pipeline_cross_validation_and_grid_search_over_nodes(csbm):
    A, F, y = csbm
    node_index = np.random.default_rng(0).permutation(len(y))[:300]
    X_nodes = node_index.reshape(-1, 1)
    pipe = Pipeline(
        [("hops", HopFeatures(A, F)), ("clf", LogisticRegression(max_iter=500))]
    )
    scores = cross_val_score(pipe, X_nodes, y[node_index], cv=3)
    assert scores.shape == (3,)

    search = GridSearchCV(pipe, {"hops__n_hops": [0, 2]}, cv=3)
    search.fit(X_nodes, y[node_index])
    results = search.cv_results_["mean_test_score"]
    # On a homophilous graph the diffusions must help: hops beat raw features.
    assert results[1] > results[0] + 0.05
    assert search.best_params_ == {"hops__n_hops": 2}
    test_nodes = np.setdiff1d(np.arange(len(y)), node_index).reshape(-1, 1)
    assert search.score(test_nodes, y[test_nodes[:, 0]]) > 0.8

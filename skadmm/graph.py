"""Graph-augmented features for node classification.

A graph-augmented MLP (GA-MLP, as in pdADMM-G) does not propagate messages
during training: it concatenates the node features with their diffusions over
the graph, ``[X, ÂX, Â²X, ..., Â^k X]``, once, and trains an ordinary network
on the result. :func:`hop_features` computes that matrix and
:class:`HopFeatures` wraps it as a transformer for the transductive setting,
where the samples are node indices of one fixed graph.
"""

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import StrOptions, validate_params
from sklearn.utils.validation import (
    _num_samples,
    check_array,
    check_is_fitted,
    validate_data,
)

from ._params import Count

__all__ = ["HopFeatures", "hop_features"]

_NORMALIZATIONS = ("gcn", "random_walk")
# Relative tolerance of the symmetry check: weights computed in floating point
# (a similarity, a kernel) may differ from their transposes by rounding.
_SYMMETRY_RTOL = 1e-10


def _check_adjacency(adjacency, n_nodes, symmetrize, features_name="X"):
    """Return the adjacency as a float64 CSR matrix after checking it.

    Every check runs before any product, so a wrong graph fails fast and says
    why.
    """
    A = check_array(
        adjacency,
        accept_sparse="csr",
        dtype=np.float64,
        ensure_all_finite=False,
        ensure_min_samples=1,
        input_name="adjacency",
    )
    # A copy: the zero pruning and the normalisation rewrite it in place.
    A = sp.csr_matrix(A, copy=True)
    if A.shape[0] != A.shape[1]:
        raise ValueError(f"adjacency must be square; got shape {A.shape}.")
    if A.shape[0] != n_nodes:
        raise ValueError(
            f"adjacency has {A.shape[0]} nodes but {features_name} has {n_nodes} "
            f"rows; {features_name} needs one row per node, in the adjacency's "
            "order."
        )
    if not np.isfinite(A.data).all():
        raise ValueError("adjacency contains NaN or infinite weights.")
    if A.nnz and A.data.min() < 0:
        raise ValueError("adjacency contains negative weights.")
    A.eliminate_zeros()
    if symmetrize:
        # max(A, A.T) keeps a one-way 0/1 edge at weight 1 (the usual reading
        # of a directed citation graph) where (A + A.T) / 2 would halve it.
        return A.maximum(A.T).tocsr()
    scale = abs(A).max() if A.nnz else 0.0
    if A.nnz and abs(A - A.T).max() > _SYMMETRY_RTOL * scale:
        raise ValueError(
            "adjacency is not symmetric; pass symmetrize=True to use "
            "max(A, A.T), or symmetrize it yourself."
        )
    return A


def _normalize(A, normalization, self_loops):
    """Return Â, the normalised adjacency, as a sparse CSR matrix.

    The degree scaling rewrites the stored weights in place of a product with
    diagonal matrices; a node of zero degree (isolated, without self loops)
    keeps an all-zero row instead of dividing by zero.
    """
    if self_loops:
        A = (A + sp.identity(A.shape[0], format="csr")).tocsr()
    degree = np.asarray(A.sum(axis=1)).ravel()
    positive = degree > 0
    rows = np.repeat(np.arange(A.shape[0]), np.diff(A.indptr))
    if normalization == "gcn":
        scale = np.zeros_like(degree)
        scale[positive] = degree[positive] ** -0.5
        A.data = A.data * scale[rows] * scale[A.indices]
    else:
        scale = np.zeros_like(degree)
        scale[positive] = 1.0 / degree[positive]
        A.data = A.data * scale[rows]
    return A


@validate_params(
    {
        "adjacency": ["array-like", "sparse matrix"],
        "X": ["array-like", "sparse matrix"],
        "n_hops": [Count(0, None, closed="left")],
        "normalization": [StrOptions(set(_NORMALIZATIONS))],
        "self_loops": ["boolean"],
        "symmetrize": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def hop_features(
    adjacency, X, n_hops=3, normalization="gcn", self_loops=True, symmetrize=False
):
    """Concatenate node features with their diffusions over a graph.

    Returns ``[X, ÂX, Â²X, ..., Â^k X]`` with ``k = n_hops``, the input of a
    graph-augmented MLP. Each block is one sparse product with the previous
    one, so neither a dense ``n x n`` matrix nor a power ``Â^k`` is ever
    formed.

    Parameters
    ----------
    adjacency : {array-like, sparse matrix} of shape (n_nodes, n_nodes)
        Non-negative, finite edge weights of an undirected graph (symmetric),
        0 where there is no edge.
    X : {array-like, sparse matrix} of shape (n_nodes, n_features)
        Node features, one row per node in the adjacency's order. float32
        input gives float32 output, any other dtype float64.
    n_hops : int, default=3
        Number of diffusions ``k``; 0 returns ``X`` alone.
    normalization : {"gcn", "random_walk"}, default="gcn"
        How the adjacency becomes the diffusion operator ``Â``, with
        ``Ã = A + I`` (or ``A`` when ``self_loops=False``) and ``D`` the
        diagonal of its row sums:

        - ``"gcn"``: ``Â = D^-1/2 Ã D^-1/2``, the symmetric normalisation of
          GCN and SGC;
        - ``"random_walk"``: ``Â = D^-1 Ã``, the average over each node's
          neighbours.

        A node of zero degree gets an all-zero row of ``Â``.
    self_loops : bool, default=True
        Whether to add the identity to the adjacency before normalising, so
        that each diffusion keeps part of the node's own features. It adds to
        any self loop already in the adjacency.
    symmetrize : bool, default=False
        Whether to replace a directed adjacency by ``max(A, A.T)``: an edge in
        either direction becomes an undirected edge of the same weight. When
        False, an asymmetric adjacency raises an error.

    Returns
    -------
    features : {ndarray, sparse matrix} of shape (n_nodes, (n_hops + 1) * n_features)
        The blocks ``X, ÂX, ..., Â^k X`` side by side; a CSR matrix (of the
        same container type, ``csr_matrix`` or ``csr_array``) when ``X`` is
        sparse, a dense array otherwise.

    Raises
    ------
    ValueError
        If the adjacency is not square, does not have one row per row of
        ``X``, holds negative or non-finite weights, or is asymmetric while
        ``symmetrize=False``.

    See Also
    --------
    HopFeatures : The same features as a transformer over node indices.

    Notes
    -----
    Simplified graph convolution (Wu et al., ICML 2019) keeps the last block
    ``Â^k X`` alone; graph-augmented MLPs such as pdADMM-G (Wang et al., IEEE
    TNNLS 2022) keep all of them, which lets the model weigh each hop.

    Examples
    --------
    >>> import numpy as np
    >>> from skadmm.graph import hop_features
    >>> A = np.array([[0, 1, 0], [1, 0, 1], [0, 1, 0]])
    >>> X = np.array([[1.0], [0.0], [0.0]])
    >>> hop_features(A, X, n_hops=2, normalization="random_walk").round(3)
    array([[1.   , 0.5  , 0.417],
           [0.   , 0.333, 0.278],
           [0.   , 0.   , 0.167]])
    """
    return _hop_features(adjacency, X, n_hops, normalization, self_loops, symmetrize)


def _hop_features(
    adjacency, X, n_hops, normalization, self_loops, symmetrize, features_name="X"
):
    """:func:`hop_features`, its errors calling ``X`` ``features_name`` (the
    transformer's ``features``: its own ``X`` holds node indices)."""
    X = check_array(
        X, accept_sparse="csr", dtype=(np.float64, np.float32), input_name=features_name
    )
    A = _check_adjacency(adjacency, X.shape[0], symmetrize, features_name)
    A = _normalize(A, normalization, self_loops).astype(X.dtype)

    blocks = [X]
    for _ in range(n_hops):
        blocks.append(A @ blocks[-1])
    if not sp.issparse(X):
        return np.hstack(blocks)
    out = sp.hstack(blocks, format="csr")
    return sp.csr_array(out) if isinstance(X, sp.sparray) else sp.csr_matrix(out)


class HopFeatures(TransformerMixin, BaseEstimator):
    """Hop features of the nodes of one graph, selected by node index.

    The transductive form of :func:`hop_features`: the graph and the features
    of all its nodes are fixed at construction and the samples ``X`` are node
    indices, a column of integers. ``fit`` computes the hop features of every
    node once and ``transform`` returns the rows of the given nodes, so the
    transformer fits into a :class:`~sklearn.pipeline.Pipeline` whose
    cross-validation and grid searches split the nodes.

    Fitting uses the graph and the features of all nodes but no label, so
    validation nodes leak no label into training; that is the transductive
    setting of node classification benchmarks (Planetoid, GCN).

    Parameters
    ----------
    adjacency : {array-like, sparse matrix} of shape (n_nodes, n_nodes)
        Non-negative, finite edge weights of the graph, as in
        :func:`hop_features`.
    features : {array-like, sparse matrix} of shape (n_nodes, n_features)
        Features of every node, in the adjacency's order.
    n_hops : int, default=3
        Number of diffusions ``k``.
    normalization : {"gcn", "random_walk"}, default="gcn"
        The normalisation of the adjacency; see :func:`hop_features`.
    self_loops : bool, default=True
        Whether to add the identity to the adjacency before normalising.
    symmetrize : bool, default=False
        Whether to replace a directed adjacency by ``max(A, A.T)``.

    Attributes
    ----------
    hop_features_ : {ndarray, sparse matrix} of shape (n_nodes, n_features_out)
        The hop features of every node, ``n_features_out`` being
        ``(n_hops + 1) * n_features``.
    n_nodes_ : int
        Number of nodes of the graph.
    n_features_in_ : int
        Number of columns of ``X`` seen in ``fit``, always 1.

    See Also
    --------
    hop_features : The function computing the features.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> from skadmm.datasets import make_csbm
    >>> from skadmm.graph import HopFeatures
    >>> A, F, y = make_csbm(n_nodes=300, random_state=0)
    >>> nodes = np.arange(300).reshape(-1, 1)
    >>> model = make_pipeline(HopFeatures(A, F, n_hops=2), LogisticRegression())
    >>> model.fit(nodes[:200], y[:200]).score(nodes[200:], y[200:]) > 0.8
    True
    """

    _parameter_constraints = {
        "adjacency": ["array-like", "sparse matrix"],
        "features": ["array-like", "sparse matrix"],
        "n_hops": [Count(0, None, closed="left")],
        "normalization": [StrOptions(set(_NORMALIZATIONS))],
        "self_loops": ["boolean"],
        "symmetrize": ["boolean"],
    }

    def __init__(
        self,
        adjacency,
        features,
        *,
        n_hops=3,
        normalization="gcn",
        self_loops=True,
        symmetrize=False,
    ):
        self.adjacency = adjacency
        self.features = features
        self.n_hops = n_hops
        self.normalization = normalization
        self.self_loops = self_loops
        self.symmetrize = symmetrize

    def _node_index(self, X, reset, n_nodes):
        """Validate ``X`` as a column of node indices and return it flat."""
        X = validate_data(self, X, dtype=None, reset=reset)
        if X.shape[1] != 1:
            raise ValueError(
                "X must be a column of node indices, of shape (n_samples, 1); "
                f"got {X.shape[1]} columns."
            )
        index = X[:, 0]
        if not np.issubdtype(index.dtype, np.integer):
            # Float indices are accepted when whole (some tools cast to float).
            if not (
                np.issubdtype(index.dtype, np.floating)
                and np.array_equal(index, np.round(index))
            ):
                raise ValueError("X must hold integer node indices.")
            index = index.astype(np.intp)
        if index.size and (index.min() < 0 or index.max() >= n_nodes):
            raise ValueError(
                f"node indices must lie in [0, {n_nodes - 1}]; got values in "
                f"[{index.min()}, {index.max()}]."
            )
        return index

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Compute the hop features of every node of the graph.

        Parameters
        ----------
        X : array-like of shape (n_samples, 1)
            Node indices; only validated, since the features of all nodes are
            computed.
        y : None
            Ignored; fitting uses no label.

        Returns
        -------
        self : HopFeatures
            The fitted transformer.
        """
        # X is checked first: a wrong input fails before the products.
        self._node_index(X, reset=True, n_nodes=_num_samples(self.features))
        self.hop_features_ = _hop_features(
            self.adjacency,
            self.features,
            self.n_hops,
            self.normalization,
            self.self_loops,
            self.symmetrize,
            features_name="features",
        )
        self.n_nodes_ = self.hop_features_.shape[0]
        return self

    def transform(self, X):
        """Return the hop features of the given nodes.

        Parameters
        ----------
        X : array-like of shape (n_samples, 1)
            Node indices, in ``[0, n_nodes_)``.

        Returns
        -------
        X_new : {ndarray, sparse matrix} of shape (n_samples, n_features_out)
            The rows of :attr:`hop_features_` of the given nodes.
        """
        check_is_fitted(self)
        return self.hop_features_[
            self._node_index(X, reset=False, n_nodes=self.n_nodes_)
        ]

    def get_feature_names_out(self, input_features=None):
        """Names of the output features, ``hop{k}_x{j}``.

        Parameters
        ----------
        input_features : None
            Ignored: the input is a column of node indices, not the features.

        Returns
        -------
        feature_names_out : ndarray of str objects
            ``hop0_x0, ..., hop0_x{d-1}, hop1_x0, ...``, block ``k`` being
            ``Â^k X``.
        """
        check_is_fitted(self)
        n_features = self.hop_features_.shape[1] // (self.n_hops + 1)
        return np.asarray(
            [f"hop{k}_x{j}" for k in range(self.n_hops + 1) for j in range(n_features)],
            dtype=object,
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # The output dtype is the node features', whatever the indices' dtype.
        tags.transformer_tags.preserves_dtype = []
        tags.input_tags.sparse = False
        return tags

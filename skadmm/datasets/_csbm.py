"""Contextual stochastic block model: a synthetic graph with node features."""

from numbers import Real

import numpy as np
import scipy.sparse as sp
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, validate_params

from .._params import Count


def _upper_pairs(index, n):
    """Map linear indices of the pairs ``i < j`` of ``n`` items to ``(i, j)``.

    The pairs are numbered row by row, ``(0, 1), (0, 2), ..., (1, 2), ...``;
    the closed form inverts that numbering without enumerating the pairs.
    """
    index = np.asarray(index, dtype=np.float64)
    total = n * (n - 1) // 2
    # Count from the end, where row r (from the bottom) holds r pairs.
    back = total - 1 - index
    r = np.floor((np.sqrt(8 * back + 1) - 1) / 2).astype(np.int64)
    # Guard the float square root at perfect squares.
    r += (r + 1) * (r + 2) // 2 <= back
    r -= r * (r + 1) // 2 > back
    i = n - 2 - r
    j = n - 1 - (back.astype(np.int64) - r * (r + 1) // 2)
    return i, j


def _sample_block(rng, n_pairs, p):
    """Draw the linear indices of the edges of one block of node pairs.

    The number of edges is binomial, as with one coin per pair; the edges
    themselves are distinct pairs drawn without replacement, which a numpy
    Generator does in time linear in their number when they are a small
    fraction of ``n_pairs``.
    """
    n_edges = rng.binomial(n_pairs, p) if n_pairs else 0
    return rng.choice(n_pairs, size=n_edges, replace=False)


@validate_params(
    {
        "n_nodes": [Count(2, None, closed="left")],
        "n_classes": [Count(2, None, closed="left")],
        "n_features": [Count(1, None, closed="left")],
        "homophily": [Interval(Real, 0, 1, closed="both")],
        "feature_signal": [Interval(Real, 0, None, closed="left")],
        "average_degree": [Interval(Real, 0, None, closed="left")],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_csbm(
    n_nodes=1000,
    n_classes=2,
    n_features=16,
    homophily=0.8,
    feature_signal=1.0,
    average_degree=10.0,
    random_state=None,
):
    """Generate a contextual stochastic block model (CSBM) graph.

    The synthetic benchmark of node classification: labels drawn uniformly
    over the classes, an edge between two nodes with probability ``p_in`` if
    they share their class and ``p_out`` otherwise, and node features drawn
    around a mean per class. ``homophily`` sets how much the graph says about
    the labels, ``feature_signal`` how much the features do.

    Parameters
    ----------
    n_nodes : int, default=1000
        Number of nodes.
    n_classes : int, default=2
        Number of classes.
    n_features : int, default=16
        Number of node features.
    homophily : float, default=0.8
        Expected fraction of the edges that join two nodes of the same class.
        ``1 / n_classes`` makes the graph independent of the labels, 1 keeps
        every edge inside a class, 0 every edge between classes.
    feature_signal : float, default=1.0
        Norm of the class means of the features; 0 makes the features pure
        noise.
    average_degree : float, default=10.0
        Expected mean number of neighbours of a node.
    random_state : int, RandomState instance or None, default=None
        Seeds the labels, the edges and the features.

    Returns
    -------
    adjacency : sparse matrix of shape (n_nodes, n_nodes)
        CSR matrix of the undirected graph: symmetric, no self loop, every
        stored weight 1.0.
    X : ndarray of shape (n_nodes, n_features)
        Node features: ``feature_signal`` times the unit mean of the node's
        class plus standard Gaussian noise.
    y : ndarray of shape (n_nodes,)
        Class of every node, an integer in ``[0, n_classes)``.

    Raises
    ------
    ValueError
        If the requested degree and homophily need an edge probability above
        1 (too few pairs of nodes inside, or between, the classes).

    Notes
    -----
    With ``m = n_nodes * average_degree / 2`` expected edges, ``p_in`` spreads
    ``homophily * m`` of them over the pairs inside the classes and ``p_out``
    the rest over the pairs between them, given the drawn class sizes. Each
    block of pairs (a class with itself, or two classes) draws its number of
    edges from the binomial law and then that many distinct pairs, so no
    ``n_nodes x n_nodes`` matrix is formed.

    The class means are independent random directions of unit norm, as in
    Deshpande et al., "Contextual Stochastic Block Models", NeurIPS 2018.

    Examples
    --------
    >>> from skadmm.datasets import make_csbm
    >>> A, X, y = make_csbm(n_nodes=500, homophily=0.9, random_state=0)
    >>> A.shape, X.shape, y.shape
    ((500, 500), (500, 16), (500,))
    >>> rows, cols = A.nonzero()
    >>> bool(abs((y[rows] == y[cols]).mean() - 0.9) < 0.05)
    True
    """
    # A Generator: its choice without replacement costs the number of edges
    # drawn, where RandomState's shuffles every pair of a block.
    seed = check_random_state(random_state).randint(np.iinfo(np.int32).max)
    rng = np.random.default_rng(seed)
    y = rng.integers(n_classes, size=n_nodes)
    # Nodes sorted by class: block c holds positions start[c]:start[c + 1].
    order = np.argsort(y, kind="stable")
    sizes = np.bincount(y, minlength=n_classes)
    start = np.concatenate([[0], np.cumsum(sizes)])

    pairs_in = int((sizes * (sizes - 1) // 2).sum())
    pairs_out = n_nodes * (n_nodes - 1) // 2 - pairs_in
    n_edges = n_nodes * average_degree / 2
    p_in = homophily * n_edges / pairs_in if pairs_in else 0.0
    p_out = (1 - homophily) * n_edges / pairs_out if pairs_out else 0.0
    if p_in > 1 or p_out > 1:
        raise ValueError(
            f"average_degree={average_degree} with homophily={homophily} needs "
            f"edge probabilities p_in={p_in:.3g}, p_out={p_out:.3g} above 1 for "
            f"{n_nodes} nodes; lower average_degree or move homophily."
        )

    # One draw per block of pairs: a loop over the classes, not the nodes.
    rows, cols = [], []
    for a in range(n_classes):
        n_a = int(sizes[a])
        i, j = _upper_pairs(_sample_block(rng, n_a * (n_a - 1) // 2, p_in), n_a)
        rows.append(start[a] + i)
        cols.append(start[a] + j)
        for b in range(a + 1, n_classes):
            index = _sample_block(rng, n_a * int(sizes[b]), p_out)
            rows.append(start[a] + index // sizes[b])
            cols.append(start[b] + index % sizes[b])
    rows = order[np.concatenate(rows).astype(np.int64)]
    cols = order[np.concatenate(cols).astype(np.int64)]
    data = np.ones(2 * len(rows))
    adjacency = sp.csr_matrix(
        (data, (np.concatenate([rows, cols]), np.concatenate([cols, rows]))),
        shape=(n_nodes, n_nodes),
    )

    means = rng.standard_normal((n_classes, n_features))
    means /= np.linalg.norm(means, axis=1, keepdims=True)
    X = feature_signal * means[y] + rng.standard_normal((n_nodes, n_features))
    return adjacency, X, y

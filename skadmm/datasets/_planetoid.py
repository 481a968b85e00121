"""Loader for the Cora and CiteSeer citation graphs shipped with the package."""

from importlib.resources import files

import numpy as np
import scipy.sparse as sp
from sklearn.utils import Bunch

_NAMES = ("cora", "citeseer")


def load_planetoid(name, *, return_X_y=False):
    """Load Cora or CiteSeer in the Planetoid public split (node classification).

    Citation graphs whose nodes are papers, with 0/1 bag-of-words features and
    the paper's topic as class, split as in Yang, Cohen and Salakhutdinov
    (ICML 2016): 20 labelled nodes per class for training, 500 for validation
    and 1,000 for test, the split of GCN, SGC and pdADMM-G. The files ship
    with the package; nothing is downloaded.

    ==============   =============   =============
    Graph            cora            citeseer
    ==============   =============   =============
    Nodes            2708            3327
    Edges            5278            4552
    Features         1433 (0/1)      3703 (0/1)
    Classes          7               6
    Split            140/500/1000    120/500/1000
    ==============   =============   =============

    Parameters
    ----------
    name : {"cora", "citeseer"}
        Which graph to load; the case is ignored.
    return_X_y : bool, default=False
        If True, return ``(adjacency, data, target)`` instead of a Bunch: a
        node classifier needs the graph as well as the features.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with the following attributes.

        adjacency : sparse matrix of shape (n_nodes, n_nodes)
            CSR matrix of the undirected citation graph: symmetric, no self
            loop, every stored weight 1.0.
        data : sparse matrix of shape (n_nodes, n_features)
            CSR matrix of the float32 0/1 word indicators of each node.
        target : ndarray of shape (n_nodes,)
            The int64 class of every node.
        train_index, val_index, test_index : ndarray of int64
            The nodes of the public split's training, validation and test
            sets, disjoint.
        DESCR : str
            The full description of the dataset.
        name : str
            The loaded graph, ``"cora"`` or ``"citeseer"``.

    (adjacency, data, target) : tuple if ``return_X_y`` is True
        The graph, the feature matrix and the target, as described above.

    Notes
    -----
    CiteSeer holds 15 nodes that the original files list in the graph but
    give no features or label (often called isolated, though each has one or
    two edges): their feature rows are zero, their target is 0 and they are
    in no split. Its graph has 48 nodes without edges, 6 of them in the
    validation split and 12 in the test split.

    Z. Yang, W. Cohen and R. Salakhutdinov, "Revisiting Semi-Supervised
    Learning with Graph Embeddings", ICML 2016. P. Sen, G. Namata, M. Bilgic,
    L. Getoor, B. Gallagher and T. Eliassi-Rad, "Collective Classification in
    Network Data", AI Magazine 29(3):93-106, 2008.

    Examples
    --------
    >>> from skadmm.datasets import load_planetoid
    >>> cora = load_planetoid("cora")
    >>> cora.adjacency.shape, cora.data.shape
    ((2708, 2708), (2708, 1433))
    >>> len(cora.train_index), len(cora.val_index), len(cora.test_index)
    (140, 500, 1000)
    """
    key = name.lower() if isinstance(name, str) else name
    if key not in _NAMES:
        raise ValueError(
            f"name must be one of {', '.join(map(repr, _NAMES))}; got {name!r}."
        )

    resource = files("skadmm.datasets") / "data" / f"{key}.npz"
    with resource.open("rb") as f, np.load(f, allow_pickle=False) as z:
        data = sp.csr_matrix(
            (z["features_data"], z["features_indices"], z["features_indptr"]),
            shape=tuple(map(int, z["features_shape"])),
        )
        indices = z["adjacency_indices"]
        adjacency = sp.csr_matrix(
            (np.ones(len(indices)), indices, z["adjacency_indptr"]),
            shape=tuple(map(int, z["adjacency_shape"])),
        )
        target = z["labels"]
        split = {k: z[k] for k in ("train_index", "val_index", "test_index")}

    if return_X_y:
        return adjacency, data, target

    descr = files("skadmm.datasets") / "descr" / "planetoid.rst"
    return Bunch(
        adjacency=adjacency,
        data=data,
        target=target,
        **split,
        DESCR=descr.read_text(encoding="utf-8"),
        name=key,
    )

"""The Cora and CiteSeer loader: shapes, split and graph of the shipped files."""

import hashlib
from importlib.resources import files

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_array_equal

from skadmm.datasets import load_planetoid

# sha256 of the shipped files, from the data README.
SHA256 = {
    "cora": "3f63e54bb80c3f2c14375e6e520956c421b6604c91fd1a0c765b03304fd4dd4f",
    "citeseer": "da6f519c8bd7e827f1d7e33cc30d0eddaeec77f122eb6599f7b29167c61afea0",
}
# nodes, features, classes, undirected edges, training nodes
SHAPES = {"cora": (2708, 1433, 7, 5278, 140), "citeseer": (3327, 3703, 6, 4552, 120)}


@pytest.mark.parametrize("name", ["cora", "citeseer"])
def test_shipped_files_match_checksums(name):
    content = (files("skadmm.datasets") / "data" / f"{name}.npz").read_bytes()
    assert hashlib.sha256(content).hexdigest() == SHA256[name]


@pytest.mark.parametrize("name", ["cora", "citeseer"])
def test_shapes_and_split(name):
    n_nodes, n_features, n_classes, n_edges, n_train = SHAPES[name]
    bunch = load_planetoid(name)
    assert bunch.name == name
    assert sp.issparse(bunch.data) and bunch.data.format == "csr"
    assert bunch.data.shape == (n_nodes, n_features)
    assert bunch.data.dtype == np.float32
    assert set(np.unique(bunch.data.data)) == {1.0}
    assert bunch.target.shape == (n_nodes,)
    assert bunch.target.dtype == np.int64
    assert len(np.unique(bunch.target)) == n_classes

    assert len(bunch.train_index) == n_train
    assert len(bunch.val_index) == 500
    assert len(bunch.test_index) == 1000
    split = np.concatenate([bunch.train_index, bunch.val_index, bunch.test_index])
    assert len(np.unique(split)) == len(split)
    assert split.min() >= 0 and split.max() < n_nodes
    # 20 labelled training nodes per class.
    assert_array_equal(np.bincount(bunch.target[bunch.train_index]), 20)
    assert "Yang, Cohen and Salakhutdinov" in bunch.DESCR
    assert "MIT licence" in bunch.DESCR


@pytest.mark.parametrize("name", ["cora", "citeseer"])
def test_adjacency_is_symmetric_unweighted_without_self_loops(name):
    n_nodes, _, _, n_edges, _ = SHAPES[name]
    A = load_planetoid(name).adjacency
    assert sp.issparse(A) and A.format == "csr"
    assert A.shape == (n_nodes, n_nodes)
    assert (A != A.T).nnz == 0
    assert A.diagonal().max() == 0
    assert_array_equal(A.data, 1.0)
    assert A.nnz == 2 * n_edges


def test_citeseer_unlabelled_nodes_are_in_no_split():
    """As the docstring says: 15 nodes without features or label, each with
    one or two edges, and 48 nodes without edges, 6 and 12 of them in the
    validation and test splits."""
    bunch = load_planetoid("citeseer")
    empty = np.flatnonzero(bunch.data.getnnz(axis=1) == 0)
    assert len(empty) == 15
    split = np.concatenate([bunch.train_index, bunch.val_index, bunch.test_index])
    assert not np.isin(empty, split).any()
    degree = bunch.adjacency.getnnz(axis=1)
    assert set(degree[empty]) == {1, 2}
    isolated = degree == 0
    assert isolated.sum() == 48
    assert [isolated[bunch[f"{s}_index"]].sum() for s in ("train", "val", "test")] == [
        0,
        6,
        12,
    ]


def test_return_X_y_and_case():
    A, X, y = load_planetoid("Cora", return_X_y=True)
    bunch = load_planetoid("cora")
    assert (A != bunch.adjacency).nnz == 0
    assert (X != bunch.data).nnz == 0
    assert_array_equal(y, bunch.target)
    assert load_planetoid("CiteSeer").name == "citeseer"


@pytest.mark.parametrize("name", ["pubmed", "", None, 3])
def test_bad_name_raises(name):
    with pytest.raises(ValueError, match="'cora', 'citeseer'"):
        load_planetoid(name)

"""The contextual stochastic block model generator."""

import time
from itertools import combinations

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_array_equal

from skadmm.datasets import make_csbm
from skadmm.datasets._csbm import _upper_pairs


def _homophily(A, y):
    rows, cols = A.nonzero()
    return (y[rows] == y[cols]).mean()


@pytest.mark.parametrize("n", [2, 3, 7, 50])
def test_upper_pairs_inverts_the_row_major_numbering(n):
    expected = np.array(list(combinations(range(n), 2)))
    i, j = _upper_pairs(np.arange(len(expected)), n)
    assert_array_equal(np.column_stack([i, j]), expected)


def test_upper_pairs_exact_for_large_blocks():
    # Far beyond 2**26 pairs the float square root must still land on its row.
    n = 200_003
    total = n * (n - 1) // 2
    index = np.array([0, 1, n - 2, n - 1, total // 2, total - 2, total - 1])
    i, j = _upper_pairs(index, n)
    # Row i starts at pair i * (2n - i - 1) / 2.
    assert_array_equal(i * (2 * n - i - 1) // 2 + (j - i - 1), index)
    assert ((0 <= i) & (i < j) & (j < n)).all()


@pytest.mark.parametrize("n_classes", [2, 5])
def test_symmetric_unweighted_without_self_loops(n_classes):
    A, X, y = make_csbm(n_nodes=600, n_classes=n_classes, random_state=0)
    assert sp.issparse(A) and A.format == "csr"
    assert A.shape == (600, 600)
    assert (A != A.T).nnz == 0
    assert A.diagonal().max() == 0
    assert_array_equal(A.data, 1.0)
    assert X.shape == (600, 16) and y.shape == (600,)
    assert set(np.unique(y)) == set(range(n_classes))


@pytest.mark.parametrize("homophily", [0.1, 0.5, 0.9, 1.0])
@pytest.mark.parametrize("n_classes", [2, 4])
def test_measured_homophily_and_degree_match(homophily, n_classes):
    A, _, y = make_csbm(
        n_nodes=4000,
        n_classes=n_classes,
        homophily=homophily,
        average_degree=8.0,
        random_state=1,
    )
    assert abs(_homophily(A, y) - homophily) < 0.02
    assert abs(A.nnz / 4000 - 8.0) < 0.3


def test_features_carry_the_class_means():
    _, X, y = make_csbm(n_nodes=3000, n_features=5, feature_signal=3.0, random_state=2)
    for c in (0, 1):
        mean = X[y == c].mean(axis=0)
        assert abs(np.linalg.norm(mean) - 3.0) < 0.2
    _, X0, _ = make_csbm(n_nodes=3000, feature_signal=0.0, random_state=2)
    assert abs(X0.mean()) < 0.02 and abs(X0.std() - 1.0) < 0.02


def test_reproducible_with_random_state():
    first = make_csbm(n_nodes=300, random_state=3)
    second = make_csbm(n_nodes=300, random_state=3)
    other = make_csbm(n_nodes=300, random_state=4)
    assert (first[0] != second[0]).nnz == 0
    assert_array_equal(first[1], second[1])
    assert_array_equal(first[2], second[2])
    assert (first[0] != other[0]).nnz > 0
    rng = np.random.RandomState(5)
    assert make_csbm(n_nodes=50, random_state=rng)[0].shape == (50, 50)


def test_ten_thousand_nodes_are_fast():
    start = time.perf_counter()
    A, _, _ = make_csbm(n_nodes=10_000, n_classes=3, random_state=0)
    # Well under a second even on a loaded machine; a dense n x n sampler
    # would take seconds and 800 MB.
    assert time.perf_counter() - start < 1.0
    assert abs(A.nnz / 10_000 - 10.0) < 0.3


def test_impossible_degree_raises():
    with pytest.raises(ValueError, match="above 1"):
        make_csbm(n_nodes=20, average_degree=15.0, homophily=1.0, random_state=0)


def test_parameter_validation():
    with pytest.raises(ValueError, match="homophily"):
        make_csbm(homophily=1.5)
    with pytest.raises(ValueError, match="n_classes"):
        make_csbm(n_classes=1)

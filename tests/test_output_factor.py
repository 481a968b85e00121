"""The output side of the reset mode's W steps (K-FAC's second factor)."""

import numpy as np
import pytest
import scipy.sparse as sp

from skadmm._rows import RowWeights
from skadmm._splitting._output_factor import (
    OutputFactor,
    move_gram,
    precondition_change,
)


def _spd(rng, width):
    B = rng.standard_normal((width, 2 * width))
    return B @ B.T / width


@pytest.mark.parametrize("damping", [0.03, 0.3, 3.0])
def test_change_is_multiplied_by_the_damped_inverse_of_the_factor(damping):
    rng = np.random.default_rng(0)
    F = _spd(rng, 6)
    old, new = rng.standard_normal((2, 5, 6))
    m = np.trace(F) / 6
    # The oracle: an explicit inverse, not a Cholesky solve.
    inverse = np.linalg.inv(F + damping * m * np.eye(6))
    expected = old + (new - old) @ inverse * (1 + damping) * m
    got = precondition_change(old, new, F, damping)
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)
    # Not the identity: the test would fail if the factor were ignored.
    assert not np.allclose(got, new, atol=1e-3)


def test_isotropic_factor_and_no_move_leave_the_step():
    rng = np.random.default_rng(1)
    old, new = rng.standard_normal((2, 4, 3))
    np.testing.assert_allclose(precondition_change(old, new, 7.0 * np.eye(3), 0.3), new)
    for F in (np.zeros((3, 3)), np.full((3, 3), np.nan)):
        assert precondition_change(old, new, F, 0.3) is new


def test_float32_change_stays_float32():
    rng = np.random.default_rng(2)
    F = _spd(rng, 4).astype(np.float32)
    old, new = rng.standard_normal((2, 3, 4)).astype(np.float32)
    got = precondition_change(old, new, F, 0.3)
    assert got.dtype == np.float32
    expected = precondition_change(*(a.astype(np.float64) for a in (old, new, F)), 0.3)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("chunk_rows", [1, 7, 1000])
def test_move_gram_is_the_weighted_gram_of_the_moves(sparse, weighted, chunk_rows):
    rng = np.random.default_rng(3)
    n, d, width = 40, 5, 6
    A = rng.standard_normal((n, d))
    A[A < 0.5] = 0.0
    W, Z = rng.standard_normal((d, width)), rng.standard_normal((n, width))
    sw = rng.uniform(0.2, 3.0, n) if weighted else None
    rw = RowWeights(sw, n, np.dtype(np.float64))
    got = move_gram(rw, sp.csr_matrix(A) if sparse else A, W, Z, chunk_rows)
    D = Z - A @ W
    s = np.full(n, 1.0 / n) if sw is None else sw / sw.sum()
    np.testing.assert_allclose(got, D.T @ (s[:, None] * D), rtol=1e-12, atol=1e-14)


def test_factor_is_computed_every_refresh_steps_and_reused_in_between():
    rng = np.random.default_rng(4)
    grams = [_spd(rng, 5) for _ in range(3)]
    old, new = rng.standard_normal((2, 3, 5))
    factor = OutputFactor(0.3, refresh=3)
    dues = []
    for step in range(7):
        dues.append(factor.due)
        fresh = grams[step // 3]
        got = factor.change(1, old, new, fresh if factor.due else None)
        expected = precondition_change(old, new, fresh, 0.3)
        np.testing.assert_allclose(got, expected, rtol=1e-12)
        factor.step_done()
    assert dues == [True, False, False, True, False, False, True]
    # A layer without a factor yet keeps its change.
    assert factor.change(0, old, new) is new

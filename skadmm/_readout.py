"""The linear read-out as a weighted ridge problem on the network's own features.

Given the hidden weights, the read-out that minimises the training objective
``(1/2) ||[U, 1] W - Y||_S^2 + (alpha/2) ||W without bias||^2`` (``U`` the forward
features, ``S`` the normalised sample weights) is a ridge solution. skadmm uses
it twice: to start ADMM from the best read-out of the random features, and to
make the returned network's read-out exactly optimal for its forward features,
which the ADMM read-out (fitted to the auxiliary ``U``) is only up to the
relaxation gap.
"""

import numpy as np

from ._linalg import spd_solve
from ._network import hidden_features
from ._splitting._rows import RowWeights


def ridge_readout(U, Y, sample_weight, alpha):
    """``(n + 1, m)`` read-out (bias last) minimising the weighted ridge objective.

    Solves ``(A^T S A + alpha I') W = A^T S Y`` with ``A = [U, 1]`` and ``I'`` the
    identity without the bias entry. The bias is not penalised, so the system
    is positive definite whenever ``alpha > 0`` or ``A`` has full column rank;
    otherwise (``alpha=0`` with fewer rows than features, equal or constant
    columns) :func:`~skadmm._linalg.spd_solve` returns a least-squares solution.
    """
    rw = RowWeights(sample_weight, U.shape[0], U.dtype)
    A = np.empty((U.shape[0], U.shape[1] + 1), dtype=U.dtype)
    A[:, :-1] = U
    A[:, -1] = 1.0
    return ridge_solve(A, Y, rw, alpha)


def ridge_solve(A, Y, rw, alpha):
    """Read-out for augmented features ``A = [U, 1]`` and row weights ``rw``."""
    G = rw.gram(A)
    diag = np.einsum("ii->i", G)
    diag[:-1] += alpha
    return spd_solve(G, rw.cross(A, Y), overwrite_a=True)


def refit_readout(X, Y, sample_weight, weights, activation, alpha):
    """``weights`` with the read-out replaced by the ridge fit on forward features."""
    U = hidden_features(X, weights[:-1], activation)
    return [*weights[:-1], ridge_readout(U, Y, sample_weight, alpha)]

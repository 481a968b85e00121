"""The linear read-out as a weighted ridge problem on the network's own features.

Given the hidden weights, the read-out that minimises the training objective
``(1/2) ||[U, 1] W - Y||_S^2 + (alpha/2) ||W without bias||^2`` (``U`` the forward
features, ``S`` the normalised sample weights) is a ridge solution. skadmm uses
it twice: to start ADMM from the best read-out of the random features, and to
make the returned network's read-out exactly optimal for its forward features,
which the ADMM read-out (fitted to the auxiliary ``U``) is only up to the
relaxation gap.
"""

from ._linalg import augment
from ._losses import SquaredLoss
from ._network import hidden_features
from ._rows import RowWeights


def ridge_readout(U, Y, sample_weight, alpha):
    """The squared loss's :func:`fit_readout`.

    ``(n + 1, m)`` read-out (bias last) minimising the weighted ridge objective.

    Solves ``(A^T S A + alpha I') W = A^T S Y`` with ``A = [U, 1]`` and ``I'`` the
    identity without the bias entry. The bias is not penalised, so the system
    is positive definite whenever ``alpha > 0`` or ``A`` has full column rank;
    otherwise (``alpha=0`` with fewer rows than features, equal or constant
    columns) :func:`~skadmm._linalg.spd_solve` returns a least-squares solution.
    """
    return fit_readout(U, Y, sample_weight, alpha, SquaredLoss())


def fit_readout(U, Y, sample_weight, alpha, loss, init=None):
    """``(n + 1, m)`` read-out minimising ``loss`` of ``[U, 1] W`` plus the penalty.

    ``init`` (the current read-out) starts the iterative solvers of losses
    without a closed form.
    """
    rw = RowWeights(sample_weight, U.shape[0], U.dtype)
    # Sparse only without a hidden layer (U is X): [X, 1] then stays sparse.
    A = augment(U)
    return loss.fit_readout(A, Y, rw, alpha, init)


def refit_readout(X, Y, sample_weight, weights, activation, alpha, loss):
    """``weights`` with the read-out replaced by the best one for forward features."""
    U = hidden_features(X, weights[:-1], activation)
    readout = fit_readout(U, Y, sample_weight, alpha, loss, init=weights[-1])
    return [*weights[:-1], readout]

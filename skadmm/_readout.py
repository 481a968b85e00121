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
from ._network import hidden_features
from ._rows import RowWeights


def fit_readout(U, Y, sample_weight, alpha, loss, init=None, max_iter=None):
    """``(n + 1, m)`` read-out minimising ``loss`` of ``[U, 1] W`` plus the penalty.

    ``init`` (the current read-out) starts the iterative solvers of losses
    without a closed form; with ``max_iter`` they take that many steps.
    """
    rw = RowWeights(sample_weight, U.shape[0], U.dtype)
    # Sparse only without a hidden layer (U is X): [X, 1] then stays sparse.
    A = augment(U)
    return loss.fit_readout(A, Y, rw, alpha, init, max_iter)


def refit_readout(X, Y, sample_weight, weights, activation, alpha, loss, max_iter=None):
    """``weights`` with the read-out replaced by the best one for forward
    features (``max_iter``: a cross-entropy's majorised steps from
    ``weights[-1]`` towards it, see ``loss.fit_readout``)."""
    U = hidden_features(X, weights[:-1], activation)
    readout = fit_readout(
        U, Y, sample_weight, alpha, loss, init=weights[-1], max_iter=max_iter
    )
    return [*weights[:-1], readout]

"""The random regression problem that the splitting tests iterate on.

Two smooth nonlinear outputs of four Gaussian inputs plus noise, optional
positive sample weights, and the network's own initial weights: every
relaxation's property tests start from the same kind of state, so that a
difference between their results is a difference between the relaxations.
"""

import numpy as np

from skadmm._activations import get_activation
from skadmm._network import init_weights


def random_problem(n_samples, activation, *, width, n_blocks, weighted=False, seed=0):
    """``X, Y, sample_weight, initial weights, activation`` drawn from ``seed``."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, 4))
    Y = np.column_stack([np.sin(X[:, 0]) * X[:, 1], X[:, 2] ** 2])
    Y += 0.1 * rng.standard_normal(Y.shape)
    sw = rng.uniform(0.2, 3.0, n_samples) if weighted else None
    act = get_activation(activation)
    W = init_weights(X.shape[1], width, n_blocks, Y.shape[1], act, rng, X.dtype)
    return X, Y, sw, W, act

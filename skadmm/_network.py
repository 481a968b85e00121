"""Fully connected residual network: initialisation and forward pass.

Weights are stored as ``(fan_in + 1, fan_out)`` matrices whose last row is the bias,
so every layer is ``[U, 1] @ W``::

    U_1 = s([X, 1] W_1)                      lifting layer, d -> width
    U_l = U_{l-1} + s([U_{l-1}, 1] W_l)      residual blocks, l = 2 .. L-1
    out = [U_{L-1}, 1] W_L                   linear read-out, width -> n_outputs
"""

import numpy as np


def init_weights(n_features, width, n_blocks, n_outputs, activation, rng, dtype):
    """Draw the initial weights of a residual network.

    The lifting layer gets a He/Glorot-style scale (``gain / sqrt(fan_in)``); the
    residual branches are scaled down by ``1 / sqrt(n_blocks)`` so that the sum of
    ``n_blocks`` branches keeps the variance of ``U`` of order one at any depth; the
    read-out starts small. Biases start at zero.
    """
    if width == 0:
        # No hidden layer: the model is linear (used to compare with Ridge).
        return [np.zeros((n_features + 1, n_outputs), dtype=dtype)]
    weights = [_dense(n_features, width, activation.gain, rng, dtype)]
    branch_gain = activation.gain / np.sqrt(max(n_blocks, 1))
    weights += [_dense(width, width, branch_gain, rng, dtype) for _ in range(n_blocks)]
    weights.append(_dense(width, n_outputs, 1.0, rng, dtype))
    return weights


def append_identity_blocks(weights, n_new, activation):
    """``weights`` with ``n_new`` residual blocks of zero weights before the read-out.

    A block with zero weights adds ``s(0)`` to its input: nothing for relu,
    leaky_relu and tanh; a constant ``1/2`` per unit for sigmoid, which the
    read-out's bias absorbs. The grown network computes the same function as
    ``weights`` (up to rounding).
    """
    if n_new <= 0 or len(weights) < 2:
        return list(weights)
    width = weights[-1].shape[0] - 1
    dtype = weights[-1].dtype
    block = np.zeros((width + 1, width), dtype=dtype)
    readout = weights[-1].copy()
    shift = float(activation(np.zeros(1, dtype=dtype))[0]) * n_new
    if shift:
        readout[-1] -= shift * readout[:-1].sum(axis=0)
    return [*weights[:-1], *(block.copy() for _ in range(n_new)), readout]


def _dense(fan_in, fan_out, gain, rng, dtype):
    W = np.zeros((fan_in + 1, fan_out), dtype=dtype)
    W[:-1] = rng.standard_normal((fan_in, fan_out)) * (gain / np.sqrt(fan_in))
    return W


def forward(X, weights, activation):
    """Predictions of the network for ``X`` (shape ``(n_samples, n_outputs)``)."""
    return affine(hidden_features(X, weights[:-1], activation), weights[-1])


def hidden_features(X, hidden_weights, activation):
    """Output of the last hidden layer (``X`` itself when there is none)."""
    if not hidden_weights:
        return X
    U = activation(affine(X, hidden_weights[0]))
    for W in hidden_weights[1:]:
        U += activation(affine(U, W))
    return U


def stack_weights(coefs, intercepts, dtype=None):
    """``(fan_in + 1, fan_out)`` weight matrices (bias last) from scikit-learn's
    ``coefs_`` and ``intercepts_``."""
    return [
        np.vstack([c, b[None]]).astype(dtype or c.dtype, copy=False)
        for c, b in zip(coefs, intercepts, strict=True)
    ]


def predict_outputs(X, coefs, intercepts, activation, one_dimensional):
    """Forward pass of fitted weights; 1-d when the target was 1-d."""
    pred = forward(X, stack_weights(coefs, intercepts), activation)
    return pred.ravel() if one_dimensional and pred.shape[1] == 1 else pred


def affine(U, W):
    """``[U, 1] @ W`` without building ``[U, 1]``."""
    out = U @ W[:-1]
    out += W[-1]
    return out

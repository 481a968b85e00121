"""Fully connected residual network: initialisation and forward pass.

Weights are stored as ``(fan_in + 1, fan_out)`` matrices whose last row is the bias,
so every layer is ``[U, 1] @ W``::

    U_1 = s([X, 1] W_1)                      lifting layer, d -> width
    U_l = U_{l-1} + s([U_{l-1}, 1] W_l)      residual blocks, l = 2 .. L-1
    out = [U_{L-1}, 1] W_L                   linear read-out, width -> n_outputs
"""

from functools import partial

import numpy as np
from sklearn.utils import gen_even_slices

from ._activations import relu_zeros
from ._linalg import dense_product
from ._rows import block_rows, rows_of


def init_weights(n_features, width, n_blocks, n_outputs, activation, rng, dtype):
    """Draw the initial weights of a residual network.

    The lifting layer gets a He/Glorot-style scale (``gain / sqrt(fan_in)``); the
    residual branches are scaled down by ``1 / sqrt(n_blocks)`` so that the sum of
    ``n_blocks`` branches keeps the variance of ``U`` of order one at any depth; the
    read-out starts small.

    Biases start at zero, but for a single input column, where the lifting
    layer's biases are drawn at its weights' scale (as scikit-learn's MLP
    draws its intercepts). With zero biases every unit's hinge passes through
    the origin, which on one column makes all units multiples of ``relu(x)``
    or ``relu(-x)`` (rank two): the reset mode then stalled on the suite's
    sine curve for 2 of 5 seeds (train MSE 0.29 against 0.04). On more
    columns the units differ by direction, and drawn biases lost 10-20 % on
    Friedman #2 (four columns; user guide, "Initial biases"). The biases are
    drawn last, so every other weight is the draw it was with zero biases.
    """
    if width == 0:
        # No hidden layer: the model is linear (used to compare with Ridge).
        return [np.zeros((n_features + 1, n_outputs), dtype=dtype)]
    weights = [_dense(n_features, width, activation.gain, rng, dtype)]
    branch_gain = activation.gain / np.sqrt(max(n_blocks, 1))
    weights += [_dense(width, width, branch_gain, rng, dtype) for _ in range(n_blocks)]
    weights.append(_dense(width, n_outputs, 1.0, rng, dtype))
    if n_features == 1:
        weights[0][-1] = rng.standard_normal(width) * activation.gain
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
    out = np.empty((X.shape[0], weights[-1].shape[1]), dtype=_dtype(X, weights))
    return forward_into(X, weights, activation, out, whole=True)


def hidden_features(X, hidden_weights, activation, out=None, spare=None):
    """Output of the last hidden layer (``X`` itself when there is none).

    ``out``: where to write it; ``spare``: a scratch array of its shape.
    """
    if not hidden_weights:
        return X
    head = hidden_weights[0]
    if out is None:
        out = np.empty((X.shape[0], head.shape[1]), dtype=_dtype(X, hidden_weights))
    dense_product(X, head[:-1], out)
    out += head[-1]
    activation(out, out=out)
    if len(hidden_weights) > 1:
        spare = np.empty_like(out) if spare is None else spare
        for W in hidden_weights[1:]:
            np.matmul(out, W[:-1], out=spare)
            spare += W[-1]
            activation(spare, out=spare)
            out += spare
    return out


def forward_into(X, weights, activation, out, whole):
    """:func:`forward` written into ``out``.

    Unless ``whole``, row block by row block: each block goes through all the
    layers while it is in cache, without an ``n_samples x width`` temporary per
    layer (the same operations in the same order). Threaded BLAS wants whole
    products (one per layer keeps its threads busy), as in the block updates of
    the relaxations.
    """
    head, tail = weights[:-1], weights[-1]
    if not head:
        dense_product(X, tail[:-1], out)
        out += tail[-1]
        return out
    n_rows, width = X.shape[0], head[0].shape[1]
    step = max(n_rows, 1) if whole else block_rows(width)
    U = np.empty((min(step, n_rows), width), dtype=out.dtype)
    T = np.empty_like(U) if len(head) > 1 else None
    for start in range(0, n_rows, step):
        rows = slice(start, min(start + step, n_rows))
        m = rows.stop - start
        block = rows_of(X, rows)
        u = hidden_features(
            block, head, activation, U[:m], None if T is None else T[:m]
        )
        o = np.matmul(u, tail[:-1], out=out[rows])
        o += tail[-1]
    return out


def row_blocks_forward(run, n_blocks, activation, whole):
    """``predict(X, weights)``: the forward pass over ``n_blocks`` row blocks.

    The blocks are fixed by ``n_blocks`` (not by the number of threads), so the
    predictions do not depend on how many workers compute them. Each block runs
    :func:`forward_into` (``whole``: with whole products, for threaded BLAS).
    """

    def predict(X, weights):
        out = np.empty((X.shape[0], weights[-1].shape[1]), dtype=X.dtype)
        if n_blocks == 1:
            return forward_into(X, weights, activation, out, whole)
        blocks = gen_even_slices(X.shape[0], n_blocks)
        run(
            [
                partial(forward_into, X[rows], weights, activation, out[rows], whole)
                for rows in blocks
            ]
        )
        return out

    return predict


def augmented_hidden_into(
    X_aug,
    hidden_weights,
    activation,
    out,
    pre=None,
    spare=None,
    chunk_rows=None,
    readout=None,
    output=None,
):
    """``[U_{H-1}, 1]`` of ``hidden_weights`` written into ``out`` (its last
    column already ones), from the augmented input ``[X, 1]``.

    ``pre``: where to keep the first layer's pre-activations ``[X, 1] W_1``
    (``None``: they are not kept); ``spare``: a scratch array of the shape of
    ``U`` for the residual blocks (``None``: a new one).

    ``readout``, ``output``: also write ``[U_{H-1}, 1] @ readout`` into
    ``output``, chunk by chunk, from the features still in cache.

    ``chunk_rows``: rows per chunk, each chunk through every layer while its
    products' output is still in cache (``None``: whole arrays, for threaded
    BLAS or a sparse input). The activations then read their input from
    cache instead of memory: 8,192-16,384 rows of a 20-column input, width
    100, one BLAS thread, 30-40 % less time for the product and its relu.
    The products of a chunk may round differently from one product of all
    the rows; the chunks depend on the rows only, never on the threads.

    The relaxations' style: each layer is one product ``[U, 1] @ W`` of an
    augmented array, the bias inside the product, as their auxiliaries are
    computed (:func:`hidden_features` adds the bias after the product, which
    rounds differently).
    """
    n_rows = out.shape[0]
    if chunk_rows is None or chunk_rows >= n_rows or not isinstance(X_aug, np.ndarray):
        _augmented_hidden_block(X_aug, hidden_weights, activation, out, pre, spare)
        if readout is not None:
            np.matmul(out, readout, out=output)
        return out
    if pre is None and len(hidden_weights) == 1 and activation.name == "relu":
        # The default network's features with few Python steps per chunk:
        # the chunks of the fit's threads hold the GIL in between (two
        # threads on 8,192 rows of 324-row chunks took longer than one).
        # The same operations as the general loop, bit for bit.
        W, zeros = hidden_weights[0], relu_zeros(out[:chunk_rows])
        for start in range(0, n_rows, chunk_rows):
            stop = min(start + chunk_rows, n_rows)
            chunk = out[start:stop]
            np.matmul(X_aug[start:stop], W, out=chunk[:, :-1])
            np.maximum(chunk, zeros[: stop - start], out=chunk)
            if readout is not None:
                np.matmul(chunk, readout, out=output[start:stop])
        return out
    if spare is None and len(hidden_weights) > 1:
        spare = np.empty((chunk_rows, out.shape[1] - 1), dtype=out.dtype)
    for start in range(0, n_rows, chunk_rows):
        rows = slice(start, min(start + chunk_rows, n_rows))
        m = rows.stop - start
        _augmented_hidden_block(
            X_aug[rows],
            hidden_weights,
            activation,
            out[rows],
            None if pre is None else pre[rows],
            None if spare is None else spare[:m],
        )
        if readout is not None:
            np.matmul(out[rows], readout, out=output[rows])
    return out


def _augmented_hidden_block(X_aug, hidden_weights, activation, out, pre, spare):
    """:func:`augmented_hidden_into` of one block of rows, whole products."""
    U = out[:, :-1]
    if pre is None:
        dense_product(X_aug, hidden_weights[0], U)
        if activation.keeps_one:  # the whole array is contiguous: faster
            activation(out, out=out)
        else:
            activation(U, out=U)
    else:
        dense_product(X_aug, hidden_weights[0], pre)
        activation(pre, out=U)
    if len(hidden_weights) > 1:
        T = np.empty_like(U) if spare is None else spare
        for W in hidden_weights[1:]:
            np.matmul(out, W, out=T)
            activation(T, out=T)
            U += T
    return out


def l2_penalty(weights):
    """``sum_k ||W_k||^2`` over the weights without their biases (the L2 term
    of every objective, before its ``alpha / 2``)."""
    return sum(float(np.vdot(W[:-1], W[:-1])) for W in weights)


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


def _dtype(X, weights):
    return np.result_type(X.dtype, weights[0].dtype)

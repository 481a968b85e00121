"""The output side of a hidden layer's curvature, for the forward-reset mode.

The reset mode's W step fits each hidden layer's weights to the pre-activation
targets of the backward sweep by ridge regression: its weight change is
``(A^T S A + prox)^{-1} A^T S D``, with ``D = Z - A W`` the sweep's moves of the
pre-activations, which are about ``eta`` times their back-propagated errors.
That step inverts the *input* side of the layer's curvature only. K-FAC
(Martens and Grosse, 2015) approximates a layer's Gauss-Newton curvature by
the Kronecker product of that input factor and an *output* factor, the second
moment of the back-propagated errors, estimated here by ``F = D^T S D``. The
change is then multiplied on the right by::

    (1 + lambda) m (F + lambda m I)^{-1},   m = trace(F) / width

so units whose errors are small or correlated are not held back by the
others: a change along an eigenvector of ``F`` of eigenvalue ``f`` is scaled
by ``(1 + lambda) m / (f + lambda m)``, one of eigenvalue ``m`` not at all, and
none gains more than ``(1 + lambda) / lambda`` times an average direction.
The line search of the mode then judges the changed step on the training
objective like any other, so the merit still never rises (see the user
guide, "Forward-reset block descent").

``F`` costs about one and a half Gram products of the layer's features, so a
run computes it afresh every ``REFRESH_STEPS`` W steps only and reuses it in
between, as K-FAC refreshes its factors (:class:`OutputFactor`).
"""

import numpy as np

from .._linalg import spd_solve

#: W steps between two computations of a run's output factors (the first W
#: step of a run computes them).
REFRESH_STEPS = 4


def move_gram(rw, A, W, Z, chunk_rows):
    """``D^T S D`` of the moves ``D = Z - A W`` of a layer's pre-activations.

    ``rw``: the rows' weights (:class:`~skadmm._rows.RowWeights`); ``A``: the
    layer's augmented input (dense or sparse), ``W`` its weights before the
    step, ``Z`` its targets. ``D`` is formed ``chunk_rows`` rows at a time, so
    the pass needs no array of every row's moves.
    """
    n, width = Z.shape
    F = np.zeros((width, width), dtype=Z.dtype)
    for start in range(0, n, max(chunk_rows, 1)):
        rows = slice(start, min(start + chunk_rows, n))
        D = np.asarray(A[rows] @ W)
        np.subtract(Z[rows], D, out=D)
        F += rw.cross(D, D, rows)
    return F


def precondition_change(old, new, F, damping):
    """``old + (new - old) (1 + damping) m (F + damping m I)^{-1}`` (see the
    module docstring), in the dtype of ``new``; ``new`` itself when ``F`` has
    no positive finite trace (no move, or a broken sum)."""
    F = np.asarray(F, dtype=np.float64)
    m = float(np.trace(F)) / F.shape[0]
    if not (np.isfinite(m) and m > 0.0):
        return new
    M = F + damping * m * np.eye(F.shape[0])
    change = np.asarray(new, dtype=np.float64) - old
    # M is symmetric: (change M^{-1})^T = M^{-1} change^T.
    scaled = spd_solve(M, change.T, overwrite_a=True).T
    scaled *= (1.0 + damping) * m
    return (old + scaled).astype(new.dtype, copy=False)


class OutputFactor:
    """The output factors of one run's hidden layers, and the changes they make.

    Parameters
    ----------
    damping : float
        ``lambda`` of :func:`precondition_change`.
    refresh : int, default=REFRESH_STEPS
        The factors are computed afresh at every ``refresh``-th W step of the
        run (:attr:`due`), the first included, and reused in between.
    """

    def __init__(self, damping, refresh=REFRESH_STEPS):
        self.damping = damping
        self.refresh = refresh
        self.steps = 0
        self.grams = {}

    @property
    def due(self):
        """Whether this W step computes the factors afresh."""
        return self.steps % self.refresh == 0

    def change(self, k, old, new, gram=None):
        """``new`` with layer ``k``'s change from ``old`` preconditioned;
        ``gram``: the layer's fresh ``D^T S D`` (when :attr:`due`)."""
        if gram is not None:
            self.grams[k] = gram
        F = self.grams.get(k)
        return new if F is None else precondition_change(old, new, F, self.damping)

    def step_done(self):
        """Count a W step of every layer."""
        self.steps += 1

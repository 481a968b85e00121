"""Weight steps for layers whose input is wider than its rows (the dual form).

Every weight step of a layer with augmented input ``A = [X, 1]`` (``N x (d + 1)``,
row weights ``S``) is the ridge system::

    (c A^T S A + D) W = R,     D = diag(delta, ..., delta, delta_b)

with ``delta = alpha + tau`` on the weights and ``delta_b = tau`` (possibly 0) on
the bias. The primal solve forms the ``(d + 1) x (d + 1)`` Gram matrix and factors
it: ``O(N d^2 + d^3)``. When ``d`` exceeds ``N`` (hop features of a graph: a few
thousand columns for a hundred labelled nodes) the dual form costs ``O(N^2 d +
N^3)`` instead. :class:`DualRidge` derives it as follows.

The bias row of the system, ``c s^T X V + (c sigma + delta_b) b = r_b`` (``s`` the
row weights, ``sigma`` their sum, ``V`` the weights without bias), gives ``b`` in
terms of ``V``; eliminating it leaves::

    (c C^T C + delta I) V = R_V - c X^T s r_b / (c sigma + delta_b)
    C = (I - kappa q q^T) S^1/2 X,   q = S^1/2 1 / sqrt(sigma),
    kappa = 1 - sqrt(delta_b / (c sigma + delta_b))

(``(I - kappa q q^T)^2 = I - gamma q q^T`` with ``gamma = c sigma / (c sigma +
delta_b)``: a bias without penalty, ``delta_b = 0``, centres the rows,
``kappa = 1``). Woodbury's identity then solves the ``d x d`` system through an
``N x N`` one::

    V = (r' - C^T (C C^T + (delta / c) I)^-1 C r') / delta

which needs ``delta > 0``; with ``delta = 0`` (no penalty at all) the primal
solve stays. :func:`use_dual` chooses the form from the shape alone, so a fit
on an ordinary (tall) table takes exactly the primal steps.
"""

import numpy as np
import scipy.sparse as sp
from scipy.linalg import eigvals

from ._linalg import largest_eigenvalue, spd_solve

#: The dual form is used when the augmented input has more than ``WIDE_RATIO``
#: times as many columns as rows. Measured on one thread (100 outputs, 140 and
#: 500 rows), the two forms cost the same at a ratio of about 1.5 (the dual
#: makes a few more passes over ``X``); at 2 the dual is 1.4 to 1.6 times faster,
#: at 3 2 to 3.5 times.
WIDE_RATIO = 2.0
#: Fewest columns of a dual step: below, the primal ``(d + 1) x (d + 1)``
#: solve costs microseconds anyway, and a tiny table stays on one path for
#: weighted rows and their repetitions (the two forms round differently).
MIN_DUAL_COLUMNS = 256


def use_dual(n_rows, n_cols):
    """Whether a step on an ``n_rows x n_cols`` augmented input takes the dual form."""
    return n_cols > max(WIDE_RATIO * n_rows, MIN_DUAL_COLUMNS)


def dual_step_elements(n_rows, n_cols, n_outputs):
    """Elements of the temporaries of one dual step (for the memory guard).

    ``C`` (``N x d``), the ``N x N`` system and its factor, and the right-hand
    sides and solutions (``N x n`` and ``(d + 1) x n``, a few of each).
    """
    return n_rows * n_cols + 2 * n_rows**2 + 3 * (n_rows + n_cols) * n_outputs


def _sqrt_weights(rw, n_rows, dtype):
    """``(S^1/2 as a column or scalar, S^1/2 1 as a vector, sigma)``."""
    if rw.s is None:
        root = dtype.type(np.sqrt(float(rw.scale)))
        return root, np.full(n_rows, root, dtype), float(rw.scale) * n_rows
    return rw.sqrt_s, rw.sqrt_s[:, 0], float(rw.s.sum())


class DualRidge:
    """The dual solve of ``(c A^T S A + D) W = R`` (see the module), factored once.

    Parameters
    ----------
    A : ndarray of shape (n_rows, d + 1)
        Augmented input, last column ones.
    rw : RowWeights
        Row weights of ``A``'s rows.
    curvature : float
        ``c > 0``.
    delta : float
        Regularisation of the weights (``alpha + tau``), ``> 0``.
    delta_b : float
        Regularisation of the bias (``tau``), ``>= 0``.
    """

    def __init__(self, A, rw, curvature, delta, delta_b):
        N = A.shape[0]
        dtype = A.dtype
        self.c, self.delta = float(curvature), float(delta)
        root, q, sigma = _sqrt_weights(rw, N, dtype)
        self.sigma = sigma
        self.bias_scale = self.c * sigma + float(delta_b)
        kappa = 1.0 - np.sqrt(float(delta_b) / self.bias_scale)
        q = q / np.sqrt(sigma) if sigma > 0 else q
        self.q = q.astype(dtype, copy=False)
        self.kappa = kappa
        if sp.issparse(A):
            self._init_sparse(A, root)
            return
        # Xs = S^1/2 X, then C = Xs - kappa q (q^T Xs) in place.
        Xs = np.multiply(A[:, :-1], root)
        self.Xs = Xs
        self.qXs = self.q @ Xs
        C = Xs - (kappa * self.q)[:, None] * self.qXs
        self.C = C
        K = C @ C.T
        K[np.diag_indices_from(K)] += self.delta / self.c
        self.K = K

    def _init_sparse(self, A, root):
        """The factors of a sparse ``A``: ``C = Xs - kappa q qXs^T`` is never
        formed (it would be dense, ``N x d``); its products expand the rank-one
        term, and ``C C^T = Xs Xs^T - kappa (q v^T + v q^T) + kappa^2 |qXs|^2
        q q^T`` with ``v = Xs qXs``."""
        Xs = sp.csr_matrix(A[:, :-1].multiply(root))
        self.Xs, self.C = Xs, None
        self.qXs = np.asarray(Xs.T @ self.q).ravel()
        q, kappa = self.q, self.kappa
        v = np.asarray(Xs @ self.qXs).ravel()
        K = np.asarray((Xs @ Xs.T).toarray())
        K -= kappa * (np.outer(q, v) + np.outer(v, q))
        K += (kappa**2 * float(self.qXs @ self.qXs)) * np.outer(q, q)
        K[np.diag_indices_from(K)] += self.delta / self.c
        self.K = K

    def _c_product(self, r):
        """``C r``."""
        if self.C is not None:
            return self.C @ r
        out = np.asarray(self.Xs @ r)
        out -= self.kappa * np.outer(self.q, self.qXs @ r)
        return out

    def _ct_product(self, y):
        """``C^T y``."""
        if self.C is not None:
            return self.C.T @ y
        out = np.asarray(self.Xs.T @ y)
        out -= self.kappa * np.outer(self.qXs, self.q @ y)
        return out

    def solve(self, R):
        """``W`` with ``(c A^T S A + D) W = R``; ``R`` of shape ``(d + 1, n)``."""
        R_V, r_b = R[:-1], R[-1]
        c, sigma = self.c, self.sigma
        # r' = R_V - c X^T s r_b / (c sigma + delta_b), X^T s = sqrt(sigma) Xs^T q.
        r = R_V - np.outer(self.qXs, r_b * (c * np.sqrt(sigma) / self.bias_scale))
        y = spd_solve(self.K, self._c_product(r))
        V = r - self._ct_product(y)
        V /= self.delta
        W = np.empty_like(R, dtype=V.dtype)
        W[:-1] = V
        # b = (r_b - c s^T X V) / (c sigma + delta_b), s^T X = sqrt(sigma) q^T Xs.
        W[-1] = (r_b - (c * np.sqrt(sigma)) * (self.qXs @ V)) / self.bias_scale
        return W.astype(R.dtype, copy=False)


def dual_ridge_solve(A, rw, curvature, alpha, tau, R):
    """``W`` with ``(c A^T S A + diag(alpha + tau, ..., alpha + tau, tau)) W = R``.

    ``None`` when ``alpha + tau = 0`` (the caller then takes the primal step).
    """
    if not alpha + tau > 0:
        return None
    return DualRidge(A, rw, curvature, alpha + tau, tau).solve(R)


def dual_hessian_product(A, rw, curvature, alpha, W):
    """``(c A^T S A + alpha I') W`` without the Gram matrix (``I'``: no bias entry)."""
    out = rw.cross(A, A @ W)
    out *= curvature
    out[:-1] += alpha * W[:-1]
    return out


def dual_largest_eigenvalue(A, rw, curvature, alpha):
    """Largest eigenvalue of ``c A^T S A + alpha I'`` from ``(N + 1) x (N + 1)`` ones.

    With ``F = [sqrt(c) S^1/2 A; sqrt(alpha) e^T]`` (``e`` the bias entry) and
    ``J = diag(1, ..., 1, -1)`` the matrix is ``alpha I + F^T J F``, whose nonzero
    eigenvalues other than ``alpha`` are ``alpha`` plus those of ``J F F^T``
    (and ``F^T J F`` has a zero eigenvalue when ``d + 1 > N + 1``). Without
    ``alpha`` it is the largest eigenvalue of ``c S^1/2 A A^T S^1/2``, which has
    the nonzero eigenvalues of the Gram matrix.
    """
    N = A.shape[0]
    root, _, _ = _sqrt_weights(rw, N, A.dtype)
    if sp.issparse(A):
        B = sp.csr_matrix(A.multiply(root))
        K = np.asarray((B @ B.T).toarray())
        last = np.asarray(B[:, [-1]].toarray()).ravel()
    else:
        B = np.multiply(A, root)
        K = B @ B.T
        last = B[:, -1]
    K *= curvature
    if not alpha > 0:
        return largest_eigenvalue(K)
    F_bias = np.sqrt(curvature * alpha) * last
    JK = np.empty((N + 1, N + 1), dtype=np.float64)
    JK[:N, :N] = K
    JK[:N, N] = F_bias
    JK[N, :N] = -F_bias
    JK[N, N] = -alpha
    top = float(np.max(eigvals(JK, check_finite=False).real))
    return alpha + max(top, 0.0)

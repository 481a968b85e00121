"""Solves with symmetric positive semi-definite matrices that never fail.

Every quadratic block of the training problem is a system ``G X = B`` with ``G``
a Gram matrix plus non-negative diagonal terms: positive definite in exact
arithmetic when a penalty is positive, but singular (``alpha=0`` with fewer rows
than features, equal or constant columns) or numerically indefinite (badly
scaled columns) in practice. :func:`spd_solve` tries, in order:

1. Cholesky (``potrf``/``potrs``), the fast path: no copy of ``G`` beyond the
   factor, none at all with ``overwrite_a``.
2. Cholesky of ``G + d I`` with a jitter ``d`` relative to the scale of ``G``
   (its mean diagonal): ``n * eps``, then 100 and 10^4 times more while
   ``d`` stays below ``sqrt(eps)`` of the scale. A tiny ridge, so the result is
   the regularised solution of a nearby system.
3. The pseudo-inverse solve from ``eigh``: eigenvalues below ``n * eps`` of the
   largest are dropped (the minimum-norm least-squares solution).

:func:`spd_factor` runs the same chain once and keeps the factor for solves
with few right-hand sides each (a Newton step's gradient), where forming the
inverse would cost seven times the factorisation alone; :func:`spd_inverse`
serves the systems whose right-hand side has a row per sample.

Non-finite input raises :class:`~skadmm.exceptions.NumericalError` (which names
the cause) rather than a ``LinAlgError`` from deep inside LAPACK.
"""

from functools import partial

import numpy as np
import scipy.sparse as sp
from scipy.linalg import LinAlgError, eigh, eigvalsh
from scipy.linalg.lapack import get_lapack_funcs

from .exceptions import NumericalError

# Jitter factors of the retries, relative to n * eps * mean diagonal.
_JITTERS = (1.0, 1e2, 1e4)


def spd_solve(G, B, *, overwrite_a=False):
    """Solve ``G X = B`` for a symmetric positive semi-definite ``G``.

    Parameters
    ----------
    G : ndarray of shape (n, n)
        Symmetric positive semi-definite matrix (possibly singular or badly
        scaled). Only read unless ``overwrite_a``.
    B : ndarray of shape (n,) or (n, m)
        Right-hand side.
    overwrite_a : bool, default=False
        Allow the Cholesky factor to overwrite ``G`` (its contents are then
        undefined after the call), which saves a copy.

    Returns
    -------
    X : ndarray of the shape of ``B``
        The solution; when ``G`` is numerically singular, a slightly
        regularised or the minimum-norm least-squares solution.

    Raises
    ------
    NumericalError
        If ``G`` or ``B`` holds NaN or infinity, or the solution overflows.
    """
    n = G.shape[0]
    if n == 0:
        return np.zeros_like(B)
    potrf, potrs = get_lapack_funcs(("potrf", "potrs"), (G, B))
    factor, restore = _cholesky(G, potrf, overwrite_a)
    if factor is not None:
        X, info = potrs(factor, B, lower=False)
        if info == 0 and np.isfinite(X).all():
            return X
    return _fallback_solve(restore(), B, potrf, potrs)


def _cholesky(G, potrf, overwrite_a):
    """``(factor, restore)``: the upper Cholesky factor of ``G`` (``None`` if
    it fails or is not finite), and ``restore()`` giving ``G`` back for the
    fallbacks (rebuilt if the factorisation overwrote it)."""
    # A symmetric C-ordered matrix is its own Fortran-ordered transpose, so
    # LAPACK can factor it in place; a copy of the diagonal, which the factor
    # overwrites, is enough to rebuild G from the untouched triangle.
    Gf = G.T if G.flags.c_contiguous else G
    in_place = overwrite_a and Gf.flags.f_contiguous
    diag = np.diag(G).copy() if in_place else None
    factor, info = potrf(Gf, lower=False, overwrite_a=in_place, clean=False)
    restore = partial(_rebuild, Gf, diag) if in_place else partial(_same, G)
    # An infinite diagonal entry factors "successfully"; the factor's unused
    # triangle still holds G's other entries, so one check covers both.
    if info == 0 and np.isfinite(factor).all():
        return factor, restore
    return None, restore


def _same(G):
    return G


def spd_factor(G, *, overwrite_a=False):
    """``solve`` with ``solve(B)`` the solution of ``G X = B``, ``G`` factored once.

    The chain of :func:`spd_solve` (Cholesky, jittered Cholesky, pseudo-inverse)
    decided on ``G`` alone, so every later solve costs two triangular solves
    (``2 n^2`` per column) instead of a factorisation.

    Parameters
    ----------
    G : ndarray of shape (n, n)
        Symmetric positive semi-definite matrix. Only read unless
        ``overwrite_a``.
    overwrite_a : bool, default=False
        Allow the factor to overwrite ``G``.

    Returns
    -------
    solve : callable
        ``solve(B)`` for ``B`` of shape ``(n,)`` or ``(n, m)``.

    Raises
    ------
    NumericalError
        If ``G`` holds NaN or infinity; ``solve`` raises it if a solution
        overflows.
    """
    n = G.shape[0]
    if n == 0:
        return np.zeros_like
    potrf, potrs = get_lapack_funcs(("potrf", "potrs"), (G,))
    factor, restore = _cholesky(G, potrf, overwrite_a)
    if factor is not None:
        return partial(_triangular_solve, potrs, factor)
    G = restore()
    _check_finite(G)
    factor = next(_jittered_factors(G, potrf), None)
    if factor is not None:
        return partial(_triangular_solve, potrs, factor)
    return _pseudo_solver(G)


def _triangular_solve(potrs, factor, B):
    X, info = potrs(factor, B, lower=False)
    if info != 0 or not np.isfinite(X).all():
        raise NumericalError(_OVERFLOW)
    return X


def spd_inverse(M):
    """Inverse of a symmetric positive (semi-)definite matrix; overwrites ``M``.

    The hidden-layer systems ``U M = RHS`` have ``M = a I + b V V^T`` with ``a > 0``
    (eigenvalues at least ``a``): well conditioned, so the ``n x n`` inverse is
    accurate, and ``RHS @ inv`` is one matrix product (threaded BLAS) where two
    triangular solves would be twice slower.
    """
    return spd_solve(M, np.eye(M.shape[0], dtype=M.dtype), overwrite_a=True)


def largest_eigenvalue(M):
    """Largest eigenvalue of a symmetric matrix, or an upper bound of it.

    LAPACK's partial eigensolver can fail ("Internal Error") on matrices with
    subnormal entries; the Gershgorin bound (largest absolute row sum) then
    stands in, which suits its use as a step size bound (a Lipschitz constant).
    """
    if not np.isfinite(M).all():
        raise NumericalError(
            "A curvature matrix of the training problem holds NaN or infinity. "
            "Standardise X (for example with sklearn.preprocessing.StandardScaler)."
        )
    n = M.shape[0]
    try:
        return float(eigvalsh(M, subset_by_index=[n - 1, n - 1], check_finite=False)[0])
    except LinAlgError:
        return float(np.abs(M).sum(axis=1).max())


def _rebuild(Gf, diag):
    """``G`` from the lower triangle of ``Gf`` (not referenced by upper ``potrf``)."""
    G = np.tril(Gf, -1)
    G += G.T
    G[np.diag_indices_from(G)] = diag
    return G


def _fallback_solve(G, B, potrf, potrs):
    """Jittered Cholesky, then the eigenvalue pseudo-solve (see the module)."""
    _check_finite(G)
    _check_finite(B)
    for chol in _jittered_factors(G, potrf):
        X, info = potrs(chol, B, lower=False)
        if info == 0 and np.isfinite(X).all():
            return X
    return _pseudo_solve(G, B)


def _check_finite(A):
    if not np.isfinite(A).all():
        raise NumericalError(
            "A linear system of the training problem holds NaN or infinity: the "
            "data or the iterates overflowed. Standardise X (for example with "
            "sklearn.preprocessing.StandardScaler) or raise alpha."
        )


def _jittered_factors(G, potrf):
    """Cholesky factors of ``G + d I`` for the growing jitters ``d`` (see the
    module) whose factorisation succeeds."""
    n = G.shape[0]
    eps = np.finfo(G.dtype).eps
    scale = float(np.trace(G)) / n
    if scale <= 0:
        return
    for factor in _JITTERS:
        jitter = scale * n * eps * factor
        if jitter > scale * np.sqrt(eps):
            return
        shifted = G.copy()
        shifted[np.diag_indices_from(shifted)] += jitter
        chol, info = potrf(shifted, lower=False, overwrite_a=True, clean=False)
        if info == 0:
            yield chol


_OVERFLOW = (
    "The solution of a linear system of the training problem overflows. "
    "Standardise X (for example with sklearn.preprocessing.StandardScaler) "
    "and y, or raise alpha."
)


def _pseudo_solve(G, B):
    """Minimum-norm least-squares solution from the eigendecomposition of ``G``."""
    return _pseudo_solver(G)(B)


def _pseudo_solver(G):
    """``solve(B)``: the minimum-norm least-squares solution of ``G X = B``."""
    # Scaled to unit largest entry: LAPACK's eigensolvers can fail on subnormal
    # entries, and the cutoff below is then relative to a normal number.
    size = float(np.max(np.abs(G)))
    if size == 0.0:
        return np.zeros_like
    try:
        w, Q = eigh(G / size, check_finite=False)
    except LinAlgError:
        w, Q = eigh(G / size, check_finite=False, driver="ev")
    keep = w > max(float(w[-1]), 0.0) * G.shape[0] * np.finfo(G.dtype).eps
    Qk, wk = Q[:, keep], w[keep]

    def solve(B):
        coef = Qk.T @ B
        with np.errstate(over="ignore", invalid="ignore"):
            coef /= wk if B.ndim == 1 else wk[:, None]
            coef /= size
            X = Qk @ coef
        if not np.isfinite(X).all():
            raise NumericalError(_OVERFLOW)
        return X.astype(G.dtype, copy=False)

    return solve


def outer_product(A, B, out=None):
    """``A @ B`` for dense rows ``A`` (``n x k``) and a ``k x m`` ``B``.

    With ``k == 1`` (a single-output read-out's ``E V^T``) a broadcast product:
    numpy's matmul takes a plain loop for an inner dimension of one (8,192 x 1
    times 1 x 100 in float32: 780 us against 170 us). Each element is the one
    product ``a_i b_j`` either way.
    """
    if A.shape[1] == 1:
        return np.multiply(A, B, out=out)
    return np.matmul(A, B, out=out)


def dense_product(A, W, out=None):
    """``A @ W`` for a dense or scipy.sparse ``A`` and a dense ``W``, into ``out``.

    Sparse input ``X`` (and so the lifting layer's input ``[X, 1]``) stays
    sparse through a fit: every product with it goes through here, and its
    result is dense. ``np.matmul(..., out=)`` refuses sparse operands.
    """
    if not sp.issparse(A):
        return np.matmul(A, W, out=out)
    product = np.asarray(A @ W)
    if out is None:
        return product
    out[...] = product
    return out


def augment(X):
    """``[X, 1]``: a new dense array, or a CSR matrix when ``X`` is sparse."""
    if sp.issparse(X):
        ones = np.ones((X.shape[0], 1), dtype=X.dtype)
        return sp.csr_matrix(sp.hstack([X, ones], format="csr"))
    A = np.empty((X.shape[0], X.shape[1] + 1), dtype=X.dtype)
    A[:, :-1] = X
    A[:, -1] = 1.0
    return A

"""Data-fitting terms on the network output ``O`` (one row per sample).

A loss gives the splittings and solvers what they need of it, so the same block
updates train a regressor and a classifier (see the user guide, "Losses"):

* ``value(O, Y, rw)``: the weighted loss ``sum_i s_i l(O_i; Y_i)``;
* ``gradient(O, Y)``: the per-row gradient ``dl/dO_i`` (unweighted);
* ``output_step(R, Lam, Y, rho, out)``: the exact ADMM output block, the
  per-row prox ``argmin_o l(o; y) + <lam, o - r> + rho/2 ||o - r||^2``. The
  multiplier step then gives ``Lam = -gradient(O, Y)``;
* ``strong_convexity``: a lower bound on that Hessian (1 for the squared
  loss, 0 for the cross-entropies), which relaxes dlADMM's condition on ``rho``;
* ``curvature``: a bound on the Hessian of ``l`` (the Lipschitz constant of its
  gradient), which sets the condition on ``rho`` and the majorised step of the
  forward-reset mode (Bohning's bound 1/2 for the cross-entropies);
* ``fit_readout(A, Y, rw, alpha, init)``: the read-out minimising the weighted
  loss of ``A @ W`` plus ``alpha/2 ||W without bias||^2``.

The cross-entropies' read-out to convergence (:func:`newton_readout`) takes
exact Newton steps with the explicit Hessian (:meth:`_CrossEntropy.hessian_matrix`)
where the read-out has few unknowns, and trust-region Newton-CG with Hessian
products otherwise (see the user guide, "Classification").
"""

import numpy as np
import scipy.sparse as sp
from scipy.optimize import minimize
from scipy.special import expit, log_expit

from ._linalg import spd_factor, spd_solve
from ._network import l2_penalty
from ._wide import DualRidge, use_dual

# Newton iterations of the per-row prox: quadratic convergence from the previous
# output takes 3 to 8; the cap only guards against a non-finite input.
_NEWTON_MAX_ITER = 50
# Halvings of a Newton step in the per-row backtracking (Armijo) test.
_MAX_HALVINGS = 40
# Read-out refits of the cross-entropy by trust-region Newton-CG: the gradient
# norm at convergence (the loss and its gradient are means, O(1)) and the most
# Newton iterations of a refit to convergence.
_READOUT_GTOL = 1e-12
_READOUT_MAX_ITER = 200
# Exact Newton steps on the explicit Hessian (a Cholesky solve each) up to this
# many unknowns of the read-out (features + 1 times outputs): at width 100 and
# three classes one explicit Hessian costs about 3.4 Hessian products (one
# symmetric n x 101 product per class pair), far less than the hundreds of
# products a Newton-CG refit takes when alpha is small (its Hessian is then
# badly conditioned). Its memory, (d K)^2 floats, stays at 8 MiB.
_EXPLICIT_HESSIAN_MAX_UNKNOWNS = 1024
# A full Newton step that does not halve the gradient norm once it is below
# this has reached the rounding of the gradient's sums: the refit stops there.
_ROUNDING_FLOOR_GTOL = 1e-8
# Sufficient decrease of the Newton line search (Armijo).
_ARMIJO = 1e-4
# The exact Newton read-out keeps the factor of its last Hessian while each
# full step with it shrinks the gradient norm at least this much (a chord
# step; a new Hessian otherwise). A warm-started refit between the stages of
# a large fit took 4 Hessians to reach _READOUT_GTOL: each is K (K - 1) / 2
# symmetric products over all rows, about 20 gradients' cost at width 100.
_CHORD_RATE = 0.25


class SquaredLoss:
    """``l(o; y) = 1/2 ||o - y||^2`` (regression; ``Lam = Y - O``)."""

    name = "squared"
    curvature = 1.0
    strong_convexity = 1.0

    def value(self, O, Y, rw):
        return 0.5 * rw.sq_norm(O - Y)

    def gradient(self, O, Y, out=None):
        return np.subtract(O, Y, out=out)

    def output_step(self, R, Lam, Y, rho, out):
        """``O = (Y - Lam + rho R) / (1 + rho)``."""
        np.subtract(Y, Lam, out=out)
        out += rho * R
        out /= 1.0 + rho
        return out

    def fit_readout(self, A, Y, rw, alpha, init=None, max_iter=None):
        """Ridge solution (exact; ``init`` and ``max_iter`` are not needed)."""
        return ridge_solve(A, Y, rw, alpha)


def ridge_solve(A, Y, rw, alpha):
    """Read-out for augmented features ``A = [U, 1]`` and row weights ``rw``.

    Features much wider than their rows take the dual form
    (:mod:`skadmm._wide`) when ``alpha > 0``.
    """
    if use_dual(*A.shape) and alpha > 0:
        return DualRidge(A, rw, 1.0, alpha, 0.0).solve(rw.cross(A, Y))
    G = rw.gram(A)
    diag = np.einsum("ii->i", G)
    diag[:-1] += alpha
    return spd_solve(G, rw.cross(A, Y), overwrite_a=True)


class _CrossEntropy:
    """What the two cross-entropies share: value, the per-row prox, the read-out.

    Subclasses give the per-row loss ``rows(O, Y)``, its gradient, and the
    Newton direction of the prox objective ``phi(o) = l(o; y) + rho/2 ||o -
    v||^2`` (a Hessian solve, closed form per row).
    """

    curvature = 0.5
    strong_convexity = 0.0
    #: Whether adding a constant to every output of a row leaves its loss
    #: unchanged (the softmax): the read-out's Hessian is then singular along
    #: ``W + v 1^T``, which :func:`newton_readout` makes up for.
    shift_invariant = False

    def value(self, O, Y, rw):
        return rw.total(self.rows(O, Y))

    def output_step(self, R, Lam, Y, rho, out):
        """Exact prox at ``V = R - Lam / rho`` by a safeguarded Newton per row.

        ``phi`` is ``rho``-strongly convex, so Newton's method from the previous
        output (``out``) converges quadratically once near; far from it, each
        row's step is halved until the Armijo test holds. Iterations stop when
        every row's step is below rounding (``4 eps`` of the row's size).
        """
        V = Lam / -rho
        V += R
        O = out
        if not np.isfinite(O).all():
            O[...] = V
        eps = np.finfo(O.dtype).eps
        active = np.arange(O.shape[0])
        for _ in range(_NEWTON_MAX_ITER):
            o, v, y = O[active], V[active], Y[active]
            grad, step = self._newton(o, v, y, rho)
            size = np.max(np.abs(o), axis=1) + 1.0
            moving = np.max(np.abs(step), axis=1) > 4 * eps * size
            if not moving.any():
                break
            active, o, v, y = active[moving], o[moving], v[moving], y[moving]
            grad, step = grad[moving], step[moving]
            O[active] = self._backtrack(o, v, y, rho, grad, step)
        return O

    def _phi(self, o, v, y, rho):
        d = o - v
        return self.rows(o, y) + 0.5 * rho * np.einsum("ij,ij->i", d, d)

    def _backtrack(self, o, v, y, rho, grad, step):
        """``o - t step`` with the largest ``t = 2^-j`` passing the Armijo test."""
        start = self._phi(o, v, y, rho)
        slope = np.einsum("ij,ij->i", grad, step)
        # Near the minimiser the decrease is below the rounding of phi, where
        # the test would halve a good Newton step to nothing.
        rounding = 16 * np.finfo(o.dtype).eps * (np.abs(start) + 1.0)
        t = np.ones(o.shape[0], dtype=o.dtype)
        new = o - step
        for _ in range(_MAX_HALVINGS):
            fail = self._phi(new, v, y, rho) > start - 1e-4 * t * slope + rounding
            if not fail.any():
                break
            t[fail] *= 0.5
            new[fail] = o[fail] - t[fail, None] * step[fail]
        return new

    def fit_readout(self, A, Y, rw, alpha, init=None, max_iter=None):
        """Penalised cross-entropy read-out, from ``init``.

        With ``max_iter``: that many majorisation-minimisation steps from
        ``init`` (:meth:`majorised_steps`), which lower the objective, cost one
        gradient each and make no data-dependent decision (so weighted and
        repeated rows give the same read-out to rounding). Otherwise to
        convergence, as follows.

        Minimises ``sum_i s_i l(A_i W; y_i) + alpha/2 ||W without bias||^2``, a
        smooth convex problem (strictly convex on the non-bias rows for
        ``alpha > 0``), by a trust-region Newton-CG with Hessian-vector
        products (scipy's ``trust-ncg``) until the gradient norm is below
        ``_READOUT_GTOL`` (so that equal problems in weighted and repeated rows
        give equal read-outs) or ``_READOUT_MAX_ITER`` Newton iterations. The
        result never has a higher objective than ``init``.
        """
        if max_iter is not None:
            return self.majorised_steps(A, Y, rw, alpha, init, max_iter)
        shape = (A.shape[1], Y.shape[1])
        A64 = A.astype(np.float64, copy=False)
        Y64 = Y.astype(np.float64, copy=False)

        def terms(W):
            rows, G = self.rows_and_gradient(A64 @ W, Y64)
            return rw.total(rows), rw.cross(A64, G)

        def hessian_product(W, D):
            return rw.cross(A64, self.hessian_product(A64 @ W, A64 @ D))

        def hessian(W):
            return self.hessian_matrix(A64, W, rw)

        W = newton_readout(
            terms,
            hessian_product,
            alpha,
            shape,
            init,
            hessian=hessian,
            shift_invariant=self.shift_invariant,
        )
        return self.canonical(W).astype(A.dtype)

    def hessian_matrix(self, A, W, rw):
        """The Hessian of ``sum_i s_i l(A_i W; y_i)`` in ``W`` (``y`` does not enter).

        Of shape ``(d K, d K)`` for ``W`` of shape ``(d, K)``, in the order of
        ``W.ravel()``: the block of outputs ``(k, l)`` is ``A^T diag(s c_kl)
        A``, ``c_kl`` the per-row curvature of :meth:`curvature_blocks`.
        Every block with ``c_kl <= 0`` is one symmetric rank-``n`` product
        ``-(B^T B)`` of ``B = A sqrt(-s c_kl)``; the diagonal blocks follow from
        the off-diagonal ones, as they do for the softmax (see
        :meth:`SoftmaxLoss.curvature_blocks`).
        """
        d, K = W.shape
        s = rw.row_weights()
        H = np.zeros((d, K, d, K))
        for k, l, c in self.curvature_blocks(A @ W):
            G = _weighted_gram(A, s * c)
            H[:, k, :, l] = G
            if k != l:
                H[:, l, :, k] = G
                H[:, k, :, k] -= G
                H[:, l, :, l] -= G
        return H.reshape(d * K, d * K)

    def canonical(self, W):
        """The read-out with the same loss and the least penalty (see subclasses)."""
        return W

    def majorised_steps(self, A, Y, rw, alpha, W, n_steps):
        """``n_steps`` of ``W -= (c A^T S A + alpha I')^-1 grad`` (``c`` the curvature).

        The Hessian of the loss of ``A W`` is at most ``c A^T S A`` in every
        output column (Bohning's bound), so each step minimises a quadratic
        upper bound of the objective that touches it at ``W``: the objective
        never increases. One factorisation serves every step and column.
        """
        W = np.array(W, dtype=A.dtype)
        if use_dual(*A.shape) and alpha > 0:
            # Wide features: one factorisation of the dual N x N system.
            step = DualRidge(A, rw, self.curvature, alpha, 0.0).solve
        else:
            M = rw.gram(A)
            M *= self.curvature
            M[np.diag_indices(M.shape[0] - 1)] += alpha
            step = spd_factor(M, overwrite_a=True)
        for _ in range(n_steps):
            _, G = self.rows_and_gradient(A @ W, Y)
            grad = rw.cross(A, G)
            grad[:-1] += alpha * W[:-1]
            W -= step(grad)
        return self.canonical(W)


class SoftmaxLoss(_CrossEntropy):
    """Softmax cross-entropy ``l(o; y) = logsumexp(o) - <y, o>``, ``y`` one-hot.

    Its Hessian ``diag(p) - p p^T`` (``p`` the softmax) is at most ``1/2`` in
    every direction (Bohning), and the multiplier identity is ``Lam = Y - P``.
    """

    name = "softmax"

    def canonical(self, W):
        """``W`` minus its row means: the logits lose a per-sample constant,
        which the softmax ignores, and the penalty can only fall. Without it a
        trust-region step along the unpenalised direction of the biases would
        shift every logit by an arbitrary constant."""
        return center_columns(W)

    shift_invariant = True

    def rows(self, O, Y):
        return self.rows_and_gradient(O, Y)[0]

    def curvature_blocks(self, O):
        """Per-row Hessian entries ``-p_k p_l`` of the output pairs ``k < l``.

        The Hessian ``diag(p) - p p^T`` has rows summing to zero (``sum p =
        1``), so its diagonal ``p_k (1 - p_k)`` is minus the sum of the row's
        other entries: :meth:`hessian_matrix` forms the ``K (K - 1) / 2``
        off-diagonal blocks only.
        """
        P = _softmax(O)
        K = P.shape[1]
        for k in range(K):
            for l in range(k + 1, K):
                yield k, l, -(P[:, k] * P[:, l])

    def gradient(self, O, Y, out=None):
        P = _softmax(O)
        return np.subtract(P, Y, out=out)

    def hessian_product(self, O, D):
        """Per-row Hessian times ``D``: ``p * d - p <p, d>``."""
        P = _softmax(O)
        HD = P * D
        HD -= P * HD.sum(axis=1, keepdims=True)
        return HD

    def rows_and_gradient(self, O, Y):
        """Per-row losses and ``P - Y`` from one pass of exponentials."""
        top = _row_max(O)
        P = O - top
        np.exp(P, out=P)
        total = _row_sum(P)
        P /= total
        rows = np.log(total[:, 0])
        rows += top[:, 0]
        rows -= np.einsum("ij,ij->i", Y, O)
        P -= Y
        return rows, P

    def _newton(self, o, v, y, rho):
        """Gradient and Newton step of ``phi``: ``(diag(p) + rho I - p p^T)^-1 g``.

        Sherman-Morrison with the diagonal ``m = p + rho``; the denominator
        ``1 - sum p^2 / m`` exceeds ``rho / (1 + rho)`` since ``sum p = 1``.
        """
        p = _softmax(o)
        grad = p - y
        grad += rho * (o - v)
        m = p + rho
        a, b = grad / m, p / m
        denom = 1.0 - np.einsum("ij,ij->i", p, b)
        coef = np.einsum("ij,ij->i", p, a) / denom
        return grad, a + b * coef[:, None]


def _softmax(O):
    """``scipy.special.softmax(O, axis=1)`` with :func:`_row_max` and
    :func:`_row_sum`: the same operations in the same order, so bit for bit
    the same, without numpy's slow reductions along a short row axis (3
    classes, 8,192 rows: about 4x faster)."""
    P = O - _row_max(O)
    np.exp(P, out=P)
    P /= _row_sum(P)
    return P


def _row_max(O):
    """``O.max(axis=1, keepdims=True)``, column by column: numpy reduces a
    short row axis slowly (28x slower for 3 classes); the maximum is exact."""
    top = O[:, :1].copy()
    for k in range(1, O.shape[1]):
        np.maximum(top, O[:, k : k + 1], out=top)
    return top


def _row_sum(P):
    """``P.sum(axis=1, keepdims=True)``; below 8 columns, column by column,
    which sums in numpy's order (left to right below its pairwise blocks of
    8), so bit for bit the same, and faster."""
    if P.shape[1] >= 8:
        return P.sum(axis=1, keepdims=True)
    total = P[:, :1].copy()
    for k in range(1, P.shape[1]):
        total += P[:, k : k + 1]
    return total


class LogisticLoss(_CrossEntropy):
    """Binary cross-entropy of the log-odds ``c o``, ``c = sqrt(2)``, ``y`` in {0, 1}.

    This is the two-class softmax loss restricted to outputs ``o q`` with
    ``q = (-1, 1) / sqrt(2)``: an orthonormal basis of the zero-sum outputs, so
    every norm of the relaxed problem, hence every penalty, means the same as
    for the two-class softmax (see the user guide, "Classification"). Its
    curvature ``c^2 sigma (1 - sigma)`` is at most ``1/2``; ``Lam = c (y -
    sigma(c O))``.
    """

    name = "logistic"
    scale = float(np.sqrt(2.0))

    def rows(self, O, Y):
        z = self.scale * O[:, 0]
        # -log sigma(z) for y = 1, -log sigma(-z) for y = 0.
        return -log_expit(np.where(Y[:, 0] > 0.5, z, -z))

    def gradient(self, O, Y, out=None):
        return np.multiply(expit(self.scale * O) - Y, self.scale, out=out)

    def rows_and_gradient(self, O, Y):
        return self.rows(O, Y), self.gradient(O, Y)

    def hessian_product(self, O, D):
        p = expit(self.scale * O)
        return (self.scale**2 * p * (1.0 - p)) * D

    def curvature_blocks(self, O):
        """The one output's per-row curvature ``c^2 sigma (1 - sigma)``."""
        p = expit(self.scale * O[:, 0])
        yield 0, 0, self.scale**2 * p * (1.0 - p)

    def _newton(self, o, v, y, rho):
        c = self.scale
        p = expit(c * o)
        grad = c * (p - y) + rho * (o - v)
        return grad, grad / (c * c * p * (1.0 - p) + rho)


def newton_readout(
    terms,
    hessian_product,
    alpha,
    shape,
    init=None,
    *,
    hessian=None,
    shift_invariant=False,
):
    """The read-out ``W`` of shape ``shape`` minimising ``loss(W) + alpha/2
    ||W without bias||^2``.

    ``terms(W)`` gives the weighted loss and its gradient, ``hessian_product(W,
    D)`` the loss's Hessian applied to ``D``, ``hessian(W)`` (optional) the
    loss's Hessian as a ``(d K, d K)`` matrix (sums over rows, in this process
    or gathered from the shards of a sharded fit). With ``hessian`` and at
    most ``_EXPLICIT_HESSIAN_MAX_UNKNOWNS`` unknowns, exact Newton steps
    (:func:`_exact_newton`); otherwise trust-region Newton-CG (scipy's
    ``trust-ncg``). Either runs until the gradient norm is below
    ``_READOUT_GTOL`` or ``_READOUT_MAX_ITER`` iterations; the result never
    has a higher objective than ``init``. ``shift_invariant``: the loss does
    not change when a constant is added to all outputs of a row (the softmax).
    """

    def objective(w):
        W = w.reshape(shape)
        value, grad = terms(W)
        grad = np.array(grad, dtype=np.float64)
        grad[:-1] += alpha * W[:-1]
        return value + 0.5 * alpha * l2_penalty([W]), grad.ravel()

    def hessp(w, d):
        D = d.reshape(shape)
        HD = hessian_product(w.reshape(shape), D)
        HD[:-1] += alpha * D[:-1]
        return HD.ravel()

    x0 = np.zeros(shape) if init is None else np.asarray(init, np.float64)
    if hessian is not None and np.prod(shape) <= _EXPLICIT_HESSIAN_MAX_UNKNOWNS:
        start = center_columns(x0) if shift_invariant else x0
        x, fun = _exact_newton(
            objective, hessian, alpha, shape, start.ravel(), shift_invariant
        )
    else:
        result = minimize(
            objective,
            x0.ravel(),
            jac=True,
            hessp=hessp,
            method="trust-ncg",
            options=dict(gtol=_READOUT_GTOL, maxiter=_READOUT_MAX_ITER),
        )
        x, fun = result.x, result.fun
    W = x.reshape(shape)
    if init is not None and fun > objective(x0.ravel())[0]:
        W = x0
    return W


def _exact_newton(objective, hessian, alpha, shape, x, shift_invariant):
    """Newton's method with the explicit Hessian and a backtracking line search.

    Each step solves ``(H + alpha I' + P) p = g`` (``I'`` the non-bias
    unknowns; ``P`` the all-ones ``K x K`` block of every feature divided by
    ``K`` when ``shift_invariant``, which fills the Hessian's null directions
    ``W + v 1^T`` without changing the step: from a start with centred rows
    the gradient has no part along them) and halves ``p`` until the objective
    falls by ``_ARMIJO`` of the predicted decrease, give or take its rounding.

    The Cholesky factor of that matrix (:func:`~skadmm._linalg.spd_factor`)
    is kept while full steps with it shrink the gradient norm by
    ``_CHORD_RATE`` or more (chord steps: near the minimiser the Hessian hardly
    changes, and a new one costs about 20 gradients); a step that does worse,
    is halved or is no descent gets a new Hessian. Every step with a kept
    factor is still a descent direction (the matrix is positive definite) and
    passes the same line search. A factor, not an inverse: each step solves
    for one gradient, and the inverse of ``d K`` unknowns cost seven times the
    factorisation alone (digits, 10 classes: a third of a default fit's time).

    Stops when the gradient norm is below ``_READOUT_GTOL``; when a full step
    on a new Hessian leaves a gradient below ``_ROUNDING_FLOOR_GTOL`` not
    halved (the rounding of its sums); when no step on a new Hessian lowers
    the objective; or after ``_READOUT_MAX_ITER`` steps.

    Returns
    -------
    x : ndarray
        The last accepted point (raveled).
    fun : float
        Its objective.
    """
    d, K = shape
    penalised = np.arange(d * K) < (d - 1) * K
    fun, grad = objective(x)
    eps = np.finfo(np.float64).eps
    solve = None
    for _ in range(_READOUT_MAX_ITER):
        norm = np.linalg.norm(grad)
        if not norm >= _READOUT_GTOL:
            break
        fresh = solve is None
        if fresh:
            H = hessian(x.reshape(shape))
            H[penalised, penalised] += alpha
            if shift_invariant:
                H4 = H.reshape(d, K, d, K)
                for j in range(d):
                    H4[j, :, j, :] += 1.0 / K
            solve = spd_factor(H, overwrite_a=True)
        step = solve(grad)
        slope = float(grad @ step)
        accepted = slope > 0.0
        rounding = 16 * eps * (abs(fun) + 1.0)
        t = 1.0
        for _ in range(_MAX_HALVINGS if accepted else 0):
            trial = x - t * step
            trial_fun, trial_grad = objective(trial)
            if trial_fun <= fun - _ARMIJO * t * slope + rounding:
                break
            t *= 0.5
        else:
            accepted = False
        if not accepted:
            if fresh:
                break
            solve = None  # the kept factor no longer points downhill
            continue
        x, fun, grad = trial, trial_fun, trial_grad
        new_norm = np.linalg.norm(grad)
        if t == 1.0 and new_norm <= _CHORD_RATE * norm:
            continue
        if (
            fresh
            and t == 1.0
            and new_norm < _ROUNDING_FLOOR_GTOL
            and new_norm > 0.5 * norm
        ):
            break
        solve = None
    return x, fun


def _weighted_gram(A, c):
    """``A^T diag(c) A`` (dense) for per-row coefficients ``c``.

    Coefficients of one sign (every curvature block's) make it one symmetric
    product ``B^T B`` with ``B = A sqrt(|c|)``, negated where ``c <= 0``.
    """
    negative = not (c > 0).any()
    if not negative and (c < 0).any():
        if sp.issparse(A):
            return np.asarray((A.T @ sp.csr_matrix(A.multiply(c[:, None]))).toarray())
        return A.T @ (A * c[:, None])
    root = np.sqrt(-c if negative else c)
    if sp.issparse(A):
        B = sp.csr_matrix(A.multiply(root[:, None]))
        G = np.asarray((B.T @ B).toarray())
    else:
        B = A * root[:, None]
        G = B.T @ B
    if negative:
        G *= -1.0
    return G


def center_columns(W):
    """``W`` with the mean of each row over its columns removed."""
    return W - W.mean(axis=1, keepdims=True)

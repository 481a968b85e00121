"""mDLAM (Wang, Li and Zhao, Neurocomputing 2022) on the residual network.

No multiplier: every linear link (the read-out's too) is a quadratic penalty
of weight ``beta`` (the paper's rho), and every nonlinear link becomes the
inequality band ``|U_k - U_{k-1}[k>=1] - s(Z_k)| <= epsilon`` (elementwise), a
hard constraint::

    F = l(O; Y) + alpha/2 sum_k ||W_k without bias||^2
        + beta/2 ( sum_{k<H} ||Z_k - A_k W_k||_S^2 + ||O - R||_S^2 )
    subject to  -epsilon <= U_k - U_{k-1}[k>=1] - s(Z_k) <= epsilon.

One iteration is a forward sweep (``W_k``, ``b_k``, ``Z_k``, ``U_k`` for
``k = 0 .. H-1``, then ``W_H``, ``b_H``, ``O``). ``Z_k`` is the exact
projection of ``A_k W_k`` onto the band's preimage ``[s^-1(lo), s^-1(hi)]``
(``s`` is monotone); ``U_k`` takes a projected, backtracked gradient step onto
the intersection of the two bands it appears in (its own and, as the skip, the
next block's); the weights a backtracked prox-gradient step; biases and ``O``
are exact. The ``W`` and ``U`` steps start from the Nesterov extrapolation
``X + omega (X - X_prev)`` and the result is kept only if the block's part of
``F`` did not increase from ``X``; otherwise the step is redone from ``X``.
``F`` therefore never increases (see ``doc/mdlam.rst``).
"""

import numpy as np

from .._linalg import outer_product
from .._network import l2_penalty
from ._linearised import MAX_DOUBLINGS, LinearisedRelaxation

# An extrapolated step is kept if it lowers its block's value by more than this
# many units of rounding: a tie is broken towards the plain step, so that the
# choice does not depend on the rounding (weighted vs repeated rows).
_GAIN_ULPS = 1e3


def _gains(after, before, dtype):
    return after <= before - _GAIN_ULPS * np.finfo(dtype).eps * abs(before)


class BandRelaxation(LinearisedRelaxation):
    """The mDLAM relaxation of the residual network with its current iterate.

    ``beta`` is the penalty of every linear link (the paper's rho), ``epsilon``
    the half-width of the bands, ``tau`` the first trial of the backtracked
    proximal weights; ``rho`` and ``update`` are not used.
    """

    name = "mdlam"
    mode = "mdlam"
    #: Start the W and U steps from the Nesterov extrapolation.
    extrapolate = True

    def __init__(self, X, Y, sample_weight, weights, activation, *, epsilon, **params):
        self.epsilon = float(epsilon)
        super().__init__(X, Y, sample_weight, weights, activation, **params)
        self.Lam[...] = 0.0  # no multiplier
        self._W_prev = [W[:-1].copy() for W in self.W]
        self._U_prev = [U[:, :-1].copy() for U in self.U]
        self._momentum = 1.0
        self.omega = 0.0
        #: Extrapolated block steps accepted / tried in the last iteration.
        self.accepted = self.tried = 0

    def set_penalties(self, **penalties):
        epsilon = float(penalties.pop("epsilon", self.epsilon))
        super().set_penalties(**penalties)
        if epsilon < self.epsilon:
            # A narrower band may not hold the kept state: restart it from the
            # forward pass (inside every band).
            self.reset_to_forward()
            self.O[...] = self.R
            self._momentum = 1.0
        self.epsilon = epsilon

    @classmethod
    def state_arrays(cls, n_samples, n_features, width, n_hidden, n_outputs):
        arrays = super().state_arrays(n_samples, n_features, width, n_hidden, n_outputs)
        arrays["previous U (extrapolation)"] = n_hidden * n_samples * width
        return arrays

    @classmethod
    def scratch_arrays(
        cls, n_samples, width, chunk_rows, linearized, reset=False, group_blocks=1
    ):
        # Step buffers, the band bounds and the extrapolated start.
        return {"step buffers": 6 * n_samples * width}

    def layer_target(self, k):
        if k == self.H:
            return self.O, self.beta
        return self.Z[k], self.beta

    # ---------------------------------------------------------------- blocks
    def output_step(self):
        """Exact ``O``: the loss's prox at ``R`` with weight ``beta``."""
        self.loss.output_step(self.R, self.Lam, self.Y, self.beta, self.O)

    def _block_value(self, k, E):
        """The part of ``F`` that depends on ``W_k'``, from the residual ``E``."""
        return 0.5 * self.beta * self.rw.sq_norm(E) + 0.5 * self.alpha * l2_penalty(
            [self.W[k]]
        )

    def nesterov_weight_step(self, k):
        """Prox-gradient step of ``W_k'`` from the extrapolated point, safeguarded.

        Returns ``A_k W_k`` after the step.
        """
        W, A = self.W[k], self.input_of(k)
        target, _ = self.layer_target(k)
        old = W[:-1].copy()
        P_old = A @ W
        if self.extrapolate and self.omega > 0.0:
            self.tried += 1
            before = self._block_value(k, target - P_old)
            W[:-1] += self.omega * (old - self._W_prev[k])
            P = self.weight_step(k)  # from the extrapolated point
            after = self._block_value(k, target - P)
            if _gains(after, before, self.dtype):
                self.accepted += 1
                self._W_prev[k] = old
                return P
            W[:-1] = old
        P = self.weight_step(k, P_old)
        self._W_prev[k] = old
        return P

    def _band(self, k):
        """Box ``[lower, upper]`` of ``U_k``: its own band and the next block's."""
        skip = self.skip_of(k)
        centre = self.sZ[k] if skip is None else self.sZ[k] + skip
        lower, upper = centre - self.epsilon, centre + self.epsilon
        if k < self.H - 1:
            centre = self.U[k + 1][:, :-1] - self.sZ[k + 1]
            np.maximum(lower, centre - self.epsilon, out=lower)
            np.minimum(upper, centre + self.epsilon, out=upper)
        return lower, upper

    def _projected_step(self, k, start, lower, upper):
        """Projected, backtracked gradient step of ``U_k`` from ``start``.

        ``phi(U) = beta/2 ||T - [U, 1] W_{k+1}||_S^2`` (``T``: ``Z_{k+1}``, or
        ``O`` for the last hidden layer). The weight ``t`` starts at the first
        ``tau * 2^j`` above the curvature along the gradient and doubles until
        ``phi(P) <= phi(start) + <g, P - start> + t/2 ||P - start||_S^2``,
        evaluated exactly as ``beta ||(P - start) V||_S^2 <= t ||P - start||_S^2``.
        Returns ``(U_new, phi(U_new))``, or ``None`` if no trial passed.
        """
        rw, beta = self.rw, self.beta
        W_next = self.W[k + 1]
        V, b = W_next[:-1], W_next[-1]
        T = self.O if k == self.H - 1 else self.Z[k + 1]
        E = T - start @ V
        E -= b
        g = outer_product(E, V.T)
        g *= -beta
        g_sq = rw.sq_norm(g)
        if g_sq == 0.0:
            return start, 0.5 * beta * rw.sq_norm(E)
        # The first tau * 2^j above the curvature along the gradient (the
        # weight that passes when nothing is clipped).
        t = self.tau
        curvature = beta * rw.sq_norm(g @ V) / g_sq
        for _ in range(MAX_DOUBLINGS):
            if t >= curvature:
                break
            t *= 2.0
        for _ in range(MAX_DOUBLINGS):
            self.trials += 1
            new = start - g / t
            np.clip(new, lower, upper, out=new)
            D = new - start
            DV = D @ V
            D_sq = rw.sq_norm(D)
            if beta * rw.sq_norm(DV) <= t * D_sq:
                E -= DV
                return new, 0.5 * beta * rw.sq_norm(E)
            t *= 2.0
        return None

    def nesterov_hidden_step(self, k):
        """``U_k`` from the extrapolated point if that does not raise ``F``."""
        U = self.U[k][:, :-1]
        old = U.copy()
        lower, upper = self._band(k)
        result = None
        if self.extrapolate and self.omega > 0.0:
            self.tried += 1
            start = old + self.omega * (old - self._U_prev[k])
            result = self._projected_step(k, start, lower, upper)
            if result is not None:
                W_next = self.W[k + 1]
                T = self.O if k == self.H - 1 else self.Z[k + 1]
                E = T - old @ W_next[:-1]
                E -= W_next[-1]
                before = 0.5 * self.beta * self.rw.sq_norm(E)
                if _gains(result[1], before, self.dtype):
                    self.accepted += 1
                else:
                    result = None
        if result is None:
            result = self._projected_step(k, old, lower, upper)
        if result is not None:
            U[...] = result[0]
        self._U_prev[k] = old
        if k == self.H - 1:
            self.set_readout_output()
        skip = self.skip_of(k)
        link = U - self.sZ[k]
        if skip is not None:
            link -= skip
        return self.rw.sq_norm(link)

    def z_step(self, k, a=None):
        """Exact ``Z_k``: ``A_k W_k`` projected onto the band's preimage."""
        if a is None:
            a = self.input_of(k) @ self.W[k]
        U, skip = self.U[k][:, :-1], self.skip_of(k)
        b = U if skip is None else U - skip
        # Rounding of b - epsilon (for relu's jump at zero): b is a difference
        # of outputs, rounded on their scale, and so are the U step's bounds.
        scale = np.abs(U) + self.epsilon
        if skip is not None:
            scale += np.abs(skip)
        tol = 64 * np.finfo(self.dtype).eps * scale
        B1, B2 = self.act.preimage(b - self.epsilon, b + self.epsilon, tol)
        Z = self.Z[k]
        # The U step kept U within epsilon of s(Z), so Z is in the preimage;
        # on a saturated unit only in exact arithmetic: tanh(Z) rounds to 1
        # from Z = 19.1 on, U = 1 + epsilon, and s^-1(U - epsilon) = inf made
        # Z infinite (or a rounding-infeasible band sent it to -744 under
        # the sigmoid, and F rose). The preimage always holds Z, so the
        # projection never moves Z further from A W.
        np.minimum(B1, Z, out=B1)
        np.maximum(B2, Z, out=B2)
        np.clip(a, B1, B2, out=Z)
        self.act(Z, out=self.sZ[k])
        a -= Z
        return self.rw.sq_norm(a)

    # ------------------------------------------------------------- iteration
    def start_iteration(self):
        """Reset the counters and take the next extrapolation weight
        ``omega_t = (s_t - 1) / s_{t+1}`` (Nesterov's, ``s_1 = 1``)."""
        self.trials = self.accepted = self.tried = 0
        s = self._momentum
        s_next = 0.5 * (1.0 + np.sqrt(1.0 + 4.0 * s * s))
        self._momentum = s_next
        self.omega = (s - 1.0) / s_next

    def objective(self):
        """``F`` and the residual (the distance of the iterate to a forward pass).

        Also sets ``merit_scale`` (the size of ``F``'s terms).
        """
        rw = self.rw
        gap_sq = rw.sq_norm(self.O - self.R)
        loss = self.loss.value(self.O, self.Y, rw)
        reg = 0.5 * self.alpha * l2_penalty(self.W)
        penalty = 0.5 * self.beta * (float(self.link_sq[:, 0].sum()) + gap_sq)
        self.merit_scale = abs(loss) + reg + penalty
        residual = float(np.sqrt(gap_sq + self.link_sq.sum()))
        return float(loss + reg + penalty), residual

"""Data-fitting terms on the network output ``O`` (one row per sample).

A loss gives the splittings and solvers what they need of it, so the same block
updates train a regressor and a classifier (see the user guide, "Losses"):

* ``value(O, Y, rw)``: the weighted loss ``sum_i s_i l(O_i; Y_i)``;
* ``gradient(O, Y)``: the per-row gradient ``dl/dO_i`` (unweighted);
* ``output_step(R, Lam, Y, rho, out)``: the exact ADMM output block, the
  per-row prox ``argmin_o l(o; y) + <lam, o - r> + rho/2 ||o - r||^2``. The
  multiplier step then gives ``Lam = -gradient(O, Y)``;
* ``curvature``: a bound on the Hessian of ``l`` (the Lipschitz constant of its
  gradient), which sets the condition on ``rho`` and the majorised step of the
  forward-reset mode;
* ``fit_readout(A, Y, rw, alpha, init)``: the read-out minimising the weighted
  loss of ``A @ W`` plus ``alpha/2 ||W without bias||^2``.
"""

import numpy as np

from ._linalg import spd_solve


class SquaredLoss:
    """``l(o; y) = 1/2 ||o - y||^2`` (regression; ``Lam = Y - O``)."""

    name = "squared"
    curvature = 1.0

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

    def fit_readout(self, A, Y, rw, alpha, init=None):
        """Ridge solution (exact; ``init`` is not needed)."""
        return ridge_solve(A, Y, rw, alpha)


def ridge_solve(A, Y, rw, alpha):
    """Read-out for augmented features ``A = [U, 1]`` and row weights ``rw``."""
    G = rw.gram(A)
    diag = np.einsum("ii->i", G)
    diag[:-1] += alpha
    return spd_solve(G, rw.cross(A, Y), overwrite_a=True)

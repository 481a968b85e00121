"""dlADMM (Wang et al., KDD 2019) adapted to residual blocks.

Each iteration is :meth:`~skadmm._splitting._dladmm.DLADMMProblem.iterate`: a
backward sweep, a forward sweep and one multiplier step (see
``doc/dladmm.rst``). The merit is the augmented Lagrangian ``L_rho``; with
``rho (rho + m) > 4 H^2`` (the paper's ``rho > 2H`` for a loss that is not
strongly convex) it never increases, and the solver checks that at run time.
"""

import numpy as np

from .._splitting._dladmm import DLADMMProblem
from ..exceptions import NumericalError
from ._base import BaseSolver

# An increase of the merit beyond this many ulps of the size of its terms is
# not rounding.
_ROUNDING_ULPS = 1e3


class MeritIncreaseError(NumericalError):
    """The merit increased beyond rounding (the descent guarantee failed)."""

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


class DLADMMSolver(BaseSolver):
    """dlADMM over the residual network's relaxation (``nu`` is ``beta``)."""

    label = "dlADMM"
    merit_name = "L_rho"
    # At RADMM's beta=1000 the hidden blocks do not move: the fits equal their
    # random features on every table of the regression suite; beta=1 learns.
    default_penalties = {"beta": 1.0, "rho": 2.0}
    # Its own blocks: no pre-activation splitting choice, no update choice.
    reads = frozenset({"beta", "rho", "tau"})
    remedy = (
        "Raise `rho` (the decrease needs rho > 2 H, H the curvature of the "
        "loss), lower `beta`, or scale the input (StandardScaler)."
    )

    @staticmethod
    def problem_class(splitting):
        return DLADMMProblem

    @classmethod
    def buffer_arrays(cls, n_samples, width, n_hidden, n_outputs):
        return {}

    @classmethod
    def transient_arrays(cls, n_samples, width, n_hidden, n_outputs):
        # The products and differences of an inner output's gradient (or a
        # weight step's fresh A W, step product and target), at most four
        # n_samples x width arrays at once.
        return {"block temporaries": 4 * n_samples * width + 2 * n_samples * n_outputs}

    def setup(self, problem):
        value, residual = problem.objective()
        self._last = (value, problem.merit_scale)
        return value, residual

    def step(self, problem, run):
        problem.iterate(run)
        value, residual = problem.objective()
        self._check_decrease(value, problem)
        return value, residual

    def _check_decrease(self, value, problem):
        previous, scale = self._last
        scale = max(scale, problem.merit_scale)
        eps = float(np.finfo(problem.dtype).eps)
        if value - previous > _ROUNDING_ULPS * eps * scale:
            raise MeritIncreaseError(
                f"{self.merit_name} increased from {previous:.10g} to {value:.10g} "
                "(beyond rounding)"
            )
        self._last = (value, problem.merit_scale)

"""mDLAM (Wang, Li and Zhao, Neurocomputing 2022) adapted to residual blocks.

Each iteration is :meth:`~skadmm._splitting._mdlam.MDLAMProblem.iterate`: one
forward sweep of safeguarded, extrapolated block steps (see
``doc/mdlam.rst``). The merit is the penalised objective ``F`` on the band
constraints; it never increases, and the solver checks that at run time.
"""

from .._splitting._mdlam import MDLAMProblem
from ._dladmm import DLADMMSolver


class MDLAMSolver(DLADMMSolver):
    """mDLAM over the residual network's band relaxation."""

    label = "mDLAM"
    merit_name = "F"
    # beta is the band penalty (rho has no role): 1, like dlADMM's.
    default_penalties = {"beta": 1.0, "rho": 2.0}
    reads = frozenset({"beta", "tau", "epsilon"})
    remedy = "Lower `beta`, raise `epsilon`, or scale the input (StandardScaler)."

    @staticmethod
    def problem_class(splitting):
        return MDLAMProblem

    @classmethod
    def problem_params(cls, params, alpha):
        return {**super().problem_params(params, alpha), "epsilon": params["epsilon"]}

    @classmethod
    def transient_arrays(cls, n_samples, width, n_hidden, n_outputs):
        # The band bounds, the extrapolated start, the gradient, the trial, its
        # step and product: at most seven n_samples x width arrays at once.
        return {"block temporaries": 7 * n_samples * width + 2 * n_samples * n_outputs}

"""Solver modes: update orders over the block updates of a relaxation."""

from ._base import BaseSolver, SolverResult
from ._dladmm import DLADMMSolver
from ._mdlam import MDLAMSolver
from ._pdadmm import PDADMMSolver
from ._radmm import RADMMSolver
from ._reset import ResetSolver

SOLVERS = {
    "radmm": RADMMSolver,
    "reset": ResetSolver,
    "dladmm": DLADMMSolver,
    "pdadmm": PDADMMSolver,
    "mdlam": MDLAMSolver,
}

__all__ = [
    "SOLVERS",
    "BaseSolver",
    "DLADMMSolver",
    "MDLAMSolver",
    "PDADMMSolver",
    "RADMMSolver",
    "ResetSolver",
    "SolverResult",
]

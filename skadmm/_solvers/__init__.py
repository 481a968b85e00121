"""Solver modes: update orders over the block updates of a relaxation."""

from ._base import BaseSolver, SolverResult
from ._pdadmm import PDADMMSolver
from ._radmm import RADMMSolver
from ._reset import ResetSolver

SOLVERS = {"radmm": RADMMSolver, "reset": ResetSolver, "pdadmm": PDADMMSolver}

__all__ = [
    "SOLVERS",
    "BaseSolver",
    "PDADMMSolver",
    "RADMMSolver",
    "ResetSolver",
    "SolverResult",
]

"""Solver modes: update orders over the block updates of a relaxation."""

from ._base import BaseSolver, SolverResult
from ._dladmm import DLADMMSolver
from ._radmm import RADMMSolver
from ._reset import ResetSolver

SOLVERS = {"radmm": RADMMSolver, "reset": ResetSolver, "dladmm": DLADMMSolver}

__all__ = [
    "SOLVERS",
    "BaseSolver",
    "DLADMMSolver",
    "RADMMSolver",
    "ResetSolver",
    "SolverResult",
]

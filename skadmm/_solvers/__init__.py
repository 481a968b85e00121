"""Solver modes: update orders over the block updates of a relaxation."""

from ._base import BaseSolver, SolverResult
from ._radmm import RADMMSolver
from ._reset import ResetSolver

SOLVERS = {"radmm": RADMMSolver, "reset": ResetSolver}

__all__ = ["SOLVERS", "BaseSolver", "RADMMSolver", "ResetSolver", "SolverResult"]

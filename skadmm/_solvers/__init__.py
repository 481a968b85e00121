"""Solver modes: update orders over the block updates of a relaxation."""

from ._base import MODE_PARAMS, BaseSolver, SolverResult, SweepSolver
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


def ignored_params(solver, params, defaults):
    """The mode parameters that ``solver`` ignores although they are set.

    ``params`` and ``defaults``: the estimator's parameters and their defaults.
    Returns one phrase per parameter of ``MODE_PARAMS`` that ``solver`` does not
    read and whose value differs from its default, e.g. ``"beta=3.0 (read by
    solver='radmm', 'dladmm')"``.
    """
    phrases = []
    known = SOLVERS[solver].reads | SOLVERS[solver].refuses
    for name in MODE_PARAMS:
        if name in known or params[name] == defaults[name]:
            continue
        readers = ", ".join(repr(s) for s, cls in SOLVERS.items() if name in cls.reads)
        phrases.append(f"{name}={params[name]!r} (read by solver={readers})")
    if (
        "quantize_bits" in known
        and params["quantize"] is None
        and params["quantize_bits"] != defaults["quantize_bits"]
    ):
        # Read only to size the level sets of a quantized run.
        phrases.append(
            f"quantize_bits={params['quantize_bits']!r} (read only with quantize set)"
        )
    return phrases


__all__ = [
    "MODE_PARAMS",
    "SOLVERS",
    "BaseSolver",
    "DLADMMSolver",
    "MDLAMSolver",
    "PDADMMSolver",
    "RADMMSolver",
    "ResetSolver",
    "SolverResult",
    "SweepSolver",
    "ignored_params",
]

"""Solver modes: update orders over the block updates of a relaxation."""

from ._base import SHARED_MODE_PARAMS, BaseSolver, SolverResult, SweepSolver
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

#: Estimator parameters that only some modes read (see ``BaseSolver.reads``).
MODE_PARAMS = SHARED_MODE_PARAMS + tuple(
    name for cls in SOLVERS.values() for name in cls.own_params
)


def own_param_constraints():
    """``_parameter_constraints`` entries of the modes' own parameters."""
    return {
        name: constraints
        for cls in SOLVERS.values()
        for name, (constraints, _) in cls.own_params.items()
    }


def own_param_docs(order):
    """The numpydoc entries of the modes' own parameters, in the order of the
    parameter names ``order`` (an estimator's signature)."""
    docs = {
        name: doc
        for cls in SOLVERS.values()
        for name, (_, doc) in cls.own_params.items()
    }
    return "\n".join(docs[name] for name in order if name in docs)


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
    cls = SOLVERS[solver]
    if (
        "update" in cls.reads
        and params["splitting"] not in cls.update_splittings
        and params["update"] != defaults["update"]
    ):
        readers = ", ".join(map(repr, sorted(cls.update_splittings)))
        phrases.append(
            f"update={params['update']!r} with splitting={params['splitting']!r} "
            f"(read with splitting={readers})"
        )
    for name in ("quantize_bits", "quantize_levels"):
        if (
            name in known
            and params["quantize"] is None
            and params[name] != defaults[name]
        ):
            # Read only to size or choose the level sets of a quantized run.
            phrases.append(f"{name}={params[name]!r} (read only with quantize set)")
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
    "own_param_constraints",
    "own_param_docs",
]

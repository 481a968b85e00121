"""The paper's RADMM: parallel regional Gauss-Seidel sweeps and a multiplier step.

Each iteration is :meth:`~skadmm._splitting.Splitting.iterate` (see the user
guide, "One iteration" and "Parallel regional updates"); the merit is the
augmented Lagrangian ``L_rho``, which never increases.
"""

from ._base import BaseSolver


class RADMMSolver(BaseSolver):
    """Proximal (or linearized) ADMM over a relaxation, as in the paper."""

    label = "ADMM"
    merit_name = "L_rho"
    remedy = "Lower `beta` or `rho`, raise `tau`, or scale the input (StandardScaler)."
    reads = frozenset({"splitting", "update", "beta", "rho", "tau"})

    def step(self, problem, run):
        problem.iterate(run)
        return problem.objective()

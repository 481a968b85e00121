"""The paper's RADMM: parallel regional Gauss-Seidel sweeps and a multiplier step.

The layers fall into contiguous *regions* (one by default; see the user guide,
"One iteration" and "Parallel regional updates"). One iteration:

1. *Phase A*: every region sweeps its interior blocks forward (each hidden
   layer's ``W_k``, then its relaxation's auxiliaries; the last region also the
   read-out and ``O``), the regions' boundaries held fixed. The regions touch
   disjoint terms of ``L_rho``: they run as parallel tasks.
2. *Phase B*: every boundary ``U_k`` (the last hidden output of a region but
   the last) given both its neighbours, in parallel.
3. *Multiplier*: ``Lam += rho (O - R)``.

The merit is the augmented Lagrangian ``L_rho``, which never increases.
"""

from functools import partial

from .._parallel import run_in_order
from ._base import SweepSolver


class RADMMSolver(SweepSolver):
    """Proximal (or linearized) ADMM over a relaxation, as in the paper."""

    label = "ADMM"
    merit_name = "L_rho"
    remedy = "Lower `beta` or `rho`, raise `tau`, or scale the input (StandardScaler)."
    reads = frozenset({"splitting", "update", "beta", "rho", "tau"})

    @classmethod
    def iterate(cls, problem, run=None):
        """One iteration of the parallel regional update, in place (``run``:
        the phases' runner; by default in order, in this thread)."""
        run = run_in_order if run is None else run
        # 1. Phase A: the regions' interiors.
        run([partial(cls._sweep_region, problem, *r) for r in problem.regions])
        # 2. Phase B: the boundaries.
        if problem.boundaries:
            run([partial(problem.update_boundary, k) for k in problem.boundaries])
        # 3. The multiplier.
        problem.update_multiplier()

    @staticmethod
    def _sweep_region(problem, start, stop):
        """Forward over the layers ``start .. stop - 1`` of one region."""
        owns_readout = stop > problem.H
        for k in range(start, min(stop, problem.H)):
            # A region's last hidden output is a boundary (phase B), unless the
            # region also owns the read-out.
            problem.sweep_layer(k, with_output=owns_readout or k < stop - 1)
        if owns_readout:
            problem.update_readout()
            problem.update_output()

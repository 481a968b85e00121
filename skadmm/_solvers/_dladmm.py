"""dlADMM (Wang et al., KDD 2019) adapted to residual blocks.

One iteration over the blocks of
:class:`~skadmm._splitting._dladmm.DLADMMRelaxation` (see ``doc/dladmm.rst``):

1. *Backward sweep*: ``O``, the read-out's bias and weights, then for
   ``k = H-1 .. 0``: ``U_k``, ``Z_k``, ``b_k``, ``W_k``.
2. *Forward sweep*: ``W_k``, ``b_k``, ``Z_k``, ``U_k`` for ``k = 0 .. H-1``,
   then ``W_H``, ``b_H``, ``O``.
3. *Multiplier*: ``Lam += rho (O - R)``.

The merit is the augmented Lagrangian ``L_rho``; with ``rho (rho + m) > 4
H^2`` (the paper's ``rho > 2H`` for a loss that is not strongly convex) it
never increases, and the solver checks that at run time.
"""

from .._splitting._dladmm import DLADMMRelaxation
from ._base import SweepSolver


class DLADMMSolver(SweepSolver):
    """dlADMM over the residual network's relaxation (``nu`` is ``beta``)."""

    label = "dlADMM"
    merit_name = "L_rho"
    monotone_merit = True
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
        return DLADMMRelaxation

    @classmethod
    def transient_arrays(cls, n_samples, width, n_hidden, n_outputs):
        # The products and differences of an inner output's gradient (or a
        # weight step's fresh A W, step product and target), at most four
        # n_samples x width arrays at once.
        return {"block temporaries": 4 * n_samples * width + 2 * n_samples * n_outputs}

    @staticmethod
    def iterate(problem, run=None):
        """One dlADMM iteration, in place."""
        problem.start_iteration()
        H = problem.H
        # 1. Backward: O, then b_H, W_H; then U_k, Z_k, b_k, W_k for k = H-1 .. 0.
        problem.output_step()
        problem.weight_step(H, problem.bias_step(H))
        problem.set_readout_output()
        for k in range(H - 1, -1, -1):
            problem.hidden_step(k)
            problem.z_step(k)
            problem.weight_step(k, problem.bias_step(k))
        # 2. Forward: W_k, b_k, Z_k, U_k for k = 0 .. H-1; then W_H, b_H, O.
        for k in range(H):
            P = problem.weight_step(k)
            P -= problem.W[k][-1]
            a = problem.bias_step(k, P)
            problem.record_links(k, problem.z_step(k, a), problem.hidden_step(k))
        P = problem.weight_step(H)
        P -= problem.W[H][-1]
        problem.bias_step(H, P)
        problem.set_readout_output()
        problem.output_step()
        # 3. The multiplier.
        problem.update_multiplier()

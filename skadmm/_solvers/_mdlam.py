"""mDLAM (Wang, Li and Zhao, Neurocomputing 2022) adapted to residual blocks.

One iteration over the blocks of
:class:`~skadmm._splitting._mdlam.BandRelaxation` (see ``doc/mdlam.rst``):

1. *Extrapolation weight*: Nesterov's ``omega_t``.
2. *Forward sweep*: for ``k = 0 .. H-1``: ``W_k`` (from the extrapolated
   point, kept only if its block's part of ``F`` falls), ``b_k``, ``Z_k``
   (exact projection onto the band), ``U_k`` (projected step, safeguarded
   likewise); then ``W_H``, ``b_H`` and ``O``.

The merit is the penalised objective ``F`` on the band constraints; it never
increases, and the solver checks that at run time.
"""

from numbers import Real

from sklearn.utils._param_validation import Interval

from .._splitting._mdlam import BandRelaxation
from ._base import SweepSolver


class MDLAMSolver(SweepSolver):
    """mDLAM over the residual network's band relaxation."""

    label = "mDLAM"
    merit_name = "F"
    monotone_merit = True
    # beta is the band penalty (rho has no role): 1, like dlADMM's.
    default_penalties = {"beta": 1.0, "rho": 2.0}
    reads = frozenset({"beta", "tau", "epsilon"})
    own_params = {
        "epsilon": (
            [Interval(Real, 0, None, closed="neither")],
            """epsilon : float, default=0.01
    Half-width of the bands ``|U_k - U_{k-1} - s(Z_k)| <= epsilon`` that
    replace the nonlinear links in ``solver="mdlam"`` (ignored by the other
    modes). Smaller values keep the auxiliaries closer to the forward
    network.""",
        )
    }
    remedy = "Lower `beta`, raise `epsilon`, or scale the input (StandardScaler)."

    @staticmethod
    def problem_class(splitting):
        return BandRelaxation

    @classmethod
    def problem_params(cls, params, alpha):
        return {**super().problem_params(params, alpha), "epsilon": params["epsilon"]}

    @classmethod
    def transient_arrays(cls, n_samples, width, n_hidden, n_outputs):
        # The band bounds, the extrapolated start, the gradient, the trial, its
        # step and product: at most seven n_samples x width arrays at once.
        return {"block temporaries": 7 * n_samples * width + 2 * n_samples * n_outputs}

    @staticmethod
    def iterate(problem, run=None):
        """One mDLAM iteration, in place."""
        # 1. The extrapolation weight (and the iteration's counters).
        problem.start_iteration()
        # 2. Forward: W_k, b_k, Z_k, U_k for k = 0 .. H-1; then W_H, b_H, O.
        H = problem.H
        for k in range(H):
            P = problem.nesterov_weight_step(k)
            P -= problem.W[k][-1]
            a = problem.bias_step(k, P)
            problem.record_links(
                k, problem.z_step(k, a), problem.nesterov_hidden_step(k)
            )
        P = problem.nesterov_weight_step(H)
        P -= problem.W[H][-1]
        problem.bias_step(H, P)
        problem.set_readout_output()
        problem.output_step()

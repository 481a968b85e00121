"""pdADMM: layer-parallel (Jacobi) ADMM over the p/q relaxation.

One iteration over the blocks of :class:`~skadmm._splitting._pdadmm.PQRelaxation`,
as tasks on the fit's team of threads:

1. *Phase A*: every layer's input ``p_l`` (``l >= 1``) at once.
2. *Phase B*: every layer's weights, pre-activation, output and multiplier
   at once (the read-out: its weights and ``O``).

The merit
is the augmented Lagrangian, which never increases when

    rho > max(4 nu S^2, (sqrt(17) + 1) nu / 2)

(``nu`` is the estimator's ``beta``, ``S`` the Lipschitz constant of the
activation): the condition of Wang et al. (ICDM 2020), which also covers the
residual blocks (see ``doc/pdadmm.rst``). A run that breaks it is warned about
(:class:`~skadmm.exceptions.PenaltyConditionWarning`), and an increase of the
merit beyond rounding stops it with a
:class:`~skadmm.exceptions.DivergenceWarning`.

With ``quantize`` (pdADMM-G-Q) the condition still covers a quantized ``p``
(its safeguarded step, on the levels of its change, keeps the decrease the
argument needs); a rounded ``q``
breaks the identity ``u = nu r`` it rests on, and then only the run-time check
guards the merit.
"""

import math
from functools import partial
from numbers import Integral

from sklearn.utils._param_validation import Options, StrOptions

from .._activations import get_activation
from .._parallel import run_in_order
from .._splitting._pdadmm import PQRelaxation
from .._warn import warn
from ..exceptions import PenaltyConditionWarning
from ._base import SweepSolver

#: The paper's lower bound of ``rho / nu`` from the multiplier-output coupling.
RATIO = (math.sqrt(17.0) + 1.0) / 2.0


def penalty_bound(nu, activation):
    """``max(4 nu S^2, (sqrt(17) + 1) nu / 2)`` and the name of the larger term."""
    S = get_activation(activation).lipschitz
    lipschitz, coupling = 4.0 * nu * S * S, RATIO * nu
    if lipschitz >= coupling:
        return (
            lipschitz,
            f"4 * beta * S^2 with S = {S:g} (Lipschitz constant of {activation})",
        )
    return coupling, "(sqrt(17) + 1) / 2 * beta"


class PDADMMSolver(SweepSolver):
    """Jacobi ADMM over the p/q relaxation (``solver="pdadmm"``)."""

    label = "pdADMM"
    merit_name = "L_rho"
    monotone_merit = True
    grows_depth = True
    # beta=1 learns where RADMM's beta=1000 does not move, and rho=5 keeps the
    # condition rho > max(4 beta S^2, 2.56 beta) for every activation.
    default_penalties = {"beta": 1.0, "rho": 5.0}
    # Every layer is a task of each phase whatever the regions, which only
    # set how many workers run them: one layer per region is enough.
    layers_per_region = 1
    reads = frozenset(
        {
            "beta",
            "rho",
            "tau",
            "quantize",
            "quantize_bits",
            "quantize_levels",
            "layer_workers",
        }
    )
    own_params = {
        "quantize": (
            [StrOptions({"p", "q", "pq"}), None],
            """quantize : {None, "p", "q", "pq"}, default=None
    pdADMM-G-Q (``solver="pdadmm"`` only): send the layer inputs ``p``
    (``"p"``), the layer outputs ``q`` (``"q"``), or both (``"pq"``) across
    the layer boundaries as integer codes. Their first values lie on a
    uniform level set per boundary (the range of the first forward pass,
    widened by half its span on either side); ``quantize_levels`` says
    where they go from there. See :ref:`pdadmm`.""",
        ),
        "quantize_bits": (
            [Options(Integral, {8, 16})],
            """quantize_bits : {8, 16}, default=8
    Bits per code of ``quantize`` (256 or 65,536 levels); read only when
    ``quantize`` is set.""",
        ),
        "quantize_levels": (
            [StrOptions({"step", "fixed"})],
            """quantize_levels : {"step", "fixed"}, default="step"
    The levels of ``quantize`` after the first forward pass; read only when
    ``quantize`` is set.

    - ``"step"``: each change of a quantized variable lies on uniform levels
      around zero whose step follows the size of the proposed change
      (re-chosen every iteration and sent in a 2-value header beside the
      codes). The ``q`` step is an exact block minimisation over those
      levels; the ``p`` step a safeguarded step on them (the rounded
      projected gradient step or the rounded exact step, whichever lowers
      the block enough).
    - ``"fixed"`` (the paper's pdADMM-G-Q): the variables stay on their
      boundary's level set for the whole fit, and the codes alone cross the
      boundary. The ``q`` step rounds its minimiser onto the levels (exact
      over them); the ``p`` step is the projected linearised step. At 8 bits
      a ``p`` whose step falls below half a level stops moving, so this
      option trains less far than ``"step"`` at small widths.""",
        ),
        "layer_workers": (
            [StrOptions({"dask"}), None],
            """layer_workers : {None, "dask"}, default=None
    Where the layers of ``solver="pdadmm"`` live during the fit. ``None``:
    in this process, every layer a task of the fit's threads
    (``n_regions``). ``"dask"``: every layer's state on a worker of the
    active ``dask.distributed`` Client (one Dask actor per layer, round
    robin over the workers), the boundary variables (``p``, ``q``, ``u``:
    float arrays, or codes with ``quantize``) handed from worker to worker
    directly, the driver sending commands and receiving scalars and the
    weights; ``exchange_bytes_`` then counts the bytes handed over. The
    iterates are those of the in-process fit, bit for bit; nothing stays on
    the workers afterwards. Fitting without an active Client is an error.
    See :ref:`pdadmm_dask`.""",
        ),
    }
    refuses = frozenset({"splitting", "update"})
    remedy = (
        "Raise `rho` above max(4 * beta * S^2, 2.562 * beta) (S: 1 for relu, "
        "leaky_relu and tanh, 0.25 for sigmoid) or lower `beta`, or scale the "
        "input (StandardScaler)."
    )

    @classmethod
    def problem_params(cls, params, alpha):
        return {
            **super().problem_params(params, alpha),
            "quantize": params["quantize"],
            "quantize_bits": params["quantize_bits"],
            "quantize_levels": params["quantize_levels"],
        }

    @staticmethod
    def problem_class(splitting):
        if splitting != "three":
            raise ValueError(
                "solver='pdadmm' has its own variables (the p/q split of every "
                f"layer); splitting={splitting!r} does not apply. Leave "
                "splitting='three' (the default)."
            )
        return PQRelaxation

    def setup(self, problem):
        check_penalties(problem.beta, problem.rho, problem.act.name)
        # A warm start may have set new penalties on a kept state.
        problem.sync_penalties()
        return problem.objective()

    @staticmethod
    def iterate(problem, run=None):
        """One Jacobi iteration, in place (``run``: the phases' runner; by
        default in order, in this thread)."""
        run = run_in_order if run is None else run
        # 1. Phase A: every p.
        if problem.H:
            run([partial(problem.update_input, k) for k in range(1, problem.H + 1)])
        # 2. Phase B: the rest of every layer.
        run([partial(problem.update_layer, k) for k in range(problem.H + 1)])


def check_penalties(nu, rho, activation):
    """Warn if ``rho`` breaks the condition that makes L_rho non-increasing."""
    bound, which = penalty_bound(nu, activation)
    if rho > bound:
        return True
    warn(
        f"solver='pdadmm' with rho={rho:g} and beta={nu:g}: the augmented "
        f"Lagrangian is guaranteed not to increase only if rho > max(4 * beta * "
        f"S^2, (sqrt(17) + 1) / 2 * beta) = {bound:g}, and rho <= {which}. Set "
        f"rho > {bound:g} or beta < {rho / (bound / nu):g}. Training stops with a "
        "DivergenceWarning if the augmented Lagrangian increases.",
        PenaltyConditionWarning,
    )
    return False

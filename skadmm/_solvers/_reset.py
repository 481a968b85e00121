"""Forward-reset block descent: hidden layers that learn, with a monotone loss.

One iteration at step ``eta`` (relaxation weight ``beta = 1 / eta``), built from
the block updates of a relaxation, which provides them as hooks (see the user
guide, "Forward-reset block descent"):

0. *Extrapolation*: the weights move to ``W + b_t (W - W_prev)`` (Nesterov's
   ``b_t = (t - 1) / (t + 2)``, read-out refitted, or extrapolated too with
   ``extrapolate_readout``) if that lowers the objective by at least
   ``min_gain`` times the previous iteration's decrease; otherwise ``t``
   restarts at 1.
1. *Reset* (``reset_to_forward``): the auxiliaries are the forward pass of the
   weights, so every relaxation penalty is zero and the relaxed energy equals
   the loss.
2. *Backward sweep* (``backward_sweep``): the last hidden output ``U_{H-1}``
   against the loss with the read-out held, then the blocks of every lower
   layer, top down (three-splitting: the exact ``Z_k`` and ``U_{k-1}`` steps;
   two-splitting: a backtracked step of each inner ``U_k``). The output error
   reaches every layer in one sweep; each auxiliary moves by about ``eta``
   times its back-propagated error, each three-splitting pre-activation by
   that divided by ``1 + s'(Z)^2`` (the exact z-step; see
   ``first_order_targets``).
3. *W steps* (``reset_w_step``): every hidden layer's weights against their new
   target, with L2 weight ``alpha * eta`` relative to the link (the penalty's
   share of the step, as the data term's) and a proximal weight ``mu``
   relative to the input's scale (damped whitening): the exact ridge fit of
   ``Z_k`` (three-splitting) or one backtracked step in the metric of that
   ridge system (two-splitting). Given the targets the layers are independent:
   they run as parallel tasks. With ``output_damping`` (the classifier's
   stages and final run on tables of 20,000 to 80,000 rows, the regressor's
   above 80,000) each weight change is multiplied by the damped inverse of
   its layer's output factor (K-FAC's second factor,
   :mod:`skadmm._splitting._output_factor`); with ``unit_damping`` (the
   regressor's on 10,000 to 80,000 rows) the last hidden layer's is scaled
   unit by unit (:meth:`ResetSolver._scale_units`). The forward
   passes (the reset, the read-out's features, the line search's trials) and
   the three-splitting's backward sweep (row-separable) run as one task per
   row block, one block per region of layers.
4. *Read-out*: the ridge solution on the new forward features.
5. *Line search*: the weight change is extrapolated (``s = 1, 2, 4, ...``, the
   read-out refitted at each trial) while the training objective keeps falling.
   The best trial is accepted only if it lowers the objective; otherwise ``eta``
   shrinks and the sweep is redone from the same reset.

The merit is the true training objective ``l(f(X); Y) + alpha/2 sum
||W_k||^2`` (biases excluded), which therefore never increases.
"""

import numpy as np

from .._network import l2_penalty
from .._parallel import run_in_order
from ._base import BaseSolver

# Step-size control: growth after an accepted step, shrink after a rejected one.
# Large steps make many relu z-steps switch sides, which spoils the direction;
# the extrapolation below, not eta, provides the step length.
_GROW, _SHRINK = 1.25, 0.25
# Majorised steps of a read-out refit without a closed form (cross-entropy)
# inside an iteration: each starts from the previous read-out, which the
# features changed little, and the steps continue across iterations.
_READOUT_MAX_ITER = 5
# Largest step: beyond it the relu z-steps flip so many units that the sweep's
# direction is no longer useful (the line search extends steps).
_ETA_MAX = 10.0
# Rejected sweeps per iteration before the iteration gives up (no change).
_MAX_RETRIES = 6
# Smallest step. A run whose objective sits at its rounding floor rejects every
# sweep, and eta would shrink by 4**6 per iteration until 1/eta overflows (a
# float32 stage within a dozen iterations); below this a sweep moves nothing.
_ETA_MIN = 1e-12
# A later run (the next stage) restarts a step that shrank below this fraction
# of the initial one: such a step is a rounding floor of the last run (its
# sweeps all rejected), not a length that fits the new rows. Carried over, it
# grew by _GROW per accepted step, so the next stages crawled or stood still
# (Friedman #1, 200,000 rows, in a trial of longer stages: a 64,000-row stage
# started at 1.6e-12 and made no progress in 10 iterations).
_ETA_RESTART = 1e-6
# A later run that keeps the hidden layers' momentum caps its Nesterov counter
# here (factor 4/7): the new rows change the objective, and the last run's
# full momentum (factor 0.97 after a long stage) gained less (Friedman #1,
# test MSE, six draws at 50,000 and 200,000 rows: less on five, by up to
# 0.0024, the same on one).
_CARRIED_MOMENTUM = 5
# Largest extrapolation factor of the line search along the weight change.
_MAX_SCALE = 2.0**12
# An extrapolated point must gain this fraction of the previous iteration's
# decrease: points that merely do not rise displaced the weights into regions
# where the sweeps need ever smaller steps (sine: 4x the default's test MSE).
_MIN_GAIN = 0.1
# Changes of the objective within this fraction of its value are rounding,
# not descent (by the data's dtype: about 4,500 units of float64 rounding; in
# float32 the features' rounding alone moves the objective by about 1e-7 of
# its value). At a step so small that a trial moves the objective by less,
# whether the trial "descends" follows the rounding of the sums over rows,
# which differs between weighted and repeated rows, and the two fits part
# ways (scikit-learn's sample-weight equivalence check: 2e-7 on a 15-row
# classifier). Such a trial counts as no move of the hidden layers.
_ROUNDING = {np.dtype(np.float64): 1e-12, np.dtype(np.float32): 1e-6}


class ResetSolver(BaseSolver):
    """Forward-reset block descent over the blocks of a splitting.

    Parameters
    ----------
    max_iter, tol, n_iter_no_change, verbose, clock
        As for :class:`~skadmm._solvers._base.BaseSolver`.
    eta : float
        Initial step (inverse relaxation weight).
    eta_max : float
        Largest step.
    mu : float
        Proximal weight of the W steps, relative to the mean diagonal of each
        layer's input Gram matrix.
    extrapolate : bool, default=True
        Try the Nesterov extrapolation across outer iterations (step 0 above).
    """

    label = "Reset"
    staged = True
    reset_hooks = True
    row_blocked = True
    merit_name = "objective"
    remedy = "Lower `eta` or raise `mu`, or scale the input (StandardScaler)."
    # The backward sweep's blocks follow `update`; beta is 1 / eta, and the
    # read-out link is exact (no rho, no proximal tau).
    reads = frozenset({"splitting", "update", "eta", "mu"})
    # The two-splitting's reset steps (its inner U and W steps) are
    # backtracked gradient steps whatever ``update`` says.
    update_splittings = frozenset({"three"})
    # Besides the base copies: the step's start, the weight change, two
    # line-search trials and the previous iterate of the extrapolation.
    weight_copies = BaseSolver.weight_copies + 5
    #: Scale each pre-activation's move of the three-splitting's exact z-step
    #: by ``1 + s'(Z)^2``, so that the weight step follows the gradient of F
    #: and fixed points are stationary points of F (with the exact z-step they
    #: are those of F with the relu hidden layers' penalty doubled). Off: the
    #: regression suite's test error is lower without it (design notes, "Which
    #: objective the sweep descends"); kept as a switch for that comparison.
    first_order_targets = False
    #: Alternations of the last hidden layer's ``U`` and ``Z`` steps in each
    #: sweep (three-splitting; 1: one of each). Many approach their joint
    #: minimiser, whose weight step is first order too (design notes, "Which
    #: objective the sweep descends"). Combined with ``first_order_targets``
    #: the later alternations' moves are scaled at ``s(Z)``, not ``s(a)``.
    top_alternations = 1
    #: Extrapolate the read-out with the hidden weights (step 0) instead of
    #: refitting it at the extrapolated point. The refit is an ``n x width^2``
    #: Gram product (2.8 forward passes of a 20-column input); step 5 refits
    #: the read-out anyway. On in the stages and final run of a progressive
    #: fit (large tables, see ``skadmm._stages``): Friedman #1 at 20,000 and
    #: 50,000 rows as accurate or more for 8-12 % less time. Off on small
    #: tables, whose test error it raised (Friedman #2 by 7 %, #3 by 4 %).
    #: Holding the read-out instead lost 0.01-0.02 test MSE at 50,000 rows.
    extrapolate_readout = False
    #: A later run (the next stage of a progressive fit) keeps the hidden
    #: layers' momentum (see :meth:`_carry_momentum`). On in the regressor's
    #: staged runs on large tables (``skadmm._stages.carries_momentum``); off
    #: in the classifier's, whose stage on all rows then
    #: stopped on ``tol`` after 135 of its 180 iterations (3-class table of
    #: ``bench_class_scaling.py``, 50,000 rows: test log-loss 0.2940 to 0.3006).
    carry_momentum = False
    #: Growth of ``eta`` after an accepted step (it shrinks by ``_SHRINK``
    #: after a rejected one). ``eta`` settles where the two balance: with
    #: 1.25 and 0.25 about one sweep in seven is rejected and redone
    #: (Friedman #1, 50,000 rows: 68 of 490), each after five or so trials.
    grow = _GROW
    #: Fraction of the previous decrease an extrapolated point must gain
    #: (0 in the classifier's staged runs,
    #: ``skadmm._stages.CLASSIFIER_STAGED_MIN_GAIN``).
    min_gain = _MIN_GAIN
    #: Steps of a read-out refit without a closed form (cross-entropy),
    #: warm-started from the current read-out; the estimator's final refit
    #: runs to convergence.
    readout_max_iter = _READOUT_MAX_ITER
    #: Damping ``lambda`` of the per-unit scaling of the last hidden layer's
    #: weight change (:meth:`_scale_units`; ``None``: no scaling). Set in the
    #: regressor's staged runs up to ``LARGE_TABLE_ROWS`` training rows
    #: (``skadmm._stages.UNIT_DAMPING``).
    unit_damping = None
    #: Damping ``lambda`` of the output side of each hidden layer's W step
    #: (three-splitting; ``None``: none): the weight change is multiplied on
    #: the right by ``(1 + lambda) m (F + lambda m I)^{-1}``, ``F`` the Gram
    #: of the sweep's moves of the layer's pre-activations and ``m`` its mean
    #: diagonal, K-FAC's second factor, computed every few W steps (see
    #: :mod:`skadmm._splitting._output_factor`). Set in the classifier's
    #: staged runs (``skadmm._stages.CLASSIFIER_STAGED_OUTPUT_DAMPING``) and
    #: the regressor's above ``LARGE_TABLE_ROWS`` training rows
    #: (``skadmm._stages.REGRESSOR_LARGE_OUTPUT_DAMPING``).
    output_damping = None

    @staticmethod
    def mode_params(params):
        return dict(eta=params["eta"], eta_max=_ETA_MAX, mu=params["mu"])

    @staticmethod
    def problem_params(params, alpha):
        # beta follows eta during the run; rho and tau are set by setup.
        return dict(beta=1.0 / params["eta"], rho=1.0, tau=0.0, alpha=alpha)

    @classmethod
    def buffer_arrays(cls, n_samples, width, n_hidden, n_outputs):
        # Two: the line search keeps its best trial's beside the next trial's.
        return {"forward features [U, 1]": 2 * n_samples * (width + 1)}

    @classmethod
    def transient_arrays(cls, n_samples, width, n_hidden, n_outputs):
        # The last hidden block's correction D (or a forward pass's second
        # buffer), with a residual and the output error.
        return {"sweep temporaries": n_samples * (width + 2 * n_outputs)}

    def __init__(
        self,
        max_iter,
        tol,
        n_iter_no_change,
        *,
        eta,
        eta_max,
        mu,
        extrapolate=True,
        verbose=0,
        clock=None,
    ):
        super().__init__(max_iter, tol, n_iter_no_change, verbose, clock)
        self.eta = self.initial_eta = eta
        self.eta_max = eta_max
        self.mu = mu
        self.extrapolate = extrapolate

    # --------------------------------------------------------------- template
    def setup(self, problem):
        self._prepare(problem)
        problem.W[-1], value = self._readout(problem, problem.W[:-1])
        problem.reset_to_forward(self._run)
        self.value = value
        # A later run (the next stage of a progressive fit) starts from the
        # step length and line-search factor the last one reached: its rows
        # are a superset of the last run's, so the step sizes still fit. A
        # step that collapsed at the last run's rounding floor starts afresh.
        # The momentum restarts unless ``carry_momentum``.
        self.scale = getattr(self, "scale", 1.0)
        if self.eta < _ETA_RESTART * self.initial_eta:
            self.eta = self.initial_eta
        self._carry_momentum(problem)
        return value, 0.0

    def _carry_momentum(self, problem):
        """The extrapolation's state at the start of a run.

        A first run starts without momentum, and so does a later one unless
        ``carry_momentum``. Then it starts at the last run's final hidden
        weights, so its last step ``W - W_prev`` still points downhill on the
        new rows: the hidden layers keep it (counter capped at
        ``_CARRIED_MOMENTUM``); the read-out, just refitted to the new rows,
        starts without. The first extrapolation is judged as every other:
        kept only if it lowers this run's objective enough.
        """
        previous = getattr(self, "_previous", None)
        if previous is None or not self.carry_momentum:
            self._previous, self._t, self._gain = None, 1, 0.0
            return
        self._previous = [
            *(np.asarray(P, dtype=problem.dtype) for P in previous[:-1]),
            problem.W[-1].copy(),
        ]
        self._t = min(self._t, _CARRIED_MOMENTUM)

    def _prepare(self, problem):
        """The mode's settings of ``problem`` and its buffers."""
        problem.prepare_reset(
            self.first_order_targets, self.top_alternations, self.output_damping
        )
        # Phases run in order until the run's team arrives with the first step.
        self._run = run_in_order

    def resume(self, problem, state):
        # The kept problem is at the forward pass of its weights (every step
        # ends with a reset), and its read-out is the one the run reached: no
        # refit, which would change the trajectory (cross-entropy's is a few
        # warm-started steps).
        self._prepare(problem)
        for key, value in state["reset"].items():
            setattr(self, key, value)
        return self.value, 0.0

    def _step_state(self):
        # The step length, line-search factor and momentum the run reached.
        keys = ("eta", "scale", "value", "_previous", "_t", "_gain")
        return {"reset": {key: getattr(self, key) for key in keys}}

    def step(self, problem, run):
        self._run = run
        if not self.extrapolate:
            return self._descend(problem, run)
        current, value = problem.weights(), self.value
        if self._previous is not None:
            self._extrapolate(problem, current)
        self._previous = current
        new_value, residual = self._descend(problem, run)
        self._gain = value - new_value
        return new_value, residual

    def _descend(self, problem, run):
        """Sweep, W steps and line search from the current weights."""
        start = problem.weights()
        floor = self._rounding(problem)
        residual = 0.0
        for _ in range(_MAX_RETRIES):
            residual = self._sweep(problem)
            self._w_steps(problem, run)
            if self.unit_damping is not None and problem.H:
                self._scale_units(problem, start)
            hidden, readout, value = self._line_search(problem, start, floor)
            if value < self.value - floor:
                problem.W[:] = [*hidden, readout]
                problem.reset_to_forward(self._run)
                self.value = value
                self.eta = min(self.eta * self.grow, self.eta_max)
                return value, residual
            # Not a descent: back to the reset state with a smaller step.
            problem.W[:] = [W.copy() for W in start]
            problem.reset_to_forward(self._run)
            if self.eta <= _ETA_MIN:
                break
            self.eta = max(self.eta * _SHRINK, _ETA_MIN)
        return self.value, residual

    def _rounding(self, problem):
        """The objective's rounding: changes within it are no descent (none
        while the objective is not finite: any finite value is a descent)."""
        if not np.isfinite(self.value):
            return 0.0
        return _ROUNDING.get(np.dtype(problem.dtype), 0.0) * abs(self.value)

    def training_loss(self, problem, value):
        # The merit is the training objective of the weights, its loss taken
        # on their forward pass: the loss curve needs no pass of its own (one
        # forward pass per iteration of the ten or so of a large table's).
        return value - 0.5 * problem.alpha * l2_penalty(problem.W)

    # ----------------------------------------------------------------- phases
    def _extrapolate(self, problem, current):
        """Move to ``W + b_t (W - W_prev)`` if the objective falls enough."""
        b = self._momentum()
        if b == 0.0:  # nothing to try: the momentum starts
            self._t += 1
            return
        *hidden, readout = (
            W + b * (W - P) for W, P in zip(current, self._previous, strict=True)
        )
        if self.extrapolate_readout:
            value = self._objective(problem, hidden, readout)
        else:
            readout, value = self._readout(problem, hidden)
        gain = max(self.min_gain * self._gain, self._rounding(problem))
        if value < self.value - gain or (gain == 0.0 and value == self.value):
            problem.W[:] = [*hidden, readout]
            problem.reset_to_forward(self._run)
            self.value = value
            self._t += 1
        else:  # restart: no momentum until it builds up again
            self._t = 1

    def _momentum(self):
        """Extrapolation factor of this iteration: Nesterov's ``(t-1)/(t+2)``."""
        return (self._t - 1) / (self._t + 2)

    def _sweep(self, problem):
        """Backward sweep of the auxiliaries from the reset state."""
        return problem.reset_sweep(1.0 / self.eta, self._run)

    def _w_steps(self, problem, run):
        problem.reset_w_steps(self.eta, self.mu, run)

    def _scale_units(self, problem, start):
        """Scale the last hidden layer's weight change unit by unit.

        Unit ``j``'s column of the change ``W - start`` is multiplied by
        ``(1 + lambda) m / (g_j + lambda m)``, with ``g_j = ||v_j||^2`` the
        squared norm of the unit's read-out row and ``m`` the mean of the
        ``g_j``. The W step moves a unit about as far as the input-whitened
        gradient does, in proportion to its read-out weight, while the
        Gauss-Newton curvature of its weights grows with ``g_j``: a unit the
        read-out barely uses barely learns, and the weight penalty keeps it so
        (the squared weights of two layers penalise each unit like the product
        of its two norms). The scaled change is the damped diagonal
        Gauss-Newton step over the units (the output side of K-FAC, up to the
        units' activation rates); ``lambda`` bounds a unit's gain at
        ``(1 + lambda) / lambda`` times an average unit's. The line search
        judges the scaled step on the training objective as any other, so the
        merit still never rises.
        """
        k = problem.H - 1
        V = np.asarray(problem.W[-1][:-1], dtype=np.float64)
        g = np.einsum("ij,ij->i", V, V)
        m = float(g.mean())
        if not (np.isfinite(m) and m > 0.0):
            return
        lam = self.unit_damping
        scale = ((1.0 + lam) * m / (g + lam * m)).astype(problem.W[k].dtype)
        problem.W[k] = start[k] + (problem.W[k] - start[k]) * scale

    def _line_search(self, problem, start, floor):
        """Best of ``start + s (W - start)`` over trial factors ``s >= 1``.

        The first trial is the factor accepted last time; the factor then doubles
        while the objective keeps falling, or halves (down to the unit step)
        until it falls below the current value. Trials are scored with the
        current read-out (one forward pass each); the read-out is refitted once,
        at the chosen point, which can only lower the objective further. The
        chosen trial's forward features are kept (two buffers take turns), so
        the refit needs no forward pass of its own.

        "Falling" means by more than ``floor``, the objective's rounding. A
        unit step that moves the objective by no more than that is no step:
        the hidden layers stay at ``start`` and only the read-out is refitted
        (what the accepted noise step did, minus the noise).
        """
        H = problem.H
        readout = problem.W[-1]
        step = [problem.W[k] - start[k] for k in range(H)]

        def trial(s):
            hidden = [start[k] + s * step[k] for k in range(H)]
            return hidden, self._objective(problem, hidden, readout)

        s = self.scale
        hidden, value = trial(s)
        if value < self.value - floor:
            while s < _MAX_SCALE:
                problem.swap_features()  # the best trial's stay in the spare
                bigger, bigger_value = trial(2.0 * s)
                if not bigger_value < value - floor:
                    problem.swap_features()
                    break
                s, hidden, value = 2.0 * s, bigger, bigger_value
        else:
            while s > 1.0 and not value < self.value - floor:
                s = max(s / 2.0, 1.0)
                hidden, value = trial(s)
            if not value < self.value - floor:
                if floor == 0.0 or value > self.value + floor:
                    return hidden, readout, value
                # Within rounding of the current value: a noise step.
                hidden = [W.copy() for W in start[:H]]
                return (hidden, *self._readout(problem, hidden))
        self.scale = s
        refit, refit_value = self._readout(problem, hidden, kept=True)
        if refit_value <= value:
            readout, value = refit, refit_value
        return hidden, readout, value

    def _objective(self, problem, hidden, readout):
        """Training objective of the network ``hidden`` + ``readout``."""
        return problem.objective_of(hidden, readout, self._run)

    def _readout(self, problem, hidden, kept=False):
        """Best read-out for the forward features of ``hidden``, and the objective.

        ``kept``: those features are the last trial's (no forward pass).
        """
        return problem.readout_for(hidden, self.readout_max_iter, self._run, kept)

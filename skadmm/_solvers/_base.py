"""Solver template: set up, step, check, finalise.

A solver mode is an update order over the block updates of a relaxation
(:class:`~skadmm._splitting.SplitRelaxation`); subclasses fill :meth:`BaseSolver.step`
and name their merit function. The template owns what every mode shares: the
guards against non-finite values and explosion, Ctrl-C, the curves, progress
lines and the stopping rule. It knows nothing of scikit-learn estimators; a
*monitor* supplied by the caller evaluates the forward network after each
iteration and may ask to stop (early stopping).
"""

import time
from abc import ABC, abstractmethod
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from .._parallel import run_in_order
from .._splitting import SPLITTINGS
from ..exceptions import NumericalError

#: Estimator parameters that several modes read (see ``BaseSolver.reads``);
#: a parameter of one mode only is declared with it (``BaseSolver.own_params``).
SHARED_MODE_PARAMS = ("splitting", "update", "beta", "rho", "tau", "eta", "mu")

# The merit never increases in exact arithmetic; growth by this factor means
# overflow.
_EXPLOSION_FACTOR = 1e4
#: The clock of the runs: their time curves and progress lines (a test may
#: replace it by a fake one to check the lines' spacing).
CLOCK = time.perf_counter
#: Seconds between two progress lines at ``verbose=1``.
PROGRESS_INTERVAL = 2.0

# A monotone merit may rise by rounding only: by at most this fraction of its
# size, or a thousand machine epsilons of the data's dtype (float32: 1.2e-4).
_ROUNDING = 1e-10


@dataclass
class SolverResult:
    """What a run of a solver produced."""

    weights: list
    n_iter: int = 0
    converged: bool = False
    objective_curve: list = field(default_factory=list)
    time_curve: list = field(default_factory=list)
    residual_curve: list = field(default_factory=list)
    step_curve: list = field(default_factory=list)
    stop_reason: str = ""
    failure: str | None = None
    interrupted: bool = False

    @property
    def completed(self):
        """Neither failed nor interrupted."""
        return self.failure is None and not self.interrupted


class BaseSolver(ABC):
    """Run iterations of a splitting until convergence or ``max_iter``.

    Parameters
    ----------
    max_iter : int
        Maximum number of iterations.
    tol : float
        The run stops (converged) once the merit's mean relative decrease per
        iteration over the last ``n_iter_no_change`` iterations is below
        ``tol``.
    n_iter_no_change : int
        Length of that window, in iterations.
    verbose : int
        Print a progress line every iteration (``>= 2``, with the merit and
        the residual) or at most one every ``PROGRESS_INTERVAL`` seconds
        (``1``), and a closing line (why the run stopped, its time).
    clock : callable, default=None
        Seconds of a monotone clock; ``None``: the module's ``CLOCK``.
    """

    #: Name of the merit function in messages.
    merit_name = "merit"
    #: Name of the mode in messages.
    label = "Solver"
    #: What to change when a run fails.
    remedy = ""
    #: The merit never increases (under the mode's conditions): an increase
    #: beyond rounding stops the run as a failure.
    monotone_merit = False
    #: ``warm_start`` with more ``n_blocks`` appends identity blocks (zero
    #: branch weights) to the fitted network instead of refusing.
    grows_depth = False
    #: The mode drives the relaxation through its forward-reset hooks
    #: (``reset_to_forward``, ``backward_sweep``, ``reset_w_step``), whose
    #: scratch arrays differ from the ADMM blocks' (for the memory guard).
    reset_hooks = False
    #: On large tables a first fit runs stages on growing row samples before
    #: the run on all rows (see ``skadmm._stages``).
    staged = False
    #: On large tables (three-splitting, no ``warm_start``) the rows are split
    #: into fixed blocks computed on the fit's threads (``skadmm._row_blocks``).
    row_blocked = False
    #: Copies of the weights alive at once during a run: the problem's, the
    #: last completed iterate's and the new one's (for the memory guard).
    weight_copies = 3
    #: What the estimator's ``beta="auto"`` and ``rho="auto"`` stand for in this
    #: mode (the paper's RADMM values; each mode sets its own from the
    #: head-to-head benchmark, page "Training modes head to head").
    default_penalties = {"beta": 1000.0, "rho": 2.0}
    #: The estimator's mode parameters (``MODE_PARAMS``) this mode reads; the
    #: estimator warns when one of the others is set (it would be ignored).
    reads = frozenset()
    #: Mode parameters that this mode refuses with an error unless at their
    #: defaults (no warning needed).
    refuses = frozenset()
    #: The fewest layers of a region when ``n_regions > 1`` (see
    #: ``skadmm._parallel.split_layers``).
    layers_per_region = 2
    #: The splittings whose blocks read ``update`` (when ``reads`` has it).
    update_splittings = frozenset({"two", "three"})
    #: The estimator parameters only this mode reads, declared here once:
    #: ``name -> (constraints, docstring entry)``. The estimators take their
    #: constraints and documentation from here (their ``__init__`` still
    #: lists each parameter, as scikit-learn requires).
    own_params = {}

    @classmethod
    def buffer_arrays(cls, n_samples, width, n_hidden, n_outputs):
        """Elements of the arrays a run keeps besides the problem, by name."""
        return {}

    @classmethod
    def transient_arrays(cls, n_samples, width, n_hidden, n_outputs):
        """Elements of the largest temporaries of a step, by name."""
        return {}

    @classmethod
    def from_params(cls, params):
        """The solver of an estimator with parameters ``params`` (``get_params``)."""
        return cls(
            params["max_iter"],
            params["tol"],
            params["n_iter_no_change"],
            verbose=params["verbose"],
            **cls.mode_params(params),
        )

    @staticmethod
    def mode_params(params):
        """Keyword arguments of this mode's constructor, from estimator ``params``."""
        return {}

    @classmethod
    def penalties(cls, params):
        """``beta`` and ``rho`` of estimator ``params``, ``"auto"`` resolved."""
        return {
            name: cls.default_penalties[name]
            if params[name] == "auto"
            else params[name]
            for name in ("beta", "rho")
        }

    @classmethod
    def problem_params(cls, params, alpha):
        """Penalties of the problem this solver runs, from estimator ``params``."""
        return dict(**cls.penalties(params), tau=params["tau"], alpha=alpha)

    @staticmethod
    def problem_class(splitting):
        """The class of the problem this solver runs (a relaxation by default)."""
        return SPLITTINGS[splitting]

    def __init__(self, max_iter, tol, n_iter_no_change, verbose=0, clock=None):
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.verbose = verbose
        self.clock = CLOCK if clock is None else clock

    def setup(self, problem):
        """Prepare ``problem`` for the first step; return ``(merit, residual)``."""
        return problem.objective()

    @abstractmethod
    def step(self, problem, run):
        """One iteration in place; return ``(merit, residual)``."""

    def resume(self, problem, state):
        """Prepare ``problem``, kept from an earlier run of this mode, to go on
        from that run's step state ``state`` (:meth:`state`); return ``(merit,
        residual)``.

        The default suits the modes whose whole state lives in the problem
        (their :meth:`setup` recomputes it); a mode with a step state of its
        own (step sizes, momentum) restores it instead of starting it afresh.
        """
        return self.setup(problem)

    def state(self):
        """The step state a warm-started fit resumes from: the stopping rule's
        window and the first merit (explosion guard), with the mode's own
        (:meth:`_step_state`). Valid after :meth:`solve`."""
        return dict(
            window=list(self._window),
            start_value=self._start_value,
            **self._step_state(),
        )

    def _step_state(self):
        """The mode's own step state (nothing by default)."""
        return {}

    def solve(
        self, problem, monitor, run=None, max_iter=None, resume=None, name="", tol=None
    ):
        """Iterate ``problem`` in place; return a :class:`SolverResult`.

        ``max_iter`` and ``tol`` override the solver's own for this run (a
        stage of a progressive fit, see ``skadmm._stages``); the solver's step
        state (step sizes) carries over from one call to the next.

        ``resume``: the :meth:`state` of an earlier run on the same kept
        ``problem`` (``warm_start``), which this run then continues exactly:
        runs of ``k`` iterations resumed ``n`` times make one run of ``n k``.

        ``run`` executes the phases of an iteration (a list of independent tasks);
        by default they run in order in this thread. Exceptions other than a
        failed linear solve and Ctrl-C propagate unchanged.

        ``monitor.begin_iteration(iteration)`` is called before every
        iteration, ``monitor.update(problem, iteration)`` after it; ``update``
        returns a :class:`~skadmm._monitor.MonitorReport` (stop, finite forward
        network, why it stops, a short text for progress lines).

        ``name``: what the progress lines call the run (a stage's rows).
        """
        run = run_in_order if run is None else run
        max_iter = self.max_iter if max_iter is None else max_iter
        tol = self.tol if tol is None else tol
        # 1. Set up (or resume): the starting merit and the stopping window.
        if resume is None:
            value, residual = self.setup(problem)
            start_value, window = value, [value]
        else:
            value, residual = self.resume(problem, resume)
            start_value, window = resume["start_value"], resume["window"]
        result = SolverResult(weights=problem.weights())
        self._start_value = start_value
        # The merit before the last n_iter_no_change iterations and after each.
        window = deque(window, maxlen=self.n_iter_no_change + 1)
        self._window = window
        tick = self.clock()
        progress = _Progress(self, max_iter, tick, name)
        scale = self._merit_scale(problem, value)
        for it in range(1, max_iter + 1):
            previous, previous_scale = value, scale
            monitor.begin_iteration(it)
            # 2. Update: one iteration of the mode, in place.
            try:
                # Overflow is detected below and reported with a remedy.
                with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                    value, residual = self.step(problem, run)
                scale = self._merit_scale(problem, value)
                # 3. Check the iterate: finite, monotone, bounded.
                failure = self._guard(
                    problem, value, previous, max(scale, previous_scale), start_value
                )
                report = (
                    None
                    if failure
                    else monitor.update(problem, it, self.training_loss(problem, value))
                )
            except NumericalError as exc:
                # A block's own check may say what failed (``reason``).
                failure = getattr(exc, "reason", "a linear system became non-finite")
            except KeyboardInterrupt:
                _interrupted(result, it)
                break
            if failure is None and not report.finite:
                failure = "the forward network produced non-finite outputs"
            if failure is not None:
                result.failure = self._failure(it, failure)
                break
            # 4. Record the iterate and its curves.
            now = self.clock()
            self._record(result, problem, it, value, residual, now - tick)
            progress.iteration(it, now, report.info, value, residual)
            # 5. Stop: the monitor asked (early stopping, a callback), or the
            # merit stalled over the window.
            if report.stop:
                result.converged, result.stop_reason = True, report.reason
                break
            window.append(value)
            if len(window) == window.maxlen and stalled(window, tol):
                result.converged = True
                result.stop_reason = (
                    f"{self.merit_name} decreased by less than tol={tol:g} "
                    "(relative) per iteration over the last "
                    f"{self.n_iter_no_change} iterations"
                )
                break
        # 6. Finalise.
        if result.completed and not result.converged:
            result.stop_reason = f"max_iter={max_iter} iterations reached"
        progress.close(result, self.clock())
        return result

    def training_loss(self, problem, value):
        """The training loss of ``problem``'s weights, given the merit
        ``value`` (``None``: the monitor computes it from a forward pass)."""
        return None

    def _guard(self, problem, value, previous, scale, start_value):
        """What went wrong with the new iterate (``None``: nothing).

        ``scale``: the size of the merit's terms at the two iterates, the unit
        of the rounding a monotone merit may rise by.
        """
        if not np.isfinite(value) or not all(np.isfinite(W).all() for W in problem.W):
            return "non-finite values appeared"
        if self.monotone_merit and value - previous > _rounding(problem, scale):
            return (
                f"{self.merit_name} increased from {previous:.10g} to "
                f"{value:.10g}, beyond rounding (it never increases when the "
                "penalties satisfy the mode's condition)"
            )
        if abs(value) > _EXPLOSION_FACTOR * max(abs(start_value), 1.0):
            return f"{self.merit_name} exploded from {start_value:.3g} to {value:.3g}"
        return None

    @staticmethod
    def _merit_scale(problem, value):
        """The size of the merit's terms (a problem whose merit sums terms of
        both signs gives it as ``merit_scale``)."""
        return getattr(problem, "merit_scale", abs(value))

    @staticmethod
    def _record(result, problem, it, value, residual, seconds):
        weights = problem.weights()
        result.step_curve.append(_relative_step(result.weights, weights))
        result.weights = weights
        result.n_iter = it
        result.objective_curve.append(value)
        result.time_curve.append(seconds)
        result.residual_curve.append(residual)

    def _failure(self, iteration, what):
        return (
            f"{self.label} iteration {iteration}: {what}. Training stopped and "
            f"the weights of the last finite iterate ({iteration - 1}) were kept. "
            f"{self.remedy}"
        )


class SweepSolver(BaseSolver):
    """A mode whose iteration is a fixed order of block updates (its
    :meth:`iterate`), after which the relaxation gives the merit."""

    def step(self, problem, run):
        self.iterate(problem, run)
        return problem.objective()

    @staticmethod
    @abstractmethod
    def iterate(problem, run=None):
        """One iteration over ``problem``'s block updates, in place (``run``:
        the runner of a phase's parallel tasks; by default in order)."""


class _Progress:
    """The progress lines of a run (``verbose``): time-spaced, then a last one."""

    def __init__(self, solver, max_iter, tick, name):
        self.solver, self.max_iter, self.tick = solver, max_iter, tick
        self.last = tick
        self.prefix = f"{name}: " if name else ""

    def iteration(self, it, now, info, value, residual):
        solver = self.solver
        if not solver.verbose:
            return
        if solver.verbose < 2 and now - self.last < PROGRESS_INTERVAL:
            return
        self.last = now
        elapsed = now - self.tick
        # The mean time per iteration so far, for the iterations max_iter
        # allows (an upper bound: the run may stop earlier).
        left = elapsed / it * (self.max_iter - it)
        line = (
            f"{self.prefix}Iteration {it}/{self.max_iter}: {info}, "
            f"{elapsed:.1f}s elapsed, at most {left:.1f}s left"
        )
        if solver.verbose >= 2:
            line += f", {solver.merit_name} = {value:.8g}, residual = {residual:.3g}"
        print(line, flush=True)

    def close(self, result, now):
        if not self.solver.verbose:
            return
        reason = result.stop_reason or f"failed: {result.failure}"
        print(
            f"{self.prefix}Stopped after {result.n_iter} iterations in "
            f"{now - self.tick:.2f}s: {reason.rstrip('. ')}.",
            flush=True,
        )


def stalled(window, tol):
    """Whether the mean relative decrease per iteration over ``window`` (the
    merit before its iterations, then after each) is below ``tol``: the
    stopping rule of every mode.

    A mean over the window, not every single decrease: the reset mode's
    accepted extrapolations make one iteration in five to ten gain far more
    than its neighbours, and a run can go on at a mean decrease well below
    ``tol`` without ever stalling ``n_iter_no_change`` times in a row.
    """
    value = window[-1]
    decrease = (window[0] - value) / (len(window) - 1)
    return decrease < tol * max(abs(value), np.finfo(float).tiny)


def _relative_step(old, new):
    """``||new - old|| / ||old||`` over the hidden weights (read-out excluded)."""
    moved = sum(
        float(np.sum((b - a) ** 2)) for a, b in zip(old[:-1], new[:-1], strict=True)
    )
    size = sum(float(np.sum(a**2)) for a in old[:-1])
    return float(np.sqrt(moved / size)) if size > 0 else 0.0


def _rounding(problem, scale):
    """How much rounding alone may raise a merit whose terms have size ``scale``."""
    dtype = getattr(problem, "dtype", np.float64)
    return max(_ROUNDING, 1e3 * float(np.finfo(dtype).eps)) * scale


def _interrupted(result, iteration):
    result.interrupted = True
    result.stop_reason = f"interrupted by the user at iteration {iteration}"

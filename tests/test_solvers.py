"""The contract every training mode keeps, run over the ``SOLVERS`` registry.

For each registered mode (and each ``splitting``/``update`` it reads) x
activation x sample weights, one short fit through the estimator records the
state after the set-up and after every iteration, and checks:

(a) the mode's merit, recomputed by the test from the state with plain numpy
    (its own oracle, ``ORACLES``), never increases beyond rounding and falls;
(b) the merit the solver reports (its cached terms) equals that recomputation;
(c) the weights stay finite;
(d) the fit is bit-identical with ``n_jobs=1`` and ``n_jobs=2`` (two regions).

A newly registered mode is tested at once; it fails here until its oracle is
added to ``ORACLES``. The modes' other properties (block steps against brute
force, multiplier identities, bands, warnings) stay in their own files.
"""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_limits

from skadmm import ADMMResidualRegressor
from skadmm._activations import ACTIVATIONS
from skadmm._solvers import SOLVERS
from skadmm._splitting import SPLITTINGS
from skadmm.exceptions import DivergenceWarning

from ._problems import (
    independent_band_objective,
    independent_lrho,
    independent_pq_lrho,
    true_objective,
)


def _reset_objective(problem, X, Y, sw):
    return true_objective(problem.W, X, Y, sw, problem.act, problem.alpha)


#: Each mode's merit (its ``merit_name``; the mode's page and the user guide
#: define it), recomputed from the problem's state by the test alone.
ORACLES = {
    "radmm": independent_lrho,  # L_rho of the three- or two-splitting
    "dladmm": independent_lrho,  # L_rho of the three-splitting
    "pdadmm": independent_pq_lrho,  # L_rho of the p/q relaxation
    "mdlam": independent_band_objective,  # F on the bands
    "reset": _reset_objective,  # the training objective itself
}

N_ITER = 12
# Four layers: two regions of two, so n_jobs=2 has work to share.
BASE = dict(width=8, n_blocks=2, n_regions=2, alpha=1e-2, max_iter=N_ITER, tol=0.0)
BASE.update(early_stopping=False, random_state=0)


def variants():
    """``(mode, params)`` for every registered mode and each choice of the
    ``splitting``/``update`` it reads."""
    out = []
    for mode, cls in SOLVERS.items():
        splittings = sorted(SPLITTINGS) if "splitting" in cls.reads else ["three"]
        updates = ["proximal", "linearized"] if "update" in cls.reads else ["proximal"]
        for splitting in splittings:
            for update in updates:
                params = dict(solver=mode)
                if splitting != "three":
                    params["splitting"] = splitting
                if update != "proximal":
                    params["update"] = update
                out.append(params)
    return out


def _label(params):
    return "-".join(str(v) for v in params.values())


@pytest.fixture(scope="module")
def problem_data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((90, 4))
    y = np.column_stack([np.sin(X[:, 0]) * X[:, 1], X[:, 2] ** 2])
    y += 0.1 * rng.standard_normal(y.shape)
    sw = rng.uniform(0.2, 3.0, X.shape[0])
    return X, y, sw


def recorded_fit(params, X, y, sw, oracle):
    """Fit with ``n_jobs=1``, recording ``(reported merit, recomputed merit,
    weights finite)`` after the set-up and every step of the run."""
    records = []

    def record(problem, merit):
        finite = all(np.isfinite(W).all() for W in problem.W)
        records.append((merit, oracle(problem, X, problem.Y, sw), finite))

    class Recorded(SOLVERS[params["solver"]]):
        def setup(self, problem):
            merit, residual = super().setup(problem)
            record(problem, merit)
            return merit, residual

        def step(self, problem, run):
            merit, residual = super().step(problem, run)
            record(problem, merit)
            return merit, residual

    class Recording(ADMMResidualRegressor):
        def _solver_class(self):
            return Recorded

    est, failures = _fit(Recording(**BASE, **params, n_jobs=1), X, y, sw)
    return est, records, failures


def _fit(est, X, y, sw):
    """The fitted ``est`` and the messages of its DivergenceWarnings (a run
    stopped by the mode's own guard or by a non-finite value)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("always", DivergenceWarning)
        est.fit(X, y, sample_weight=sw)
    return est, [
        str(w.message) for w in caught if issubclass(w.category, DivergenceWarning)
    ]


@pytest.mark.parametrize("mode", sorted(SOLVERS))
def test_every_registered_mode_has_an_independent_oracle(mode):
    assert mode in ORACLES, (
        f"solver {mode!r} is registered but the contract has no oracle of its "
        f"merit ({SOLVERS[mode].merit_name}): add one to ORACLES"
    )


WEIGHTED = pytest.mark.parametrize("weighted", [False, True], ids=["plain", "weighted"])
ACTIVATION = pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
VARIANT = pytest.mark.parametrize("params", variants(), ids=_label)


@WEIGHTED
@ACTIVATION
@VARIANT
def test_merit_is_monotone_cached_right_and_finite(
    problem_data, params, activation, weighted
):
    X, y, sw = problem_data
    sw = sw if weighted else None
    params = {**params, "activation": activation}
    est, records, failures = recorded_fit(params, X, y, sw, ORACLES[params["solver"]])
    reported, recomputed, finite = (np.array(r) for r in zip(*records, strict=True))
    # (c) Finite weights after every step and at the end.
    assert finite.all(), np.flatnonzero(~finite)
    assert all(np.isfinite(W).all() for W in est.coefs_ + est.intercepts_)
    # (a) Monotone against the independent oracle, and a real descent (a
    # frozen iterate would also be "non-increasing").
    rises = np.diff(recomputed) / np.abs(recomputed[:-1])
    assert rises.max() <= 1e-12, rises.max()
    assert recomputed[-1] < (1 - 1e-6) * recomputed[0], recomputed[[0, -1]]
    # (b) The solver's merit, from its cached terms, is the recomputed one.
    np.testing.assert_allclose(reported, recomputed, rtol=1e-10)
    # The run was not cut short by the mode's own guards.
    assert not failures
    assert est.n_iter_ == N_ITER and len(records) == N_ITER + 1


@WEIGHTED
@ACTIVATION
@VARIANT
def test_two_workers_give_the_same_bits(problem_data, params, activation, weighted):
    """(d) ``n_jobs=2`` on two regions: the same fit as ``n_jobs=1``. Under a
    budget of two BLAS threads, so that two workers really run (with one, the
    plan is serial and the check would be empty)."""
    X, y, sw = problem_data
    sw = sw if weighted else None
    params = {**BASE, **params, "activation": activation}
    with threadpool_limits(2, user_api="blas"):
        plan = ADMMResidualRegressor(**params, n_jobs=2)._plan_parallelism(*X.shape)
        if plan.n_workers < 2:
            pytest.skip("needs two cores")
        fits = [
            _fit(ADMMResidualRegressor(**params, n_jobs=n), X, y, sw)[0] for n in (1, 2)
        ]
    one, two = fits
    assert one.n_iter_ == two.n_iter_ == N_ITER
    for a, b in zip(
        one.coefs_ + one.intercepts_, two.coefs_ + two.intercepts_, strict=True
    ):
        np.testing.assert_array_equal(a, b)
    assert one.objective_curve_ == two.objective_curve_

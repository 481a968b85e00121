"""The tests' problem builders and independent oracles.

``regression_data``/``class_data`` build the small tables the estimator-level
tests fit (their fixtures are in ``conftest.py``). ``random_problem`` is the
random problem the splitting tests iterate on: two smooth nonlinear outputs of
four Gaussian inputs plus noise, optional positive sample weights, and the
network's own initial weights, so that a difference between the relaxations'
results is a difference between the relaxations. The ``independent_*``
functions and ``true_objective`` recompute each mode's merit from its state
with plain numpy, for the solvers' own numbers to be checked against.
"""

import numpy as np

from skadmm._activations import get_activation
from skadmm._network import init_weights


def regression_data(n_samples, n_features, *, seed, frequency=2.0, noise=0.1):
    """``X, y``: Gaussian inputs, ``y = sin(frequency x_0) + x_1 x_2`` plus noise."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, n_features))
    y = np.sin(frequency * X[:, 0]) + X[:, 1] * X[:, 2]
    return X, y + noise * rng.standard_normal(n_samples)


def class_data(n_samples=240, n_features=4, *, seed=0):
    """``X, y``: three classes cut from ``sin(2 x_0) + x_1 x_2`` at +-0.4."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, n_features))
    score = np.sin(2 * X[:, 0]) + X[:, 1] * X[:, 2]
    return X, np.digitize(score, [-0.4, 0.4])


def random_problem(n_samples, activation, *, width, n_blocks, weighted=False, seed=0):
    """``X, Y, sample_weight, initial weights, activation`` drawn from ``seed``."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, 4))
    Y = np.column_stack([np.sin(X[:, 0]) * X[:, 1], X[:, 2] ** 2])
    Y += 0.1 * rng.standard_normal(Y.shape)
    sw = rng.uniform(0.2, 3.0, n_samples) if weighted else None
    act = get_activation(activation)
    W = init_weights(X.shape[1], width, n_blocks, Y.shape[1], act, rng, X.dtype)
    return X, Y, sw, W, act


def weighted_sq_norm(X, sw):
    """``||.||_S^2`` with the normalised row weights of ``sw`` (uniform if None),
    computed directly rather than with the package's ``RowWeights``."""
    s = np.full(X.shape[0], 1 / X.shape[0]) if sw is None else sw / sw.sum()

    def sq(A):
        return float(np.sum(s[:, None] * A**2))

    return s, sq


def independent_lrho(problem, X, Y, sw):
    """L_rho of the two- and three-splitting relaxations (dlADMM's included)
    recomputed from the state with plain numpy, no cached links."""
    act = problem.act
    s, sq = weighted_sq_norm(X, sw)
    total = 0.5 * sq(problem.O - Y)
    total += 0.5 * problem.alpha * sum(np.sum(W[:-1] ** 2) for W in problem.W)
    # Only the three-splitting family holds the pre-activations Z.
    three = hasattr(problem, "Z")
    inp, prev = X, 0
    for k in range(problem.H):
        U = problem.U[k][:, :-1]
        pre = inp @ problem.W[k][:-1] + problem.W[k][-1]
        if three:
            penalty = sq(problem.Z[k] - pre) + sq(U - prev - act(problem.Z[k]))
        else:
            penalty = sq(U - prev - act(pre))
        total += 0.5 * problem.beta * penalty
        inp = prev = U
    gap = problem.O - (inp @ problem.W[-1][:-1] + problem.W[-1][-1])
    total += float(np.sum(s[:, None] * problem.Lam * gap)) + 0.5 * problem.rho * sq(gap)
    return total


def independent_pq_lrho(problem, X, Y, sw):
    """L_rho of pdADMM's p/q relaxation recomputed from the state with plain
    numpy (``P``, ``Q``, ``Z``, multipliers ``Mu``; ``nu`` is ``beta``)."""
    act, nu, rho = problem.act, problem.beta, problem.rho
    s, sq = weighted_sq_norm(X, sw)

    def p(k):
        return X if k == 0 else problem.P[k][:, :-1]

    total = 0.5 * sq(problem.O - Y)
    total += 0.5 * problem.alpha * sum(np.sum(W[:-1] ** 2) for W in problem.W)
    for k in range(problem.H):
        z, q, u = problem.Z[k], problem.Q[k], problem.Mu[k]
        pre = p(k) @ problem.W[k][:-1] + problem.W[k][-1]
        skip = p(k) if k else 0.0
        total += 0.5 * nu * (sq(z - pre) + sq(q - skip - act(z)))
        gap = p(k + 1) - q
        total += float(np.sum(s[:, None] * u * gap)) + 0.5 * rho * sq(gap)
    out = p(problem.H) @ problem.W[-1][:-1] + problem.W[-1][-1]
    return total + 0.5 * nu * sq(problem.O - out)


def independent_band_objective(problem, X, Y, sw):
    """mDLAM's penalised objective ``F`` on its band relaxation, recomputed
    from the state with plain numpy (the bands themselves are constraints)."""
    _, sq = weighted_sq_norm(X, sw)
    total = 0.5 * sq(problem.O - Y)
    total += 0.5 * problem.alpha * sum(np.sum(W[:-1] ** 2) for W in problem.W)
    inp = X
    for k in range(problem.H):
        pre = inp @ problem.W[k][:-1] + problem.W[k][-1]
        total += 0.5 * problem.beta * sq(problem.Z[k] - pre)
        inp = problem.U[k][:, :-1]
    R = inp @ problem.W[-1][:-1] + problem.W[-1][-1]
    return total + 0.5 * problem.beta * sq(problem.O - R)


def independent_forward(X, weights, act):
    """The residual network's output, written out: ``U_0 = s(X W_0)``, then
    ``U_k = U_{k-1} + s(U_{k-1} W_k)``, then the linear read-out."""
    U = act(X @ weights[0][:-1] + weights[0][-1])
    for W in weights[1:-1]:
        U = U + act(U @ W[:-1] + W[-1])
    return U @ weights[-1][:-1] + weights[-1][-1]


def true_objective(weights, X, Y, sw, act, alpha):
    """``1/2 ||f(X) - Y||_S^2 + alpha/2 sum_k ||W_k without bias||^2`` from
    scratch: the objective the forward-reset mode descends."""
    _, sq = weighted_sq_norm(X, sw)
    penalty = sum(float(np.sum(W[:-1] ** 2)) for W in weights)
    return 0.5 * sq(independent_forward(X, weights, act) - Y) + 0.5 * alpha * penalty


def iterate(problem, run=None):
    """One iteration, in place, of the mode that runs ``problem``'s class (the
    update order lives in the solvers; see ``skadmm._solvers``)."""
    from skadmm._parallel import run_in_order
    from skadmm._solvers import DLADMMSolver, MDLAMSolver, PDADMMSolver, RADMMSolver
    from skadmm._splitting._dladmm import DLADMMRelaxation
    from skadmm._splitting._mdlam import BandRelaxation
    from skadmm._splitting._pdadmm import PQRelaxation

    modes = {
        PQRelaxation: PDADMMSolver,
        DLADMMRelaxation: DLADMMSolver,
        BandRelaxation: MDLAMSolver,
    }
    solver = modes.get(type(problem), RADMMSolver)
    solver.iterate(problem, run_in_order if run is None else run)


def estimator_memory_parts(estimator, X, y, sample_weight):
    """The memory guard's parts of ``estimator.fit(X, y, sample_weight)``."""
    from sklearn.base import is_classifier

    from skadmm._memory import params_memory_parts

    plan = estimator._plan_parallelism(X.shape[0], X.shape[1])
    n_outputs = estimator._n_outputs_for(y)
    return params_memory_parts(
        estimator.get_params(),
        X,
        n_outputs,
        sample_weight is not None,
        plan,
        is_classifier(estimator),
    )


class StopAt:
    """A fit callback (scikit-learn's ``sklearn.callback`` protocol) that asks
    to stop the fit at the end of iteration ``at``.

    It counts the iterations begun (``begun``), the other tasks ended
    (``fits``), and, given ``X, y``, scores each iteration's network
    (``scores``, through the ``fitted_estimator`` it is given).
    """

    def __init__(self, at, X=None, y=None):
        self.at, self.X, self.y = at, X, y
        self.seen, self.begun, self.fits, self.scores = 0, 0, 0, []

    def setup(self, estimator, context):
        pass

    def teardown(self, estimator, context):
        pass

    def on_fit_task_begin(self, estimator, context):
        if context.task_name == "iteration":
            self.begun += 1

    def on_fit_task_end(self, estimator, context, *, fitted_estimator=None):
        if context.task_name != "iteration":
            self.fits += 1
            return False
        self.seen += 1
        if self.X is not None:
            self.scores.append(fitted_estimator.score(self.X, self.y))
        return self.seen >= self.at

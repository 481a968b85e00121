"""The random regression problem that the splitting tests iterate on, and
the plain-numpy evaluation of L_rho they check the solvers' own against.

Two smooth nonlinear outputs of four Gaussian inputs plus noise, optional
positive sample weights, and the network's own initial weights: every
relaxation's property tests start from the same kind of state, so that a
difference between their results is a difference between the relaxations.
"""

import numpy as np

from skadmm._activations import get_activation
from skadmm._network import init_weights


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
    from skadmm._memory import params_memory_parts

    plan = estimator._plan_parallelism(X.shape[0], X.shape[1])
    n_outputs = estimator._n_outputs_for(y)
    return params_memory_parts(
        estimator.get_params(), X, n_outputs, sample_weight is not None, plan
    )

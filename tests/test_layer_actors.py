"""pdADMM with every layer on its own Dask worker equals the in-process run."""

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from skadmm._layer_actors import run_in_process, run_on_dask
from skadmm._parallel import split_layers
from skadmm._splitting._pdadmm import PQRelaxation

from ._problems import iterate, random_problem

N_ITER = 6


def make_problem(quantize=None, weighted=False):
    X, Y, sw, W, act = random_problem(
        80, "relu", width=10, n_blocks=2, weighted=weighted, seed=3
    )
    problem = PQRelaxation(
        X, Y, sw, W, act, beta=1.0, rho=4.5, tau=1e-3, alpha=1e-3,
        quantize=quantize, quantize_bits=8,
    )  # fmt: skip
    problem.set_regions(split_layers(len(W), 1))
    return problem


def reference(quantize, weighted=False):
    """The in-process Jacobi iteration: its merits and its final state."""
    problem = make_problem(quantize, weighted)
    merits = []
    for _ in range(N_ITER):
        iterate(problem)
        merits.append(problem.objective()[0])
    return problem, merits


def assert_same_state(problem, layers):
    H = problem.H
    for k, own in enumerate(layers):
        np.testing.assert_array_equal(own["W"], problem.W[k])
        np.testing.assert_array_equal(own["p"], problem.P[k][:, :-1])
        if k < H:
            np.testing.assert_array_equal(own["z"], problem.Z[k])
            np.testing.assert_array_equal(own["q"], problem.Q[k])
            np.testing.assert_array_equal(own["u"], problem.Mu[k])
        else:
            np.testing.assert_array_equal(own["O"], problem.O)


@pytest.mark.parametrize("quantize", [None, "p", "pq"])
@pytest.mark.parametrize("weighted", [False, True])
def test_layer_objects_in_process_equal_the_jacobi_iteration(quantize, weighted):
    with threadpool_limits(1):
        problem, merits = reference(quantize, weighted)
        actors, actor_merits = run_in_process(make_problem(quantize, weighted), N_ITER)
    assert actor_merits == merits
    assert_same_state(problem, [a.get() for a in actors])
    sent = {"p": 0, "q": 0, "u": 0}
    for actor in actors:
        for name, nbytes in actor.sent_bytes().items():
            sent[name] += nbytes
    assert sent == problem.exchange_bytes()


@pytest.mark.parametrize(
    "quantize, processes", [(None, False), ("pq", False), ("pq", True)]
)
def test_layers_on_dask_workers_equal_the_in_process_run(quantize, processes):
    """Bit-identical merits and states; with worker processes too (every
    array crosses by pickle, and the layers' BLAS runs on one thread)."""
    distributed = pytest.importorskip("distributed")
    with threadpool_limits(1):
        problem, merits = reference(quantize)
        H = problem.H
        with (
            distributed.LocalCluster(
                n_workers=H + 1,
                threads_per_worker=1,
                processes=processes,
                dashboard_address=None,
            ) as cluster,
            distributed.Client(cluster) as client,
        ):
            actors, dask_merits = run_on_dask(make_problem(quantize), client, N_ITER)
            layers = [a.get().result() for a in actors]
            placed = client.run(lambda dask_worker: len(dask_worker.state.actors))
    assert dask_merits == merits
    assert_same_state(problem, layers)
    # One layer per worker.
    assert sorted(placed.values()) == [1] * (H + 1)

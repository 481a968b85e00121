"""pdADMM with every layer on its own Dask worker equals the in-process run:
the building block (layer objects and actors) and the estimators'
``layer_workers="dask"``."""

import sys
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_limits

from skadmm import ADMMResidualClassifier, ADMMResidualRegressor
from skadmm._layer_actors import (
    VARIABLES,
    LayerActor,
    LayerActorsProblem,
    run_in_process,
    run_on_dask,
)
from skadmm._parallel import split_layers
from skadmm._splitting._pdadmm import PQRelaxation
from skadmm.exceptions import FitInterruptedWarning

from ._problems import StopAt, iterate, random_problem

N_ITER = 6


def make_problem(quantize=None, weighted=False):
    """``quantize``: None, or ``"p"``, ``"pq"`` (levels of each change) or
    ``"pq fixed"`` (the fixed level set)."""
    X, Y, sw, W, act = random_problem(
        80, "relu", width=10, n_blocks=2, weighted=weighted, seed=3
    )
    levels = "fixed" if quantize and quantize.endswith(" fixed") else "step"
    quantize = quantize.split()[0] if quantize else None
    problem = PQRelaxation(
        X, Y, sw, W, act, beta=1.0, rho=4.5, tau=1e-3, alpha=1e-3,
        quantize=quantize, quantize_bits=8, quantize_levels=levels,
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


@pytest.mark.parametrize("quantize", [None, "p", "pq", "pq fixed"])
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
    "quantize, processes",
    [(None, False), ("pq", False), ("pq", True), ("pq fixed", False)],
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
            pinned, dask_merits = run_on_dask(make_problem(quantize), client, N_ITER)
            with pinned:
                layers = [a.get().result() for a in pinned.actors]
                placed = client.run(lambda dask_worker: len(dask_worker.state.actors))
            left = client.run(lambda dask_worker: len(dask_worker.state.actors))
    assert dask_merits == merits
    assert_same_state(problem, layers)
    # One layer per worker, and none left once released.
    assert sorted(placed.values()) == [1] * (H + 1)
    assert sum(left.values()) == 0


# ---------------------------------------------------------------------------
# The estimators' layer_workers="dask": the same fit, its layers on the workers.

FIT = dict(solver="pdadmm", width=12, n_blocks=2, max_iter=6, tol=0.0)
FIT.update(alpha=1e-3, random_state=0)


def class_table(n=160, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 5)).astype(dtype)
    y = (X[:, 0] + X[:, 1] * X[:, 2] > 0).astype(int) + (X[:, 3] > 1)
    return X, y


def quiet(model, X, y, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(X, y, **kwargs)


def actors_left(client):
    return sum(client.run(lambda dask_worker: len(dask_worker.state.actors)).values())


def test_layer_workers_without_a_client_or_dask_is_refused_before_any_work(
    monkeypatch,
):
    """No active Client: a clear error naming what to do, the estimator left
    unfitted. (Runs before this module's cluster exists.)"""
    X, y = class_table()
    model = ADMMResidualClassifier(layer_workers="dask", **FIT)
    distributed = pytest.importorskip("distributed")
    try:
        distributed.get_client()
    except ValueError:
        pass
    else:  # pragma: no cover - a client leaked from another test
        pytest.skip("a Dask client is active in this process")
    with pytest.raises(ValueError, match="none is active: create one first"):
        model.fit(X, y)
    assert not hasattr(model, "coefs_")
    # Without dask.distributed installed.
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(ImportError, match=r"pip install 'skadmm\[distributed\]'"):
        model.fit(X, y)
    assert not hasattr(model, "coefs_")


@pytest.fixture(scope="module")
def client():
    distributed = pytest.importorskip("distributed")
    # Two workers for four layers: each worker holds two, so the layers hand
    # their variables both to a neighbour on the same worker and across.
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


@pytest.mark.parametrize("quantize", [None, "p", "pq"])
@pytest.mark.parametrize("Estimator", [ADMMResidualClassifier, ADMMResidualRegressor])
def test_layer_workers_dask_is_the_in_process_fit_bit_for_bit(
    client, quantize, Estimator
):
    X, y = class_table()
    with threadpool_limits(1, user_api="blas"):
        local = quiet(Estimator(quantize=quantize, **FIT), X, y)
        remote = quiet(Estimator(quantize=quantize, layer_workers="dask", **FIT), X, y)
    np.testing.assert_array_equal(remote.predict(X), local.predict(X))
    for a, b in zip(remote.coefs_, local.coefs_, strict=True):
        np.testing.assert_array_equal(a, b)
    assert remote.objective_curve_ == local.objective_curve_
    assert remote.residual_curve_ == local.residual_curve_
    assert remote.loss_curve_ == local.loss_curve_
    assert remote.exchange_bytes_ == local.exchange_bytes_
    assert actors_left(client) == 0


def test_bytes_recorded_equal_bytes_received(client, monkeypatch):
    """What the receiving layers count (payload nbytes as they arrive) is, per
    iteration, the fitted record; 8-bit codes take a quarter of float32."""
    received = []
    receive_p, receive_qu = LayerActor.receive_p, LayerActor.receive_qu

    def count_p(self, *sent):
        received.append(("p", sum(a.nbytes for a in sent)))
        receive_p(self, *sent)

    def count_qu(self, q_sent, u_sent):
        received.append(("q", sum(a.nbytes for a in q_sent)))
        received.append(("u", sum(a.nbytes for a in u_sent)))
        receive_qu(self, q_sent, u_sent)

    monkeypatch.setattr(LayerActor, "receive_p", count_p)
    monkeypatch.setattr(LayerActor, "receive_qu", count_qu)
    X, y = class_table(dtype=np.float32)
    fits = {}
    for quantize in (None, "pq"):
        received.clear()
        model = ADMMResidualClassifier(layer_workers="dask", quantize=quantize, **FIT)
        fits[quantize] = quiet(model, X, y).exchange_bytes_
        for name in VARIABLES:
            total = sum(n for v, n in received if v == name)
            assert total == model.n_iter_ * fits[quantize][name], name
    # 3 links of 160 rows x 12 units; an 8-bit variable: 1 byte a value plus
    # the (offset, step) header of each link, 8 bytes in float32.
    links, values = FIT["n_blocks"] + 1, len(X) * FIT["width"]
    assert fits[None]["p"] == fits[None]["q"] == links * values * 4
    for name in "pq":
        assert fits["pq"][name] == links * (values + 8)
        assert fits["pq"][name] <= fits[None][name] / 4 + links * 8
    assert fits["pq"]["u"] == fits[None]["u"]
    assert actors_left(client) == 0


def test_early_stopping_verbose_and_warm_start_on_dask(client, capsys):
    X, y = class_table(240)
    params = dict(FIT, max_iter=20, early_stopping=True, n_iter_no_change=3)
    with threadpool_limits(1, user_api="blas"):
        local = quiet(ADMMResidualClassifier(**params), X, y)
        remote = ADMMResidualClassifier(layer_workers="dask", verbose=2, **params)
        quiet(remote, X, y)
    assert remote.validation_scores_ == local.validation_scores_
    assert remote.n_iter_ == local.n_iter_
    np.testing.assert_array_equal(remote.predict(X), local.predict(X))
    out = capsys.readouterr().out
    assert "Iteration 1/20" in out and "on 2 Dask workers" in out
    # warm_start goes on from the state the workers held, exactly; so does a
    # grown network (the paper's depth schedule).
    params = dict(FIT, max_iter=3, warm_start=True)
    with threadpool_limits(1, user_api="blas"):
        local = ADMMResidualClassifier(**params)
        remote = ADMMResidualClassifier(layer_workers="dask", **params)
        for n_blocks in (2, 2, 3):
            quiet(local.set_params(n_blocks=n_blocks), X, y)
            quiet(remote.set_params(n_blocks=n_blocks), X, y)
            np.testing.assert_array_equal(remote.predict(X), local.predict(X))
    assert remote.objective_curve_ == local.objective_curve_
    assert actors_left(client) == 0


def test_a_callback_stops_the_fit_on_dask(client):
    pytest.importorskip("sklearn.callback")
    X, y = class_table()
    model = ADMMResidualClassifier(layer_workers="dask", **dict(FIT, max_iter=20))
    model.set_callbacks(StopAt(3)).fit(X, y)
    assert model.n_iter_ == 3
    assert model.stop_reason_ == "a callback stopped the fit at iteration 3"
    assert actors_left(client) == 0


def test_interrupt_and_errors_release_the_layers(client, monkeypatch):
    X, y = class_table()
    objective = LayerActorsProblem.objective
    calls = []

    def interrupted(self):
        calls.append(None)
        # The first call gives the placed problem's merit, then one a step.
        if len(calls) == 4:
            raise KeyboardInterrupt
        return objective(self)

    monkeypatch.setattr(LayerActorsProblem, "objective", interrupted)
    with pytest.warns(FitInterruptedWarning):
        model = ADMMResidualClassifier(layer_workers="dask", **FIT).fit(X, y)
    assert model.n_iter_ == 2
    assert actors_left(client) == 0
    monkeypatch.setattr(LayerActorsProblem, "objective", objective)

    # An error on a worker ends the fit; nothing stays behind.
    def broken(self):
        raise RuntimeError("layer broke")

    monkeypatch.setattr(LayerActor, "phase_b", broken)
    model = ADMMResidualClassifier(layer_workers="dask", **FIT)
    with pytest.raises(RuntimeError, match="layer broke"):
        model.fit(X, y)
    assert not hasattr(model, "coefs_")
    assert actors_left(client) == 0


def test_layer_workers_is_ignored_with_a_warning_by_the_other_modes(client):
    X, y = class_table()
    with pytest.warns(UserWarning, match="ignores layer_workers='dask'"):
        quiet(
            ADMMResidualClassifier(
                solver="radmm", width=8, max_iter=3, layer_workers="dask"
            ),
            X,
            y,
        )
    assert actors_left(client) == 0

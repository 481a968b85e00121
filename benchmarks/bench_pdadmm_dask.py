"""pdADMM with every layer on a Dask worker (``layer_workers="dask"``).

For each setting (dtype, ``quantize``, ``quantize_bits``), in one run (the
machine is shared and noisy, so only what is measured side by side is
reported), ``ADMMResidualClassifier(solver="pdadmm")`` (``width=64``,
``n_blocks=2``: 4 layers, 3 boundaries; ``--iter`` iterations, no early
stopping, ``alpha=1e-3``) is fitted on ``--rows`` rows (16 standard normal
features, 3 classes of a smooth function)

* in process, on one BLAS thread (``local``);
* with ``layer_workers="dask"`` on a ``LocalCluster`` of 2 worker processes
  (one thread each): the 4 layers round robin, 2 on each worker, so two of the
  3 boundaries cross between processes and one stays inside a worker.

Reported: seconds per iteration of both (the run, from ``time_curve_``),
the seconds of the rest of the Dask fit (placing the layers, copying their
state, releasing them), ``exchange_bytes_`` per variable and in total (the
payloads the layers handed to their neighbours in one iteration: float arrays,
or codes plus a header), each variable's bytes over those of the float32
unquantized fit, the bytes the driver gets back per iteration (the weights
and the terms of the merit, from their shapes), and whether the predictions
are bit-identical to the local fit's.

Then, on the same cluster and rows (float32, 8-bit ``"pq"`` and unquantized),
the building block iterated directly (:func:`skadmm._layer_actors.run_on_dask`)
against a *driver relay*: a benchmark-only variant of the layer actor whose
phases return their encoded variables to the driver, which hands them to the
neighbour (two hops per variable instead of one). Reported: the median
seconds per iteration of each over ``--iter`` iterations, after one warm-up
iteration, the two runs alternating.

Outputs ``pdadmm_dask.csv`` / ``.md`` and ``pdadmm_dask_relay.csv`` / ``.md``
in ``--out``.

Usage::

    python benchmarks/bench_pdadmm_dask.py              # 20,000 rows (a minute)
    python benchmarks/bench_pdadmm_dask.py --quick      # smoke run (seconds)
"""

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from skadmm import ADMMResidualClassifier
from skadmm._activations import get_activation
from skadmm._layer_actors import (
    DaskLayerActor,
    dask_workers,
    layer_state,
    place_layers,
    run_layers,
)
from skadmm._losses import SoftmaxLoss
from skadmm._network import init_weights
from skadmm._pinned import PinnedActors
from skadmm._splitting._pdadmm import PQRelaxation

from _common import RESULTS, rounded, write_results

PARAMS = dict(
    solver="pdadmm",
    width=64,
    n_blocks=2,
    alpha=1e-3,
    tol=0.0,
    early_stopping=False,
    random_state=0,
)
SETTINGS = [
    ("float64", None, 8),
    ("float32", None, 8),
    ("float32", "p", 8),
    ("float32", "pq", 8),
    ("float32", "pq", 16),
]


def table(n_rows, dtype, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_rows, 16))
    score = np.sin(2 * X[:, 0]) + X[:, 1] * X[:, 2]
    y = np.digitize(score, np.quantile(score, [1 / 3, 2 / 3]))
    return X.astype(dtype), y


def fit(X, y, **params):
    model = ADMMResidualClassifier(**PARAMS, **params)
    tick = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X, y)
    return model, time.perf_counter() - tick


def driver_bytes(model):
    """Bytes back to the driver per iteration: every layer's weights (bias
    included) and its terms of the merit (4 link terms, ``||W||^2``, loss)."""
    weights = sum(
        (c.size + b.size) * c.itemsize
        for c, b in zip(model.coefs_, model.intercepts_, strict=True)
    )
    return weights + len(model.coefs_) * 6 * 8


class _RelayActor(DaskLayerActor):
    """A layer whose phases return what it sends, for the driver to relay."""

    def phase_a(self):
        with self._blas():
            self.shell.update_input(self.k)
        return self.shell.encode("p", self.k)

    def phase_b(self):
        s, k = self.shell, self.k
        with self._blas():
            s.update_layer(k)
        if k == s.H:
            return (), ()
        return s.encode("q", k), s.encode("u", k)


def relay_iteration(actors):
    """One iteration with every boundary variable relayed by the driver."""
    H = len(actors) - 1
    sent = [f.result() for f in [a.phase_a() for a in actors[1:]]]
    for f in [actors[k].receive_p(*sent[k]) for k in range(H)]:
        f.result()
    out = [f.result() for f in [a.phase_b() for a in actors]]
    for f in [actors[k + 1].receive_qu(*out[k]) for k in range(H)]:
        f.result()


def relay_against_direct(client, n_rows, n_iter):
    """Median seconds per iteration: direct hand-off, then driver relay."""
    X, y = table(n_rows, "float32")
    Y = np.eye(3, dtype=np.float32)[y]
    act = get_activation("relu")
    W = init_weights(16, 64, 2, 3, act, np.random.default_rng(0), np.float32)
    rows = []
    for quantize in (None, "pq"):
        problem = PQRelaxation(
            X, Y, None, W, act, beta=1.0, rho=5.0, tau=1e-3, alpha=1e-3,
            loss=SoftmaxLoss(), quantize=quantize,
        )  # fmt: skip
        problem.sync_penalties()
        workers = dask_workers(client)
        places = [workers[k % len(workers)] for k in range(problem.H + 1)]
        # The states go as data, as place_layers sends them.
        states = [
            client.scatter([layer_state(problem, k)], workers=[w], hash=False)[0]
            for k, w in enumerate(places)
        ]
        times = {"direct": [], "relay": []}
        with (
            place_layers(problem, client, False, 1) as direct,
            PinnedActors(
                client, _RelayActor, [(s, False, 1) for s in states], places
            ) as relay,
        ):
            for it in range(n_iter + 1):
                tick = time.perf_counter()
                run_layers(direct.actors, 1, lambda f: f.result(), 1e-3, 1.0)
                middle = time.perf_counter()
                relay_iteration(relay.actors)
                if it:  # the first is a warm-up
                    times["direct"].append(middle - tick)
                    times["relay"].append(time.perf_counter() - middle)
        row = dict(
            rows=n_rows,
            quantize=quantize or "",
            direct_s_per_iter=float(np.median(times["direct"])),
            relay_s_per_iter=float(np.median(times["relay"])),
        )
        row["relay_over_direct"] = row["relay_s_per_iter"] / row["direct_s_per_iter"]
        print(row, flush=True)
        rows.append(row)
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--iter", type=int, default=10)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    rows_n = 1_000 if args.quick else args.rows
    n_iter = 3 if args.quick else args.iter
    from distributed import Client, LocalCluster

    rows, plain32 = [], None
    with (
        threadpool_limits(1, user_api="blas"),
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        for dtype, quantize, bits in SETTINGS:
            X, y = table(rows_n, dtype)
            setting = dict(max_iter=n_iter, quantize=quantize, quantize_bits=bits)
            local, _ = fit(X, y, **setting)
            remote, seconds = fit(X, y, layer_workers="dask", **setting)
            sent = remote.exchange_bytes_
            if dtype == "float32" and quantize is None:
                plain32 = sent
            same = np.array_equal(remote.predict_proba(X), local.predict_proba(X))
            row = dict(
                dtype=dtype,
                quantize=quantize or "",
                bits=bits if quantize else "",
                local_s_per_iter=local.time_curve_[-1] / local.n_iter_,
                dask_s_per_iter=remote.time_curve_[-1] / remote.n_iter_,
                dask_other_s=seconds - remote.time_curve_[-1],
                p_bytes=sent["p"],
                q_bytes=sent["q"],
                u_bytes=sent["u"],
                total_bytes=sum(sent.values()),
                p_vs_float32=sent["p"] / plain32["p"] if plain32 else "",
                q_vs_float32=sent["q"] / plain32["q"] if plain32 else "",
                driver_bytes=driver_bytes(remote),
                same_as_local=bool(same) and local.exchange_bytes_ == sent,
            )
            print(row, flush=True)
            rows.append(row)
        relayed = relay_against_direct(client, rows_n, n_iter)
    write_results(
        args.out,
        "pdadmm_dask_relay",
        rounded(relayed),
        "The layer actors on the same cluster, float32: the boundary variables "
        "handed from actor to actor (`direct`, what layer_workers='dask' runs) "
        "or relayed by the driver (`relay`, a benchmark-only variant); median "
        f"seconds per iteration over {n_iter} iterations after a warm-up, the "
        "two alternating.",
    )
    preamble = (
        f"{rows_n} rows x 16 features, 3 classes; solver='pdadmm', width=64, "
        f"n_blocks=2 (4 layers, 3 boundaries), {n_iter} iterations; local: in "
        "process on one BLAS thread; dask: layer_workers='dask' on a "
        "LocalCluster of 2 worker processes with one thread each (2 layers a "
        "worker). `*_bytes`: exchange_bytes_ (one iteration, all boundaries); "
        "`*_vs_float32`: over the float32 unquantized fit's; `driver_bytes`: "
        "what the driver gets back per iteration (weights and merit terms); "
        "`same_as_local`: predictions and bytes equal to the local fit's, bit "
        "for bit; `dask_other_s`: the Dask fit's seconds outside its iterations."
    )
    write_results(args.out, "pdadmm_dask", rounded(rows), preamble)


if __name__ == "__main__":
    main()

"""One fit sharded over Dask workers against the in-process fit.

For each table size (``--rows``; 20 standard normal features, a smooth
nonlinear target), in one run (the machine is shared and noisy, so only the
ratios measured side by side are reported), the default mode
(``solver="reset"``, ``width=32``, one residual block, ``--iter`` iterations,
no early stopping, ``alpha=1e-3``) is fitted

* in process, on one BLAS thread (``local``), without the stages it would
  run on more than 20,000 rows (so is the sharded fit: the times are those
  of the run on all rows);
* sharded over a ``LocalCluster`` of 1 and of 2 worker processes (one thread
  each), from a Dask array whose row chunks are the local fit's row blocks
  (8,192 to 16,383 rows; 8 chunks below 16,384 rows), balanced over the
  workers: the two fits then sum the same blocks in the same order, and
  their predictions are bit-identical.

Reported per configuration: seconds per iteration (the run on all rows),
``overhead`` (sharded on 1 worker over local), ``speedup`` (1 worker over 2),
bytes exchanged with the workers per iteration (``exchange_bytes_`` over the
fit divided by its iterations: the sums, weights and scalars the driver sent
and received; the actor calls bypass the scheduler, so Dask's own transfer
counters, also reported, see only the data's moves), the workers' peak
resident memory, and the largest difference from the local fit's
predictions (relative). Then ``limit``: a RADMM fit (whose shards keep
every row's state; the default mode's hold one chunk's at a time) on
``--limit-rows`` rows, its workers' memory limit set to admit half of the fit
(half its estimated bytes and half the data, plus 384 MiB): on 1 worker the
memory guard refuses it, on 2 it completes, and its predictions are compared
with RADMM's in process.

Then ``traffic``: the bytes per iteration of a fit on 2 workers from ``N_CHUNKS``
chunks at ``--traffic-rows`` rows (the row-block chunks above grow in number
with the rows, and the bytes with them). Then ``staged``: the whole fit with
its float32 stages at ``--staged-rows`` rows, in process and sharded on 2
workers (their stages round differently, so the networks differ; the test
MSE on 20,000 held-out rows compares them).

Outputs ``dask.csv``/``dask.md`` and ``dask_staged.csv``/``dask_staged.md``
in ``--out``.

Usage::

    python benchmarks/bench_dask.py               # 200k and 1M rows, 4M traffic
    python benchmarks/bench_dask.py --rows 200000,1000000
    python benchmarks/bench_dask.py --quick       # smoke run (seconds)
"""

import argparse
import resource
import time
import warnings

import numpy as np
from threadpoolctl import threadpool_limits

from skadmm import ADMMResidualRegressor
from skadmm._memory import estimate_fit_nbytes
from skadmm._row_blocks import n_row_blocks
from skadmm._solvers._reset import ResetSolver

from _common import SEED, rounded, write_results

N_FEATURES = 20
N_CHUNKS = 8


def make_data(n_rows, seed=SEED):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_rows, N_FEATURES))
    y = np.sin(X[:, 0]) + X[:, 1] * X[:, 2] + 0.5 * np.tanh(X[:, 3:6].sum(axis=1))
    return X, y + 0.1 * rng.standard_normal(n_rows)


def model(n_iter, solver="reset"):
    return ADMMResidualRegressor(
        width=32,
        n_blocks=1,
        max_iter=n_iter,
        tol=0.0,
        alpha=1e-3,
        early_stopping=False,
        random_state=0,
        solver=solver,
    )


def per_iteration(fitted):
    """Seconds per iteration of the run on all rows (after any stages)."""
    last = fitted.stages_[-1]
    return last["seconds"] / max(last["n_iter"], 1)


def peak_rss(dask_worker=None):
    """The worker process's peak resident bytes since it started: ``VmHWM``,
    which starts afresh at ``exec``; ``ru_maxrss`` would keep the high-water
    mark of the process it was forked from (this one, after a large fit)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def transferred(dask_worker):
    return int(getattr(dask_worker, "transfer_outgoing_bytes_total", 0))


def block_chunks(n_rows):
    """Row chunks equal to the in-process fit's row blocks (``N_CHUNKS`` equal
    chunks below them): the sharded fit then sums what the local one sums."""
    blocks = n_row_blocks(n_rows, N_FEATURES)
    if blocks == 1:
        return -(-n_rows // N_CHUNKS)
    return tuple(np.diff(np.linspace(0, n_rows, blocks + 1).astype(int)).tolist())


def sharded(X, y, n_workers, n_iter, memory_limit="auto", chunks=None, solver="reset"):
    """``(fitted model or the MemoryError, peak worker bytes, Dask transfer
    bytes)`` of a fit on ``n_workers`` worker processes; ``chunks``: the row
    chunks (default: the local fit's row blocks)."""
    import dask.array as da
    import distributed

    with (
        distributed.LocalCluster(
            n_workers=n_workers,
            threads_per_worker=1,
            processes=True,
            memory_limit=memory_limit,
            dashboard_address=":0",
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        rows = block_chunks(X.shape[0]) if chunks is None else chunks
        Xd, yd = client.persist(
            [da.from_array(X, chunks=(rows, -1)), da.from_array(y, chunks=rows)]
        )
        distributed.wait([Xd, yd])
        client.rebalance()
        before = sum(client.run(transferred).values())
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                fitted = model(n_iter, solver).fit(Xd, yd)
            except MemoryError as exc:
                fitted = exc
        moved = sum(client.run(transferred).values()) - before
        peak = max(client.run(peak_rss).values())
    return fitted, peak, moved


class no_stages:
    """The run on all rows only (per-iteration times of that run): no stages,
    in process or sharded."""

    def __enter__(self):
        self.staged, ResetSolver.staged = ResetSolver.staged, False

    def __exit__(self, *exc):
        ResetSolver.staged = self.staged


def measure(n_rows, n_iter):
    X, y = make_data(n_rows)
    with no_stages(), threadpool_limits(1), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        local = model(n_iter).fit(X, y)
    reference = local.predict(X)
    base = per_iteration(local)
    rows = [
        dict(
            rows=n_rows,
            config="local",
            s_per_iter=base,
            overhead=1.0,
            speedup=float("nan"),
            bytes_per_iter=0,
            dask_transfer_bytes=0,
            peak_worker_mib=float("nan"),
            max_rel_diff=0.0,
        )
    ]
    one = None
    for n_workers in (1, 2):
        with no_stages():
            fitted, peak, moved = sharded(X, y, n_workers, n_iter)
        t = per_iteration(fitted)
        one = t if n_workers == 1 else one
        exchanged = sum(fitted.exchange_bytes_.values())
        diff = np.max(np.abs(fitted.predict(X) - reference)) / np.max(np.abs(reference))
        rows.append(
            dict(
                rows=n_rows,
                config=f"sharded, {n_workers} worker{'s' * (n_workers > 1)}",
                s_per_iter=t,
                overhead=t / base,
                speedup=one / t,
                bytes_per_iter=int(exchanged / fitted.n_iter_),
                dask_transfer_bytes=moved,
                peak_worker_mib=peak / 2**20,
                max_rel_diff=float(diff),
            )
        )
    return rows, (X, y, reference)


def staged(n_rows, max_iter):
    """The fit with its stages (float32) in process and sharded on 2 workers:
    test MSE on 20,000 held-out rows, fit seconds, stages."""
    X, y = make_data(n_rows + 20_000)
    X, y, X_test, y_test = X[:n_rows], y[:n_rows], X[n_rows:], y[n_rows:]
    rows = []
    for config in ("in process", "sharded, 2 workers"):
        tick = time.perf_counter()
        if config == "in process":
            with threadpool_limits(1), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fitted = model(max_iter).fit(X, y)
        else:
            fitted, _, _ = sharded(X, y, 2, max_iter)
        seconds = time.perf_counter() - tick
        rows.append(
            dict(
                rows=n_rows,
                config=f"with stages, {config}",
                fit_s=seconds,
                stage_rows=" ".join(str(s["n_samples"]) for s in fitted.stages_),
                n_iter=fitted.n_iter_,
                test_mse=float(np.mean((fitted.predict(X_test) - y_test) ** 2)),
            )
        )
    return rows


def traffic(n_rows, n_iter):
    """Bytes per iteration of a sharded fit on 2 workers whose table has
    ``N_CHUNKS`` chunks, whatever its rows: they must not grow with rows."""
    X, y = make_data(n_rows)
    with no_stages():
        fitted, peak, moved = sharded(X, y, 2, n_iter, chunks=-(-n_rows // N_CHUNKS))
    return dict(
        rows=n_rows,
        config=f"sharded, 2 workers, {N_CHUNKS} chunks",
        s_per_iter=per_iteration(fitted),
        overhead=float("nan"),
        speedup=float("nan"),
        bytes_per_iter=int(sum(fitted.exchange_bytes_.values()) / fitted.n_iter_),
        dask_transfer_bytes=moved,
        peak_worker_mib=peak / 2**20,
        max_rel_diff=float("nan"),
    )


def limited(X, y, n_iter):
    """The table fitted by RADMM on workers whose memory limit admits half of
    its fit (Dask's spilling, pausing and terminating off: the guard and the
    limit are what count).

    RADMM's shards keep every row's state, so its share grows with the rows;
    the default mode's shards hold one chunk's state at a time, and only their
    data grows with the rows (``peak_worker_mib`` above). Returns the rows of
    the results and ``need / limit``: the fit's estimated bytes on one worker
    over the limit.
    """
    import dask

    with no_stages(), threadpool_limits(1), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = model(n_iter, "radmm").fit(X, y).predict(X)
    need = estimate_fit_nbytes(
        X.shape[0], X.shape[1], 1, width=32, n_blocks=1, itemsize=8, solver="radmm"
    )
    big = -(-X.shape[0] // N_CHUNKS)
    # Each of two workers: half the fit, half the data, and 384 MiB for the
    # worker process and the estimate's error.
    limit = int(need / 2 + (X.nbytes + y.nbytes) / 2 + 3 * 2**27)
    rows = []
    for n_workers in (1, 2):
        off = {
            f"distributed.worker.memory.{k}": False
            for k in ("target", "spill", "pause", "terminate")
        }
        with dask.config.set(off), no_stages():
            fitted, peak, _ = sharded(
                X, y, n_workers, n_iter, memory_limit=limit, chunks=big, solver="radmm"
            )
        refused = isinstance(fitted, MemoryError)
        diff = (
            float("nan")
            if refused
            else np.max(np.abs(fitted.predict(X) - reference))
            / np.max(np.abs(reference))
        )
        rows.append(
            dict(
                rows=X.shape[0],
                config=f"RADMM, limit {limit / 2**20:.0f} MiB (the fit needs "
                f"{need / limit:.2f}x), {n_workers} worker"
                + "s" * (n_workers > 1)
                + (": refused by the memory guard" if refused else ": completed"),
                s_per_iter=float("nan") if refused else per_iteration(fitted),
                overhead=float("nan"),
                speedup=float("nan"),
                bytes_per_iter=0,
                dask_transfer_bytes=0,
                peak_worker_mib=peak / 2**20,
                max_rel_diff=float(diff),
            )
        )
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", default="200000,1000000")
    parser.add_argument("--iter", type=int, default=5)
    parser.add_argument("--limit-rows", type=int, default=4_000_000)
    parser.add_argument("--traffic-rows", default="200000,4000000")
    parser.add_argument("--staged-rows", type=int, default=200_000)
    parser.add_argument("--staged-iter", type=int, default=30)
    parser.add_argument("--out", default="benchmarks/results")
    parser.add_argument("--quick", action="store_true", help="smoke run")
    args = parser.parse_args(argv)
    sizes = [int(n) for n in args.rows.split(",")]
    n_iter = args.iter
    if args.quick:
        sizes, n_iter = [4000], 2
    rows = []
    for n in sizes:
        tick = time.perf_counter()
        found, _ = measure(n, n_iter)
        rows += found
        for row in found:
            print(
                f"{n:9d} {row['config']:20s} {row['s_per_iter']:8.3f} s/iter "
                f"{row['overhead']:.2f}x {row['bytes_per_iter']:9d} B/iter "
                f"({time.perf_counter() - tick:.0f}s)",
                flush=True,
            )
    if not args.quick:
        rows += limited(*make_data(args.limit_rows), n_iter)
    if not args.quick:
        for n in (int(v) for v in args.traffic_rows.split(",")):
            row = traffic(n, 2)
            print(f"{n:9d} {row['config']:30s} {row['bytes_per_iter']:9d} B/iter")
            rows.append(row)
    preamble = (
        f"{N_FEATURES} features, row chunks = the local fit's row blocks "
        "(limit rows: 8 chunks), width=32, n_blocks=1, "
        f"{n_iter} iterations of solver='reset' (tol=0); worker processes with "
        "one thread each; one run, so the ratios are what to read. "
        "`bytes_per_iter`: exchange_bytes_ of the fit over its iterations; "
        "`dask_transfer_bytes`: Dask's own count of worker-to-worker transfers "
        "during the fit; `max_rel_diff`: largest difference from the local "
        "fit's predictions over their largest magnitude."
    )
    write_results(args.out, "dask", rounded(rows), preamble)
    if not args.quick:
        fits = staged(args.staged_rows, args.staged_iter)
        for row in fits:
            print(f"{row['config']:30s} {row['test_mse']:.5f} {row['fit_s']:.1f} s")
        write_results(
            args.out,
            "dask_staged",
            rounded(fits),
            "The fit with its stages (float32), in process on one BLAS thread "
            f"and sharded on 2 worker processes, max_iter={args.staged_iter} for "
            "the run on all rows; test MSE on 20,000 held-out rows; one run.",
        )


if __name__ == "__main__":
    main()

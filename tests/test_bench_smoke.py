"""Smoke runs of benchmarks that have no test of their own.

A benchmark script reaches into the package's internals (monitors, solvers,
switches), so a change there can break it without any other test noticing:
two did, once. Each quick run here takes a few seconds.
"""

import csv

import pytest

from ._benchmarks import imported, needs


def _rows(path):
    with open(path) as f:
        return list(csv.DictReader(f))


@needs("bench_cost.py")
def test_cost_quick_run_splits_an_iteration_into_its_phases(tmp_path):
    from skadmm import _stages

    before = _stages.MIN_STAGED_ROWS, _stages.REGRESSOR_MIN_STAGED_ROWS
    with imported("bench_cost") as (bench,):
        bench.main(["--quick", "--out", str(tmp_path)])
    # It turns the stages off for its fit, and back on.
    assert (_stages.MIN_STAGED_ROWS, _stages.REGRESSOR_MIN_STAGED_ROWS) == before
    (row,) = _rows(tmp_path / "cost.csv")
    phases = (
        "line-search trials (forward passes)",
        "read-out refits (Gram + solve)",
        "backward sweep",
        "hidden W steps",
    )
    # The phases are parts of the iteration's time (the profiler's counts
    # include the refit before the first iteration: some slack).
    assert all(float(row[p]) > 0 for p in phases)
    assert sum(float(row[p]) for p in phases) <= 1.5 * float(row["ms per iteration"])


@needs("bench_embedding_products.py")
def test_embedding_products_quick_run_times_dense_and_sparse_codes(tmp_path):
    with imported("bench_embedding_products") as (bench,):
        bench.main(["--quick", "--out", str(tmp_path)])
    rows = _rows(tmp_path / "products.csv")
    assert {r["stored"] for r in rows} >= {"dense", "csr"}
    assert all(0 < float(r["density"]) <= 1 for r in rows)
    assert all(float(r["product_ms"]) > 0 for r in rows)


@needs("bench_parallel.py")
def test_parallel_quick_run_times_every_configuration(tmp_path):
    with imported("bench_parallel") as (bench,):
        bench.main(["--quick", "--out", str(tmp_path)])
    rows = _rows(tmp_path / "parallel.csv")
    assert len(rows) >= 2
    assert all(float(r["seconds_per_iteration"]) > 0 for r in rows)
    reference = [r for r in rows if r["configuration"] == "1 worker, 1 BLAS thread"]
    assert float(reference[0]["speedup_vs_1_worker_1_blas"]) == pytest.approx(1.0)

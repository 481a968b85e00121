"""The benchmark of layer_workers="dask": smoke run."""

import csv

import pytest

from ._benchmarks import imported, needs

pytestmark = needs("bench_pdadmm_dask.py")
pytest.importorskip("distributed")


def test_quick_run_writes_the_bytes_and_the_relay_rows(tmp_path):
    with imported("bench_pdadmm_dask") as (bench,):
        bench.main(["--quick", "--out", str(tmp_path)])
    with open(tmp_path / "pdadmm_dask.csv") as f:
        rows = list(csv.DictReader(f))
    assert all(row["same_as_local"] == "True" for row in rows)
    eight = [row for row in rows if row["quantize"] == "pq" and row["bits"] == "8"]
    assert float(eight[0]["p_vs_float32"]) <= 0.26
    with open(tmp_path / "pdadmm_dask_relay.csv") as f:
        relay = list(csv.DictReader(f))
    assert [row["quantize"] for row in relay] == ["", "pq"]
    assert all(float(row["direct_s_per_iter"]) > 0 for row in relay)

"""The benchmark of the sharded fit: smoke run."""

import csv

import pytest

from ._benchmarks import imported, needs

pytestmark = needs("bench_dask.py")
pytest.importorskip("distributed")


def test_quick_run_writes_the_local_and_sharded_rows(tmp_path):
    with imported("bench_dask") as (bench,):
        bench.main(["--quick", "--out", str(tmp_path)])
    with open(tmp_path / "dask.csv") as f:
        rows = list(csv.DictReader(f))
    assert [row["config"] for row in rows] == [
        "local",
        "sharded, 1 worker",
        "sharded, 2 workers",
    ]
    assert all(float(row["s_per_iter"]) > 0 for row in rows)
    assert all(float(row["max_rel_diff"]) < 1e-8 for row in rows)
    assert int(rows[1]["bytes_per_iter"]) > 0

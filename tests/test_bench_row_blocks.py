"""The benchmark of the row blocks on n_jobs threads: smoke run."""

import csv

from ._benchmarks import imported, needs

pytestmark = needs("bench_row_blocks.py")


def test_quick_run_writes_every_configuration(tmp_path):
    with imported("bench_row_blocks") as (bench,):
        bench.main(["--quick", "--out", str(tmp_path)])
    with open(tmp_path / "row_blocks.csv") as f:
        rows = list(csv.DictReader(f))
    assert [row["config"] for row in rows] == [name for name, *_ in bench.CONFIGS]
    assert all(float(row["s_per_iter"]) > 0 for row in rows)
    blocked = [row for row in rows if row["config"].startswith("blocks")]
    assert all(row["identical_to_n_jobs_1"] == "True" for row in blocked)
    assert all(float(row["max_rel_diff"]) < 1e-8 for row in rows)

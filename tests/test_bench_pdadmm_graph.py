"""The pdADMM-G benchmark: a smoke run writes its table."""

import csv

import pytest

from ._benchmarks import imported, needs

pytestmark = needs("bench_pdadmm_graph.py")


@pytest.fixture(scope="module")
def bench():
    with imported("bench_pdadmm_graph", "bench_graph") as (module, _):
        yield module


def test_quick_run_writes_table(bench, tmp_path):
    bench.main(["--quick", "--out", str(tmp_path)])
    assert (tmp_path / "pdadmm_graph.md").exists()
    with open(tmp_path / "pdadmm_graph.csv") as f:
        rows = {(r["graph"], r["method"], r["features"]): r for r in csv.DictReader(f)}
    plain = rows["cora", "pdADMM-G", "hops=3"]
    quantized = rows["cora", "pdADMM-G-Q p 8-bit", "hops=3"]
    # p goes as 8-bit codes, q and u as float64: (1/8 + 2) / 3 of the bytes.
    assert int(quantized["bytes_per_iter"]) < 0.72 * int(plain["bytes_per_iter"])
    raw = rows["cora", "pdADMM-G (2 layers)", "raw"]
    assert float(plain["test_accuracy"]) > float(raw["test_accuracy"]) + 0.1

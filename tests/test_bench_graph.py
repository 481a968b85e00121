"""The graph benchmark: its CSBM split and a smoke run."""

import csv

import numpy as np
import pytest

from ._benchmarks import imported, needs

pytestmark = needs("bench_graph.py")


@pytest.fixture(scope="module")
def bench():
    with imported("bench_graph") as (module,):
        yield module


def test_csbm_split_is_planetoid_like(bench):
    A, X, y, train, val, test = bench.csbm(0.8, n_nodes=600)
    counts = np.bincount(y[train])
    assert (counts == 20).all()
    assert len(val) == 500
    split = np.concatenate([train, val, test])
    assert np.array_equal(np.sort(split), np.arange(600))


def test_quick_run_writes_table_and_hops_beat_raw(bench, tmp_path):
    bench.main(["--quick", "--out", str(tmp_path)])
    assert (tmp_path / "graph.md").exists()
    with open(tmp_path / "graph.csv") as f:
        rows = {(r["graph"], r["features"]): r for r in csv.DictReader(f)}
    for graph in ("cora", "csbm_homophilous"):
        raw = float(rows[graph, "raw"]["test_accuracy"])
        hops = float(rows[graph, "hops=3"]["test_accuracy"])
        assert hops > raw + 0.10

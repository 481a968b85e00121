"""The head-to-head benchmark of the training modes: its pure helpers and a
smoke run with ``--merge`` (the benchmark itself is too slow for the tests)."""

import csv

import pytest

from ._benchmarks import imported, needs

pytestmark = needs("bench_modes.py")


@pytest.fixture(scope="module")
def bench():
    with imported("bench_modes") as (module,):
        yield module


def test_learns_matrix_marks_gains_of_five_percent(bench):
    rows = [
        dict(dataset="friedman1", model="random_features", mse_mean=1.0),
        dict(dataset="friedman1", model="reset", mse_mean=0.95),  # exactly 5 %
        dict(dataset="friedman1", model="radmm", mse_mean=0.96),
        dict(dataset="diabetes", model="random_features", mse_mean=2.0),
        dict(dataset="diabetes", model="reset", mse_mean=1.0),
        dict(dataset="diabetes", model="radmm", mse_mean=2.2),
    ]
    text = bench.learns_matrix(rows, ["reset", "radmm", "mdlam"])
    lines = text.strip().splitlines()
    assert lines[0] == "| dataset | reset | radmm |"  # modes without rows left out
    assert lines[2] == "| friedman1 | +5.0 ✓ | +4.0 |"
    assert lines[3] == "| diabetes (linear) | +50.0 ✓ | -10.0 |"
    # diabetes is not among the nonlinear datasets that the count judges.
    assert lines[4] == "| learns on (nonlinear) | 1/1 | 0/1 |"


def test_merge_replaces_only_the_rows_of_the_models_run(bench, tmp_path):
    out = tmp_path / "results"
    base = ["--quick", "--datasets", "sine", "--parts", "suite", "--out", str(out)]
    bench.main([*base, "--models", "reset,random_features,ridge"])
    path = out / "modes.csv"
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["model"] for r in rows] == ["reset", "random_features", "ridge"]
    # Sentinels: the merge must recompute ridge and keep the others.
    for r in rows:
        r["mse_mean"] = {"reset": "7.0", "random_features": "10.0", "ridge": "999"}[
            r["model"]
        ]
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    bench.main([*base, "--models", "ridge", "--merge"])
    merged = {r["model"]: r for r in bench.read_csv(path)}
    assert list(merged) == ["reset", "random_features", "ridge"]
    assert merged["reset"]["mse_mean"] == 7.0
    assert merged["random_features"]["mse_mean"] == 10.0
    assert merged["ridge"]["mse_mean"] < 1.0  # refitted on sin(3x) + noise
    assert merged["reset"]["vs_random_features"] == pytest.approx(0.7)
    text = (out / "modes.md").read_text()
    assert "| sine | +30.0 ✓ |" in text  # the learns matrix from the merged rows
    assert "One iteration of radmm" in text  # the first run's check is kept

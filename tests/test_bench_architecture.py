"""The architecture benchmark: its models, its ratios and a smoke run."""

import pytest

from skadmm import ADMMResidualRegressor

from ._benchmarks import imported, needs

pytestmark = [
    needs("bench_architecture.py"),
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"),
]


@pytest.fixture(scope="module")
def bench():
    with imported("bench_architecture") as (module,):
        yield module


def test_models_are_the_defaults_and_their_random_features(bench):
    expected = ADMMResidualRegressor(width=32, n_blocks=2, random_state=0)
    default = bench.model("default", (32, 2))
    assert default.get_params() == expected.get_params()
    rf = bench.model("random_features", (32, 2))
    expected.set_params(solver="radmm", max_iter=1)
    assert rf.get_params() == expected.get_params()


def test_ratios_and_spreads_follow_the_measurements(bench):
    # Made-up measurements: two architectures on one nonlinear table.
    results = {
        ("sine", "mlp", None): (2.0, 4.0),
        ("sine", "default", (10, 0)): (1.0, 2.0),
        ("sine", "random_features", (10, 0)): (4.0, 0.1),
        ("sine", "default", (20, 0)): (1.5, 6.0),
        ("sine", "random_features", (20, 0)): (1.6, 0.1),
    }
    archs = [(10, 0), (20, 0)]
    rows = bench.tabulate(results, ["sine"], archs)
    assert [r["gain_over_random_features"] for r in rows] == pytest.approx(
        [0.75, 1 - 1.5 / 1.6]
    )
    assert [r["vs_mlp"] for r in rows] == pytest.approx([0.5, 0.75])
    assert [r["time_vs_mlp"] for r in rows] == pytest.approx([0.5, 1.5])
    text = bench.summary(rows, results, ["sine"], archs)
    assert "width 10, n_blocks 0: geometric mean of MSE / MLP 0.500" in text
    assert "on 1/1 nonlinear datasets (sine +75.0 %)" in text
    assert "on 1/1 nonlinear" in text.splitlines()[1] and "+6.2 %" in text
    # 1.5 / 1.0 and 4.0 / 1.6 across the two architectures.
    assert "MSE spans 50.0 %, their random features' 150.0 %" in text


def test_quick_run_writes_every_architecture(bench, tmp_path):
    bench.main(["--quick", "--datasets", "sine", "--out", str(tmp_path)])
    text = (tmp_path / "architecture.md").read_text()
    for width, n_blocks in ((8, 0), (16, 0), (8, 1)):
        assert f"| sine | {width} | {n_blocks} |" in text

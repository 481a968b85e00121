"""The regression benchmark suite: its datasets and the arithmetic of its targets.

The suite itself is too slow for the tests; what it claims (ratios, wins, the
"learns" criterion) is computed by small functions checked here on hand-made
rows, and a smoke run on one tiny dataset checks that the script runs.
"""

import numpy as np
import pytest

from ._benchmarks import imported, needs

pytestmark = needs("bench_suite.py")


@pytest.fixture(scope="module")
def suite():
    with imported("bench_suite", "_datasets") as modules:
        yield tuple(modules)


def test_every_dataset_loads_finite_and_offline(suite):
    _, datasets = suite
    assert len(datasets.DATASETS) >= 6
    for name in datasets.DATASETS:
        X, y = datasets.load(name)
        assert X.ndim == 2 and y.shape == (X.shape[0],), name
        assert np.isfinite(X).all() and np.isfinite(y).all(), name
        assert X.shape[0] >= 400, name
    # Generated tables are deterministic.
    np.testing.assert_array_equal(
        datasets.load("pricing")[1], datasets.load("pricing")[1]
    )


def _rows(mse):
    return [
        dict(dataset=d, model=m, mse_mean=v, fit_time=1.0 if m != "mlp" else 2.0)
        for (d, m), v in mse.items()
    ]


def test_targets_count_wins_geomean_time_and_gain(suite):
    bench, _ = suite
    mse = {
        ("friedman1", "default"): 0.5,
        ("friedman1", "mlp"): 1.0,
        ("friedman1", "random_features"): 1.0,
        ("sine", "default"): 2.0,
        ("sine", "mlp"): 1.0,
        ("sine", "random_features"): 2.02,
        ("diabetes", "default"): 1.0,
        ("diabetes", "mlp"): 1.0,
        ("diabetes", "random_features"): 0.5,
    }
    rows = bench.add_ratios(_rows(mse))
    by = {(r["dataset"], r["model"]): r for r in rows}
    assert by["sine", "default"]["vs_mlp"] == 2.0
    assert by["friedman1", "default"]["vs_random_features"] == 0.5
    text = bench.targets(rows, ["default"])
    assert "<= MLP on 2/3 datasets" in text  # ties count as wins
    assert "geometric mean of MSE / MLP 1.000" in text  # (0.5 * 2 * 1) ** (1/3)
    assert "fit time 0.50x MLP's" in text
    # diabetes is not a nonlinear dataset of the suite; sine gains only 1 %.
    assert "on 1/2 nonlinear datasets" in text
    assert "friedman1 +50.0 %" in text and "sine +1.0 %" in text


def test_parse_mode_rejects_malformed(suite):
    import argparse

    bench, _ = suite
    assert bench.parse_mode('w={"width": 8}') == ("w", {"width": 8})
    for bad in ("w", "w=", "w=[1]", "w={bad"):
        with pytest.raises(argparse.ArgumentTypeError):
            bench.parse_mode(bad)


def test_a_mode_may_set_its_own_seed(suite):
    bench, _ = suite
    models = bench.make_models({"a": {}, "b": {"random_state": 3, "width": 7}})
    assert models["a"].get_params()["random_state"] == bench.SEED
    assert models["b"].get_params()["random_state"] == 3
    assert models["b"].get_params()["width"] == 7


def quick_run(bench, out, *args):
    """A smoke run of the suite on the sine curve; the text of its table."""
    bench.main(["--quick", "--datasets", "sine", "--no-time", "--out", str(out), *args])
    return (out / "suite.md").read_text()


def test_quick_run_writes_results(suite, tmp_path):
    bench, _ = suite
    text = quick_run(bench, tmp_path, "--models", "default,random_features,ridge")
    assert "| sine | default |" in text and "| sine | ridge |" in text


def test_switches_apply_to_their_mode_only_and_are_restored(suite, tmp_path):
    from skadmm._solvers._reset import ResetSolver

    bench, _ = suite
    text = quick_run(
        bench,
        tmp_path,
        *("--models", "plain,fo", "--mode", "plain={}", "--mode", "fo={}"),
        *("--switches", 'fo={"first_order_targets": true}'),
    )
    assert ResetSolver.first_order_targets is False
    assert '`fo` fitted with the solver switches {"first_order_targets": true}' in text
    mse = {
        line.split("|")[2].strip(): float(line.split("|")[3])
        for line in text.splitlines()
        if line.startswith("| sine |")
    }
    # The same model and folds: only the switch can tell them apart.
    assert mse["fo"] != mse["plain"]


def test_alpha_grid_switch_sets_the_candidates_of_auto(suite):
    from sklearn.datasets import make_regression

    import skadmm._alpha_search as penalty
    from skadmm import ADMMResidualRegressor

    bench, _ = suite
    X, y = make_regression(n_samples=150, n_features=3, noise=5.0, random_state=0)
    model = ADMMResidualRegressor(width=8, max_iter=3, random_state=0)
    grid = penalty.CV_GRID
    assert bench.switched(model, {"alpha_grid": [0.5]}).fit(X, y).alpha_ == 0.5
    assert penalty.CV_GRID == grid
    assert model.fit(X, y).alpha_ in grid


def test_switches_reject_unknown_names(suite, tmp_path):
    from skadmm import ADMMResidualRegressor

    bench, _ = suite
    with pytest.raises(ValueError, match="no switch"):
        bench.switched(ADMMResidualRegressor(), {"no_such_switch": 1})
    with pytest.raises(SystemExit):
        bench.main(["--quick", "--switches", 'nomode={"x": 1}', "--out", str(tmp_path)])

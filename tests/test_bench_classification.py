"""The classification benchmark suite: its datasets and the arithmetic of its targets.

The suite itself is too slow for the tests; what it claims (differences and
ratios to MLPClassifier, the three targets) is computed by small functions
checked here on hand-made rows, and a smoke run on one tiny dataset checks that
the script runs and writes its files.
"""

import numpy as np
import pytest

from ._benchmarks import imported, needs

pytestmark = needs("bench_classification.py")


@pytest.fixture(scope="module")
def suite():
    with imported("bench_classification", "_class_datasets", "_common") as modules:
        yield tuple(modules[:2])


def test_every_dataset_loads_finite_and_offline(suite):
    _, datasets = suite
    assert len(datasets.DATASETS) >= 6
    for name in datasets.DATASETS:
        X, y = datasets.load(name)
        assert X.ndim == 2 and y.shape == (X.shape[0],), name
        assert np.isfinite(X).all(), name
        classes = np.unique(y)
        np.testing.assert_array_equal(classes, np.arange(len(classes)), err_msg=name)
        assert len(classes) >= 2 and np.bincount(y).min() >= 10, name
    # Generated tables are deterministic.
    for name in ("classification", "moons"):
        np.testing.assert_array_equal(datasets.load(name)[0], datasets.load(name)[0])


def test_wine_quality_classes_cut_the_score_at_5_and_7(suite):
    _, datasets = suite
    np.testing.assert_array_equal(
        datasets.quality_classes([3, 4, 5, 6, 7, 8, 9]), [0, 0, 0, 1, 2, 2, 2]
    )
    X, y = datasets.load("wine_quality")
    assert X.shape == (4898, 11)  # white wines only
    np.testing.assert_array_equal(np.bincount(y), [1640, 2198, 1060])


def test_stratified_folds_keep_the_class_shares(suite):
    bench, datasets = suite
    X, y = datasets.load("wine_quality")
    splits = bench.stratified_folds(X, y)
    assert len(splits) == 5
    share = np.bincount(y) / len(y)
    test_rows = np.concatenate([test for _, test in splits])
    np.testing.assert_array_equal(np.sort(test_rows), np.arange(len(y)))
    for _, test in splits:
        np.testing.assert_allclose(np.bincount(y[test]) / len(test), share, atol=2e-3)
    # Deterministic: the same folds for every model and every run.
    again = bench.stratified_folds(X, y)
    for (_, a), (_, b) in zip(splits, again, strict=True):
        np.testing.assert_array_equal(a, b)


def _rows(table):
    return [
        dict(
            dataset=d,
            model=m,
            acc_mean=acc,
            acc_std=0.0,
            logloss_mean=loss,
            logloss_std=0.0,
            fit_time=seconds,
        )
        for (d, m), (acc, loss, seconds) in table.items()
    ]


def test_targets_on_a_hand_made_table(suite):
    bench, _ = suite
    table = {
        # accuracy, log-loss, fit seconds
        ("a", "default"): (0.900, 0.30, 2.0),
        ("a", "mlp"): (0.905, 0.35, 1.0),  # -0.5 point: close enough
        ("a", "logreg"): (0.80, 0.30, 0.1),  # a tie on log-loss counts as no worse
        ("b", "default"): (0.80, 0.50, 3.0),
        ("b", "mlp"): (0.82, 0.40, 1.0),  # -2 points: not close
        ("b", "logreg"): (0.81, 0.45, 0.1),  # default's log-loss is worse
        ("c", "default"): (0.99, 0.05, 4.0),
        ("c", "mlp"): (0.98, 0.07, 2.0),  # +1 point
        ("c", "logreg"): (0.97, 0.08, 0.1),
    }
    rows = bench.add_ratios(_rows(table))
    by = {(r["dataset"], r["model"]): r for r in rows}
    assert by["b", "default"]["acc_vs_mlp"] == pytest.approx(-2.0)
    assert by["a", "default"]["logloss_vs_mlp"] == pytest.approx(0.30 / 0.35)
    assert by["c", "default"]["time_vs_mlp"] == pytest.approx(2.0)
    assert by["a", "mlp"]["acc_vs_mlp"] == 0.0

    t = bench.evaluate_targets(rows, "default")
    assert t["logloss"] == (2, 3) and t["logloss_worse"] == ["b"]
    assert t["accuracy"] == (2, 3)
    assert t["time_ratio"] == pytest.approx(9.0 / 4.0)
    assert t["met"] == dict(logloss=False, accuracy=True, time=True)

    text = bench.targets(rows, ["default", "absent"])
    assert text.count("\n") == 0  # no line for a mode without rows
    assert "LogisticRegression's on 2/3 datasets" in text
    assert "worse on: b) - NOT met" in text
    assert "MLPClassifier's on 2/3" in text and "a -0.5, b -2.0, c +1.0" in text
    assert "fit time 2.25x MLPClassifier's, summed (target <= 3) - met" in text


def test_majority_is_strict_and_time_target_can_fail(suite):
    bench, _ = suite
    table = {
        ("a", "default"): (0.90, 0.2, 4.0),
        ("a", "mlp"): (0.90, 0.3, 1.0),
        ("b", "default"): (0.70, 0.2, 4.0),
        ("b", "mlp"): (0.90, 0.3, 1.0),
    }
    t = bench.evaluate_targets(bench.add_ratios(_rows(table)), "default")
    assert t["accuracy"] == (1, 2)  # half is not a majority
    assert t["met"]["accuracy"] is False
    assert t["time_ratio"] == pytest.approx(4.0) and t["met"]["time"] is False
    assert bench.evaluate_targets(_rows(table), "radmm") is None


def test_parse_mode_rejects_malformed(suite):
    import argparse

    bench, _ = suite
    assert bench.parse_mode('w={"width": 8}') == ("w", {"width": 8})
    for bad in ("w", "w=", "w=[1]", "w={bad"):
        with pytest.raises(argparse.ArgumentTypeError):
            bench.parse_mode(bad)


@pytest.mark.parametrize("plot", [False, True])
def test_quick_run_writes_results(suite, tmp_path, plot):
    if plot:
        pytest.importorskip("matplotlib")  # a docs/examples dependency only
    bench, _ = suite
    bench.main(
        [
            "--quick",
            "--datasets",
            "wine",
            "--models",
            "random_features,logreg,small",
            "--mode",
            'small={"width": 20, "max_iter": 5}',
            "--out",
            str(tmp_path),
            *([] if plot else ["--no-plot"]),
        ]
    )
    text = (tmp_path / "classification.md").read_text()
    assert "| wine | small |" in text and "| wine | logreg |" in text
    assert "- `small`: log-loss <= LogisticRegression's on" in text
    assert (tmp_path / "classification.csv").read_text().startswith("dataset,model,")
    assert (tmp_path / "classification.png").exists() == plot


def test_cross_validate_matches_scikit_learn(suite):
    # The benchmarks' CV loop against sklearn's cross_validate on the same folds.
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_validate
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    import _common

    bench, datasets = suite
    X, y = datasets.load("wine")
    splits = bench.stratified_folds(X, y)
    model = LogisticRegression(C=0.1, max_iter=5000)
    scores = _common.cross_validate(model, X, y, splits, bench.SCORERS)
    accs, losses, times = scores["accuracy"], scores["log_loss"], scores["fit_time"]
    ref = cross_validate(
        make_pipeline(StandardScaler(), model),
        X,
        y,
        cv=splits,
        scoring=("accuracy", "neg_log_loss"),
    )
    np.testing.assert_allclose(accs, ref["test_accuracy"], rtol=1e-12)
    np.testing.assert_allclose(losses, -ref["test_neg_log_loss"], rtol=1e-10)
    assert times.shape == scores["n_iter"].shape == (5,) and (times >= 0).all()


def test_name_sets_the_stem_of_the_outputs(suite, tmp_path):
    bench, _ = suite
    bench.main(
        [
            "--quick",
            "--datasets",
            "moons",
            "--models",
            "logreg",
            "--name",
            "other",
            "--out",
            str(tmp_path),
            "--no-plot",
        ]
    )
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["other.csv", "other.md", "other_machine.txt"]


def test_switches_change_only_their_mode(suite, tmp_path):
    from skadmm._solvers._reset import ResetSolver

    bench, _ = suite
    rows = bench.main(
        [
            *("--quick", "--datasets", "moons", "--models", "plain,fo", "--no-plot"),
            *("--mode", 'plain={"width": 20}', "--mode", 'fo={"width": 20}'),
            *("--switches", 'fo={"first_order_targets": true}'),
            *("--out", str(tmp_path)),
        ]
    )
    assert ResetSolver.first_order_targets is False
    loss = {r["model"]: r["logloss_mean"] for r in rows}
    # The same model and folds: only the switch can tell them apart.
    assert loss["fo"] != loss["plain"]
    text = (tmp_path / "classification.md").read_text()
    assert '`fo` fitted with the solver switches {"first_order_targets": true}' in text


def test_a_mode_may_set_its_own_seed(suite):
    bench, _ = suite
    models = bench.make_models({"a": {}, "b": {"random_state": 3}})
    assert models["a"].get_params()["random_state"] == bench.SEED
    assert models["b"].get_params()["random_state"] == 3

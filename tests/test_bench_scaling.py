"""The scaling benchmark: several draws and model seeds, and the targets
counted per fit."""

import csv

import numpy as np

from ._benchmarks import imported, needs

pytestmark = needs("bench_scaling.py")


def test_a_run_over_two_draws_records_every_draw():
    # The measuring part only: the plot needs matplotlib, which the tests'
    # environment does not install.
    with imported("bench_scaling") as (bench,):
        rows = bench.run_scaling([300], ["defaults", "MLP"], ["pricing"], [0, 1])
    assert sorted((r["model"], r["draw"]) for r in rows) == [
        ("MLP", 0),
        ("MLP", 1),
        ("defaults", 0),
        ("defaults", 1),
    ]
    # Each draw is a table of its own.
    mse = {r["draw"]: r["test_mse"] for r in rows if r["model"] == "MLP"}
    assert mse[0] != mse[1]


def test_time_to_accuracy_curves_score_every_iteration(monkeypatch):
    # The curves part wraps the fit's monitor: a change of the monitor's
    # arguments must not break it (it did once, unnoticed).
    with imported("bench_scaling") as (bench,):
        # Each point scores the test rows: 500 of them keep the test short.
        monkeypatch.setattr(bench, "TEST_ROWS", 500)
        names = ("defaults", "defaults n_jobs=2", "MLP")
        curves = dict(bench.curve_one(name, 300) for name in names)
        rows = bench.curves_rows(list(curves.items()))
    for name, points in curves.items():
        seconds, mse = np.array(points).T
        assert len(points) >= (300 if name == "MLP" else 10)
        assert np.all(np.diff(seconds) >= 0) and np.all(np.isfinite(mse))
    # The defaults learn: the last iterate beats the first.
    assert curves["defaults"][-1][1] < curves["defaults"][0][1]
    assert [r["model"] for r in rows] == list(names)
    assert rows[0]["final_mse"] == curves["defaults"][-1][1]
    assert rows[0]["final_s"] == curves["defaults"][-1][0]
    # Any n_jobs fits the same network (the search's candidates may run on
    # worker processes, whose iterations the curve does not see).
    assert curves["defaults n_jobs=2"][-1][1] == curves["defaults"][-1][1]


def test_model_seeds_refit_one_draw_with_other_random_states():
    with imported("bench_scaling") as (bench,):
        rows = bench.run_scaling([300], ["MLP"], ["pricing"], [0], model_seeds=[0, 1])
    assert [(r["draw"], r["model_seed"]) for r in rows] == [(0, 0), (0, 1)]
    # One table, two starts: the same test rows, other fits.
    assert rows[0]["test_mse"] != rows[1]["test_mse"]


def test_targets_pair_each_fit_with_the_mlp_of_its_draw_and_model_seed():
    with imported("bench_scaling") as (bench,):
        rows = [
            dict(
                table="t",
                rows=200_000,
                model=m,
                draw=0,
                model_seed=k,
                test_mse=e,
                fit_s=s,
            )
            for m, k, e, s in [
                ("defaults", 0, 1.00, 5.0),
                ("MLP", 0, 1.03, 9.0),
                ("defaults", 1, 1.04, 5.0),
                ("MLP", 1, 1.03, 4.0),
                ("defaults", 2, 1.02, 5.0),
                ("MLP", 2, 1.03, 6.0),
            ]
        ]
        text = bench.targets(rows)
    assert "draw 0: test MSE 1 vs MLP 1.03 (met), fit 5 s vs 9 s (met)" in text
    assert "draw 0, model seed 1: test MSE 1.04 vs MLP 1.03 (not met)" in text
    assert (
        "t 200,000 rows, 3 fits: test MSE met on 2, fit time on 2; mean test MSE "
        "1.02 vs MLP 1.03, paired difference -0.01 (standard error 0.012); fit "
        "time 0.83x MLP's (geometric mean)"
    ) in text


def test_targets_compare_each_draw_with_its_own_mlp_and_count_the_draws():
    with imported("bench_scaling") as (bench,):
        rows = [
            dict(table="t", rows=50_000, model=m, draw=d, test_mse=e, fit_s=s)
            for m, d, e, s in [
                ("defaults", 0, 1.10, 5.0),
                ("MLP", 0, 1.05, 9.0),
                ("defaults", 1, 1.02, 5.0),
                ("MLP", 1, 1.05, 4.0),
            ]
        ]
        text = bench.targets(rows)
        typical = bench.typical(rows)
    assert "draw 0: test MSE 1.1 vs MLP 1.05 (not met), fit 5 s vs 9 s (met)" in text
    assert "draw 1: test MSE 1.02 vs MLP 1.05 (met), fit 5 s vs 4 s (not met)" in text
    assert "t 50,000 rows, 2 draws: test MSE met on 1, fit time on 1" in text
    medians = {r["model"]: (r["test_mse"], r["fit_s"]) for r in typical}
    assert medians == {"defaults": (1.06, 5.0), "MLP": (1.05, 6.5)}


def test_rows_of_runs_before_draws_read_as_the_default_draw(tmp_path):
    path = tmp_path / "scaling.csv"
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["table", "rows", "model", "test_mse", "fit_s"])
        writer.writerow(["pricing", "1000", "MLP", "1.5", "2.0"])
    with imported("bench_scaling") as (bench,):
        (row,) = bench.read_rows(path)
        assert row["draw"] == bench.SEED
        # Before model seeds were recorded, the draw seeded the models.
        assert row["model_seed"] == bench.SEED

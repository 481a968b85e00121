"""The benchmark of alpha="auto"'s search cost: smoke run."""

import csv

from ._benchmarks import imported, needs

pytestmark = needs("bench_search_cost.py")


def test_quick_run_compares_the_path_with_the_exhaustive_search(tmp_path):
    with imported("bench_search_cost") as (bench,):
        from skadmm import _alpha_search

        bench.main(["--quick", "--out", str(tmp_path), "--datasets", "wine_red"])
        # The switches are restored.
        assert _alpha_search.PATH_STOPS and _alpha_search.FEWER_FOLDS
        models = bench.MODELS
    with open(tmp_path / "search_cost.csv") as f:
        rows = list(csv.DictReader(f))
    assert [row["model"] for row in rows] == list(models)
    by_model = {row["model"]: row for row in rows}
    assert float(by_model["mlp"]["vs_mlp"]) == 1.0
    assert all(float(row["fit_time"]) > 0 for row in rows)
    # Two folds of 150 rows: six candidates each (the grid, 1e-4 and 3 / n),
    # all fitted exhaustively.
    assert float(by_model["exhaustive"]["search_fits"]) == 18
    assert float(by_model["path"]["search_fits"]) <= 18
    assert by_model["path"]["same_alpha"] == by_model["exhaustive"]["same_alpha"]
    # 150 training rows: below FEWER_FOLDS_MIN_ROWS, the defaults are the
    # three-fold path.
    for column in ("search_fits", "same_alpha", "mse"):
        assert by_model["three_folds"][column] == by_model["path"][column]

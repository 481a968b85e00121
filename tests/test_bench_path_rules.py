"""The replay of the penalty path's stopping rules: smoke run and premise."""

import csv

import numpy as np

from ._benchmarks import imported, needs, quick_rows

pytestmark = needs("bench_path_rules.py")


def test_quick_run_replays_every_rule(tmp_path):
    rules, rows = quick_rows("bench_path_rules", tmp_path, "path_rules", "RULES")
    assert [row["rule"] for row in rows] == list(rules)
    by_rule = {row["rule"]: row for row in rows}
    assert by_rule["exhaustive"]["same"] == "1"
    assert float(by_rule["exhaustive"]["mse_vs_exhaustive"]) == 1.0
    # 100 rows: five grid candidates and 3 / n, three folds each (two for
    # "two_folds").
    assert int(by_rule["exhaustive"]["fits"]) == 18
    for rule in rules:
        assert int(by_rule[rule]["fits"]) <= 18
        assert float(by_rule[rule]["seconds"]) > 0
    with open(tmp_path / "path_rules_summary.csv") as f:
        summary = list(csv.DictReader(f))
    assert [row["rule"] for row in summary] == list(rules)


def test_replayed_path_fits_what_the_search_fits():
    """The premise of the replay: every fit of the path is one of the
    exhaustive search's, so the package's path replayed on the exhaustive
    search's recorded losses fits the candidates a real search fits, and
    chooses its penalty."""
    with imported("bench_path_rules") as (bench,):
        from skadmm import ADMMResidualRegressor

        rng = np.random.default_rng(0)
        X = rng.standard_normal((120, 2))
        y = X[:, 0] + 1.5 * rng.standard_normal(120)
        grid, errors, seconds = bench.exhaustive_search(X, y)
        fitted = bench.replay("path", grid, errors, seconds)
        assert 0 < fitted.sum() < len(grid)
        model = ADMMResidualRegressor(random_state=bench.SEED).fit(X, y)
    search = model.alpha_search_
    assert search["fitted"] == fitted.tolist()
    np.testing.assert_array_equal(
        np.asarray(search["fold_errors"])[:, fitted], errors[:, fitted]
    )
    assert model.alpha_ == grid[bench.choice(grid, errors, fitted)]

"""The mid-sized tables' penalty benchmark: smoke run."""

import csv

from ._benchmarks import imported, needs

pytestmark = needs("bench_medium_tables.py")


def test_quick_run_compares_the_sample_search_with_the_rule(tmp_path):
    with imported("bench_medium_tables") as (bench,):
        from skadmm._alpha_search import fixed_alpha

        bench.main(["--quick", "--out", str(tmp_path)])
    with open(tmp_path / "medium_tables.csv") as f:
        rows = list(csv.DictReader(f))
    by_model = {row["model"]: row for row in rows}
    assert list(by_model) == list(bench.MODELS)
    assert float(by_model["MLP"]["vs_mlp_time"]) == 1.0
    assert all(float(row["mse"]) > 0 for row in rows)
    rule = fixed_alpha(2_100)
    assert float(by_model["rule"]["alpha"]) == rule
    # The sample's choice never exceeds the rule.
    assert float(by_model["defaults"]["alpha"]) <= rule

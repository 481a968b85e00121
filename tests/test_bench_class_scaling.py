"""The classifier's scaling benchmark: its draws and its written results."""

import numpy as np

from ._benchmarks import imported, needs

pytestmark = needs("bench_class_scaling.py")


def _row(model, log_loss):
    """A result row of the benchmark, as ``fit_one`` returns it."""
    return dict(
        rows=200,
        model=model,
        accuracy=0.9,
        log_loss=log_loss,
        fit_s=1.0,
        cpu_s=1.0,
        n_iter="",
        peak_mib="",
        base_mib="",
        data_mib="",
    )


def test_seed_draws_another_table_and_names_it(tmp_path):
    with imported("bench_class_scaling") as (bench,):
        X0, y0, *_ = bench.table(200, "4class")
        X1, y1, *_ = bench.table(200, "4class", seed=1)
        assert X0.shape == X1.shape == (200, 24)
        assert not np.allclose(X0, X1)
        assert bench.make_model("MLP", seed=1).random_state == 1
        assert bench.make_model("defaults", {"alpha": 1e-3}, 1).random_state == 1
        bench.write(
            [_row("defaults", 0.7)], tmp_path, "draw", table_name="4class", seed=1
        )
    assert "random_state=1)" in (tmp_path / "draw.md").read_text()


def test_model_seed_starts_the_model_elsewhere_on_the_same_draw(tmp_path):
    with imported("bench_class_scaling") as (bench,):
        same = bench.fit_one(300, "MLP", None, "3class", 0)
        other = bench.fit_one(300, "MLP", None, "3class", 0, 1)
        again = bench.fit_one(300, "MLP", None, "3class", 0, 0)
        bench.write([_row("MLP", 0.7)], tmp_path, "seeded", seed=0, model_seed=1)
        bench.write([_row("MLP", 0.7)], tmp_path, "own", seed=0, model_seed=0)
    # The draw's own seed by default; another seed, another fit of it.
    assert same["log_loss"] == again["log_loss"] != other["log_loss"]
    assert (
        "random_state=0), models' random_state=1,"
        in (tmp_path / "seeded.md").read_text()
    )
    assert "models' random_state" not in (tmp_path / "own.md").read_text()


def test_results_keep_every_digit_for_a_later_merge(tmp_path):
    # Two log-losses equal at four digits: the CSV keeps them apart, so the
    # targets of a merged run are judged on the scores, not on their rounding.
    rows = [_row("defaults", 0.2019654321), _row("MLP", 0.2019712345)]
    # Memory too is rounded in a merged table (a run before those columns
    # leaves them empty).
    rows[0]["peak_mib"] = 576.2890625
    with imported("bench_class_scaling") as (bench,):
        bench.write(rows, tmp_path, "first")
        merged = bench.merge_rows([str(tmp_path / "first.csv")])
        bench.write(merged, tmp_path, "merged")
    assert [r["log_loss"] for r in merged] == [0.2019654321, 0.2019712345]
    text = (tmp_path / "merged.md").read_text()
    assert "log-loss 0.2020 vs 0.2020 (met)" in text
    assert "| 0.202 |" in text and "0.2019654321" not in text
    assert "| 576.3 |" in text and "576.289" not in text

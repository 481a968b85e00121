"""The classifier's scaling benchmark: its draws and its written preamble."""

import numpy as np

from ._benchmarks import imported, needs

pytestmark = needs("bench_class_scaling.py")


def test_seed_draws_another_table_and_names_it(tmp_path):
    with imported("bench_class_scaling") as (bench,):
        X0, y0, *_ = bench.table(200, "4class")
        X1, y1, *_ = bench.table(200, "4class", seed=1)
        assert X0.shape == X1.shape == (200, 24)
        assert not np.allclose(X0, X1)
        assert bench.make_model("MLP", seed=1).random_state == 1
        assert bench.make_model("defaults", {"alpha": 1e-3}, 1).random_state == 1
        row = dict(
            rows=200,
            model="defaults",
            accuracy=0.5,
            log_loss=0.7,
            fit_s=1.0,
            cpu_s=1.0,
            n_iter="",
            peak_mib="",
            base_mib="",
            data_mib="",
        )
        bench.write([row], tmp_path, "draw", table_name="4class", seed=1)
    assert "random_state=1)" in (tmp_path / "draw.md").read_text()

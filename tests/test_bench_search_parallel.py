"""The benchmark of the alpha search on worker processes: tables, smoke run."""

from ._benchmarks import imported, needs, quick_rows

pytestmark = needs("bench_search_parallel.py")


def test_tables_are_those_the_search_cross_validates():
    with imported("bench_search_parallel", "_datasets") as (bench, datasets):
        from skadmm._alpha_search import CV_MAX_ROWS, CV_MIN_ROWS

        names = bench.searched_tables()
        sizes = {name: datasets.load(name)[0].shape[0] for name in datasets.DATASETS}
    assert names and set(names) < set(sizes)
    for name, n in sizes.items():
        assert (name in names) == (CV_MIN_ROWS <= n <= CV_MAX_ROWS), name


def test_quick_run_writes_one_row_per_configuration(tmp_path):
    configs, rows = quick_rows(
        "bench_search_parallel", tmp_path, "search_parallel", "CONFIGS"
    )
    assert [row["config"] for row in rows] == list(configs)
    assert rows[0]["vs_serial"] == "1.0"
    assert all(float(row["fit_time"]) > 0 for row in rows)
    assert len({row["alpha"] for row in rows}) == 1

"""The benchmark of pdADMM's parallel layers: smoke run."""

from ._benchmarks import imported, needs

pytestmark = needs("bench_pdadmm_parallel.py")


def test_quick_run_times_both_worker_counts(capsys):
    # The run clocks the monitor by wrapping it: a change of the monitor's
    # arguments once broke it, unnoticed. It asserts itself that the two
    # worker counts give the same iterates.
    with imported("bench_pdadmm_parallel") as (bench,):
        bench.main(["--quick", "--repeats", "1"])
    out = capsys.readouterr().out
    assert "1 worker(s):" in out and "2 worker(s):" in out
    assert "speed-up of 2 workers over 1" in out

"""Run the whole benchmark suite, one script after the other.

Each script runs as a subprocess with this Python interpreter, with ``--quick``
and ``--out`` forwarded; its output streams through and its wall time is
printed. A script that fails (or is missing) does not stop the others; the
summary at the end lists every script's status and time, and the exit status is
1 if any failed.

Scripts, in order (names for ``--only``):

* ``suite``: ``bench_suite.py`` (regression suite: every mode, its random
  features and the baselines on eight tables);
* ``modes``: ``bench_modes.py`` (every training mode head to head on the
  regression suite, time to accuracy, 2-worker speed-ups);
* ``backprop``: ``bench_backprop.py`` (the forward-reset mode against
  backpropagation, L-BFGS and Adam, on the same training objective);
* ``linear_path``: ``bench_linear_path.py`` (the default network with and
  without a linear path from the inputs to the read-out, at the optimum);
* ``classification``: ``bench_classification.py`` (classification suite: the
  classifier's modes, its random features and the baselines on six tables);
* ``accuracy``: ``bench_accuracy.py`` (CV accuracy, time to accuracy);
* ``resnet40``: ``bench_resnet40.py`` (40-block networks, ADMM vs backprop);
* ``depth``: ``bench_depth.py`` (cost and accuracy against depth);
* ``flops``: ``bench_flops.py`` (achieved GFLOP/s against matmul);
* ``parallel``: ``bench_parallel.py`` (parallel regional updates);
* ``search_parallel``: ``bench_search_parallel.py`` (``alpha="auto"``'s
  cross-validation fits on worker processes);
* ``search_cost``: ``bench_search_cost.py`` (``alpha="auto"``'s search: the
  defaults' fit time against MLPRegressor's, the penalty path beside the
  exhaustive search);
* ``medium_tables``: ``bench_medium_tables.py`` (the penalty of 2,000 to
  10,000 rows: the sample search against the size rule and MLPRegressor);
* ``load``: ``bench_load.py`` (fit time beside busy processes, BLAS threads);
* ``graph``: ``bench_graph.py`` (hop features against raw node features on
  Cora, CiteSeer and CSBM graphs);
* ``scaling``: ``bench_scaling.py`` (1,000 to 1,000,000 rows: fit time, test
  MSE and peak memory against MLPRegressor, PyTorch and HistGradientBoosting;
  time to accuracy at 200,000 rows; tables of 30 to 100 rows);
* ``class_scaling``: ``bench_class_scaling.py`` (the classifier at 50,000
  and 200,000 rows against MLPClassifier and HistGradientBoosting);
* ``cost``: ``bench_cost.py`` (where one iteration spends its time at 50,000
  to 1,000,000 rows).

Usage::

    python benchmarks/run_all.py                     # the whole suite, about 4 hours
    python benchmarks/run_all.py --quick             # smoke run of every script
    python benchmarks/run_all.py --only accuracy,flops --out /tmp/results
"""

import argparse
import subprocess
import sys
import time
from pathlib import Path

from _common import comma_list

HERE = Path(__file__).resolve().parent
SCRIPTS = {
    "suite": "bench_suite.py",
    "modes": "bench_modes.py",
    "backprop": "bench_backprop.py",
    "linear_path": "bench_linear_path.py",
    "classification": "bench_classification.py",
    "accuracy": "bench_accuracy.py",
    "resnet40": "bench_resnet40.py",
    "depth": "bench_depth.py",
    "flops": "bench_flops.py",
    "parallel": "bench_parallel.py",
    "search_parallel": "bench_search_parallel.py",
    "search_cost": "bench_search_cost.py",
    "path_rules": "bench_path_rules.py",
    "medium_tables": "bench_medium_tables.py",
    "load": "bench_load.py",
    "graph": "bench_graph.py",
    "scaling": "bench_scaling.py",
    "class_scaling": "bench_class_scaling.py",
    "cost": "bench_cost.py",
}


def run(name, quick, out):
    """Run one script; return (status text, seconds)."""
    script = HERE / SCRIPTS[name]
    if not script.exists():
        return "missing", 0.0
    command = [sys.executable, str(script)]
    if quick:
        command.append("--quick")
    if out is not None:
        command += ["--out", str(out)]
    print(f"\n=== {name}: {' '.join(command)}", flush=True)
    tick = time.perf_counter()
    code = subprocess.run(command, check=False).returncode
    seconds = time.perf_counter() - tick
    status = "ok" if code == 0 else f"failed (exit {code})"
    print(f"=== {name}: {status} in {seconds:.1f} s", flush=True)
    return status, seconds


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="forward --quick (smoke runs)"
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="results folder forwarded to every script (default: theirs, "
        "benchmarks/results)",
    )
    parser.add_argument(
        "--only",
        type=comma_list(list(SCRIPTS)),
        default=list(SCRIPTS),
        help=f"comma list of scripts to run, among {', '.join(SCRIPTS)}",
    )
    args = parser.parse_args(argv)
    out = args.out.resolve() if args.out is not None else None

    start = time.perf_counter()
    summary = {}
    for name in SCRIPTS:
        if name in args.only:
            summary[name] = run(name, args.quick, out)
    total = time.perf_counter() - start

    print("\n=== summary", flush=True)
    for name, (status, seconds) in summary.items():
        print(f"{name:10s} {SCRIPTS[name]:20s} {status:18s} {seconds:8.1f} s")
    print(f"{'total':10s} {'':20s} {'':18s} {total:8.1f} s", flush=True)
    failed = [name for name, (status, _) in summary.items() if status != "ok"]
    if failed:
        print(f"Failed: {', '.join(failed)}", file=sys.stderr, flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

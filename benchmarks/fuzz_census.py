"""Count the outcomes of the fuzz cases of ``tests/test_fuzz.py`` over many examples.

The test asserts the property on a few hundred examples; this script runs the
same strategy ``--examples`` times (default 5000) and prints how often each
outcome occurred (``fitted``, ``rejected`` with a ValueError/TypeError, and the
failures: ``LinAlgError``, ``NaN``, ``shape`` or another exception's type).

    PYTHONPATH=$PWD python benchmarks/fuzz_census.py --examples 5000
"""

import argparse
import collections
import pathlib
import sys
import time

from hypothesis import HealthCheck, given, settings

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "tests"))
from test_fuzz import cases, outcome  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=5000)
    parser.add_argument(
        "--show", action="store_true", help="describe every failing case"
    )
    args = parser.parse_args()
    counts = collections.Counter()

    @settings(
        max_examples=args.examples,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(cases())
    def census(case):
        result = outcome(*case)
        counts[result] += 1
        if args.show and result not in ("fitted", "rejected"):
            X, y, sample_weight, params = case
            top = float(abs(X).max()) if X.size else None
            print(f"{result}: X {X.dtype} {X.shape} max|X|={top}, y {y.shape}, ")
            print(f"    weights={sample_weight is not None}, {params}")

    tick = time.perf_counter()
    census()
    seconds = time.perf_counter() - tick
    print(f"{sum(counts.values())} examples in {seconds:.0f}s")
    for name, count in counts.most_common():
        print(f"{name:>14}: {count}")


if __name__ == "__main__":
    main()

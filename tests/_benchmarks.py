"""Import the scripts of ``benchmarks/`` in their tests.

The scripts import their shared modules (``_common``, ``_datasets``, ...) from
their own folder, which is on ``sys.path`` only while they are imported.
``benchmarks/`` is not part of the installed package; without it their tests
are skipped.
"""

import csv
import importlib
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def needs(script):
    """Skip marker for the tests of ``benchmarks/<script>``."""
    return pytest.mark.skipif(
        not (BENCHMARKS / script).exists(), reason="benchmarks/ not present"
    )


@contextmanager
def imported(*names):
    """The modules ``names`` of ``benchmarks/``, imported from that folder."""
    sys.path.insert(0, str(BENCHMARKS))
    try:
        yield [importlib.import_module(name) for name in names]
    finally:
        sys.path.remove(str(BENCHMARKS))


def quick_rows(name, tmp_path, table, attribute):
    """``(bench.<attribute>, rows)``: ``benchmarks/<name>.py --quick`` run into
    ``tmp_path``, and the rows of its ``<table>.csv`` as dicts."""
    with imported(name) as (bench,):
        bench.main(["--quick", "--out", str(tmp_path)])
        value = getattr(bench, attribute)
    with open(tmp_path / f"{table}.csv") as f:
        return value, list(csv.DictReader(f))

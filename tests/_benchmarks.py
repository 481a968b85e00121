"""Import the scripts of ``benchmarks/`` in their tests.

The scripts import their shared modules (``_common``, ``_datasets``, ...) from
their own folder, which is on ``sys.path`` only while they are imported.
``benchmarks/`` is not part of the installed package; without it their tests
are skipped.
"""

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

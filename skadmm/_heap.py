"""Keep freed memory in the process while a Dask worker computes (glibc only).

Dask's worker processes start with ``MALLOC_TRIM_THRESHOLD_`` set, so that
freed memory goes back to the system at once. Setting it also turns off glibc's
adaptive thresholds: every array above 128 KiB is then mapped fresh and handed
back at its free, and each first touch of its pages faults. A row shard's
updates make such temporaries by the thousand per iteration; measured on a
worker process (200,000 rows, one worker), the shard spent 1.36x-1.46x the CPU
time of the same arithmetic in this process, and 1.12x-1.16x with the heap kept
during its calls (``benchmarks/bench_dask.py``, "Scaling out" in the user
guide).

:func:`kept_heap` raises both thresholds for the duration of a computation and
puts back the values the environment gave when the last one ends. It acts only
where the environment fixed glibc's thresholds (where it did not, the adaptive
ones are in force, and changing them would be state left behind); memory freed
meanwhile is handed back by the next free after the restore, as Dask intends.
"""

import ctypes
import os
import platform
import threading
from contextlib import contextmanager

# mallopt parameters (malloc.h).
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
# glibc's default of both, in force whenever the environment fixed any of them.
_GLIBC_DEFAULT = 128 * 1024
# While kept: no trimming, and mapped blocks only above glibc's largest
# adaptive threshold (32 MiB on 64-bit systems).
_KEPT = {_M_TRIM_THRESHOLD: 1 << 30, _M_MMAP_THRESHOLD: 32 << 20}
# Any of these in the environment turns the adaptive thresholds off.
_FIXING = (
    "MALLOC_TRIM_THRESHOLD_",
    "MALLOC_MMAP_THRESHOLD_",
    "MALLOC_TOP_PAD_",
    "MALLOC_MMAP_MAX_",
)


def _environment_thresholds(environ):
    """The thresholds the environment fixed (``None``: it fixed none, or it
    set them through ``GLIBC_TUNABLES``, which is not read here)."""
    if "malloc" in environ.get("GLIBC_TUNABLES", ""):
        return None
    if not any(name in environ for name in _FIXING):
        return None
    try:
        return {
            _M_TRIM_THRESHOLD: int(
                environ.get("MALLOC_TRIM_THRESHOLD_", _GLIBC_DEFAULT)
            ),
            _M_MMAP_THRESHOLD: int(
                environ.get("MALLOC_MMAP_THRESHOLD_", _GLIBC_DEFAULT)
            ),
        }
    except ValueError:
        return None


def _glibc_mallopt():
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return None
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return None
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return mallopt


class _Heap:
    """How many computations keep the heap now, and what to restore."""

    def __init__(self, environ=os.environ, mallopt=None):
        self.restore = _environment_thresholds(environ)
        self.mallopt = (
            (mallopt or _glibc_mallopt()) if self.restore is not None else None
        )
        self.lock = threading.Lock()
        self.depth = 0

    def enter(self):
        if self.mallopt is None:
            return
        with self.lock:
            self.depth += 1
            if self.depth == 1:
                for param, value in _KEPT.items():
                    self.mallopt(param, value)

    def exit(self):
        if self.mallopt is None:
            return
        with self.lock:
            self.depth -= 1
            if self.depth == 0:
                for param, value in self.restore.items():
                    self.mallopt(param, value)


_HEAP = _Heap()


@contextmanager
def kept_heap():
    """Keep freed memory in the process until the block (and every other
    thread's) ends; see the module docstring."""
    _HEAP.enter()
    try:
        yield
    finally:
        _HEAP.exit()

"""The heap kept during a worker's computations (skadmm._heap) and the
workspace arrays of streamed shards (skadmm._splitting._buffers.Workspace)."""

import os
import subprocess
import sys
import threading

import numpy as np
import pytest

from skadmm._heap import _GLIBC_DEFAULT, _KEPT, _M_MMAP_THRESHOLD, _Heap
from skadmm._heap import _M_TRIM_THRESHOLD as TRIM
from skadmm._splitting._buffers import Workspace


class Recorder:
    def __init__(self):
        self.calls = []

    def __call__(self, param, value):
        self.calls.append((param, value))
        return 1


def test_kept_while_any_computation_runs_then_the_environment_s_values():
    mallopt = Recorder()
    heap = _Heap({"MALLOC_TRIM_THRESHOLD_": "65536"}, mallopt)
    heap.enter()
    heap.enter()  # a second thread's computation
    assert mallopt.calls == list(_KEPT.items())
    heap.exit()
    assert len(mallopt.calls) == 2  # one computation still runs
    heap.exit()
    restored = dict(mallopt.calls[2:])
    assert restored == {TRIM: 65536, _M_MMAP_THRESHOLD: _GLIBC_DEFAULT}


@pytest.mark.parametrize(
    "environ",
    [
        {},
        {"GLIBC_TUNABLES": "glibc.malloc.trim_threshold=65536"},
        {"MALLOC_TRIM_THRESHOLD_": "lots"},
    ],
)
def test_untouched_where_the_environment_fixed_nothing_we_can_restore(environ):
    # Without a fixed threshold glibc adapts its own: changing them would
    # leave the process in another state after the fit.
    mallopt = Recorder()
    heap = _Heap(environ, mallopt)
    heap.enter()
    heap.exit()
    assert mallopt.calls == []


@pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="glibc's mallopt (Linux)"
)
def test_glibc_mallopt_is_found_in_a_worker_like_environment():
    code = (
        "from skadmm._heap import _HEAP, kept_heap\n"
        "import platform\n"
        "if platform.libc_ver()[0] == 'glibc':\n"
        "    assert _HEAP.mallopt is not None\n"
        "    assert _HEAP.mallopt(-1, 1 << 20) == 1\n"
        "with kept_heap():\n"
        "    pass\n"
        "assert _HEAP.depth == 0\n"
    )
    env = dict(os.environ, MALLOC_TRIM_THRESHOLD_="65536")
    subprocess.run([sys.executable, "-c", code], env=env, check=True)


def test_workspace_hands_out_first_rows_of_kept_arrays():
    space = Workspace()
    A = space.rows("U0", 10, 3, np.float64, augmented=True)
    assert A.shape == (10, 4) and A.flags.c_contiguous
    np.testing.assert_array_equal(A[:, -1], 1.0)
    A[:, :-1] = 7.0
    B = space.rows("U0", 6, 3, np.float64, augmented=True)
    assert np.shares_memory(A, B) and B.flags.c_contiguous
    C = space.rows("U0", 12, 3, np.float64, augmented=True)  # grows
    assert C.shape == (12, 4) and not np.shares_memory(A, C)
    np.testing.assert_array_equal(C[:, -1], 1.0)
    # Names, dtypes and the ones column keep arrays apart.
    assert not np.shares_memory(C, space.rows("U0", 12, 3, np.float32, True))
    assert not np.shares_memory(C, space.rows("Z0", 12, 4, np.float64))
    X = np.arange(6.0).reshape(3, 2)
    np.testing.assert_array_equal(space.augment("X", X), np.c_[X, np.ones(3)])


def test_workspace_arrays_are_per_thread():
    space = Workspace()
    here = space.rows("O", 5, 2, np.float64)
    there = []
    thread = threading.Thread(target=lambda: there.append(space.rows("O", 5, 2, float)))
    thread.start()
    thread.join()
    assert not np.shares_memory(here, there[0])
    assert np.shares_memory(here, space.rows("O", 5, 2, np.float64))


def test_any_fixed_parameter_fixes_both_thresholds_at_glibc_s_default():
    mallopt = Recorder()
    heap = _Heap({"MALLOC_TOP_PAD_": "0"}, mallopt)
    heap.enter()
    heap.exit()
    assert dict(mallopt.calls[2:]) == {
        TRIM: _GLIBC_DEFAULT,
        _M_MMAP_THRESHOLD: _GLIBC_DEFAULT,
    }

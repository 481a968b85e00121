"""Thread limits for the BLAS libraries used during a fit.

numpy and scipy wheels each bundle their own OpenBLAS. Both pools spin between
calls, so alternating numpy matmuls with scipy's small Cholesky solves makes the
two pools fight for the cores (measured 2.2x slower on 2 cores). The solves are
``n x n`` systems that gain nothing from threads, so while fitting every BLAS
other than numpy's runs on one thread, and numpy's runs on the number of threads
chosen by the parallel plan. With a single shared BLAS, that one gets the plan's.
"""

import os
from contextlib import contextmanager

from threadpoolctl import ThreadpoolController

_controller = None


def _blas_libs():
    """``(primary, secondary)`` BLAS controllers: numpy's, and every other one."""
    global _controller
    if _controller is None:
        _controller = ThreadpoolController()
    blas = [lib for lib in _controller.lib_controllers if lib.user_api == "blas"]
    own = [
        lib
        for lib in blas
        if "numpy" in os.path.basename(os.path.dirname(lib.filepath))
    ]
    if len(blas) < 2 or not own:
        return blas, []
    return own, [lib for lib in blas if lib not in own]


def blas_thread_budget():
    """Threads numpy's BLAS may use now (``os.cpu_count()`` when unknown)."""
    primary, _ = _blas_libs()
    counts = [lib.num_threads for lib in primary]
    return max(counts) if counts else (os.cpu_count() or 1)


@contextmanager
def fit_blas_limits(threads):
    """Run the block with numpy's BLAS on ``threads`` threads and the others on one."""
    primary, secondary = _blas_libs()
    limits = [(lib, threads) for lib in primary] + [(lib, 1) for lib in secondary]
    previous = [lib.num_threads for lib, _ in limits]
    try:
        for lib, n in limits:
            if lib.num_threads != n:
                lib.set_num_threads(n)
        yield
    finally:
        for (lib, n), old in zip(limits, previous, strict=True):
            if n != old:
                lib.set_num_threads(old)

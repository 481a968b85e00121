"""Thread limits for the BLAS libraries used during a fit.

numpy and scipy wheels each bundle their own OpenBLAS. Both pools spin between
calls, so alternating numpy matmuls with scipy's small Cholesky solves makes the
two pools fight for the cores (measured 2.2x slower on 2 cores). The solves are
``n x n`` systems that gain nothing from threads, so while fitting every BLAS
other than numpy's runs on one thread. With a single shared BLAS, nothing changes.
"""

import os
from contextlib import contextmanager

from threadpoolctl import ThreadpoolController

_controller = None


def _secondary_blas():
    global _controller
    if _controller is None:
        _controller = ThreadpoolController()
    blas = [lib for lib in _controller.lib_controllers if lib.user_api == "blas"]
    if len(blas) < 2:
        return []
    return [
        lib
        for lib in blas
        if "numpy" not in os.path.basename(os.path.dirname(lib.filepath))
    ]


@contextmanager
def fit_blas_limits():
    """Run the block with every non-numpy BLAS limited to one thread."""
    libs = _secondary_blas()
    previous = [lib.num_threads for lib in libs]
    try:
        for lib in libs:
            lib.set_num_threads(1)
        yield
    finally:
        for lib, n in zip(libs, previous, strict=True):
            lib.set_num_threads(n)

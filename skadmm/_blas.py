"""Thread limits for the BLAS libraries used during a fit.

numpy and scipy wheels each bundle their own OpenBLAS. Both pools spin between
calls, so alternating numpy matmuls with scipy's small Cholesky solves makes the
two pools fight for the cores (measured 2.2x slower on 2 cores). The solves are
``n x n`` systems that gain nothing from threads, so while fitting every BLAS
other than numpy's runs on one thread, and numpy's runs on the number of threads
chosen by the parallel plan. With a single shared BLAS, that one gets the plan's.

How many threads numpy's BLAS gets depends on the size of the fit's products
(:func:`blas_threads_for`): an iteration makes hundreds of small BLAS calls, and
between them idle OpenBLAS threads spin. On an idle machine that costs little,
but beside other busy processes the spinning threads take the cores the work
needs: a default Wine Quality fit ran 8-28x slower on 2 threads than on 1.
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


#: Multiply-adds of a fit's largest matrix product below which its BLAS runs on
#: one thread. Measured on 2 cores (``benchmarks/bench_load.py``, the
#: parallel guide): below about 2e8 two threads were no faster with the cores
#: free (1.18x slower at 1600 x 100^2, 0.93-1.07x at 5000 x 200^2) and 7-12x
#: slower beside one busy process; from 20000 x 128^2 (3.3e8) up they were up
#: to 1.3x faster with the cores free.
BLAS_MIN_PRODUCT = 2**28


def largest_product(n_samples, width, n_features):
    """Multiply-adds of the largest matrix product of an iteration.

    The hidden blocks multiply ``n_samples x width`` by ``width x width``; the
    lifting layer's Gram matrix is ``n_features x n_samples x n_features``.
    """
    side = max(width, n_features)
    return n_samples * side * side


def small_products(n_samples, width, n_features):
    """Whether a fit's products are too small to gain from more BLAS threads
    (:func:`largest_product` below :data:`BLAS_MIN_PRODUCT`): such a fit runs
    them on one thread whatever its budget."""
    return largest_product(n_samples, width, n_features) < BLAS_MIN_PRODUCT


def blas_threads_for(budget, n_samples, width, n_features):
    """BLAS threads for a fit's products: ``budget``, or one when they are small.

    Depends on the data shape only (never on the worker threads), so results
    stay reproducible for any ``n_jobs``.

    Parameters
    ----------
    budget : int
        Threads available to each product (at least one).
    n_samples, width, n_features : int
        Training rows, width of the hidden layers and input features.

    Returns
    -------
    threads : int
        ``1`` if the products are small (:func:`small_products`), else
        ``budget``.
    """
    if small_products(n_samples, width, n_features):
        return 1
    return max(1, budget)


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

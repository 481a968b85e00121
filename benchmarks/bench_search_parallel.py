"""``alpha="auto"``'s search on worker processes: fit time with ``n_jobs=2`` against 1.

On tables of 100 to 2,000 rows the default penalty is chosen by 3-fold
cross-validation over four candidates, twelve fits before the final one. With
``n_jobs > 1`` those fits run on joblib's worker processes. For each table of
the regression suite in that range, in one process run and interleaved (the
machines are shared and noisy, so only ratios measured side by side are
reported), the defaults are fitted on the whole standardised table:

* ``n_jobs=1``: the search in this process;
* ``n_jobs=2, first call``: the first fit after the worker pool was shut down,
  which pays for starting the workers;
* ``n_jobs=2``: the pool already running (as in a loop of fits).

Each is the median over ``--repeats`` fits. Every fit with ``n_jobs=2`` is
checked to give the same ``alpha_`` and predictions as ``n_jobs=1``, bit for
bit. Outputs ``search_parallel.csv`` and ``search_parallel.md`` in ``--out``.

Usage::

    python benchmarks/bench_search_parallel.py            # about 6 minutes on 2 cores
    python benchmarks/bench_search_parallel.py --quick    # smoke run (seconds)
"""

import time
import warnings

import numpy as np
from joblib.externals.loky import get_reusable_executor
from sklearn.preprocessing import StandardScaler

from skadmm import ADMMResidualRegressor
from skadmm._alpha_search import CV_MAX_ROWS, CV_MIN_ROWS

from _common import SEED, write_results
from _datasets import DATASETS, load, suite_parser

CONFIGS = ("n_jobs=1", "n_jobs=2, first call", "n_jobs=2")


def searched_tables():
    """The suite's tables whose size ``alpha="auto"`` cross-validates."""
    return [
        name
        for name in DATASETS
        if CV_MIN_ROWS <= load(name)[0].shape[0] <= CV_MAX_ROWS
    ]


def timed_fit(X, y, n_jobs, max_iter):
    """``(seconds, fitted model)`` of the defaults with ``n_jobs``."""
    model = ADMMResidualRegressor(random_state=SEED, n_jobs=n_jobs, max_iter=max_iter)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X, y)
    return time.perf_counter() - start, model


def measure(name, repeats, max_iter, n_rows=None):
    """One row per configuration: median seconds and the ratio to ``n_jobs=1``."""
    X, y = load(name)
    if n_rows is not None:
        X, y = X[:n_rows], y[:n_rows]
    X = StandardScaler().fit_transform(X)
    seconds = {config: [] for config in CONFIGS}
    for _ in range(repeats):
        t, serial = timed_fit(X, y, 1, max_iter)
        seconds["n_jobs=1"].append(t)
        get_reusable_executor().shutdown(wait=True)
        for config in CONFIGS[1:]:
            t, parallel = timed_fit(X, y, 2, max_iter)
            seconds[config].append(t)
            if parallel.alpha_ != serial.alpha_ or not np.array_equal(
                parallel.predict(X), serial.predict(X)
            ):
                raise AssertionError(f"{name}: n_jobs=2 changed the fit")
    base = np.median(seconds["n_jobs=1"])
    return [
        dict(
            dataset=name,
            n_samples=X.shape[0],
            config=config,
            alpha=serial.alpha_,
            fit_time=round(float(np.median(seconds[config])), 3),
            vs_serial=round(float(np.median(seconds[config]) / base), 3),
        )
        for config in CONFIGS
    ]


def main(argv=None):
    parser = suite_parser(__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    searched = searched_tables()
    names = [name for name in args.datasets if name in searched]
    repeats, max_iter, n_rows = args.repeats, None, None
    if args.quick:
        names, repeats, max_iter, n_rows = names[:1], 1, 3, 150
    rows = []
    for name in names:
        rows += measure(name, repeats, max_iter or 200, n_rows)
        for row in rows[-len(CONFIGS) :]:
            print(
                f"{name:12s} {row['config']:22s} {row['fit_time']:8.3f} s "
                f"{row['vs_serial']:.2f}x",
                flush=True,
            )
    preamble = (
        "The defaults (`random_state=0`) fitted on each whole standardised table "
        f"whose size alpha='auto' cross-validates; median of {repeats} fits, "
        "interleaved; `vs_serial`: fit time over that of `n_jobs=1` on the same "
        "table. Every `n_jobs=2` fit gave the same `alpha_` and predictions as "
        "`n_jobs=1`, bit for bit."
    )
    write_results(args.out, "search_parallel", rows, preamble)


if __name__ == "__main__":
    main()

"""Compute efficiency: floating-point rate of a fit against numpy's matmul rate.

For each width and configuration, in one process run (the machines are shared
and noisy, so only ratios measured side by side are reported):

* ``flops/iter``: the floating-point operations of one ADMM iteration, counted
  from the update formulas by :func:`flops_per_iteration` (matrix products and
  factorisations; elementwise work is not counted, see there);
* ``s/iter``: the median of the per-iteration wall-clock times of a fit
  (``np.diff(time_curve_)``, first iteration excluded; the solver's forward
  evaluation of the network, which ``time_curve_`` includes, is counted in the
  flops);
* achieved GFLOP/s = flops/iter / s/iter, against the GFLOP/s of the product
  ``A @ W`` with ``A`` of shape ``(N, width + 1)`` and ``W`` of shape
  ``(width + 1, width)`` (the forward product of every hidden layer), timed
  with the same BLAS threads just before and just after the fits of that width
  (best of several runs each, the better of the two kept). The rates of
  ``A.T @ A`` (Gram, counted as a symmetric product) and ``A.T @ Z`` (the cross
  products over the samples) are reported alongside, and
  ``fraction_of_product_mix`` compares with the time the counted operations
  take at the rates of their own shapes.

The problem is synthetic, ``N = 20000`` samples of 16 standard normal features
(``--quick``: 4000), ``n_blocks = 4`` residual blocks, relu, ``update="proximal"``,
the estimator's default penalties, ``tol=0`` so that no run stops early,
``random_state=0``. Each BLAS thread budget of ``--threads`` (default 1 and 2)
runs both splittings serially (one region, BLAS on all the threads); with two
threads, widths >= 128 also run the parallel regional update with one region
per thread (``n_regions=n_jobs=2``, one BLAS thread each).

Usage::

    python benchmarks/bench_flops.py              # 8.5 min on the shared 2-core machine
    python benchmarks/bench_flops.py --threads 1  # one BLAS thread only, about 4 min
    python benchmarks/bench_flops.py --quick      # small sizes, a smoke run
"""

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
from joblib import cpu_count
from threadpoolctl import threadpool_limits

from skadmm._solvers import SOLVERS
from skadmm._splitting import TwoSplitRelaxation

from _common import RESULTS, SEED, pyplot, radmm, with_solver, write_results

#: Fraction of the matmul rate the hot path should reach at width >= 128.
TARGET = 0.5


def _product(m, k, n):
    """Flops of a general ``(m x k) @ (k x n)`` product: ``2 m k n``."""
    return 2.0 * m * k * n


def _gram(m, k):
    """Flops of a symmetric product ``A^T A`` with ``A`` of shape ``(m, k)``.

    Only one triangle is computed (BLAS ``syrk``, which numpy uses for
    ``A.T @ A``): ``m k (k + 1)`` flops, half of the general product.
    """
    return 1.0 * m * k * (k + 1)


def _cholesky(n):
    return n**3 / 3.0


def _spd_inverse(n):
    """Cholesky factor, then ``n`` right-hand sides through both triangles."""
    return _cholesky(n) + 2.0 * n**3


def _eig_top(n):
    """Largest eigenvalue (``eigvalsh`` on one index): tridiagonal reduction."""
    return 4.0 * n**3 / 3.0


def flops_per_iteration(
    n_samples,
    n_features,
    width,
    n_blocks,
    n_outputs,
    splitting,
    update,
    trials=(1.0, 1.0),
    monitor=True,
    n_regions=1,
    breakdown=False,
):
    """Floating-point operations of one ADMM iteration (user guide, "One iteration").

    Counted: every matrix product (``2 m k n`` for ``(m x k) @ (k x n)``; a Gram
    matrix ``A^T A`` as a symmetric product, ``m k (k + 1)``), Cholesky
    factorisations (``k^3 / 3``), triangular solves (``2 k^2`` per right-hand
    side) and the largest-eigenvalue computations of the linearized blocks
    (``4 k^3 / 3``). Not counted: elementwise work (z-step, activations,
    additions, link norms, the ``O`` and ``Lam`` steps, the objective), which is
    ``O(N n)`` per layer against ``O(N n^2)`` for the products: the ratio of the
    achieved rate to the matmul rate is then the fraction of the time the fit
    spends doing the products at the matmul rate.

    With ``N = n_samples``, ``n = width``, ``m = n_outputs``, ``d_k + 1`` the
    augmented input width of hidden layer ``k`` (``d + 1`` for the lifting
    layer, ``n + 1`` for a residual block), per iteration:

    splitting="three", update="proximal" (every block exact):
      * ``W_k``: Gram ``A^T A`` [N (d_k+1)(d_k+2)], ``A^T Z`` [2 N (d_k+1) n],
        Cholesky of ``(d_k+1)`` and its ``n`` solves;
      * ``Z_k``: ``A W`` [2 N (d_k+1) n] (the z-step itself is elementwise);
      * inner ``U_k``: ``V V^T`` [n^2 (n+1)], inverse of the ``n x n`` system
        (Cholesky + ``n`` solves), ``Z_{k+1} V^T`` [2 N n^2] and
        ``RHS M^-1`` [2 N n^2];
      * last ``U``: ``V V^T`` [2 n m n, ``V`` being the ``n x m`` read-out],
        inverse, ``V^T M^-1`` [2 m n^2], ``RHS M^-1`` [2 N n^2],
        ``pull (V^T M^-1)`` [2 N m n];
      * read-out: Gram [N (n+1)(n+2)], ``A^T (rho O + Lam)`` [2 N (n+1) m],
        Cholesky and ``m`` solves, ``R = U V + b`` [2 N n m].

    splitting="two" (no ``Z``; ``W_k`` and the inner ``U_k`` are backtracked
    proximal-gradient steps, ``trials = (t_W, t_U)`` objective evaluations per
    block on average, at least one):
      * ``W_k``: gradient ``A^T G`` [2 N (d_k+1) n] and per trial ``A W`` [2 N
        (d_k+1) n];
      * inner ``U_k``: gradient ``G V^T`` [2 N n^2] and per trial ``U V``
        [2 N n^2];
      * last ``U``, read-out: as for "three".

    update="linearized" replaces each exact solve of "three" by one gradient
    step: ``W_k``: Gram, ``A^T Z``, ``H W`` [2 (d_k+1)^2 n] and the largest
    eigenvalue of ``H``; inner ``U_k``: ``V V^T``, largest eigenvalue,
    ``Z_{k+1} V^T`` and ``U M`` [2 N n^2 each]; last ``U``: ``V V^T``, largest
    eigenvalue, ``pull V^T`` [2 N m n], ``U M`` [2 N n^2]. ("two" is linearized
    in its ``W_k``, inner ``U_k`` blocks anyway; with update="linearized" its
    last ``U`` and read-out use the gradient steps above.)

    With ``n_regions`` regions (parallel regional update), "three" refreshes the
    links of each of the ``n_regions - 1`` boundaries' next layer after the
    boundary phase: one more ``A W`` [2 N (n+1) n] per boundary ("two" updates a
    boundary exactly as an inner ``U``).

    ``monitor=True`` adds the forward pass the solver evaluates after every
    iteration (``time_curve_`` includes it): ``2 N d_k n`` per hidden layer and
    ``2 N n m`` for the read-out.

    Returns the total, or with ``breakdown=True`` a dict of the flops by kind of
    operation: ``rows`` (products with ``N`` output rows, such as ``A W``),
    ``gram`` (``A^T A`` over the samples), ``cross`` (``A^T B`` over the
    samples) and ``small`` (``width``-sized products, factorisations, solves).
    """
    N, d, n, m = n_samples, n_features, width, n_outputs
    H = n_blocks + 1
    linearized = update == "linearized"
    t_w, t_u = trials
    # Kinds: products with N output rows, Gram matrices and cross products
    # reduced over the N samples, and the small (width-sized) dense algebra.
    kind = dict(rows=0.0, gram=0.0, cross=0.0, small=0.0)
    for k in range(H):
        a = (d if k == 0 else n) + 1  # augmented input width of layer k
        if splitting == "three":
            kind["gram"] += _gram(N, a)
            kind["cross"] += _product(a, N, n)
            if linearized:
                kind["small"] += _product(a, a, n) + _eig_top(a)
            else:
                kind["small"] += _cholesky(a) + 2.0 * a * a * n
            kind["rows"] += _product(N, a, n)  # a = A W of the z-step
        else:
            kind["cross"] += _product(a, N, n)
            kind["rows"] += _product(N, a, n) * t_w
        if k < H - 1:  # inner U_k
            if splitting == "three":
                kind["small"] += _gram(n, n)  # V V^T
                kind["rows"] += 2 * _product(N, n, n)  # Z V^T, then RHS M^-1 or U M
                kind["small"] += _eig_top(n) if linearized else _spd_inverse(n)
            else:
                kind["rows"] += _product(N, n, n) * (1.0 + t_u)
        else:  # last hidden U: quadratic in both splittings
            kind["small"] += _product(n, m, n)  # V V^T
            kind["rows"] += _product(N, n, n) + _product(N, m, n)
            if linearized:
                kind["small"] += _eig_top(n)
            else:
                kind["small"] += _spd_inverse(n) + _product(m, n, n)  # V^T M^-1
    # Read-out W_H and R = [U, 1] W_H.
    kind["gram"] += _gram(N, n + 1)
    kind["cross"] += _product(n + 1, N, m)
    if linearized:
        kind["small"] += _product(n + 1, n + 1, m) + _eig_top(n + 1)
    else:
        kind["small"] += _cholesky(n + 1) + 2.0 * (n + 1) ** 2 * m
    kind["rows"] += _product(N, n, m)
    if splitting == "three":
        kind["rows"] += (n_regions - 1) * _product(N, n + 1, n)
    if monitor:
        kind["rows"] += _product(N, d, n) + (H - 1) * _product(N, n, n)
        kind["rows"] += _product(N, n, m)
    return kind if breakdown else sum(kind.values())


def best_time(fn, repeats):
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def matmul_rates(n_samples, width, repeats=5):
    """GFLOP/s of the solver's product shapes: ``A @ W`` (``rows``), ``A.T @ A``
    (``gram``, counted as a symmetric product) and ``A.T @ Z`` (``cross``), with
    ``A`` of shape ``(N, width + 1)``, ``W`` ``(width + 1, width)``, ``Z``
    ``(N, width)``; best of ``repeats`` runs each."""
    rng = np.random.default_rng(SEED)
    A = rng.standard_normal((n_samples, width + 1))
    W = rng.standard_normal((width + 1, width))
    Z = rng.standard_normal((n_samples, width))
    out = np.empty((n_samples, width))
    t_aw = best_time(lambda: np.matmul(A, W, out=out), repeats)
    t_gram = best_time(lambda: A.T @ A, repeats)
    t_cross = best_time(lambda: A.T @ Z, repeats)
    product = _product(n_samples, width + 1, width)
    return dict(
        rows=product / t_aw / 1e9,
        gram=_gram(n_samples, width + 1) / t_gram / 1e9,
        cross=product / t_cross / 1e9,
    )


def trial_counter():
    """A RADMM solver class whose two-splitting records the backtracking
    trials of each block update.

    Returns ``(calls, solver_class)``: ``calls[0]`` (``W`` blocks) and
    ``calls[1]`` (inner ``U`` blocks) receive the trials of every call, in order.
    """
    calls = ([], [])

    class CountingTwoSplitting(TwoSplitRelaxation):
        def _backtrack(self, k, block, *args):
            before = int(self.n_trials[k, block])
            try:
                return super()._backtrack(k, block, *args)
            finally:
                calls[block].append(int(self.n_trials[k, block]) - before)

    class CountingRADMM(SOLVERS["radmm"]):
        @staticmethod
        def problem_class(splitting):
            if splitting == "two":
                return CountingTwoSplitting
            return SOLVERS["radmm"].problem_class(splitting)

    return calls, CountingRADMM


def fit_seconds(X, y, splitting, width, n_blocks, max_iter, **parallel):
    """Seconds per iteration (median, first excluded) and, for the two-splitting,
    the mean trials per ``W`` and per inner ``U`` block over the same iterations
    (the first iteration backtracks from ``t = tau`` and needs many more)."""
    est = radmm(
        width=width,
        n_blocks=n_blocks,
        splitting=splitting,
        update="proximal",
        max_iter=max_iter,
        tol=0.0,
        random_state=SEED,
        **parallel,
    )
    calls, counting = trial_counter()
    est = with_solver(est, counting)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(X, y)
    assert est.n_iter_ == max_iter, est.n_iter_
    seconds = float(np.median(np.diff(est.time_curve_)))
    trials = (1.0, 1.0)
    if splitting == "two":
        # One W call per hidden layer and one U call per inner layer per iteration.
        trials = tuple(
            float(np.asarray(c).reshape(max_iter, -1)[1:].sum(axis=1).mean() / per)
            if per
            else 1.0
            for c, per in zip(calls, (n_blocks + 1, n_blocks), strict=True)
        )
    return seconds, trials


def configurations(threads, width):
    """``(label, splitting, n_regions)`` of the fits at this BLAS thread budget.

    Every budget runs the serial fit (one region, BLAS on ``threads`` threads).
    With two threads or more at width >= 128 it also runs the parallel regional
    update with one region per thread (``n_jobs=n_regions=threads``, one BLAS
    thread each), which runs the elementwise work of the regions in parallel.
    """
    configs = [(f"{s}, serial", s, 1) for s in ("three", "two")]
    if threads > 1 and width >= 128:
        configs += [(f"{s}, {threads} regions", s, threads) for s in ("three", "two")]
    return configs


def measure(X, y, width, n_blocks, threads, quick):
    n_samples, n_features = X.shape
    max_iter = 3 if quick else (4 if width >= 256 else 6)
    before = matmul_rates(n_samples, width)
    fits = []
    for label, splitting, regions in configurations(threads, width):
        parallel = {} if regions == 1 else dict(n_regions=regions, n_jobs=regions)
        fits.append(
            (
                label,
                splitting,
                regions,
                fit_seconds(X, y, splitting, width, n_blocks, max_iter, **parallel),
            )
        )
    after = matmul_rates(n_samples, width)
    rates = {key: max(before[key], after[key]) for key in before}
    rows = []
    for label, splitting, regions, (seconds, trials) in fits:
        kinds = flops_per_iteration(
            n_samples,
            n_features,
            width,
            n_blocks,
            1,
            splitting,
            "proximal",
            trials=trials,
            n_regions=regions,
            breakdown=True,
        )
        flops = float(sum(kinds.values()))
        # Seconds the counted operations would take at the measured rates.
        ideal = sum(f / rates.get(key, rates["rows"]) / 1e9 for key, f in kinds.items())
        achieved = flops / seconds / 1e9
        row = dict(
            blas_threads=threads,
            width=width,
            configuration=label,
            gflop_per_iter=round(flops / 1e9, 3),
            trials_w_u=""
            if splitting == "three"
            else f"{trials[0]:.2f}/{trials[1]:.2f}",
            seconds_per_iter=round(seconds, 4),
            achieved_gflops=round(achieved, 2),
            matmul_gflops=round(rates["rows"], 2),
            gram_gflops=round(rates["gram"], 2),
            cross_gflops=round(rates["cross"], 2),
            fraction_of_matmul=round(achieved / rates["rows"], 3),
            fraction_of_product_mix=round(ideal / seconds, 3),
        )
        print("   ", row, flush=True)
        rows.append(row)
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument(
        "--threads",
        default="1,2",
        help="comma-separated BLAS thread budgets (default 1,2; those above the "
        "cores present are skipped)",
    )
    parser.add_argument("--widths", help="comma-separated widths (default: all)")
    args = parser.parse_args(argv)
    n_samples = 4000 if args.quick else 20000
    widths = (32, 64, 128) if args.quick else (32, 64, 128, 256, 512)
    if args.widths:
        widths = tuple(int(w) for w in args.widths.split(","))
    budgets = [t for t in (int(v) for v in args.threads.split(",")) if t <= cpu_count()]
    n_blocks, n_features = 4, 16
    rng = np.random.default_rng(SEED)
    X = rng.standard_normal((n_samples, n_features))
    y = np.sin(2 * X[:, 0]) + X[:, 1] * X[:, 2] + 0.1 * rng.standard_normal(n_samples)
    rows = []
    for threads in budgets:
        print(f"== {threads} BLAS thread(s)", flush=True)
        with threadpool_limits(threads, user_api="blas"):
            for width in widths:
                if threads > 1 and width < 128:
                    continue
                rows += measure(X, y, width, n_blocks, threads, args.quick)
    preamble = (
        f"Synthetic problem, N={n_samples} samples x {n_features} features, "
        f"n_blocks={n_blocks}, relu, update='proximal'; seconds per iteration = "
        "median over the iterations after the first. `blas_threads`: the thread "
        "budget of the fit (`threadpool_limits`); serial = one region, BLAS on all "
        "of them; k regions = `n_regions=n_jobs=k`, one BLAS thread per region. "
        "Flops counted from the update formulas (`flops_per_iteration`: matrix "
        "products as 2mnk, Gram matrices as symmetric products, factorisations; "
        "elementwise work not counted; the solver's forward evaluation after each "
        "iteration included). `matmul_gflops`: `A @ W`, A of shape (N, width+1), "
        "W (width+1, width), on the same BLAS threads, best of 5 before and of 5 "
        "after the fits of that width; `gram_gflops`: `A.T @ A` (symmetric "
        "count); `cross_gflops`: `A.T @ Z`, Z (N, width). `fraction_of_matmul` = "
        "achieved / matmul; `fraction_of_product_mix` = (seconds the counted "
        "operations take at the rates of their own shapes) / measured seconds. "
        "`trials_w_u`: backtracking trials per W and per inner U block (two). "
        f"Target: {TARGET:.0%} of the matmul rate at width >= 128. The machine "
        "is shared: with two BLAS threads the rates also measure the neighbours."
    )
    write_results(args.out, "flops", rows, preamble)
    plot(rows, args.out / "flops.png", n_samples)


def plot(rows, path, n_samples):
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.5))
    series = {}
    for r in rows:
        series.setdefault((r["blas_threads"], r["configuration"]), []).append(r)
    markers = {"three": "o", "two": "s"}
    for (threads, label), sel in series.items():
        ax.plot(
            [r["width"] for r in sel],
            [r["fraction_of_matmul"] for r in sel],
            marker=markers[label.split(",")[0]],
            linestyle="-" if threads == 1 else ("--" if "serial" in label else ":"),
            label=f"{label.replace(',', ' splitting,')}, {threads} BLAS thread(s)",
        )
    ax.axhline(TARGET, color="grey", linestyle="-.", label=f"target {TARGET:.0%}")
    ax.set_xscale("log", base=2)
    ax.set_xticks(sorted({r["width"] for r in rows}))
    ax.get_xaxis().set_major_formatter("{x:.0f}")
    ax.set_ylim(0, max(1.0, max(r["fraction_of_matmul"] for r in rows) * 1.1))
    ax.set_xlabel("width")
    ax.set_ylabel("achieved GFLOP/s / matmul GFLOP/s")
    ax.set_title(f"Compute efficiency of an ADMM iteration (N={n_samples})")
    ax.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    print(f"Wrote {path}", flush=True)


if __name__ == "__main__":
    main()

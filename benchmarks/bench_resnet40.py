"""40-block residual networks: ADMM against backpropagation, iteration by iteration.

The residual-network experiment of the seed paper (Xu, Li, Xing,
arXiv:2310.15334), on Wine Quality: fully connected residual networks with 40
residual blocks of width 64, with relu and with sigmoid, trained by

* ``ADMM three-splitting``: ``_common.radmm(splitting="three")`` (RADMM);
* ``ADMM two-splitting``: ``_common.radmm(splitting="two")``;
* ``backprop Adam`` and ``backprop SGD``: the same network (same initial
  weights, same objective ``1/2 MSE + alpha/2 sum ||W||^2``) trained by
  backpropagation in PyTorch (``torch_residual.TorchResidualRegressor``,
  minibatches of 200): Adam with its default learning rate 1e-3, and SGD with
  momentum 0.9 and learning rate 1e-4. SGD needs the small step on these
  deep networks: on white (width 64), SGD with learning rate 3e-4 or more
  overflows in the first epoch with relu, and with 1e-3 the sigmoid network
  is still at a training MSE of 2.5e4 after 8 epochs; 1e-4 is the largest of
  1e-2, 3e-3, 1e-3, 3e-4, 1e-4 that trains both (8-epoch trials, training
  loss only).

All models use their defaults otherwise and ``random_state=0``, so the four
start from the same network (iteration 0 in the results). After every
iteration the script records the MSE of the *forward* network on the training
part and on the test part of an 80/20 ``train_test_split(random_state=0)``
(inputs standardised by a ``StandardScaler`` fitted on the training part;
targets are the raw quality scores), and the wall-clock seconds spent training
so far (evaluation on the test part excluded).

What an iteration is: for ADMM, one sweep over all blocks of all layers with
all training rows (``n_iter_`` of skadmm); for backpropagation, one epoch, that
is one pass over the shuffled training rows in minibatches of 200 (20 Adam or
SGD steps on white). Both sides run for the same number of iterations;
convergence tests are disabled, and the summary gives the iteration at which a
fit with the default ``tol`` and ``n_iter_no_change`` would have stopped.

The ADMM test curve comes from fitting with ``warm_start=True, max_iter=1`` in a
loop: a warm start keeps the whole solver state (weights, auxiliaries,
multiplier), so the loop runs the same iterations as one long fit. The script
checks this first on a small problem (coefficients equal bit for bit).

Every computation is float64 on one thread (BLAS for skadmm, the intra-op pool
for PyTorch): the machines running the suite are shared, and one thread each
keeps the comparison of seconds per iteration fair.

Outputs: ``resnet40.csv`` (long format: dataset, activation, method,
iteration, seconds, train_mse, test_mse), ``resnet40.md`` (summary per method:
final and best test MSE, seconds per iteration, non-finite values) and
``resnet40.png`` (train and test MSE against iterations).

Usage (PyTorch is needed: ``pip install torch==2.13.0``)::

    python benchmarks/bench_resnet40.py          # red and white, 40 iterations, 5.5 min
    python benchmarks/bench_resnet40.py --quick  # red, 5 iterations, width 16: seconds
"""

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import mean_squared_error
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from sklearn.utils import check_random_state
from threadpoolctl import threadpool_limits

from skadmm._activations import get_activation
from skadmm._network import forward, init_weights
from skadmm.exceptions import DivergenceWarning

from _common import (
    RESULTS,
    SEED,
    admm_default_stop,
    machine,
    markdown_table,
    pyplot,
    radmm,
    wine,
    write_results,
)
from torch_residual import TorchResidualRegressor

N_BLOCKS = 40
ACTIVATIONS = ("relu", "sigmoid")
METHODS = {
    "ADMM three-splitting": ("admm", dict(splitting="three")),
    "ADMM two-splitting": ("admm", dict(splitting="two")),
    "backprop Adam": ("torch", dict(optimizer="adam")),
    "backprop SGD": ("torch", dict(optimizer="sgd", learning_rate=1e-4)),
}
# Default stopping parameters of both estimators (for the "default stop" column).
TOL, N_ITER_NO_CHANGE = 1e-4, 10


def load(variant):
    """The 80/20 split of Wine Quality ``variant``, X standardised on the train part."""
    X, y = wine(variant)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.2, random_state=SEED
    )
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test


def check_warm_start_is_exact(n_iter=4):
    """Assert that ``n_iter`` warm-started 1-iteration fits equal one long fit."""
    rng = np.random.default_rng(SEED)
    X = rng.standard_normal((80, 5))
    y = np.sin(X[:, 0]) + X[:, 1] * X[:, 2]
    for activation in ACTIVATIONS:
        for splitting in ("three", "two"):
            params = dict(
                width=8,
                n_blocks=3,
                activation=activation,
                splitting=splitting,
                random_state=SEED,
            )
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                whole = radmm(**params, max_iter=n_iter, tol=0.0)
                whole.fit(X, y)
                steps = radmm(**params, max_iter=1, warm_start=True)
                for _ in range(n_iter):
                    steps.fit(X, y)
            equal = steps.n_iter_ == whole.n_iter_ == n_iter and all(
                np.array_equal(a, b)
                for a, b in zip(
                    steps.coefs_ + steps.intercepts_,
                    whole.coefs_ + whole.intercepts_,
                    strict=True,
                )
            )
            if not equal:
                raise AssertionError(
                    f"{n_iter} warm-started 1-iteration fits differ from one "
                    f"{n_iter}-iteration fit ({activation}, splitting={splitting}): "
                    "the per-iteration test curve would not be that of one fit."
                )


def initial_mse(data, width, activation):
    """Train and test MSE of the common initial network (iteration 0)."""
    X_train, X_test, y_train, y_test = data
    act = get_activation(activation)
    weights = init_weights(
        X_train.shape[1], width, N_BLOCKS, 1, act, check_random_state(SEED), float
    )
    return tuple(
        mean_squared_error(y, forward(X, weights, act).ravel())
        for X, y in ((X_train, y_train), (X_test, y_test))
    )


def run_admm(data, width, activation, n_iter, splitting):
    """Per-iteration curves of ADMM, by warm-started 1-iteration fits."""
    X_train, X_test, y_train, y_test = data
    est = radmm(
        width=width,
        n_blocks=N_BLOCKS,
        activation=activation,
        splitting=splitting,
        random_state=SEED,
        max_iter=1,
        warm_start=True,
    )
    curves = dict(seconds=[], train_mse=[], test_mse=[])
    diverged = False
    for _ in range(n_iter):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            est.fit(X_train, y_train)
        if any(issubclass(w.category, DivergenceWarning) for w in caught):
            diverged = True
            break
        for w in caught:
            if not issubclass(w.category, ConvergenceWarning):
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        curves["seconds"].append(est.time_curve_[-1])
        # The returned network (read-out refitted on its forward features), on
        # both parts; loss_curve_ would give the ADMM read-out's training MSE.
        curves["train_mse"].append(mean_squared_error(y_train, est.predict(X_train)))
        curves["test_mse"].append(mean_squared_error(y_test, est.predict(X_test)))
    extra = dict(
        default_stop=admm_default_stop(est.objective_curve_, TOL, N_ITER_NO_CHANGE),
        relaxation_residual=est.residual_curve_[-1] if est.n_iter_ else None,
    )
    return curves, diverged, extra


def run_torch(data, width, activation, n_iter, threads, **params):
    """Per-epoch curves of backpropagation (no stopping before ``n_iter``)."""
    X_train, X_test, y_train, y_test = data
    est = TorchResidualRegressor(
        width,
        N_BLOCKS,
        activation=activation,
        **params,
        max_iter=n_iter,
        tol=0.0,
        n_iter_no_change=n_iter,
        random_state=SEED,
        n_threads=threads,
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est.fit(X_train, y_train, eval_set=(X_test, y_test))
    diverged = any(issubclass(w.category, DivergenceWarning) for w in caught)
    curves = dict(
        seconds=est.time_curve_,
        train_mse=est.loss_curve_,
        test_mse=est.eval_loss_curve_,
    )
    return curves, diverged, dict(default_stop=mlp_default_stop(est.objective_curve_))


def mlp_default_stop(objective_curve):
    """Epoch at which the MLP rule with default ``tol`` would have stopped."""
    best, count = np.inf, 0
    for it, value in enumerate(objective_curve, start=1):
        count = count + 1 if value > best - TOL else 0
        best = min(best, value)
        if count > N_ITER_NO_CHANGE:
            return it
    return None


def summarise(dataset, activation, method, curves, diverged, extra, n_iter):
    test = np.asarray(curves["test_mse"])
    train = np.asarray(curves["train_mse"])
    seconds = np.diff(np.concatenate([[0.0], curves["seconds"]]))
    done = len(test)
    finite = np.isfinite(test).all() and np.isfinite(train).all()
    best = int(np.nanargmin(test)) if done else None
    return dict(
        dataset=dataset,
        activation=activation,
        method=method,
        iterations=done,
        final_train_mse=_fmt(train[-1]) if done else "",
        final_test_mse=_fmt(test[-1]) if done else "",
        best_test_mse=_fmt(test[best]) if done else "",
        best_iteration=best + 1 if done else "",
        seconds_per_iteration=round(float(np.median(seconds)), 3) if done else "",
        first_iteration_seconds=round(float(seconds[0]), 3) if done else "",
        total_seconds=round(float(curves["seconds"][-1]), 1) if done else "",
        non_finite="yes" if diverged or not finite else "no",
        default_stop=_or(extra["default_stop"], f"> {n_iter}"),
        relaxation_residual=_or(extra.get("relaxation_residual"), "", "{:.3g}"),
    )


def _or(value, default, fmt="{}"):
    return default if value is None else fmt.format(value)


def _fmt(value):
    return f"{value:.4f}" if np.isfinite(value) else str(value)


def plot(rows, path):
    """Train and test MSE against iterations: one row of panels per (data, act).

    The y axis is logarithmic and stops at 4 times the largest final MSE of the
    panel (or 3 times the initial MSE if lower): the first iterations of
    some methods are clipped, so that the curves' ends can be told apart.
    """
    plt = pyplot()
    datasets = list(dict.fromkeys(r["dataset"] for r in rows))
    panels = [(d, a) for d in datasets for a in ACTIVATIONS]
    fig, axes = plt.subplots(
        len(panels), 2, figsize=(11, 3.6 * len(panels)), squeeze=False
    )
    styles = dict(
        zip(
            METHODS,
            (("C0", "-"), ("C1", "--"), ("C2", "-"), ("C3", "-")),
            strict=True,
        )
    )
    for (dataset, activation), pair in zip(panels, axes, strict=True):
        panel = [
            r for r in rows if r["dataset"] == dataset and r["activation"] == activation
        ]
        for ax, kind in zip(pair, ("train_mse", "test_mse"), strict=True):
            start = max(r[kind] for r in panel if r["iteration"] == 0)
            last = max(r["iteration"] for r in panel)
            final = max(r[kind] for r in panel if r["iteration"] == last)
            for method in METHODS:
                sel = [r for r in panel if r["method"] == method]
                colour, style = styles[method]
                ax.plot(
                    [r["iteration"] for r in sel],
                    [r[kind] for r in sel],
                    style,
                    c=colour,
                    label=method,
                )
            ax.set_yscale("log")
            ax.set_ylim(top=min(3 * start, 4 * final))
            ax.set_xlabel("iteration (ADMM sweep / backprop epoch)")
            ax.set_ylabel(kind.replace("_mse", " MSE"))
            ax.set_title(f"Wine Quality {dataset}, {activation}, {N_BLOCKS} blocks")
            ax.grid(True, which="both", alpha=0.3)
    axes[0, 1].legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    print(f"Wrote {path}", flush=True)


def run_method(data, dataset, width, activation, method, n_iter, threads):
    """Train one method; return its rows of curves and its summary line."""
    tick = time.perf_counter()
    kind, params = METHODS[method]
    if kind == "admm":
        curves, diverged, extra = run_admm(data, width, activation, n_iter, **params)
    else:
        curves, diverged, extra = run_torch(
            data, width, activation, n_iter, threads=threads, **params
        )
    train0, test0 = initial_mse(data, width, activation)
    key = dict(dataset=dataset, activation=activation, method=method)
    rows = [dict(key, iteration=0, seconds=0.0, train_mse=train0, test_mse=test0)]
    for i, values in enumerate(zip(*curves.values(), strict=True), start=1):
        rows.append(dict(key, iteration=i, **dict(zip(curves, values, strict=True))))
    line = summarise(dataset, activation, method, curves, diverged, extra, n_iter)
    print(f"{line} ({time.perf_counter() - tick:.1f}s)", flush=True)
    return rows, line


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run (seconds)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--iterations", type=int, default=None)
    parser.add_argument("--width", type=int, default=None)
    parser.add_argument("--datasets", nargs="+", choices=("red", "white"), default=None)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    n_iter = args.iterations or (5 if args.quick else 40)
    width = args.width or (16 if args.quick else 64)
    datasets = args.datasets or (["red"] if args.quick else ["red", "white"])

    start = time.perf_counter()
    check_warm_start_is_exact()
    rows, summary = [], []
    with threadpool_limits(args.threads, user_api="blas"):
        for dataset in datasets:
            data = load(dataset)
            for activation in ACTIVATIONS:
                for method in METHODS:
                    curve_rows, line = run_method(
                        data, dataset, width, activation, method, n_iter, args.threads
                    )
                    rows += curve_rows
                    summary.append(line)
    elapsed = time.perf_counter() - start
    preamble = (
        f"{N_BLOCKS}-block residual networks of width {width} on Wine Quality "
        f"({', '.join(datasets)}; 80/20 split, random_state={SEED}), "
        f"{n_iter} iterations (ADMM sweeps / backprop epochs), "
        f"{args.threads} thread(s); whole run {elapsed:.0f} s. "
        "MSE of the forward network as returned by `fit` (skadmm: read-out "
        "refitted on its forward features) on the raw quality scores. Iteration 0 "
        f"(the common initial network): {_initial_line(rows)}. "
        "`seconds_per_iteration` is the median over iterations (training and "
        "train-MSE evaluation, test evaluation excluded); `default_stop` is the "
        "iteration at which a fit with the default tol=1e-4, "
        "n_iter_no_change=10 would have stopped (skadmm: relative decrease of "
        "L_rho; backprop: scikit-learn MLP rule on the training objective); "
        "`relaxation_residual` is skadmm's final `residual_curve_` value, the "
        "distance of the ADMM auxiliaries from the forward pass."
    )
    write_results(args.out, "resnet40", rows, preamble)
    # The table of the .md is the per-method summary, not the long curves.
    (Path(args.out) / "resnet40.md").write_text(
        f"Measured on: {machine()}\n\n{preamble}\n\n{markdown_table(summary)}"
    )
    plot(rows, Path(args.out) / "resnet40.png")
    print(f"Total {time.perf_counter() - start:.0f} s", flush=True)


def _initial_line(rows):
    seen = {}
    for r in rows:
        if r["iteration"] == 0:
            seen[(r["dataset"], r["activation"])] = (r["train_mse"], r["test_mse"])
    return "; ".join(
        f"{d} {a} train {tr:.3f}, test {te:.3f}" for (d, a), (tr, te) in seen.items()
    )


if __name__ == "__main__":
    main()

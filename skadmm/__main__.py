"""Main job: cross-validate ADMMResidualRegressor against Ridge and MLPRegressor.

Run ``python -m skadmm`` (``--help`` for options). Every model is a
``Pipeline(StandardScaler(), model)`` scored by shuffled K-fold CV on UCI Wine
Quality; the job prints a line per fit and ends with a table of CV MSE (mean and
standard deviation over folds) and mean fit time.

Ctrl-C stops the job at once with exit status 130. A direct call to
``ADMMResidualRegressor.fit`` (and to ``MLPRegressor.fit``) catches the
interrupt and returns its last weights with a warning, which is right for one
interactive fit but would let the job carry on with the next fold; so the job
records Ctrl-C itself (a ``SIGINT`` handler) and also treats a
:class:`~skadmm.exceptions.FitInterruptedWarning` as a stop.
"""

import argparse
import signal
import sys
import threading
import time
import warnings

import numpy as np
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Ridge
from sklearn.model_selection import KFold
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from . import ADMMResidualRegressor, __version__
from .datasets import load_wine_quality
from .exceptions import FitInterruptedWarning

# Set by the job's SIGINT handler: a fit that catches the interrupt cannot hide it.
_ctrl_c = threading.Event()


def default_models(random_state=0):
    """The compared models, each behind a StandardScaler."""
    return {
        "ADMMResidualRegressor": ADMMResidualRegressor(random_state=random_state),
        "Ridge": Ridge(),
        "MLPRegressor": MLPRegressor(max_iter=2000, random_state=random_state),
    }


def cross_validate_models(X, y, models, n_splits, out):
    """Shuffled K-fold CV; returns ``{name: (mse per fold, fit seconds per fold)}``."""
    folds = list(KFold(n_splits, shuffle=True, random_state=0).split(X))
    results = {}
    for name, model in models.items():
        mses, seconds = [], []
        for i, (train, test) in enumerate(folds, start=1):
            pipe = make_pipeline(StandardScaler(), clone(model))
            tick = time.perf_counter()
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", ConvergenceWarning)
                pipe.fit(X[train], y[train])
            if _ctrl_c.is_set() or any(
                issubclass(w.category, FitInterruptedWarning) for w in caught
            ):
                raise KeyboardInterrupt
            seconds.append(time.perf_counter() - tick)
            mses.append(float(np.mean((pipe.predict(X[test]) - y[test]) ** 2)))
            note = " (did not converge)" if caught else ""
            print(
                f"  {name:<22} fold {i}/{n_splits}: MSE {mses[-1]:.4f}, "
                f"fit {seconds[-1]:.2f}s{note}",
                file=out,
                flush=True,
            )
        results[name] = (np.array(mses), np.array(seconds))
    return results


class _recording_ctrl_c:
    """Within the block, Ctrl-C sets ``_ctrl_c`` and raises ``KeyboardInterrupt``.

    A signal handler can only be installed from the main thread; elsewhere the
    warning check alone stops the job.
    """

    def __enter__(self):
        _ctrl_c.clear()
        self._previous = None
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, _on_sigint)
        return self

    def __exit__(self, *exc_info):
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
        _ctrl_c.clear()


def _on_sigint(signum, frame):
    _ctrl_c.set()
    raise KeyboardInterrupt


def format_table(rows):
    """Markdown table of ``(variant, model, mses, seconds)`` rows."""
    lines = [
        "| data | model | CV MSE (mean) | CV MSE (std) | fit time (s) |",
        "|---|---|---|---|---|",
    ]
    for variant, name, mses, seconds in rows:
        lines.append(
            f"| {variant} | {name} | {mses.mean():.4f} | {mses.std():.4f} | "
            f"{seconds.mean():.2f} |"
        )
    return "\n".join(lines)


def main(argv=None, out=sys.stdout):
    """Run the job; returns the table rows.

    Ctrl-C (or a fit interrupted by it) ends the job with ``SystemExit(130)``,
    the shell's status for an interrupt, before any further fit.
    """
    parser = argparse.ArgumentParser(
        prog="python -m skadmm", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--variant", choices=["red", "white", "all", "both"], default="both"
    )
    parser.add_argument("--folds", type=int, default=5)
    args = parser.parse_args(argv)
    variants = ["red", "white"] if args.variant == "both" else [args.variant]
    print(
        f"skadmm {__version__}: {args.folds}-fold CV on Wine Quality "
        f"({', '.join(variants)})",
        file=out,
        flush=True,
    )
    rows = []
    start = time.perf_counter()
    try:
        with _recording_ctrl_c():
            for variant in variants:
                X, y = load_wine_quality(variant, return_X_y=True)
                print(
                    f"{variant}: {X.shape[0]} samples, {X.shape[1]} features",
                    file=out,
                )
                results = cross_validate_models(X, y, default_models(), args.folds, out)
                rows += [(variant, name, *res) for name, res in results.items()]
    except KeyboardInterrupt:
        print("\nInterrupted by the user (Ctrl-C): job stopped.", file=out, flush=True)
        raise SystemExit(130) from None
    print(
        f"\nCV MSE on Wine Quality (total {time.perf_counter() - start:.0f}s)\n",
        file=out,
    )
    print(format_table(rows), file=out, flush=True)
    return rows


if __name__ == "__main__":
    main()

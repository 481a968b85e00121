"""Main job: cross-validate skadmm's estimators against scikit-learn's on Wine Quality.

Run ``python -m skadmm`` (``--help`` for options). Every model is a
``Pipeline(StandardScaler(), model)`` scored by K-fold CV on UCI Wine Quality;
the job prints a line per fit and a table per task:

* regression (the quality score): ADMMResidualRegressor, Ridge and MLPRegressor
  by shuffled K-fold CV; CV MSE (mean and standard deviation over folds) and
  mean fit time;
* classification (the score cut into three classes, ``quality <= 5``, ``6`` and
  ``>= 7``): ADMMResidualClassifier, LogisticRegression and MLPClassifier by
  stratified shuffled K-fold CV; CV accuracy and log-loss (mean and standard
  deviation) and mean fit time.

``--task`` picks one of them (default: both, regression first).

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
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import accuracy_score, log_loss
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from . import ADMMResidualClassifier, ADMMResidualRegressor, __version__
from .datasets import load_wine_quality
from .datasets._wine_quality import quality_classes
from .exceptions import FitInterruptedWarning

# Set by the job's SIGINT handler: a fit that catches the interrupt cannot hide it.
_ctrl_c = threading.Event()


def _folds(text):
    """``--folds``: an integer of at least 2 (argparse's usage error else)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid int value: {text!r}") from None
    if value < 2:
        raise argparse.ArgumentTypeError(f"needs at least 2 folds, got {value}")
    return value


def default_models(random_state=0):
    """The compared models, each behind a StandardScaler."""
    return {
        "ADMMResidualRegressor": ADMMResidualRegressor(random_state=random_state),
        "Ridge": Ridge(),
        "MLPRegressor": MLPRegressor(max_iter=2000, random_state=random_state),
    }


def default_classifiers(random_state=0):
    """The compared classifiers, each behind a StandardScaler."""
    return {
        "ADMMResidualClassifier": ADMMResidualClassifier(random_state=random_state),
        "LogisticRegression": LogisticRegression(max_iter=5000),
        "MLPClassifier": MLPClassifier(max_iter=2000, random_state=random_state),
    }


def _fit(pipe, X, y):
    """Fit; a Ctrl-C caught by the fit (or by our handler) stops the job.

    Returns ``(seconds, note)``, the note flagging a fit that did not converge.
    """
    tick = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        pipe.fit(X, y)
    if _ctrl_c.is_set() or any(
        issubclass(w.category, FitInterruptedWarning) for w in caught
    ):
        raise KeyboardInterrupt
    return time.perf_counter() - tick, " (did not converge)" if caught else ""


def cross_validate_models(X, y, models, n_splits, out):
    """Shuffled K-fold CV; returns ``{name: (mse per fold, fit seconds per fold)}``."""
    folds = list(KFold(n_splits, shuffle=True, random_state=0).split(X))
    results = {}
    for name, model in models.items():
        mses, seconds = [], []
        for i, (train, test) in enumerate(folds, start=1):
            pipe = make_pipeline(StandardScaler(), clone(model))
            fit_seconds, note = _fit(pipe, X[train], y[train])
            seconds.append(fit_seconds)
            mses.append(float(np.mean((pipe.predict(X[test]) - y[test]) ** 2)))
            print(
                f"  {name:<22} fold {i}/{n_splits}: MSE {mses[-1]:.4f}, "
                f"fit {seconds[-1]:.2f}s{note}",
                file=out,
                flush=True,
            )
        results[name] = (np.array(mses), np.array(seconds))
    return results


def cross_validate_classifiers(X, y, models, n_splits, out):
    """Stratified shuffled K-fold CV; returns ``{name: (accuracy per fold,
    log-loss per fold, fit seconds per fold)}``."""
    cv = StratifiedKFold(n_splits, shuffle=True, random_state=0)
    folds = list(cv.split(X, y))
    results = {}
    for name, model in models.items():
        accs, losses, seconds = [], [], []
        for i, (train, test) in enumerate(folds, start=1):
            pipe = make_pipeline(StandardScaler(), clone(model))
            fit_seconds, note = _fit(pipe, X[train], y[train])
            seconds.append(fit_seconds)
            accs.append(accuracy_score(y[test], pipe.predict(X[test])))
            proba = pipe.predict_proba(X[test])
            losses.append(log_loss(y[test], proba, labels=pipe.classes_))
            print(
                f"  {name:<22} fold {i}/{n_splits}: accuracy {accs[-1]:.4f}, "
                f"log-loss {losses[-1]:.4f}, fit {seconds[-1]:.2f}s{note}",
                file=out,
                flush=True,
            )
        results[name] = (np.array(accs), np.array(losses), np.array(seconds))
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


def format_classification_table(rows):
    """Markdown table of ``(variant, model, accuracies, log-losses, seconds)`` rows."""
    lines = [
        "| data | model | CV accuracy (mean) | CV accuracy (std) | "
        "CV log-loss (mean) | CV log-loss (std) | fit time (s) |",
        "|---|---|---|---|---|---|---|",
    ]
    for variant, name, accs, losses, seconds in rows:
        lines.append(
            f"| {variant} | {name} | {accs.mean():.4f} | {accs.std():.4f} | "
            f"{losses.mean():.4f} | {losses.std():.4f} | {seconds.mean():.2f} |"
        )
    return "\n".join(lines)


def main(argv=None, out=sys.stdout):
    """Run the job; returns ``{task: table rows}`` for the tasks run.

    Regression rows are ``(variant, model, mses, seconds)``, classification
    rows ``(variant, model, accuracies, log_losses, seconds)``, one entry per
    fold in each array. Ctrl-C (or a fit interrupted by it) ends the job with
    ``SystemExit(130)``, the shell's status for an interrupt, before any
    further fit.
    """
    parser = argparse.ArgumentParser(
        prog="python -m skadmm", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--variant",
        choices=["red", "white", "all", "both"],
        default="both",
        help="the red wines, the white ones, all of them as one table, or "
        "the red and the white tables one after the other",
    )
    parser.add_argument(
        "--folds", type=_folds, default=5, help="folds of the CV (at least 2)"
    )
    parser.add_argument(
        "--task",
        choices=["classification", "regression", "both"],
        default="both",
        help="regression of the quality score, its three classes, or both",
    )
    args = parser.parse_args(argv)
    variants = ["red", "white"] if args.variant == "both" else [args.variant]
    tasks = ["regression", "classification"] if args.task == "both" else [args.task]
    print(
        f"skadmm {__version__}: {args.folds}-fold CV on Wine Quality "
        f"({', '.join(variants)}; {', '.join(tasks)})",
        file=out,
        flush=True,
    )
    tables = {}
    try:
        with _recording_ctrl_c():
            if "regression" in tasks:
                tables["regression"] = _regression(variants, args.folds, out)
            if "classification" in tasks:
                tables["classification"] = _classification(variants, args.folds, out)
    except KeyboardInterrupt:
        print("\nInterrupted by the user (Ctrl-C): job stopped.", file=out, flush=True)
        raise SystemExit(130) from None
    return tables


def _regression(variants, n_splits, out):
    rows = []
    start = time.perf_counter()
    for variant in variants:
        X, y = load_wine_quality(variant, return_X_y=True)
        print(f"{variant}: {X.shape[0]} samples, {X.shape[1]} features", file=out)
        results = cross_validate_models(X, y, default_models(), n_splits, out)
        rows += [(variant, name, *res) for name, res in results.items()]
    print(
        f"\nCV MSE on Wine Quality (total {time.perf_counter() - start:.0f}s)\n",
        file=out,
    )
    print(format_table(rows), file=out, flush=True)
    return rows


def _classification(variants, n_splits, out):
    rows = []
    start = time.perf_counter()
    print(
        "\nClassification: quality <= 5, quality 6, quality >= 7", file=out, flush=True
    )
    for variant in variants:
        X, quality = load_wine_quality(variant, return_X_y=True)
        y = quality_classes(quality)
        counts = "/".join(str(c) for c in np.bincount(y, minlength=3))
        print(
            f"{variant}: {X.shape[0]} samples, {X.shape[1]} features, 3 classes "
            f"({counts} rows)",
            file=out,
        )
        results = cross_validate_classifiers(X, y, default_classifiers(), n_splits, out)
        rows += [(variant, name, *res) for name, res in results.items()]
    print(
        "\nCV accuracy and log-loss on Wine Quality, 3 classes "
        f"(total {time.perf_counter() - start:.0f}s)\n",
        file=out,
    )
    print(format_classification_table(rows), file=out, flush=True)
    return rows


if __name__ == "__main__":
    main()

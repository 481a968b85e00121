"""The classification suite: ADMMResidualClassifier's modes beside their own random
features and the usual baselines, on six tables (``_class_datasets.py``).

For each dataset, 5-fold stratified shuffled cross-validation
(``StratifiedKFold(shuffle=True, random_state=0)``) of
``make_pipeline(StandardScaler(), model)``, one BLAS thread per process, for the
models (keys for ``--models``):

* ``default``: ``ADMMResidualClassifier(random_state=0)``, the estimator's
  defaults (forward-reset mode);
* ``radmm``: the paper's RADMM with the same defaults otherwise
  (``solver="radmm"``);
* ``random_features``: the default network after one RADMM iteration
  (``solver="radmm", max_iter=1``): the random initial hidden layers with the
  model's own penalised cross-entropy read-out;
* ``embedding_<kind>``: the defaults with ``embedding=<kind>`` (``none``,
  ``piecewise``, ``hat``, ``onehot``, ``periodic``);
* ``mlp``: ``MLPClassifier(max_iter=2000, random_state=0)``;
* ``mlp_<kind>``: the same MLP behind the numeric embedding ``<kind>`` (the
  estimators' encoder as a transformer, ``_embedding.EmbeddingTransformer``),
  fitted on each fold's training rows;
* ``logreg``: ``LogisticRegression(max_iter=5000)``;
* ``hgb``: ``HistGradientBoostingClassifier(random_state=0)``.

``--mode NAME=JSON`` adds an ADMM configuration (parameters as JSON, e.g.
``--mode 'wide={"width": 200}'``), compared like the defaults (its
``random_state`` replaces the suite's seed); ``--name``
changes the stem of the output files (to keep such a run beside the suite's).
``--switches NAME=JSON`` sets measurement switches of the solver while the
mode ``NAME`` is fitted (as in ``bench_suite.py``).

Outputs in ``--out`` (default ``benchmarks/results``): ``classification.csv``
and ``classification.md``: CV accuracy (mean, std), CV log-loss (mean, std),
mean fit time, and beside MLPClassifier: the accuracy difference in points
(``acc_vs_mlp``), the log-loss ratio (``logloss_vs_mlp``) and the fit time ratio
(``time_vs_mlp``); the preamble evaluates the targets for every ADMM mode: its
log-loss no worse than LogisticRegression's on every dataset, its accuracy
within 1 point of MLPClassifier's on a majority of the datasets, and its fit
time summed over the suite at most 3x MLPClassifier's. ``classification.png``
draws the CV accuracy and log-loss of every model on every dataset.

Usage::

    python benchmarks/bench_classification.py            # about 5 minutes on 2 cores
    python benchmarks/bench_classification.py --quick    # smoke run (seconds)
    python benchmarks/bench_classification.py --datasets moons,wine --models default,mlp
"""

import argparse
import warnings
from pathlib import Path

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, log_loss
from sklearn.model_selection import StratifiedKFold
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from threadpoolctl import threadpool_limits

from skadmm import ADMMResidualClassifier

from _class_datasets import DATASETS, load
from _common import (
    RESULTS,
    SEED,
    add_switches_argument,
    comma_list,
    mode_switches,
    parse_mode,
    pyplot,
    rounded,
    run_cv,
    switched,
    switches_note,
    write_results,
)
from _embedding import ADMM_MODES, EMBEDDINGS, EmbeddingTransformer

#: Models run when ``--models`` is not given (the other embeddings on request).
DEFAULT_MODELS = (
    "default",
    "radmm",
    "embedding_onehot",
    "random_features",
    "mlp",
    "mlp_onehot",
    "logreg",
    "hgb",
)
#: Accuracy, in points, by which a mode may trail MLPClassifier and still count.
ACCURACY_SLACK = 1.0
TIME_TARGET = 3.0


def baselines():
    return {
        "random_features": ADMMResidualClassifier(
            solver="radmm", max_iter=1, random_state=SEED
        ),
        "mlp": MLPClassifier(max_iter=2000, random_state=SEED),
        **{
            f"mlp_{kind}": make_pipeline(
                EmbeddingTransformer(kind),
                MLPClassifier(max_iter=2000, random_state=SEED),
            )
            for kind in EMBEDDINGS[1:]
        },
        "logreg": LogisticRegression(max_iter=5000),
        "hgb": HistGradientBoostingClassifier(random_state=SEED),
    }


def make_models(modes):
    # A mode may set its own random_state (the seed spread of the defaults).
    models = {
        name: ADMMResidualClassifier(**{"random_state": SEED, **params})
        for name, params in modes.items()
    }
    return {**models, **baselines()}


def stratified_folds(X, y, n_splits=5):
    """The suite's stratified shuffled CV (``random_state=0``)."""
    cv = StratifiedKFold(n_splits, shuffle=True, random_state=SEED)
    return list(cv.split(X, y))


def log_loss_score(model, X, y):
    """Test log-loss of the fitted ``model`` (a scorer of ``cross_validate``)."""
    return log_loss(y, model.predict_proba(X), labels=model.classes_)


def accuracy(model, X, y):
    return accuracy_score(y, model.predict(X))


SCORERS = {"accuracy": accuracy, "log_loss": log_loss_score}


def subsample(X, y, max_rows):
    """At most ``max_rows`` rows, stratified (the quick run's tables)."""
    if max_rows is None or X.shape[0] <= max_rows:
        return X, y
    keep, _ = next(
        StratifiedKFold(
            int(np.ceil(X.shape[0] / max_rows)), shuffle=True, random_state=SEED
        ).split(X, y)
    )
    return X[keep[:max_rows]], y[keep[:max_rows]]


def run_suite(datasets, models, n_splits, max_rows=None, switches=None):
    """CV rows of ``models`` (fitted with their solver ``switches``) on
    ``datasets``, stratified folds, at most ``max_rows`` rows of each."""
    switches = switches or {}
    models = {name: switched(m, switches.get(name)) for name, m in models.items()}

    def row(dataset, name, scores):
        accs, losses = scores["accuracy"], scores["log_loss"]
        times, iters = scores["fit_time"], scores["n_iter"]
        print(
            f"{dataset:14s} {name:16s} accuracy {accs.mean():.4f} "
            f"+- {accs.std():.3f}  log-loss {losses.mean():.4f}  "
            f"fit {times.mean():.2f} s",
            flush=True,
        )
        return dict(
            dataset=dataset,
            model=name,
            acc_mean=accs.mean(),
            acc_std=accs.std(),
            logloss_mean=losses.mean(),
            logloss_std=losses.std(),
            fit_time=times.mean(),
            n_iter=np.nanmean(iters) if np.isfinite(iters).any() else "",
        )

    return run_cv(
        datasets,
        models,
        row,
        load=lambda dataset: subsample(*load(dataset), max_rows),
        splits=lambda X, y: stratified_folds(X, y, n_splits),
        scorers=SCORERS,
    )


def add_ratios(rows):
    """Per dataset, each row beside MLPClassifier's: accuracy difference in
    points, log-loss ratio, fit time ratio."""
    ref = {(r["dataset"], r["model"]): r for r in rows}
    for r in rows:
        mlp = ref.get((r["dataset"], "mlp"))
        r["acc_vs_mlp"] = 100.0 * (r["acc_mean"] - mlp["acc_mean"]) if mlp else ""
        r["logloss_vs_mlp"] = r["logloss_mean"] / mlp["logloss_mean"] if mlp else ""
        r["time_vs_mlp"] = r["fit_time"] / mlp["fit_time"] if mlp else ""
    return rows


def evaluate_targets(rows, mode):
    """The suite's three targets for ``mode``, measured; ``None`` without data.

    Returns a dict: ``logloss`` (datasets where the log-loss is no worse than
    LogisticRegression's, out of those with both), ``accuracy`` (datasets where
    the accuracy is within ``ACCURACY_SLACK`` points of MLPClassifier's, out of
    those with both; a strict majority is needed), ``time_ratio`` (summed fit
    time over MLPClassifier's, on the datasets with both) and ``met`` per
    target.
    """
    by = {(r["dataset"], r["model"]): r for r in rows}
    datasets = list(dict.fromkeys(r["dataset"] for r in rows))
    vs_logreg = [d for d in datasets if (d, mode) in by and (d, "logreg") in by]
    vs_mlp = [d for d in datasets if (d, mode) in by and (d, "mlp") in by]
    if not vs_logreg and not vs_mlp:
        return None
    worse = [
        d
        for d in vs_logreg
        if by[d, mode]["logloss_mean"] > by[d, "logreg"]["logloss_mean"]
    ]
    gaps = {
        d: 100.0 * (by[d, mode]["acc_mean"] - by[d, "mlp"]["acc_mean"]) for d in vs_mlp
    }
    close = [d for d, g in gaps.items() if g >= -ACCURACY_SLACK]
    time_ratio = (
        sum(by[d, mode]["fit_time"] for d in vs_mlp)
        / sum(by[d, "mlp"]["fit_time"] for d in vs_mlp)
        if vs_mlp
        else np.nan
    )
    return dict(
        logloss=(len(vs_logreg) - len(worse), len(vs_logreg)),
        logloss_worse=worse,
        accuracy=(len(close), len(vs_mlp)),
        accuracy_gaps=gaps,
        time_ratio=time_ratio,
        met=dict(
            logloss=bool(vs_logreg) and not worse,
            accuracy=bool(vs_mlp) and len(close) > len(vs_mlp) / 2,
            time=bool(vs_mlp) and time_ratio <= TIME_TARGET,
        ),
    )


def targets(rows, modes):
    """One line per training mode: the suite's targets, measured."""

    def verdict(ok):
        return "met" if ok else "NOT met"

    lines = []
    for mode in modes:
        t = evaluate_targets(rows, mode)
        if t is None:
            continue
        won, n_logreg = t["logloss"]
        close, n_mlp = t["accuracy"]
        parts = []
        if n_logreg:
            worse = ", ".join(t["logloss_worse"]) or "none"
            parts.append(
                f"log-loss <= LogisticRegression's on {won}/{n_logreg} datasets "
                f"(target: all; worse on: {worse}) - {verdict(t['met']['logloss'])}"
            )
        else:
            parts.append("log-loss vs LogisticRegression not measured")
        if n_mlp:
            gaps = ", ".join(f"{d} {g:+.1f}" for d, g in t["accuracy_gaps"].items())
            parts.append(
                f"accuracy within {ACCURACY_SLACK:g} point of MLPClassifier's on "
                f"{close}/{n_mlp} (target: a majority, > {n_mlp / 2:g}; points vs "
                f"MLP: {gaps}) - {verdict(t['met']['accuracy'])}"
            )
            parts.append(
                f"fit time {t['time_ratio']:.2f}x MLPClassifier's, summed (target "
                f"<= {TIME_TARGET:g}) - {verdict(t['met']['time'])}"
            )
        else:
            parts.append("accuracy and fit time vs MLPClassifier not measured")
        lines.append(f"- `{mode}`: " + "; ".join(parts))
    return "\n".join(lines)


def plot_scores(rows, path):
    """Grouped bars: CV accuracy and log-loss of every model on every dataset."""
    plt = pyplot()
    datasets = list(dict.fromkeys(r["dataset"] for r in rows))
    models = list(dict.fromkeys(r["model"] for r in rows))
    by = {(r["dataset"], r["model"]): r for r in rows}
    fig, axes = plt.subplots(2, 1, figsize=(max(6.0, 1.6 * len(datasets)), 6.4))
    width = 0.8 / len(models)
    x = np.arange(len(datasets))
    for k, model in enumerate(models):
        offset = x - 0.4 + (k + 0.5) * width
        for ax, key in zip(axes, ("acc", "logloss"), strict=True):
            have = [i for i, d in enumerate(datasets) if (d, model) in by]
            ax.bar(
                offset[have],
                [by[datasets[i], model][f"{key}_mean"] for i in have],
                width,
                yerr=[by[datasets[i], model][f"{key}_std"] for i in have],
                error_kw=dict(lw=0.6),
                label=model,
            )
    accs = [r["acc_mean"] for r in rows]
    axes[0].set_ylim(max(0.0, min(accs) - 0.05), 1.0)
    axes[0].set_ylabel("CV accuracy", fontsize=8)
    axes[1].set_yscale("log")
    axes[1].set_ylabel("CV log-loss (log scale)", fontsize=8)
    for ax in axes:
        ax.set_xticks(x, datasets, fontsize=8)
        ax.tick_params(labelsize=7)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, fontsize=7, ncol=len(models), loc="upper center")
    fig.tight_layout(rect=(0, 0, 1, 0.95))
    fig.savefig(path, dpi=110)
    plt.close(fig)
    print(f"Wrote {path}", flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument(
        "--name",
        default="classification",
        help="stem of the output files (default: classification)",
    )
    parser.add_argument(
        "--datasets", type=comma_list(list(DATASETS)), default=list(DATASETS)
    )
    parser.add_argument(
        "--models",
        type=str,
        default=None,
        help="comma list of models to run (default: all)",
    )
    parser.add_argument(
        "--mode",
        type=parse_mode,
        action="append",
        default=[],
        help="extra ADMM configuration NAME=JSON",
    )
    add_switches_argument(parser)
    parser.add_argument(
        "--no-plot", action="store_true", help="skip the PNG (needs matplotlib)"
    )
    args = parser.parse_args(argv)

    modes = {**ADMM_MODES, **dict(args.mode)}
    switches = mode_switches(parser, args, modes)
    models = make_models(modes)
    chosen = args.models
    if chosen is None:
        chosen = ",".join([*DEFAULT_MODELS, *(name for name, _ in args.mode)])
    models = {k: models[k] for k in comma_list(list(models))(chosen)}
    n_splits, max_rows = (2, 300) if args.quick else (5, None)

    warnings.simplefilter("ignore", ConvergenceWarning)
    with threadpool_limits(1):
        rows = run_suite(args.datasets, models, n_splits, max_rows, switches)
        rows = add_ratios(rows)
    summary = targets(rows, [m for m in modes if m in models])
    print(summary, flush=True)
    preamble = (
        f"{n_splits}-fold stratified shuffled CV (random_state={SEED}), "
        "StandardScaler in front of every model, one BLAS thread, fit time in "
        "seconds (mean over folds); `acc_vs_mlp` in accuracy points, "
        "`logloss_vs_mlp` and `time_vs_mlp` ratios."
        + switches_note(switches, models)
        + " Targets:\n\n"
        + summary
    )
    fmt = rounded(rows)
    write_results(args.out, args.name, fmt, preamble)
    if not args.no_plot:
        plot_scores(rows, args.out / f"{args.name}.png")
    return rows


if __name__ == "__main__":
    main()

"""The classifier on large tables: accuracy, log-loss and fit time at 50k-200k rows.

A 3-class ``make_classification`` table (20 features, 10 informative, 3
clusters per class, 5 % flipped labels), at the training row counts asked for
(``--sizes``, default 50,000 and 200,000), each scored on ``TEST_ROWS``
held-out rows of the same draw. Models, every one behind a ``StandardScaler``
and on one BLAS thread: ``ADMMResidualClassifier``'s defaults; the default
network's own random features (``random features``: one RADMM iteration, as
in ``bench_scaling.py``); ``MLPClassifier(max_iter=2000)``;
``MLPClassifier(early_stopping=True)``; ``HistGradientBoostingClassifier``.
Each fit runs in a fresh process (as in
``bench_scaling.py``). Columns: test accuracy, test log-loss, fit seconds,
CPU seconds of the fit's process (on a shared machine, the measure less
disturbed by other processes), iterations (the defaults': in all, then per
run, the stages' and the final run's), the process's peak resident memory
(``peak_mib``; ``base_mib`` before the data, ``data_mib`` the training and
test rows); the preamble evaluates issue 26's
classifier target: accuracy within 1 point of
``MLPClassifier(max_iter=2000)``'s, log-loss and fit time at most its.

    python benchmarks/bench_class_scaling.py                  # about 15 minutes
    python benchmarks/bench_class_scaling.py --sizes 50000    # about 3 minutes
    python benchmarks/bench_class_scaling.py --quick          # smoke run
    python benchmarks/bench_class_scaling.py --table 4class   # the second table
    python benchmarks/bench_class_scaling.py --seed 1         # another draw
    python benchmarks/bench_class_scaling.py --model-seed 2   # other starts

The CSV keeps every digit of the scores; the markdown table rounds them.
"""

import argparse
import csv
import json
import resource
import time
import warnings

from sklearn.datasets import make_classification
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import accuracy_score, log_loss
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from skadmm import ADMMResidualClassifier

import _common
from _common import RESULTS, SEED, comma_list, rounded, write_results

SIZES = (50_000, 200_000)
TEST_ROWS = 20_000
MODELS = ("defaults", "random features", "MLP", "MLP early stopping", "HGB")
#: Points of accuracy by which the defaults may trail MLPClassifier.
ACCURACY_SLACK = 1.0


#: ``make_classification``'s parameters of each table (``--table``): the
#: 3-class table of the module docstring, and a second one with 4 classes.
TABLES = {
    "3class": dict(
        n_features=20,
        n_informative=10,
        n_classes=3,
        n_clusters_per_class=3,
        flip_y=0.05,
    ),
    "4class": dict(
        n_features=24,
        n_informative=12,
        n_classes=4,
        n_clusters_per_class=2,
        flip_y=0.03,
        class_sep=0.8,
    ),
}


def table(n_rows, name="3class", seed=SEED):
    """``n_rows`` training rows and ``TEST_ROWS`` test rows of draw ``seed``."""
    X, y = make_classification(n_rows + TEST_ROWS, random_state=seed, **TABLES[name])
    return X[:n_rows], y[:n_rows], X[n_rows:], y[n_rows:]


def describe(name, seed=SEED):
    """The preamble's description of table ``name``."""
    spec = ", ".join(f"{k}={v}" for k, v in TABLES[name].items())
    return f"make_classification ({spec}, random_state={seed})"


def make_model(name, params=None, seed=SEED):
    """The model ``name`` of ``MODELS`` (``params`` set on the defaults,
    ``seed`` its random state)."""
    if name == "defaults":
        return ADMMResidualClassifier(**{"random_state": seed, **(params or {})})
    if name == "random features":
        # What training adds: the default network's features at their
        # initial weights, the read-out fitted (one RADMM iteration).
        return ADMMResidualClassifier(solver="radmm", max_iter=1, random_state=seed)
    if name == "MLP":
        return MLPClassifier(max_iter=2000, random_state=seed)
    if name == "MLP early stopping":
        return MLPClassifier(early_stopping=True, random_state=seed)
    return HistGradientBoostingClassifier(random_state=seed)


def fit_one(
    n_rows, model_name, params=None, table_name="3class", seed=SEED, model_seed=None
):
    """One fit in this (fresh) process: test scores, seconds, iterations,
    memory (the process's peak resident MiB, and before the data); ``seed``:
    the draw of the table; ``model_seed``: the model's random state
    (``None``: ``seed``)."""
    model_seed = seed if model_seed is None else model_seed
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    X, y, X_test, y_test = table(n_rows, table_name, seed)
    model = make_model(model_name, params, model_seed)
    pipe = make_pipeline(StandardScaler(), model)
    with threadpool_limits(1), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tick, cpu = time.perf_counter(), time.process_time()
        pipe.fit(X, y)
        seconds = time.perf_counter() - tick
        cpu = time.process_time() - cpu
        proba = pipe.predict_proba(X_test)
    est = pipe[-1]
    n_iter = getattr(est, "n_iter_", "")
    stages = getattr(est, "stages_", None)
    if stages:
        n_iter = f"{n_iter} ({'+'.join(str(s['n_iter']) for s in stages)})"
    return dict(
        rows=n_rows,
        model=model_name if not params else f"{model_name} {json.dumps(params)}",
        accuracy=float(accuracy_score(y_test, est.classes_[proba.argmax(1)])),
        log_loss=float(log_loss(y_test, proba, labels=est.classes_)),
        fit_s=seconds,
        cpu_s=cpu,
        n_iter=n_iter,
        peak_mib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        base_mib=base,
        data_mib=(X.nbytes + X_test.nbytes) / 2**20,
    )


def in_fresh_process(function, *args):
    """``function(*args)`` in a new Python process (``_common.in_fresh_process``)."""
    return _common.in_fresh_process(__file__, function, *args)


def targets(rows):
    """Issue 26's classifier target per size, measured against ``MLP``."""
    by = {(r["rows"], r["model"]): r for r in rows}
    lines = []
    for (n, model), r in sorted(by.items()):
        mlp = by.get((n, "MLP"))
        if not model.startswith("defaults") or mlp is None:
            continue
        gap = 100.0 * (r["accuracy"] - mlp["accuracy"])
        checks = [
            ("accuracy", f"{gap:+.2f} points", gap >= -ACCURACY_SLACK),
            (
                "log-loss",
                f"{r['log_loss']:.4f} vs {mlp['log_loss']:.4f}",
                r["log_loss"] <= mlp["log_loss"],
            ),
            (
                "fit time",
                f"{r['fit_s']:.1f} s vs {mlp['fit_s']:.1f} s (CPU "
                f"{r['cpu_s']:.1f} s vs {mlp['cpu_s']:.1f} s)",
                r["fit_s"] <= mlp["fit_s"],
            ),
        ]
        text = "; ".join(
            f"{name} {value} ({'met' if ok else 'not met'})"
            for name, value, ok in checks
        )
        lines.append(f"- {model}, {n:,} rows: {text}")
    return "\n".join(lines)


def read_rows(path):
    """Rows of a ``class_scaling.csv`` written by an earlier run, numbers parsed."""
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    for row in rows:
        row["rows"] = int(row["rows"])
        for key in ("accuracy", "log_loss", "fit_s", "cpu_s"):
            row[key] = float(row[key])
        # Memory columns: empty in runs from before them.
        for key in ("peak_mib", "base_mib", "data_mib"):
            if row.get(key):
                row[key] = float(row[key])
    return rows


def merge_rows(paths):
    """Rows of several runs; a later run's row replaces an earlier one's."""
    merged = {}
    for path in paths:
        for row in read_rows(path):
            merged[(row["rows"], row["model"])] = row
    # Runs from before the memory columns leave them empty.
    keys = {key: "" for row in merged.values() for key in row}
    merged = {k: {**keys, **row} for k, row in merged.items()}
    order = {m: i for i, m in enumerate(MODELS)}
    return sorted(
        merged.values(),
        key=lambda r: (r["rows"], order.get(r["model"], len(MODELS)), r["model"]),
    )


def write(rows, out, name, note="", table_name="3class", seed=SEED, model_seed=None):
    models = ""
    if model_seed is not None and model_seed != seed:
        models = f", models' random_state={model_seed}"
    preamble = (
        f"{describe(table_name, seed)}{models}, {TEST_ROWS:,} test rows, "
        "StandardScaler in front of every model, one BLAS thread, one fresh "
        "process per fit." + note + "\n\nTarget (issue 26): accuracy within "
        f"{ACCURACY_SLACK:g} point of MLPClassifier(max_iter=2000)'s, log-loss "
        "and fit time at most its.\n\n" + targets(rows)
    )
    # Every digit in the CSV: a merge of runs judges the targets on the
    # scores themselves (a log-loss was met by under 0.0001).
    write_results(out, name, rows, preamble=preamble, table_rows=rounded(rows))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=lambda s: [int(v) for v in s.split(",")])
    parser.add_argument("--models", type=comma_list(MODELS), default=list(MODELS))
    parser.add_argument(
        "--params",
        type=json.loads,
        action="append",
        default=[],
        help="extra run of the defaults with these parameters (JSON)",
    )
    parser.add_argument("--table", choices=sorted(TABLES), default="3class")
    parser.add_argument(
        "--seed",
        type=int,
        default=SEED,
        help="draw of the table and the models' random state: a second draw "
        "tells a margin from the spread of the draws",
    )
    parser.add_argument(
        "--model-seed",
        type=int,
        help="the models' random state, if not the draw's: other starts on "
        "the same table tell a margin from a fit's spread over its start and "
        "rounding path",
    )
    parser.add_argument("--quick", action="store_true", help="smoke run")
    parser.add_argument("--out", default=RESULTS)
    parser.add_argument("--name", default="class_scaling")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument(
        "--merge",
        help="comma-separated csv files of earlier runs, merged (later rows "
        "win) into --out/--name, instead of measuring",
    )
    parser.add_argument("--note", default="", help="a sentence for the preamble")
    args = parser.parse_args(argv)
    if args.child:
        name, *call = json.loads(args.child)
        print(json.dumps(globals()[name](*call)), flush=True)
        return
    note = f" {args.note}" if args.note else ""
    if args.merge:
        rows = merge_rows(args.merge.split(","))
        write(rows, args.out, args.name, note, args.table, args.seed, args.model_seed)
        return
    sizes = args.sizes or ([5_000] if args.quick else list(SIZES))
    rows = []
    for n in sizes:
        runs = [(m, None) for m in args.models]
        runs += [("defaults", p) for p in args.params]
        for model, params in runs:
            row = in_fresh_process(
                fit_one, n, model, params, args.table, args.seed, args.model_seed
            )
            print(rounded([row])[0], flush=True)
            rows.append(row)
    write(rows, args.out, args.name, note, args.table, args.seed, args.model_seed)


if __name__ == "__main__":
    main()

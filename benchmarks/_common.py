"""What every benchmark script shares: data, folds, the machine, result files.

Scripts import this as ``from _common import ...`` (they run as
``python benchmarks/<script>.py``, which puts this folder on ``sys.path``).
"""

import argparse
import contextlib
import csv
import json
import platform
from pathlib import Path

import numpy as np
from joblib import cpu_count
from sklearn.model_selection import KFold
from threadpoolctl import threadpool_info

from skadmm import ADMMResidualRegressor, _alpha_search
from skadmm._solvers._reset import ResetSolver
from skadmm.datasets import load_wine_quality

RESULTS = Path(__file__).parent / "results"
#: Seed of every split, initialisation and model in the suite.
SEED = 0
#: What the accuracy, 40-block, depth, FLOP and parallel benchmarks measure: the
#: paper's RADMM with the estimator's defaults from before the forward-reset mode
#: became the default (their committed results were measured with these).
RADMM_DEFAULTS = dict(solver="radmm", width=64, n_blocks=4, alpha=1e-4)


def radmm(**params):
    """``ADMMResidualRegressor`` with ``RADMM_DEFAULTS`` and the suite's seed."""
    return ADMMResidualRegressor(**{**RADMM_DEFAULTS, "random_state": SEED, **params})


def wine(variant):
    """Wine Quality ``variant`` ("red" or "white") as float64 ``(X, y)``."""
    X, y = load_wine_quality(variant, return_X_y=True)
    return np.asarray(X, dtype=float), np.asarray(y, dtype=float)


def folds(X, n_splits=5):
    """The 5-fold shuffled CV of the suite (``random_state=0``)."""
    return list(KFold(n_splits, shuffle=True, random_state=SEED).split(X))


def machine():
    """One line naming the CPU, its cores and the BLAS in use."""
    cpu = platform.processor()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(l.split(":", 1)[1].strip() for l in f if "model name" in l)
    except (OSError, StopIteration):
        pass
    blas = sorted(
        {
            f"{i['internal_api']} {i['version']} ({i.get('architecture')})"
            for i in threadpool_info()
            if i["user_api"] == "blas"
        }
    )
    return f"{cpu}, {cpu_count()} cores, {platform.system()}, BLAS: {', '.join(blas)}"


def markdown_table(rows, columns=None):
    """A Markdown table of a list of dicts (keys of the first row as header)."""
    columns = list(columns or rows[0])
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(str(r[c]) for c in columns) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def rounded(rows, digits=4):
    """``rows`` with every float written to ``digits`` significant digits."""
    return [
        {k: (f"{v:.{digits}g}" if isinstance(v, float) else v) for k, v in r.items()}
        for r in rows
    ]


def write_results(out, name, rows, preamble=""):
    """Write ``name.csv`` and ``name.md`` (machine line, preamble, table)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    with open(out / f"{name}.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    about = machine()
    text = f"Measured on: {about}\n\n"
    if preamble:
        text += preamble.strip() + "\n\n"
    (out / f"{name}.md").write_text(text + markdown_table(rows))
    (out / f"{name}_machine.txt").write_text(about + "\n")
    print(f"Wrote {out / (name + '.csv')} and {out / (name + '.md')}", flush=True)


def admm_default_stop(objective_curve, tol=1e-4, n_iter_no_change=10):
    """Iteration at which skadmm's default stopping test (relative decrease of
    L_rho below ``tol`` for ``n_iter_no_change`` iterations) would have stopped a
    run with this ``objective_curve_``; ``None`` if it would not have."""
    stalled = 0
    for it in range(1, len(objective_curve)):
        previous, value = objective_curve[it - 1], objective_curve[it]
        decrease = (previous - value) / max(abs(value), np.finfo(float).tiny)
        stalled = stalled + 1 if decrease < tol else 0
        if stalled >= n_iter_no_change:
            return it + 1
    return None


def comma_list(choices):
    """An ``argparse`` type: a comma-separated list of names among ``choices``."""

    def parse(text):
        names = [n.strip() for n in text.split(",") if n.strip()]
        unknown = [n for n in names if n not in choices]
        if unknown or not names:
            raise argparse.ArgumentTypeError(
                f"unknown {', '.join(unknown) or 'empty list'}; choose from "
                + ", ".join(choices)
            )
        return names

    return parse


def parse_mode(text):
    """``--mode NAME=JSON`` of the suites (also ``--switches``): a JSON object
    of settings by name."""
    name, _, params = text.partition("=")
    if not name or not params:
        raise argparse.ArgumentTypeError("takes NAME=JSON")
    try:
        value = json.loads(params)
    except json.JSONDecodeError as exc:
        raise argparse.ArgumentTypeError(f"{name}: {exc}") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(f"{name}: JSON must be an object")
    return name, value


@contextlib.contextmanager
def solver_switches(switches):
    """Fits inside run with these measurement switches, restored on exit: the
    ``ResetSolver`` class attributes named (``solver="reset"``, e.g.
    ``{"first_order_targets": True}``) and ``alpha_grid``, the candidates of
    ``alpha="auto"`` (``skadmm._alpha_search.CV_GRID``). Neither is an estimator
    parameter."""
    targets = {key: (ResetSolver, key) for key in switches}
    if "alpha_grid" in switches:
        targets["alpha_grid"] = (_alpha_search, "CV_GRID")
    unknown = [key for key, (obj, attr) in targets.items() if not hasattr(obj, attr)]
    if unknown:
        raise ValueError(f"ResetSolver has no switch {unknown}")
    saved = {key: getattr(obj, attr) for key, (obj, attr) in targets.items()}
    try:
        for key, value in switches.items():
            obj, attr = targets[key]
            setattr(obj, attr, tuple(value) if key == "alpha_grid" else value)
        yield
    finally:
        for key, value in saved.items():
            obj, attr = targets[key]
            setattr(obj, attr, value)


def add_switches_argument(parser):
    """``--switches NAME=JSON`` of the suites: ``solver_switches`` per mode."""
    parser.add_argument(
        "--switches",
        type=parse_mode,
        action="append",
        default=[],
        help="measurement switches NAME=JSON while fitting the mode NAME",
    )


def mode_switches(parser, args, modes):
    """The parsed ``--switches`` by mode; an error for a name that is no mode."""
    switches = dict(args.switches)
    if set(switches) - set(modes):
        parser.error(f"--switches for no mode: {sorted(set(switches) - set(modes))}")
    return switches


def switches_note(switches, models):
    """The sentence of a results preamble naming the switches of its models."""
    return "".join(
        f" `{name}` fitted with the solver switches {json.dumps(value)}."
        for name, value in switches.items()
        if name in models
    )


def pyplot():
    """matplotlib's pyplot on the non-interactive Agg backend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def panel_grid(n_panels, ncols=4):
    """A figure with one small panel per table, ``ncols`` to a row."""
    plt = pyplot()
    nrows = int(np.ceil(n_panels / ncols))
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(3.2 * ncols, 2.8 * nrows), squeeze=False
    )
    for ax in axes.flat[n_panels:]:
        ax.axis("off")
    return fig, axes


def save_panels(fig, axes, ylabel, path):
    """Label the first panel, add its legend, and write the figure to ``path``."""
    axes.flat[0].set_ylabel(ylabel, fontsize=8)
    axes.flat[0].legend(fontsize=6)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    pyplot().close(fig)
    print(f"Wrote {path}", flush=True)

"""What every benchmark script shares: data, folds, the machine, result files.

Scripts import this as ``from _common import ...`` (they run as
``python benchmarks/<script>.py``, which puts this folder on ``sys.path``).
"""

import argparse
import contextlib
import csv
import json
import platform
import subprocess
import sys
import time
import warnings
from collections import deque
from pathlib import Path

import numpy as np
from joblib import cpu_count, delayed
from sklearn.base import clone
from sklearn.metrics import mean_squared_error
from sklearn.model_selection import KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_info

from skadmm import ADMMResidualRegressor, _alpha_search
from skadmm._solvers import SOLVERS
from skadmm._solvers._base import stalled
from skadmm.datasets import load_wine_quality
from skadmm.exceptions import DivergenceWarning

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


def write_results(out, name, rows, preamble="", table_rows=None):
    """Write ``name.csv`` and ``name.md`` (machine line, preamble, table).

    ``table_rows``: the rows of the markdown table, when they differ from
    the CSV's (full-precision numbers in the CSV, so that a later merge
    judges two close scores on their digits, rounded ones in the table).
    """
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
    table = rows if table_rows is None else table_rows
    (out / f"{name}.md").write_text(text + markdown_table(table))
    (out / f"{name}_machine.txt").write_text(about + "\n")
    print(f"Wrote {out / (name + '.csv')} and {out / (name + '.md')}", flush=True)


def admm_default_stop(objective_curve, tol=1e-4, n_iter_no_change=10):
    """Iteration at which skadmm's stopping rule (the solver's own test: the
    mean relative decrease of the merit over the last ``n_iter_no_change``
    iterations below ``tol``) would have stopped a run with this
    ``objective_curve_``; ``None`` if it would not have.

    The curve holds the merit after each iteration, not the set-up's before
    the first, so the first window ends at iteration ``n_iter_no_change + 1``
    (a fit checks one iteration earlier).
    """
    window = deque(maxlen=n_iter_no_change + 1)
    for it, value in enumerate(objective_curve, start=1):
        window.append(value)
        if len(window) == window.maxlen and stalled(window, tol):
            return it
    return None


# --------------------------------------------------------- cross-validation
def mse(model, X, y):
    """Test MSE of the fitted ``model`` (a scorer of :func:`cross_validate`)."""
    return mean_squared_error(y, model.predict(X))


def cross_validate(model, X, y, splits, scorers=None, *, scale=True, fit=None):
    """Per-fold scores of ``model`` over ``splits``, the one CV loop of the
    benchmarks.

    ``model``: an unfitted estimator (cloned for every fold) or a callable
    that builds one from the fold's index. ``scale``: put a ``StandardScaler``
    in front of it. ``scorers``: ``{name: score(fitted, X_test, y_test)}``
    (default: ``mse``).
    ``fit(estimator, X_train, y_train)`` replaces ``estimator.fit`` (and may
    return the fitted estimator to score instead). Returns a dict of arrays
    over the folds: one per scorer, ``fit_time`` (seconds of the fit alone),
    ``n_iter`` (the mean of the fitted model's ``n_iter_``, NaN without one)
    and ``divergences`` (DivergenceWarnings of the fit).
    """
    scorers = {"mse": mse} if scorers is None else scorers
    out = {name: [] for name in [*scorers, "fit_time", "n_iter", "divergences"]}
    for fold, (train, test) in enumerate(splits):
        est = clone(model) if hasattr(model, "get_params") else model(fold)
        if scale:
            est = make_pipeline(StandardScaler(), est)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", DivergenceWarning)
            tick = time.perf_counter()
            fitted = (fit or _fit)(est, X[train], y[train])
            out["fit_time"].append(time.perf_counter() - tick)
        for w in caught:  # through the caller's filters again
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        est = est if fitted is None else fitted
        out["divergences"].append(
            sum(issubclass(w.category, DivergenceWarning) for w in caught)
        )
        last = est[-1] if hasattr(est, "steps") else est
        # LogisticRegression: one n_iter_ per class problem; Ridge: None.
        n_iter = getattr(last, "n_iter_", None)
        out["n_iter"].append(np.nan if n_iter is None else np.mean(n_iter))
        for name, score in scorers.items():
            out[name].append(score(est, X[test], y[test]))
    return {name: np.asarray(values, dtype=float) for name, values in out.items()}


def _fit(est, X, y):
    est.fit(X, y)


def run_cv(tables, models, row, *, load, n_splits=5, splits=None, scorers=None):
    """Rows of :func:`cross_validate` for every model on every table.

    ``tables``: names for ``load(name) -> (X, y)``; ``models``: ``{name:
    model}``; ``row(table, name, scores)``: the table row of one model's
    scores; ``splits(X, y)``: the folds (default: :func:`folds` with
    ``n_splits``).
    """
    rows = []
    for table in tables:
        X, y = load(table)
        fold_list = folds(X, n_splits) if splits is None else splits(X, y)
        for name, model in models.items():
            rows.append(
                row(table, name, cross_validate(model, X, y, fold_list, scorers))
            )
    return rows


def fold_tasks(tables, task, load, n_splits=5, max_rows=None, **kwargs):
    """The per-fold form of the CV loop, for scripts whose folds share work
    between models (a standardised target, the fold's ``alpha``): one joblib
    task ``task(table, fold, train, test, X, y, **kwargs)`` per table and
    fold, and the tables by name (their first ``max_rows`` rows)."""
    tasks, data = [], {}
    for table in tables:
        X, y = load(table)
        if max_rows is not None:
            X, y = X[:max_rows], y[:max_rows]
        data[table] = X, y
        for fold, (train, test) in enumerate(folds(X, n_splits)):
            tasks.append(delayed(task)(table, fold, train, test, X, y, **kwargs))
    return tasks, data


# ----------------------------------------------------------- solver variants
def with_solver(model, solver_class, *, alpha_grid=None):
    """``model`` (an skadmm estimator) as an instance of a private subclass
    whose fits run ``solver_class``, a subclass of its mode's solver: how the
    benchmarks measure solver variants without patching the package.

    ``alpha_grid``: the candidates of ``alpha="auto"`` during its fits (the
    module constant ``skadmm._alpha_search.CV_GRID``, set for the fit only,
    with no weaker candidate along the path: ``PATH_WEAKEST = None``).
    """
    estimator = type(model)
    attributes = {"_solver_class": lambda self: solver_class}
    if alpha_grid is not None:
        grid = tuple(alpha_grid)

        def fit(self, *args, **kwargs):
            with _alpha_grid(grid):
                return estimator.fit(self, *args, **kwargs)

        attributes["fit"] = fit
    variant = type(
        f"{estimator.__name__}_{solver_class.__name__}", (estimator,), attributes
    )
    return variant(**model.get_params())


@contextlib.contextmanager
def _alpha_grid(grid):
    saved = _alpha_search.CV_GRID, _alpha_search.PATH_WEAKEST
    _alpha_search.CV_GRID, _alpha_search.PATH_WEAKEST = grid, None
    try:
        yield
    finally:
        _alpha_search.CV_GRID, _alpha_search.PATH_WEAKEST = saved


def solver_variant(mode, switches):
    """A subclass of the ``mode`` solver with the class attributes ``switches``
    (measurement switches such as ``{"first_order_targets": True}``); an error
    for a name the solver does not have."""
    base = SOLVERS[mode]
    unknown = sorted(key for key in switches if not hasattr(base, key))
    if unknown:
        raise ValueError(f"{base.__name__} has no switch {unknown}")
    return type(f"Switched{base.__name__}", (base,), dict(switches))


def switched(model, switches):
    """``model`` fitted with the measurement ``switches`` (``--switches``):
    attributes of its solver (:func:`solver_variant`) and ``alpha_grid``, the
    candidates of ``alpha="auto"``; ``model`` itself when there are none."""
    switches = dict(switches or {})
    if not switches:
        return model
    grid = switches.pop("alpha_grid", None)
    return with_solver(model, solver_variant(model.solver, switches), alpha_grid=grid)


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


def add_switches_argument(parser):
    """``--switches NAME=JSON`` of the suites: ``switched`` per mode."""
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


def in_fresh_process(script, function, *args):
    """``function(*args)`` of the benchmark ``script`` in a new Python process
    (its own peak memory): ``python script --child '[name, *args]'``, whose
    last line of output is the JSON result.

    A plain ``python`` subprocess, as a user's script would run: the fit's
    own worker processes (``n_jobs``) start from it as they would there.
    """
    command = [
        sys.executable,
        script,
        "--child",
        json.dumps([function.__name__, *args]),
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode:
        raise RuntimeError(f"{function.__name__}{args} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])

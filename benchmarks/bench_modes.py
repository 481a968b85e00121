"""Every training mode head to head on the regression suite (issue 12).

The suite of ``bench_suite.py`` (eight tables, 5-fold shuffled CV with
``random_state=0``, ``StandardScaler`` in front of every model, one BLAS thread
per process) run for every training mode side by side. Models (keys for
``--models``):

* at the estimator's defaults, ``ADMMResidualRegressor(random_state=0,
  solver=...)``: ``reset`` (the default mode), ``radmm`` (three-splitting),
  ``radmm_two`` (``splitting="two"``), ``dladmm``, ``pdadmm``, ``mdlam``
  (``beta="auto"``: 1000 for RADMM, 1 for the research modes, with
  ``rho=5`` for pdADMM);
* the other penalty of each: ``radmm_beta1`` (``beta=1``) and the research
  modes at RADMM's penalties, ``dladmm_beta1000``, ``pdadmm_beta1000``
  (``beta=1000, rho=2``) and ``mdlam_beta1000``, the defaults before
  ``beta="auto"`` (measured then as ``dladmm``, ``pdadmm``, ``mdlam``);
* ``random_features`` (``solver="radmm", max_iter=1``: the initial network with
  a ridge read-out, which every mode shares: one iteration of ``radmm``,
  ``dladmm``, ``pdadmm`` and ``mdlam`` give the same test MSE, checked on the
  first fold of the first dataset), ``mlp`` (``MLPRegressor(max_iter=2000)``),
  ``hgb`` and ``ridge``, from ``bench_suite.baselines()``.

A mode *learns* on a dataset where its CV MSE is at least 5 % below that of the
random features.

Outputs in ``--out`` (default ``benchmarks/results``):

* ``modes.csv``/``modes.md``: CV MSE (mean, std), mean fit time, mean
  iterations, ratios to MLP and to the random features; the preamble has one
  line per mode (``bench_suite.targets``) and the "learns" matrix (dataset x
  mode: gain over the random features in %, marked where >= 5 %);
* ``modes_time.csv``/``modes_time.png``: time to accuracy, the test MSE on the
  first fold against the fit seconds of fits stopped at ``max_iter`` 1, 3, 10,
  30, 100, 200 (MLP: 1 ... 2000), for every mode and MLP on friedman1,
  wine_red, wine_white and pricing;
* ``modes_parallel.csv``/``modes_parallel.md``: the layer-parallel speed-up of
  2 workers over 1 for every mode on one deep problem (synthetic N=20000, width
  128, 32 residual blocks, ``alpha=1e-3``, ``tol=0``, a few iterations):
  ``n_regions=2``, ``n_jobs=1`` under a 1-thread BLAS limit against
  ``n_jobs=2`` under a 2-thread limit (one BLAS thread per worker either way,
  so the iterates are bit-identical, checked), median seconds per iteration
  after the first (``time_curve_``), and a control (two threads over one on
  independent products of the same size) measured around each pair.

``--jobs 2`` runs the CV and time-to-accuracy tasks (one per dataset and model)
in 2 processes, each with one BLAS thread; the parallel part always runs alone,
after them. ``--merge`` keeps the rows of an existing ``modes.csv`` (and
``modes_time.csv``, ``modes_parallel.csv``) for the models not run now and
replaces those run, then rewrites the tables and the plot from the merged rows
(to rerun one mode after its default changed). Results are written after every
finished task, so an interrupted run keeps what it finished (finish it with
``--merge --models ...``).

Usage::

    python benchmarks/bench_modes.py --jobs 2      # about 30 minutes on 2 cores
    python benchmarks/bench_modes.py --quick       # smoke run (a minute)
    python benchmarks/bench_modes.py --merge --models mdlam --parts suite,time
"""

import csv
import time
import warnings

import numpy as np
from joblib import Parallel, delayed
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import mean_squared_error
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from skadmm import ADMMResidualRegressor
from skadmm.exceptions import PenaltyConditionWarning

from _common import (
    SEED,
    comma_list,
    folds,
    machine,
    markdown_table,
    pyplot,
    rounded,
)
from _datasets import DATASETS, load, suite_parser
from bench_suite import (
    GAIN_TARGET,
    add_ratios,
    finish_panel,
    make_models,
    run_suite,
    stopped_fits,
    targets,
)

#: The training modes compared (estimator parameters besides ``random_state``).
MODES = {
    "reset": {},
    "radmm": {"solver": "radmm"},
    "radmm_two": {"solver": "radmm", "splitting": "two"},
    "dladmm": {"solver": "dladmm"},
    "pdadmm": {"solver": "pdadmm"},
    "mdlam": {"solver": "mdlam"},
    "radmm_beta1": {"solver": "radmm", "beta": 1.0},
    "dladmm_beta1000": {"solver": "dladmm", "beta": 1000.0},
    "pdadmm_beta1000": {"solver": "pdadmm", "beta": 1000.0, "rho": 2.0},
    "mdlam_beta1000": {"solver": "mdlam", "beta": 1000.0},
}
#: Modes whose one iteration gives the shared random features (checked).
SHARED_START = ("radmm", "dladmm", "pdadmm", "mdlam")
TIME_DATASETS = ("friedman1", "wine_red", "wine_white", "pricing")
ITERATIONS = (1, 3, 10, 30, 100, 200)
MLP_ITERATIONS = (1, 3, 10, 30, 100, 300, 1000, 2000)

#: How each mode uses ``n_regions``/``n_jobs`` (read from the solvers).
PARALLELISM = {
    "reset": "the W-steps of the hidden layers run as parallel tasks (one per "
    "layer), the forward passes (reset, line search, extrapolation, read-out) "
    "and the backward sweep as one task per row block (one block per region)",
    "radmm": "each iteration sweeps the layer regions in parallel, then "
    "their boundary layers (regional Gauss-Seidel; doc page: Parallel "
    "regional updates)",
    "radmm_two": "as radmm: regions swept in parallel, then boundaries",
    "dladmm": "none: a backward then forward sweep, layer after layer "
    "(only the monitor's forward pass runs on 2 row blocks)",
    "pdadmm": "every layer is a task of each phase (Jacobi iteration)",
    "mdlam": "none: a forward sweep, layer after layer (only the monitor's "
    "forward pass runs on 2 row blocks)",
}
#: The configuration of each mode on the parallel problem: its defaults.
PARALLEL_MODES = {
    m: MODES[m] for m in ("reset", "radmm", "radmm_two", "dladmm", "mdlam", "pdadmm")
}


# --------------------------------------------------------------------- tasks
def _quiet():
    # DivergenceWarning is a ConvergenceWarning; RADMM's penalties break
    # pdADMM's condition (PenaltyConditionWarning), as doc/pdadmm.rst says.
    warnings.simplefilter("ignore", ConvergenceWarning)
    warnings.simplefilter("ignore", PenaltyConditionWarning)
    warnings.simplefilter("ignore", RuntimeWarning)


def suite_task(dataset, name, model, n_splits, max_rows):
    """CV rows of one model on one dataset (``bench_suite.run_suite``)."""
    with warnings.catch_warnings():
        _quiet()
        with threadpool_limits(1):
            return run_suite([dataset], {name: model}, n_splits, max_rows)


def time_task(dataset, name, model, grid, max_rows):
    """Test MSE and fit seconds on the first fold, fits stopped at ``grid``."""
    X, y = load(dataset)
    if max_rows is not None:
        X, y = X[:max_rows], y[:max_rows]
    with warnings.catch_warnings():
        _quiet()
        with threadpool_limits(1):
            rows = stopped_fits(X, y, folds(X)[0], dataset, name, model, grid)
    print(
        f"{dataset:11s} {name:16s} time curve: "
        + ", ".join(
            f"{r['max_iter']}: {r['mse']:.4g} in {r['fit_time']:.2f} s" for r in rows
        ),
        flush=True,
    )
    return rows


def shared_start(dataset, max_rows):
    """Test MSE on the first fold after one iteration of each mode."""
    X, y = load(dataset)
    if max_rows is not None:
        X, y = X[:max_rows], y[:max_rows]
    train, test = folds(X)[0]
    out = {}
    with warnings.catch_warnings():
        _quiet()
        with threadpool_limits(1):
            for name in SHARED_START:
                model = ADMMResidualRegressor(
                    random_state=SEED, max_iter=1, **MODES[name]
                )
                pipe = make_pipeline(StandardScaler(), model).fit(X[train], y[train])
                out[name] = mean_squared_error(y[test], pipe.predict(X[test]))
    values = np.array(list(out.values()))
    spread = float(np.ptp(values) / values.min())
    same = spread < 1e-3  # equal to the 4 digits of the tables
    text = (
        f"One iteration of {', '.join(SHARED_START)} on {dataset} (first fold): "
        "test MSE "
        + ", ".join(f"{v:.7g}" for v in values)
        + f" (relative spread {spread:.1e}): "
        + (
            "the same to 4 digits, so one random-features column serves all."
            if same
            else "NOT the same (the random-features column is radmm's)."
        )
    )
    print(text, flush=True)
    return text


# ----------------------------------------------------------------- parallel
def parallel_problem(quick):
    rng = np.random.default_rng(SEED)
    n = 2000 if quick else 20000
    X = rng.standard_normal((n, 16))
    y = np.sin(2 * X[:, 0]) + X[:, 1] * X[:, 2] + 0.1 * rng.standard_normal(n)
    return X, y, dict(width=32 if quick else 128, n_blocks=6 if quick else 32)


def parallel_rows(modes, quick):
    from bench_pdadmm_parallel import control, fit
    from bench_pdadmm_parallel import load as load_average

    X, y, shape = parallel_problem(quick)
    max_iter = 3 if quick else 4
    name = (
        f"synthetic N={X.shape[0]}, width {shape['width']}, {shape['n_blocks']} blocks"
    )
    rows = []
    for mode in modes:
        before, offered = load_average(), control(X.shape[0], shape["width"])
        seconds, fits = {}, {}
        for workers in (1, 2):
            est = fit(X, y, shape, max_iter, workers, mode=PARALLEL_MODES[mode])
            per_iter = np.diff(est.time_curve_)
            seconds[workers] = float(np.median(per_iter))
            fits[workers] = est
            print(
                f"{mode:10s} {workers} worker(s): {per_iter.round(3)} s/iteration, "
                f"load {load_average()}",
                flush=True,
            )
        identical = all(
            np.array_equal(a, b)
            for a, b in zip(fits[1].coefs_, fits[2].coefs_, strict=True)
        )
        offered = (offered + control(X.shape[0], shape["width"])) / 2
        params = ", ".join(f"{k}={v}" for k, v in PARALLEL_MODES[mode].items())
        rows.append(
            dict(
                mode=mode,
                parameters=params or "defaults",
                layer_parallelism=PARALLELISM[mode],
                iterations=int(fits[1].n_iter_),
                seconds_1_worker=round(seconds[1], 4),
                seconds_2_workers=round(seconds[2], 4),
                speedup=round(seconds[1] / seconds[2], 2),
                control_speedup=round(offered, 2),
                bit_identical=identical,
                load_average_before=before,
                load_average_after=load_average(),
            )
        )
        print("   ", rows[-1], flush=True)
    preamble = (
        f"{name}, alpha=1e-3, tol=0, {max_iter} iterations, refit_readout=False, "
        "n_regions=2. seconds_1_worker: n_jobs=1 under a 1-thread BLAS limit; "
        "seconds_2_workers: n_jobs=2 under a 2-thread limit (one BLAS thread per "
        "worker either way); median seconds per iteration after the first "
        "(time_curve_, the monitor's forward pass included). control_speedup: "
        "two threads over one on independent products of the same size, measured "
        "before and after each pair (what the shared machine offered a second "
        "thread then). dladmm and mdlam have no layer parallelism (sequential "
        "sweeps); only their monitor's forward pass runs on 2 row blocks, so "
        "expect about 1x."
    )
    return rows, preamble


# ------------------------------------------------------------------- output
def read_csv(path):
    """Rows of a CSV written by this script, numbers parsed back."""
    if not path.exists():
        return []
    rows = []
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            parsed = {}
            for k, v in row.items():
                parsed[k] = v
                if k in ("dataset", "model", "mode"):
                    continue
                for kind in (int, float):
                    try:
                        parsed[k] = kind(v)
                        break
                    except ValueError:
                        pass
            rows.append(parsed)
    return rows


def write_csv(path, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def merge(old, new, key):
    """``old`` without the rows whose ``key`` is among ``new``'s, then ``new``."""
    replaced = {r[key] for r in new}
    return [r for r in old if r[key] not in replaced] + list(new)


def ordered(rows, model_order, dataset_order=tuple(DATASETS)):
    """Rows sorted by dataset, then model, in the suite's orders."""
    rank = {m: i for i, m in enumerate(model_order)}
    drank = {d: i for i, d in enumerate(dataset_order)}
    return sorted(
        rows,
        key=lambda r: (
            drank.get(r["dataset"], len(drank)),
            rank.get(r["model"], len(rank)),
            r.get("max_iter", 0),
        ),
    )


def learns_matrix(rows, modes):
    """Markdown matrix: dataset x mode, gain over the random features in %."""
    by = {(r["dataset"], r["model"]): r for r in rows}
    datasets = list(dict.fromkeys(r["dataset"] for r in rows))
    modes = [m for m in modes if any((d, m) in by for d in datasets)]
    table = []
    for d in datasets:
        if (d, "random_features") not in by:
            continue
        rf = by[d, "random_features"]["mse_mean"]
        row = {"dataset": d + ("" if DATASETS[d][1] else " (linear)")}
        for m in modes:
            if (d, m) not in by:
                row[m] = ""
                continue
            gain = 1.0 - by[d, m]["mse_mean"] / rf
            row[m] = f"{100 * gain:+.1f}" + (" ✓" if gain >= GAIN_TARGET else "")
        table.append(row)
    if not table:
        return ""
    count = {"dataset": "learns on (nonlinear)"}
    nonlinear = [d for d in datasets if DATASETS[d][1] and (d, "random_features") in by]
    for m in modes:
        have = [d for d in nonlinear if (d, m) in by]
        wins = sum(
            1 - by[d, m]["mse_mean"] / by[d, "random_features"]["mse_mean"]
            >= GAIN_TARGET
            for d in have
        )
        count[m] = f"{wins}/{len(have)}"
    return markdown_table(table + [count], ["dataset", *modes])


def write_suite(out, rows, start_check, n_splits):
    model_order = [*MODES, "random_features", "mlp", "hgb", "ridge"]
    rows = add_ratios(ordered(rows, model_order))
    write_csv(out / "modes.csv", rows)
    modes = [m for m in MODES if any(r["model"] == m for r in rows)]
    summary = targets(rows, modes)
    matrix = learns_matrix(rows, modes)
    about = machine()
    text = (
        f"Measured on: {about}\n\n"
        f"{n_splits}-fold shuffled CV (random_state={SEED}), StandardScaler in "
        "front of every model, one BLAS thread per process, fit time in seconds "
        "(mean over folds), n_iter the mean iterations run. Per mode "
        "(bench_suite's targets):\n\n"
        + summary
        + "\n\n"
        + (start_check + "\n\n" if start_check else "")
        + "Learns: gain in CV MSE over the random features (1 - MSE / MSE of "
        "random_features), in %; ✓ where >= 5 %; the last row counts the "
        "nonlinear datasets where the mode learns.\n\n" + matrix + "\nAll models:\n\n"
    )
    fmt = rounded(rows)
    (out / "modes.md").write_text(text + markdown_table(fmt))
    (out / "modes_machine.txt").write_text(about + "\n")
    return rows


def plot_time(rows, suite_rows, path):
    plt = pyplot()
    datasets = list(dict.fromkeys(r["dataset"] for r in rows))
    models = list(dict.fromkeys(r["model"] for r in rows))
    fig, axes = plt.subplots(
        1, len(datasets), figsize=(3.6 * len(datasets), 3.4), squeeze=False
    )
    cmap = plt.get_cmap("tab10")
    for ax, dataset in zip(axes.flat, datasets, strict=False):
        for i, name in enumerate(models):
            pts = [r for r in rows if r["dataset"] == dataset and r["model"] == name]
            if not pts:
                continue
            style = "s--" if name == "mlp" else ("o:" if "_beta" in name else "o-")
            ax.plot(
                [p["fit_time"] for p in pts],
                [p["mse"] for p in pts],
                style,
                ms=3,
                lw=1,
                color="black" if name == "mlp" else cmap(i % 10),
                label="MLPRegressor" if name == "mlp" else name,
            )
        finish_panel(ax, suite_rows, dataset)
    axes.flat[0].set_ylabel("test MSE (first fold)", fontsize=8)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=7, fontsize=7)
    fig.tight_layout(rect=(0, 0.12, 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)
    print(f"Wrote {path}", flush=True)


def write_time(out, rows, suite_rows):
    rows = ordered(rows, [*MODES, "mlp"], TIME_DATASETS)
    write_csv(out / "modes_time.csv", rows)
    if suite_rows is not None:
        plot_time(rows, suite_rows, out / "modes_time.png")
    return rows


def write_parallel(out, rows, preamble):
    order = {m: i for i, m in enumerate(PARALLEL_MODES)}
    rows = sorted(rows, key=lambda r: order.get(r["mode"], len(order)))
    write_csv(out / "modes_parallel.csv", rows)
    about = machine()
    (out / "modes_parallel.md").write_text(
        f"Measured on: {about}\n\n{preamble}\n\n" + markdown_table(rows)
    )
    (out / "modes_parallel_machine.txt").write_text(about + "\n")


# --------------------------------------------------------------------- main
def main(argv=None):
    parser = suite_parser(__doc__, jobs="tasks")
    choices = [*MODES, "random_features", "mlp", "hgb", "ridge"]
    parser.add_argument(
        "--models",
        type=comma_list(choices),
        default=choices,
        help="comma list of models (default: all)",
    )
    parser.add_argument(
        "--parts",
        type=comma_list(["suite", "time", "parallel"]),
        default=["suite", "time", "parallel"],
        help="what to run: suite (CV), time (time to accuracy), parallel",
    )
    parser.add_argument(
        "--merge",
        action="store_true",
        help="replace only the rows of the models run in the existing results",
    )
    args = parser.parse_args(argv)
    out = args.out
    n_splits, max_rows = (2, 300) if args.quick else (5, None)
    grid = (1, 3) if args.quick else ITERATIONS
    mlp_grid = (1, 3) if args.quick else MLP_ITERATIONS
    time_datasets = [d for d in TIME_DATASETS if d in args.datasets]
    if args.quick:
        time_datasets = time_datasets[:1]

    models = {k: v for k, v in make_models(MODES).items() if k in args.models}
    old_suite = read_csv(out / "modes.csv") if args.merge else []
    old_time = read_csv(out / "modes_time.csv") if args.merge else []
    old_parallel = read_csv(out / "modes_parallel.csv") if args.merge else []

    def replaced(old, new_keys):
        return [r for r in old if (r["dataset"], r["model"]) not in new_keys]

    tasks, suite_keys, time_keys = [], set(), set()
    if "suite" in args.parts:
        for dataset in args.datasets:
            for name, model in models.items():
                tasks.append(
                    delayed(suite_task)(dataset, name, model, n_splits, max_rows)
                )
                suite_keys.add((dataset, name))
    if "time" in args.parts:
        for dataset in time_datasets:
            for name, model in models.items():
                if name in MODES or name == "mlp":
                    g = mlp_grid if name == "mlp" else grid
                    tasks.append(delayed(time_task)(dataset, name, model, g, max_rows))
                    time_keys.add((dataset, name))
    suite_rows = replaced(old_suite, suite_keys)
    time_rows = replaced(old_time, time_keys)

    start_check = ""
    if "suite" in args.parts and "random_features" in models:
        start_check = shared_start(args.datasets[0], max_rows)
    elif args.merge and (out / "modes.md").exists():
        # Keep the check of the run that measured the random features.
        for line in (out / "modes.md").read_text().splitlines():
            if line.startswith("One iteration of "):
                start_check = line

    tick = time.perf_counter()
    runner = Parallel(n_jobs=args.jobs, return_as="generator_unordered")
    for done, rows in enumerate(runner(tasks), 1):
        if rows and "mse_mean" in rows[0]:
            suite_rows += rows
            write_suite(out, suite_rows, start_check, n_splits)
        else:
            time_rows += rows
            write_time(out, time_rows, None)
        print(
            f"[{done}/{len(tasks)} tasks, {time.perf_counter() - tick:.0f} s]",
            flush=True,
        )
    if suite_rows:
        suite_rows = write_suite(out, suite_rows, start_check, n_splits)
        print(targets(suite_rows, [m for m in MODES if m in models]), flush=True)
        print(f"Wrote {out / 'modes.csv'} and {out / 'modes.md'}", flush=True)
    if time_rows:
        write_time(out, time_rows, suite_rows)

    parallel = [m for m in PARALLEL_MODES if m in models]
    if "parallel" in args.parts and parallel:
        rows, preamble = parallel_rows(parallel, args.quick)
        rows = merge(old_parallel, rows, "mode") if args.merge else rows
        write_parallel(out, rows, preamble)
        print(f"Wrote {out / 'modes_parallel.md'}", flush=True)


if __name__ == "__main__":
    main()

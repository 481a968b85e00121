"""Beyond one sweep per reset: variants of the forward-reset solver, screened.

The default mode (``solver="reset"``, :class:`skadmm._solvers._reset.ResetSolver`)
does one backward sweep of the auxiliaries per forward reset, then the W steps
and a line search along the weight change. This script measures three
extensions, each kept monotone in the true regularised objective:

* ``nesterov``: before the sweep, the extrapolated point
  ``W + b_t (W - W_prev)`` with ``b_t = (t - 1) / (t + 2)`` (read-out refitted
  there), accepted only if the objective does not increase; ``t`` restarts at 1
  after a rejection;
* ``adaptive``: the same with ``b`` grown by 1.5 (at most 0.9) after an
  accepted extrapolation and halved after a rejection (starting at 0.5);
* ``nesterov_gain``: ``nesterov``, the extrapolated point accepted only if it
  lowers the objective by at least 10 % of the previous iteration's decrease;
* ``sweeps2``, ``sweeps3``: 2 or 3 backward sweeps (with a forward sweep in
  between) of the auxiliaries per reset before the W steps;
* ``per_layer``: after the common line search, each hidden layer's factor
  doubled alone while the objective falls (per-layer step sizes; identical to
  the default with one hidden layer, the default ``n_blocks=0``, so screened
  with ``n_blocks=2``): ``deep_per_layer`` against the one-sweep solver at
  ``n_blocks=2``, ``deep_nesterov_gain_per_layer`` against
  ``deep_nesterov_gain``, the solver's default at ``n_blocks=2``.

The variants are subclasses of ``ResetSolver`` here, with its own
extrapolation off, so ``default`` is the solver from before this screen.
``nesterov_gain`` was adopted as the solver's default (``ResetSolver`` with
``extrapolate=True`` runs the same iterations); the others were not (see the
user guide, "What else was tried"). They are plugged into the estimator as
private solver classes (``_common.with_solver``).

For each dataset, 3-fold shuffled CV (``random_state=0``) of
``StandardScaler`` + ``ADMMResidualRegressor(random_state=0)`` with
``alpha`` fixed per fold to the value ``alpha="auto"`` resolves to for the
default (so every variant minimises the same objective and the screen costs
one fit per configuration), one BLAS thread. Reported per variant and dataset:
test MSE after 50 and 200 iterations, the training objective after 50 and 200
iterations, fit time, and the ratios to the default (geometric means over the
datasets in the summary).

Usage::

    python benchmarks/bench_reset_variants.py            # about 12 min on 2 cores
    python benchmarks/bench_reset_variants.py --quick    # smoke run
    python benchmarks/bench_reset_variants.py --variants deep_nesterov_gain \
        --out new/   # some variants only; then --combine old.csv new/...csv
"""

import argparse
import csv
import warnings
from pathlib import Path

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from skadmm import ADMMResidualRegressor
from skadmm._solvers._reset import ResetSolver

from _common import (
    RESULTS,
    SEED,
    comma_list,
    cross_validate,
    folds,
    mse,
    rounded,
    with_solver,
    write_results,
)
from _datasets import load

DATASETS = ["friedman1", "friedman2", "wine_red", "wine_white", "sine", "diabetes"]
#: Checkpoints (iterations) at which test MSE and training objective are read.
CHECKPOINTS = (50, 200)


class VariantSolver(ResetSolver):
    """``ResetSolver`` with extrapolation, several sweeps or per-layer steps.

    ``options`` (a class attribute set by :func:`variant`): ``momentum`` (None,
    ``"nesterov"`` or ``"adaptive"``), ``min_gain`` (float), ``n_sweeps``
    (int) and ``per_layer`` (bool). With no options it runs the one-sweep
    solver (``ResetSolver(extrapolate=False)``), the screen's baseline.
    """

    options = {}

    def __init__(self, *args, **kwargs):
        # Without momentum, the one-sweep solver (the baseline "default"); with
        # it, the solver's own extrapolation with this variant's factor and gain.
        momentum = self.options.get("momentum") is not None
        super().__init__(*args, **{**kwargs, "extrapolate": momentum})

    def setup(self, problem):
        self.momentum = self.options.get("momentum")
        self.n_sweeps = self.options.get("n_sweeps", 1)
        self.per_layer = self.options.get("per_layer", False)
        self.min_gain = self.options.get("min_gain", 0.0)
        self._b = 0.5
        return super().setup(problem)

    def _momentum(self):
        return super()._momentum() if self.momentum == "nesterov" else self._b

    def _extrapolate(self, problem, current):
        # "adaptive": the factor grows after a kept point and halves after a
        # restart (the solver increments t when it keeps the point).
        t = self._t
        super()._extrapolate(problem, current)
        if self.momentum == "adaptive":
            self._b = min(1.5 * self._b, 0.9) if self._t > t else 0.5 * self._b

    def _sweep(self, problem):
        residual = super()._sweep(problem)
        H = problem.H
        for _ in range(self.n_sweeps - 1):
            # Forward sweep (Z_k, U_k in order), then the backward one again; the
            # last hidden block is no longer at its reset state, hence the
            # general U_{H-1} solve.
            for k in range(H):
                problem.update_preactivation(k)
                problem.update_hidden(k)
            problem.link_sq[H - 1, 1] = problem._update_last_hidden(problem.sZ[H - 1])
            for k in range(H - 1, -1, -1):
                problem.update_preactivation(k)
                if k:
                    problem._update_inner(k - 1)
            residual = float(np.sqrt(problem.link_sq.sum()))
        return residual

    def _line_search(self, problem, start, floor):
        hidden, readout, value = super()._line_search(problem, start, floor)
        if not self.per_layer or not value < self.value or len(hidden) < 2:
            return hidden, readout, value
        moved = False
        for k in range(len(hidden)):
            while True:
                trial = list(hidden)
                trial[k] = start[k] + 2.0 * (hidden[k] - start[k])
                trial_value = self._objective(problem, trial, readout)
                if not trial_value < value:
                    break
                hidden, value, moved = trial, trial_value, True
        if moved:
            refit, refit_value = self._readout(problem, hidden)
            if refit_value <= value:
                readout, value = refit, refit_value
        return hidden, readout, value


VARIANTS = {
    "default": {},
    "nesterov": {"momentum": "nesterov"},
    "adaptive": {"momentum": "adaptive"},
    "nesterov_gain": {"momentum": "nesterov", "min_gain": 0.1},
    "sweeps2": {"n_sweeps": 2},
    "sweeps3": {"n_sweeps": 3},
    "nesterov_sweeps2": {"momentum": "nesterov", "n_sweeps": 2},
}
#: Variants screened with two residual blocks (per-layer steps need layers).
DEEP_VARIANTS = {
    "deep_default": {},
    "deep_per_layer": {"per_layer": True},
    "deep_nesterov_gain": VARIANTS["nesterov_gain"],
    "deep_nesterov_gain_per_layer": {**VARIANTS["nesterov_gain"], "per_layer": True},
}
#: The row each variant's ratios are taken to (``default`` unless named here).
BASELINES = {
    **{name: "deep_default" for name in DEEP_VARIANTS},
    # Per-layer factors on top of the solver's default, against that default.
    "deep_nesterov_gain_per_layer": "deep_nesterov_gain",
}


def variant(options):
    """The solver class of the variant with ``options``."""
    return type("Variant", (VariantSolver,), {"options": options})


def last_objective(model, X, y):
    """The training objective after the fit's last iteration (a scorer)."""
    return model[-1].objective_curve_[-1]


def fit_scores(params, options, X, y, splits, alphas):
    """Per checkpoint, the mean test MSE, objective, seconds and iterations of
    the variant with ``options`` over ``splits`` (``alphas``: each fold's)."""
    out = {}
    for n in CHECKPOINTS:

        def model(fold, n=n):
            plain = ADMMResidualRegressor(
                random_state=SEED, max_iter=n, alpha=alphas[fold], **params
            )
            return with_solver(plain, variant(options))

        scores = cross_validate(
            model, X, y, splits, {"mse": mse, "objective": last_objective}
        )
        out[n] = dict(
            mse=float(np.mean(scores["mse"])),
            objective=float(np.mean(scores["objective"])),
            time=float(np.mean(scores["fit_time"])),
            n_iter=float(np.mean(scores["n_iter"])),
        )
    return out


def screen(datasets, n_splits, max_rows=None, names=None):
    shallow = {k: v for k, v in VARIANTS.items() if names is None or k in names}
    deep = {k: v for k, v in DEEP_VARIANTS.items() if names is None or k in names}
    rows = []
    for dataset in datasets:
        X, y = load(dataset)
        if max_rows is not None:
            X, y = X[:max_rows], y[:max_rows]
        splits = folds(X, n_splits)
        # The penalty alpha="auto" picks for the default on each fold (its CV
        # fits are clones, max_iter=200), shared by all.
        alphas = [
            make_pipeline(StandardScaler(), ADMMResidualRegressor(random_state=SEED))
            .fit(X[train], y[train])[-1]
            .alpha_
            for train, _ in splits
        ]
        variants = {name: (options, {}) for name, options in shallow.items()}
        variants.update({n: (o, {"n_blocks": 2}) for n, o in deep.items()})
        for name, (options, params) in variants.items():
            scores = fit_scores(params, options, X, y, splits, alphas)
            row = dict(dataset=dataset, variant=name)
            for n in CHECKPOINTS:
                for key in ("mse", "objective", "time"):
                    row[f"{key}_{n}"] = scores[n][key]
            row["n_iter_200"] = scores[200]["n_iter"]
            rows.append(row)
            print(
                f"{dataset:11s} {name:18s} "
                + " ".join(
                    f"{k} {v:.4g}" for k, v in row.items() if isinstance(v, float)
                ),
                flush=True,
            )
    return rows


def add_ratios(rows):
    """Each row's MSE, objective and time as ratios to its baseline's."""
    by = {(r["dataset"], r["variant"]): r for r in rows}
    for r in rows:
        ref = by[r["dataset"], BASELINES.get(r["variant"], "default")]
        for n in CHECKPOINTS:
            for key in ("mse", "objective", "time"):
                r[f"{key}_{n}_ratio"] = r[f"{key}_{n}"] / ref[f"{key}_{n}"]
    return rows


def summary(rows):
    lines = []
    for name in {**VARIANTS, **DEEP_VARIANTS}:
        mine = [r for r in rows if r["variant"] == name]
        if not mine:
            continue

        def gmean(key, mine=mine):
            return float(np.exp(np.mean(np.log([r[key] for r in mine]))))

        worst = max(mine, key=lambda r: r["mse_200_ratio"])
        lines.append(
            f"- `{name}`: geometric mean of the ratios to its baseline: test MSE "
            f"{gmean('mse_50_ratio'):.3f} after 50 iterations, "
            f"{gmean('mse_200_ratio'):.3f} after 200; training objective "
            f"{gmean('objective_50_ratio'):.3f} / {gmean('objective_200_ratio'):.3f}; "
            f"fit time {gmean('time_200_ratio'):.2f}x; worst MSE ratio after 200: "
            f"{worst['mse_200_ratio']:.3f} ({worst['dataset']})"
        )
    return "\n".join(lines)


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def read_row(row):
    """The measured columns of a written row (ratios are recomputed)."""
    keep = {k: v for k, v in row.items() if not k.endswith("_ratio")}
    return {k: v if k in ("dataset", "variant") else float(v) for k, v in keep.items()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--datasets", type=comma_list(DATASETS), default=DATASETS)
    parser.add_argument(
        "--variants",
        type=comma_list({**VARIANTS, **DEEP_VARIANTS}),
        default=None,
        help="screen only these (their baselines' rows come from --combine)",
    )
    parser.add_argument(
        "--combine",
        type=Path,
        nargs="+",
        help="only write the report of these reset_variants.csv files (runs "
        "split over processes)",
    )
    args = parser.parse_args(argv)
    n_splits, max_rows = (2, 200) if args.quick else (3, None)
    if args.combine:
        rows = add_ratios([read_row(r) for f in args.combine for r in read_csv(f)])
    else:
        warnings.simplefilter("ignore", ConvergenceWarning)
        with threadpool_limits(1):
            rows = screen(args.datasets, n_splits, max_rows, args.variants)
        if args.variants:
            # Ratios need the baselines: write the raw rows, combine later.
            write_results(args.out, "reset_variants", rounded(rows), "")
            return
        rows = add_ratios(rows)
    text = summary(rows)
    print(text, flush=True)
    preamble = (
        f"{n_splits}-fold shuffled CV (random_state={SEED}), StandardScaler, one "
        "BLAS thread, alpha fixed per fold to the default's alpha='auto' choice; "
        "means over folds, ratios to `default`, the one-sweep solver without "
        "extrapolation (the default before `nesterov_gain` was adopted; for the "
        "deep_* rows, the same at n_blocks=2, except `deep_nesterov_gain_per_layer`: "
        "against `deep_nesterov_gain`, the solver's default at n_blocks=2).\n\n" + text
    )
    fmt = rounded(rows)
    write_results(args.out, "reset_variants", fmt, preamble)


if __name__ == "__main__":
    main()

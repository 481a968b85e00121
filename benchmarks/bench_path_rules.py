"""Stopping rules of ``alpha="auto"``'s penalty path, replayed on recorded searches.

On subsamples of the regression suite's tables (``SIZES`` rows, ``DRAWS``
draws each) and of the small-table suite's four 1-D curves (``CURVE_SIZES``,
``CURVE_DRAWS``), the rest of the table (at most 3,000 rows) held out, the
exhaustive search
(``PATH_STOPS = False``) records every candidate's loss on each validated fold
and the seconds of each fit; each candidate's final fit on the subsample
(``alpha`` given) gives its test MSE, and ``MLPRegressor(max_iter=2000)`` is
fitted beside. Every fit is a normal fit, so a stopping rule fits a subset of
the exhaustive search's fits: each rule is replayed on the recorded losses,
its choice read off and its time summed (its candidates' fits and the final
fit of its choice). Rules:

* ``exhaustive``: every candidate;
* ``path``: the package's own :func:`skadmm._alpha_search._penalty_path`,
  replayed (a candidate above the best one before it on every fold stops it,
  the sum-scale ``3 / n`` of small tables included);
* ``grid_every_fold``: the same with ``3 / n`` outside the rule (the rule
  before it);
* ``sum``: the first candidate above the best one before it in summed loss
  stops the path (``3 / n`` included);
* ``grid_sum``: the summed loss along the grid, ``3 / n`` stopping it only
  on every fold;
* ``two_folds``: ``path`` on the first two folds' losses only (as from
  ``FEWER_FOLDS_MIN_ROWS`` rows on, where the recorded searches have two).

Outputs ``path_rules.csv``/``.md`` (one row per search and rule) and
``path_rules_summary.csv``/``.md`` (per rule: searches that chose the exhaustive
search's penalty, geometric mean and worst ratio of test MSE to the
exhaustive choice's, seconds in sum, median ratio to MLPRegressor's fit time,
searches within 2x of it) in ``--out``.

    python benchmarks/bench_path_rules.py --jobs 2   # about 40 minutes on 2 cores
    python benchmarks/bench_path_rules.py --quick    # smoke run (seconds)
"""

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
from bench_scaling import small_tables
from bench_search_cost import switched
from joblib import Parallel, delayed
from sklearn.neural_network import MLPRegressor
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from skadmm import ADMMResidualRegressor, _alpha_search

from _common import SEED, comma_list, rounded, write_results
from _datasets import DATASETS, RESULTS

SIZES = (100, 150, 200, 300, 500, 1000)
DRAWS = 3
#: The curves' sizes and draws (2,400 rows each: the small-table suite's).
CURVE_SIZES = (100, 150, 200, 300)
CURVE_DRAWS = 5
TEST_ROWS = 3000
RULES = ("exhaustive", "path", "grid_every_fold", "sum", "grid_sum", "two_folds")


class _Recorded:
    """The folds of a recorded search, as :func:`_penalty_path` asks for them:
    ``validate`` returns the recorded losses and seconds of a candidate."""

    def __init__(self, grid, errors, seconds):
        self.grid, self.errors, self.seconds = list(grid), errors, seconds
        self.n_validated = errors.shape[0]

    def validate(self, alphas, fit_predict, report):
        i = self.grid.index(alphas[0])
        return self.errors[:, [i]], self.seconds[:, [i]]

    def validated_weight(self):
        return 1.0


def _stops(rule, errors, best, i, grid):
    """Whether candidate ``i`` stops the path of a replayed ``rule``."""
    every = bool(np.all(errors[:, i] > errors[:, best]))
    above = errors[:, i].sum() > errors[:, best].sum()
    if rule == "sum":
        return above
    if grid[best] > _alpha_search.CV_GRID[-1]:  # against 3 / n
        return every and rule == "grid_sum"
    return above if rule == "grid_sum" else every


def replay(rule, grid, errors, seconds):
    """The candidates ``rule`` fits (a boolean mask) on the recorded losses."""
    if rule == "exhaustive":
        return np.ones(len(grid), bool)
    if rule == "path":
        path_errors, _ = _alpha_search._penalty_path(
            tuple(grid), _Recorded(grid, errors, seconds), None, None, None
        )
        return ~np.isnan(path_errors[0])
    order = sorted(range(len(grid)), key=lambda i: grid[i], reverse=True)
    fitted, best = np.zeros(len(grid), bool), None
    for i in order:
        fitted[i] = True
        if best is not None and _stops(rule, errors, best, i, grid):
            break
        if rule == "grid_every_fold" and grid[i] > _alpha_search.CV_GRID[-1]:
            continue  # 3 / n outside the rule
        if best is None or errors[:, i].sum() < errors[:, best].sum():
            best = i
    return fitted


def choice(grid, errors, fitted):
    """The index of the penalty the search chooses among the fitted
    candidates (the package's own rule: ties go to the larger)."""
    return _alpha_search._best(grid, np.where(fitted, errors.sum(axis=0), np.inf))


def exhaustive_search(X_train, y_train):
    """``(grid, errors, seconds)``: the candidates of the defaults' search on
    ``X_train``, every one's summed loss on each validated fold and the
    seconds of its fits (the exhaustive search, ``PATH_STOPS = False``)."""
    with switched(dict(PATH_STOPS=False)):
        model = ADMMResidualRegressor(random_state=SEED).fit(X_train, y_train)
    search = model.alpha_search_
    return (
        [float(a) for a in search["candidates"]],
        np.asarray(search["fold_errors"], float),
        np.asarray(search["fit_seconds"], float),
    )


def record(X, y, train, test):
    """One subsample's exhaustive search, final fits and MLPRegressor."""
    scaler = StandardScaler().fit(X[train])
    X_train, X_test = scaler.transform(X[train]), scaler.transform(X[test])
    grid, errors, seconds = exhaustive_search(X_train, y[train])
    finals = []
    for alpha in grid:
        start = time.perf_counter()
        fit = ADMMResidualRegressor(random_state=SEED, alpha=alpha)
        fit.fit(X_train, y[train])
        seconds_final = time.perf_counter() - start
        mse = float(np.mean((fit.predict(X_test) - y[test]) ** 2))
        finals.append((seconds_final, mse))
    start = time.perf_counter()
    mlp = MLPRegressor(max_iter=2000, random_state=SEED).fit(X_train, y[train])
    mlp_seconds = time.perf_counter() - start
    mlp_mse = float(np.mean((mlp.predict(X_test) - y[test]) ** 2))
    return grid, errors, seconds, finals, mlp_seconds, mlp_mse


def rule_rows(name, n, draw, recorded):
    grid, errors, seconds, finals, mlp_seconds, mlp_mse = recorded
    exhaustive = choice(grid, errors, np.ones(len(grid), bool))
    rows = []
    for rule in RULES:
        # "two_folds": the path on the first two folds' losses (from
        # FEWER_FOLDS_MIN_ROWS rows on the recorded searches have two).
        folds = slice(0, 2) if rule == "two_folds" else slice(None)
        e, sec = errors[folds], seconds[folds]
        fitted = replay("path" if rule == "two_folds" else rule, grid, e, sec)
        chosen = choice(grid, e, fitted)
        total = float(sec[:, fitted].sum()) + finals[chosen][0]
        rows.append(
            dict(
                table=name,
                rows=n,
                draw=draw,
                rule=rule,
                alpha=grid[chosen],
                same=int(chosen == exhaustive),
                fits=int(fitted.sum() * e.shape[0]),
                mse=finals[chosen][1],
                mse_vs_exhaustive=finals[chosen][1] / finals[exhaustive][1],
                seconds=total,
                mlp_seconds=mlp_seconds,
                vs_mlp=total / mlp_seconds,
                mlp_mse=mlp_mse,
            )
        )
    return rows


def summary(rows):
    out = []
    for rule in RULES:
        mine = [r for r in rows if r["rule"] == rule]
        ratios = np.array([r["mse_vs_exhaustive"] for r in mine])
        out.append(
            dict(
                rule=rule,
                searches=len(mine),
                same=sum(r["same"] for r in mine),
                gmean_mse_vs_exhaustive=float(np.exp(np.mean(np.log(ratios)))),
                worst_mse_vs_exhaustive=float(ratios.max()),
                seconds=sum(r["seconds"] for r in mine),
                median_vs_mlp=float(np.median([r["vs_mlp"] for r in mine])),
                within_2x=sum(r["vs_mlp"] <= 2 for r in mine),
            )
        )
    return out


def _tables():
    tables = {name: entry[0] for name, entry in DATASETS.items()}
    curves = {k: v for k, v in small_tables().items() if k.startswith("curve")}
    return {**tables, **curves}, set(curves)


def searches(names, quick):
    """``(table, rows, draw)`` of every recorded search."""
    tables, curves = _tables()
    found = []
    for name in names:
        n_rows = len(tables[name]()[1])
        sizes, draws = (CURVE_SIZES, CURVE_DRAWS) if name in curves else (SIZES, DRAWS)
        if quick:
            sizes, draws = (100,), 1
        found += [
            (name, n, draw) for n in sizes if n + 100 <= n_rows for draw in range(draws)
        ]
    return found


def recorded_search(name, n, draw):
    """:func:`rule_rows` of one subsample (a task of a worker process)."""
    X, y = (np.asarray(a, dtype=float) for a in _tables()[0][name]())
    order = np.random.default_rng(1000 + draw).permutation(len(y))
    train, test = order[:n], order[n : n + TEST_ROWS]
    with threadpool_limits(1), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rows = rule_rows(name, n, draw, record(X, y, train, test))
    print(rounded(rows[:2]), flush=True)
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--tables", type=comma_list(list(_tables()[0])), default=None)
    parser.add_argument(
        "--jobs", type=int, default=1, help="processes for the searches"
    )
    args = parser.parse_args(argv)
    names = args.tables or (["sine"] if args.quick else list(_tables()[0]))
    tasks = searches(names, args.quick)
    found = Parallel(n_jobs=args.jobs)(delayed(recorded_search)(*t) for t in tasks)
    rows = [row for rows in found for row in rows]
    note = (
        "Subsamples of `rows` rows (draws: permutations of random state 1000 + "
        "draw), the rest of the table (at most 3,000 rows) held out, "
        "StandardScaler on the subsample, one BLAS thread, "
        f"{args.jobs} search(es) at a time. Each rule replayed "
        "on the exhaustive search's recorded fold losses; `seconds`: its "
        "candidates' fits and the final fit of its choice."
    )
    write_results(args.out, "path_rules", rounded(rows), preamble=note)
    write_results(args.out, "path_rules_summary", rounded(summary(rows)), preamble=note)


if __name__ == "__main__":
    main()

"""The benchmarks' shared helpers: the CV runner, solver variants injected as
private solver classes, and the estimator's stopping rule read off a curve."""

import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Ridge
from sklearn.metrics import mean_squared_error

from skadmm import ADMMResidualRegressor
from skadmm._solvers import SOLVERS

from ._benchmarks import imported, needs
from ._problems import regression_data

pytestmark = needs("_common.py")


@pytest.fixture(scope="module")
def common():
    with imported("_common") as (module,):
        yield module


def test_cross_validate_scores_each_fold_on_a_fresh_clone(common):
    X, y = regression_data(60, 3, seed=0)
    splits = common.folds(X, 3)
    scores = common.cross_validate(Ridge(alpha=2.0), X, y, splits, scale=False)
    expected = [
        mean_squared_error(
            y[test], Ridge(alpha=2.0).fit(X[train], y[train]).predict(X[test])
        )
        for train, test in splits
    ]
    np.testing.assert_array_equal(scores["mse"], expected)
    assert np.isnan(scores["n_iter"]).all() and (scores["fit_time"] >= 0).all()
    # A builder gets the fold's index.
    built = common.cross_validate(
        lambda fold: Ridge(alpha=[2.0, 3.0, 4.0][fold]), X, y, splits, scale=False
    )
    assert built["mse"][0] == scores["mse"][0] and built["mse"][1] != scores["mse"][1]


def test_a_solver_variant_runs_in_the_fit_and_survives_clone(common):
    calls = []

    class Counting(SOLVERS["radmm"]):
        def step(self, problem, run):
            calls.append(1)
            return super().step(problem, run)

    X, y = regression_data(60, 3, seed=0)
    plain = ADMMResidualRegressor(
        solver="radmm", width=8, max_iter=4, alpha=1e-2, random_state=0
    )
    variant = clone(common.with_solver(plain, Counting))
    assert variant.get_params() == plain.get_params()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fitted = variant.fit(X, y)
        reference = clone(plain).fit(X, y)
    assert len(calls) == 4
    np.testing.assert_array_equal(fitted.predict(X), reference.predict(X))
    # The package's registry is untouched.
    assert SOLVERS["radmm"] is not Counting


def test_default_stop_is_the_estimators_own_rule(common):
    X, y = regression_data(120, 4, seed=0)
    params = dict(width=8, alpha=1e-2, random_state=0)
    stopped = ADMMResidualRegressor(**params, tol=1e-3, n_iter_no_change=4).fit(X, y)
    assert 4 < stopped.n_iter_ < 200
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        full = ADMMResidualRegressor(**params, tol=0.0, max_iter=200).fit(X, y)
    assert full.objective_curve_[: stopped.n_iter_] == stopped.objective_curve_
    # (The rule of n consecutive small decreases said 48 here.)
    assert common.admm_default_stop(full.objective_curve_, 1e-3, 4) == stopped.n_iter_

"""Scale-out: a grid search over a local Dask cluster equals the local one."""

import warnings

import numpy as np
import pytest
from joblib import parallel_config
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, KFold
from threadpoolctl import threadpool_limits

from skadmm import ADMMResidualRegressor

distributed = pytest.importorskip("distributed")


def grid_search():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((150, 4))
    y = np.sin(2 * X[:, 0]) + X[:, 1] * X[:, 2] + 0.1 * rng.standard_normal(150)
    search = GridSearchCV(
        ADMMResidualRegressor(width=8, n_blocks=2, max_iter=15, random_state=0),
        {"alpha": [1e-4, 1e-2], "n_regions": [1, 2]},
        cv=KFold(3, shuffle=True, random_state=0),
        scoring="neg_mean_squared_error",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return search.fit(X, y)


def on_local_cluster(run):
    """``(run(), tasks)``: ``run`` called under joblib's Dask backend, on two
    single-threaded worker processes of this machine, and the tasks they ran."""
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        host="127.0.0.1",
        dashboard_address=None,
        processes=True,
    )
    with cluster, distributed.Client(cluster) as client:
        with distributed.get_task_stream(client) as stream:
            with parallel_config(backend="dask"):
                result = run()
    return result, stream.data


def test_grid_search_on_a_local_dask_cluster_equals_the_local_run():
    # Dask's worker processes run BLAS on one thread, so the reference does too:
    # then the arithmetic, and the scores, are identical.
    with threadpool_limits(1, user_api="blas"):
        local = grid_search()
    remote, tasks = on_local_cluster(grid_search)
    # The fits really ran as tasks on the cluster's worker processes.
    assert len(tasks) >= 12
    np.testing.assert_array_equal(
        remote.cv_results_["mean_test_score"], local.cv_results_["mean_test_score"]
    )
    assert remote.best_params_ == local.best_params_
    np.testing.assert_array_equal(
        remote.best_estimator_.coefs_[0], local.best_estimator_.coefs_[0]
    )


def test_alpha_search_of_one_fit_runs_on_the_cluster():
    """Under the Dask backend, alpha="auto"'s twelve candidate fits are tasks on
    the cluster, and the fit equals the one in this process, bit for bit."""
    rng = np.random.default_rng(1)
    X = rng.standard_normal((200, 4))
    y = np.sin(2 * X[:, 0]) * X[:, 1] + 0.2 * rng.standard_normal(200)

    def fit():
        model = ADMMResidualRegressor(width=12, max_iter=10, random_state=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            return model.fit(X, y)

    local = fit()
    remote, tasks = on_local_cluster(fit)
    assert len(tasks) >= 12
    assert remote.alpha_ == local.alpha_
    np.testing.assert_array_equal(remote.predict(X), local.predict(X))

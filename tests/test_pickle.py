"""Pickling drops the warm-start solver state (an unpickled model still
warm-starts) and records the skadmm version, checked when unpickling."""

import copy
import pickle
import warnings

import numpy as np
import pytest
from sklearn.datasets import make_regression

import skadmm
from skadmm import ADMMResidualClassifier, ADMMResidualRegressor
from skadmm.exceptions import InconsistentVersionWarning

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def data():
    X, y = make_regression(n_samples=400, n_features=6, noise=5.0, random_state=0)
    return X / X.std(axis=0), y


def warm_model(X, y, **params):
    return ADMMResidualRegressor(
        width=40, max_iter=4, warm_start=True, random_state=0, **params
    ).fit(X, y)


@pytest.mark.parametrize("solver", ["reset", "radmm"])
def test_pickle_drops_the_solver_state(data, solver):
    X, y = data
    est = warm_model(X, y, solver=solver)
    assert est._solver_state is not None
    kept = len(pickle.dumps(est))
    est_without = pickle.loads(pickle.dumps(est))
    est._solver_state = None
    # The state is the only difference, and the weights dwarf nothing else.
    assert kept == len(pickle.dumps(est))
    assert kept < X.nbytes
    assert getattr(est_without, "_solver_state", None) is None
    np.testing.assert_array_equal(est_without.predict(X), est.predict(X))


def test_unpickled_model_warm_starts_from_its_weights(data):
    X, y = data
    est = warm_model(X, y)
    first = est.n_iter_
    restored = pickle.loads(pickle.dumps(est))
    copied = copy.deepcopy(est)
    # Oracle: the same model whose kept state is dropped by hand.
    est._solver_state = None
    for model in (restored, copied, est):
        model.fit(X, y)
    np.testing.assert_array_equal(restored.predict(X), est.predict(X))
    np.testing.assert_array_equal(copied.predict(X), est.predict(X))
    assert restored.n_iter_ == est.n_iter_ > first
    assert len(restored.loss_curve_) == restored.n_iter_
    # It continued from the weights: the objective (which a cold start would
    # reset to its first value) went on falling.
    curve = restored.objective_curve_
    assert curve[first] <= curve[first - 1] < curve[0]


def test_pickling_leaves_the_estimators_state_alone(data):
    X, y = data
    est = warm_model(X, y)
    kept = est._solver_state
    pickle.dumps(est)
    copy.deepcopy(est)
    assert est._solver_state is kept
    assert "_skadmm_version" not in vars(est)


@pytest.mark.parametrize("Estimator", [ADMMResidualRegressor, ADMMResidualClassifier])
def test_pickles_record_the_version_and_warn_on_another(data, Estimator):
    X, y = data
    target = y > 0 if Estimator is ADMMResidualClassifier else y
    est = Estimator(width=8, max_iter=2, alpha=1e-2).fit(X, target)
    state = est.__getstate__()
    assert state["_skadmm_version"] == skadmm.__version__
    # The same version unpickles silently and leaves no trace of the record.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        same = pickle.loads(pickle.dumps(est))
    assert "_skadmm_version" not in vars(same)
    for version, shown in (("0.0.1", "pickled by skadmm 0.0.1"), (None, "unknown")):
        other = dict(state, _skadmm_version=version)
        if version is None:
            del other["_skadmm_version"]
        restored = Estimator.__new__(Estimator)
        with pytest.warns(InconsistentVersionWarning, match=shown) as record:
            restored.__setstate__(other)
        (warning,) = record
        assert warning.message.original_version == version
        assert warning.message.current_version == skadmm.__version__
        assert warning.filename == __file__
        assert "_skadmm_version" not in vars(restored)
        np.testing.assert_array_equal(restored.predict(X), est.predict(X))


def test_an_edited_pickle_warns_at_pickle_loads(data):
    X, y = data
    est = ADMMResidualRegressor(width=8, max_iter=2, alpha=1e-2).fit(X, y)
    edited = pickle.dumps(est).replace(
        skadmm.__version__.encode(), b"9" * len(skadmm.__version__)
    )
    with pytest.warns(InconsistentVersionWarning, match="9" * len(skadmm.__version__)):
        pickle.loads(edited)

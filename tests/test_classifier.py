"""ADMMResidualClassifier as a scikit-learn classifier."""

import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import log_loss
from sklearn.model_selection import GridSearchCV
from sklearn.utils.class_weight import compute_sample_weight

from skadmm import ADMMResidualClassifier
from skadmm._alpha_search import CLASSIFICATION_ALPHA


def small(**params):
    base = dict(width=16, n_blocks=1, max_iter=30, random_state=0, alpha=3e-3)
    base.update(params)
    return ADMMResidualClassifier(**base)


def fit(est, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(*args, **kwargs)


@pytest.mark.parametrize("solver", ["reset", "radmm"])
@pytest.mark.parametrize("n_classes", [2, 3])
def test_probabilities_decision_and_predictions_agree(classes, solver, n_classes):
    X, y3 = classes
    y = y3 if n_classes == 3 else (y3 > 0).astype(int)
    labels = np.array(["low", "mid", "high"])[y]
    est = fit(small(solver=solver), X, labels)
    assert list(est.classes_) == sorted(set(labels))
    proba = est.predict_proba(X)
    assert proba.shape == (len(X), n_classes)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-12)
    np.testing.assert_allclose(np.log(proba), est.predict_log_proba(X), atol=1e-10)
    decision = est.decision_function(X)
    assert decision.shape == ((len(X),) if n_classes == 2 else (len(X), n_classes))
    assert np.array_equal(est.predict(X), est.classes_[proba.argmax(axis=1)])
    if n_classes == 2:
        # The binary output is the log-odds of classes_[1].
        np.testing.assert_allclose(
            decision, np.log(proba[:, 1] / proba[:, 0]), rtol=1e-8, atol=1e-8
        )
    assert est.n_outputs_ == (1 if n_classes == 2 else 3)
    if solver == "radmm":
        return  # at the default beta its hidden layers barely move (user guide)
    # The hidden layers learn: better than the model's own random features.
    random_features = fit(small(solver="radmm", max_iter=1), X, labels)
    assert log_loss(labels, proba, labels=est.classes_) < 0.8 * log_loss(
        labels, random_features.predict_proba(X), labels=est.classes_
    )


@pytest.mark.parametrize("solver", ["reset", "radmm"])
def test_objective_curve_never_increases(classes, solver):
    X, y = classes
    est = fit(small(solver=solver, max_iter=40), X, y)
    curve = np.asarray(est.objective_curve_)
    assert np.all(np.diff(curve) <= 1e-12 * np.abs(curve[:-1]))
    assert len(est.loss_curve_) == est.n_iter_


def test_small_class_weights_do_not_warn_where_the_penalty_ignores_them(classes):
    """The classifier's alpha="auto" is one penalty below 4,000 rows: weights
    summing to far fewer than the rows change nothing there, so no warning
    (the regressor's search reads them as a smaller table and warns)."""
    X, y = classes
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        est = fit(small(class_weight={0: 0.01, 1: 0.01, 2: 0.01}, alpha="auto"), X, y)
    assert est.alpha_ == 3e-3


@pytest.mark.parametrize("weight", [-1.0, np.inf, np.nan])
def test_a_class_weight_must_be_finite_and_non_negative(classes, weight):
    """As a sample weight: a negative one once dropped its class's rows in
    silence (the rows of weight 0 and less leave the fit)."""
    X, y = classes
    est = small(class_weight={0: weight, 1: 1.0, 2: 1.0})
    with pytest.raises(ValueError, match="class_weight must give every class"):
        est.fit(X, y)
    assert not hasattr(est, "classes_")


def test_class_weight_equals_the_matching_sample_weight(classes):
    X, y = classes
    weights = {0: 3.0, 1: 1.0, 2: 0.5}
    a = fit(small(class_weight=weights), X, y)
    b = fit(small(), X, y, sample_weight=compute_sample_weight(weights, y))
    np.testing.assert_allclose(a.predict_proba(X), b.predict_proba(X), atol=1e-10)
    balanced = fit(small(class_weight="balanced"), X, y)
    c = fit(small(), X, y, sample_weight=compute_sample_weight("balanced", y))
    np.testing.assert_allclose(
        balanced.predict_proba(X), c.predict_proba(X), atol=1e-10
    )
    # Weighting a class up raises its predicted share.
    plain = fit(small(), X, y)
    assert a.predict_proba(X)[:, 0].mean() > plain.predict_proba(X)[:, 0].mean()


@pytest.mark.parametrize("solver, max_iter", [("radmm", 30), ("reset", 3)])
def test_integer_weights_equal_repeated_rows(classes, solver, max_iter):
    # The reset mode's accept/reject decisions can amplify rounding differences
    # over long runs (relu patterns flip); its first iterations agree.
    X, y = classes
    rng = np.random.default_rng(1)
    w = rng.integers(0, 3, len(X))
    a = fit(small(solver=solver, max_iter=max_iter), X, y, sample_weight=w)
    b = fit(
        small(solver=solver, max_iter=max_iter), np.repeat(X, w, 0), np.repeat(y, w)
    )
    np.testing.assert_allclose(a.objective_curve_, b.objective_curve_, rtol=1e-8)
    np.testing.assert_allclose(a.predict_proba(X), b.predict_proba(X), atol=1e-7)


@pytest.mark.parametrize("n_jobs", [1, 2, -1])
def test_results_do_not_depend_on_n_jobs(classes, n_jobs):
    X, y = classes
    reference = fit(small(n_blocks=3, n_regions=2, n_jobs=1), X, y)
    other = fit(small(n_blocks=3, n_regions=2, n_jobs=n_jobs), X, y)
    for a, b in zip(reference.coefs_, other.coefs_, strict=True):
        assert np.array_equal(a, b)


def test_early_stopping_keeps_the_lowest_validation_log_loss(classes):
    """The classifier stops on its validation log-loss (not the accuracy, which
    moves in steps of one row) and keeps the iterate with the lowest one; the
    accuracy of that iterate is ``best_validation_score_``."""
    X, y = classes
    tol = 1e-3
    est = fit(
        small(early_stopping=True, max_iter=200, n_iter_no_change=5, tol=tol), X, y
    )
    scores, losses = est.validation_scores_, np.array(est.validation_loss_curve_)
    assert len(scores) == len(losses) == est.n_iter_
    assert all(0.0 <= s <= 1.0 for s in scores)
    best = int(np.argmin(losses))
    assert est.best_loss_ == losses[best]
    assert est.best_validation_score_ == scores[best]
    assert est.stop_reason_.startswith("validation log-loss did not improve")
    # The stop: no iteration of the last five lowered the best loss by tol.
    last_gain = max(
        i
        for i in range(len(losses))
        if losses[i] < losses[:i].min(initial=np.inf) - tol
    )
    assert last_gain == est.n_iter_ - 6


def test_warm_start_continues_and_refuses_new_labels(classes):
    X, y = classes
    est = fit(small(warm_start=True, max_iter=10), X, y)
    fit(est, X, y)
    assert est.n_iter_ == 20
    with pytest.raises(ValueError, match="labels not seen in the first fit"):
        est.fit(X, np.where(y == 2, 7, y))


def test_alpha_auto_is_the_fixed_classification_penalty(classes):
    X, y = classes
    est = fit(ADMMResidualClassifier(width=16, max_iter=2, random_state=0), X, y)
    assert est.alpha_ == CLASSIFICATION_ALPHA


@pytest.mark.parametrize(
    "y, message",
    [
        (np.zeros(30, dtype=int), "at least 2 classes"),
        (np.linspace(0, 1, 30), "Unknown label type"),
        (np.r_[np.zeros(15), np.ones(14), np.nan], "NaN"),
    ],
)
def test_bad_targets_are_refused_before_any_work(y, message, monkeypatch):
    from skadmm import _base

    def fail(*args, **kwargs):
        raise AssertionError("training started")

    monkeypatch.setattr(_base, "init_weights", fail)
    X = np.random.default_rng(0).standard_normal((30, 3))
    with pytest.raises(ValueError, match=message):
        ADMMResidualClassifier().fit(X, y)


def test_one_class_left_by_sample_weights_is_refused():
    X = np.random.default_rng(0).standard_normal((10, 3))
    y = np.arange(10) % 2
    with pytest.raises(ValueError, match="class"):
        ADMMResidualClassifier().fit(X, y, sample_weight=y)


def test_multilabel_targets_are_refused():
    X = np.random.default_rng(0).standard_normal((10, 3))
    with pytest.raises(ValueError, match="1d array|binary and multiclass"):
        ADMMResidualClassifier().fit(X, np.eye(2)[np.arange(10) % 2])


def test_grid_search_and_clone(classes):
    X, y = classes
    search = GridSearchCV(small(max_iter=5), {"width": [4, 8]}, cv=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        search.fit(X, y)
    assert search.best_params_["width"] in (4, 8)
    assert clone(search.best_estimator_).get_params()["class_weight"] is None


def test_verbose_reports_log_loss_and_accuracy(classes, capsys):
    X, y = classes
    fit(small(verbose=2, max_iter=3, early_stopping=True), X, y)
    out = capsys.readouterr().out
    assert "train log-loss" in out and "validation accuracy" in out


# Penalties within each mode's condition for a monotone merit (see its page).
MODE_PENALTIES = {
    "reset": {},
    "radmm": {},
    "dladmm": {},
    "mdlam": {},
    "pdadmm": dict(beta=1.0, rho=5.0),
}


@pytest.mark.parametrize("solver", sorted(MODE_PENALTIES))
def test_every_solver_mode_trains_the_classifier(classes, solver):
    from skadmm._solvers import SOLVERS

    assert set(MODE_PENALTIES) == set(SOLVERS)
    X, y = classes
    est = fit(small(solver=solver, max_iter=15, **MODE_PENALTIES[solver]), X, y)
    curve = np.asarray(est.objective_curve_)
    assert np.all(np.diff(curve) <= 1e-10 * np.abs(curve[:-1]))
    proba = est.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-12)
    assert np.isin(est.predict(X), est.classes_).all()
    # The merit fell: the output block, the multiplier and the read-out ran
    # with the cross-entropy (at the default beta the research modes stay
    # near their random features, as for the regressor).
    assert curve[-1] < curve[0]

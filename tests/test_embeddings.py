"""Numeric embeddings: the encoders against brute force, and inside the estimators.

The encoders must be fitted on the training rows only (a cross-validation
fold's encoder sees its training rows, never its test rows), transform values
outside the training range to bounded codes, weigh rows as repetitions, and
give the same fit whether ``X`` (or the code) is dense or sparse.
"""

import pickle
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.model_selection import KFold, cross_validate

from skadmm import ADMMResidualClassifier, ADMMResidualRegressor
from skadmm._embeddings import (
    OneHotBinEmbedding,
    PeriodicEmbedding,
    PiecewiseLinearEmbedding,
    encoded_shape,
    make_embedding,
    resolve_n_bins,
)

from ._problems import estimator_memory_parts

PARAMS = dict(width=8, max_iter=5, random_state=0, alpha=0.1)


def _fit(est, X, y, **fit_params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return est.fit(X, y, **fit_params)


def _data(n=200, d=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    # A discrete column (ties: duplicate quantiles) and a binary one.
    X[:, 1] = rng.integers(0, 4, n)
    X[:, 2] = rng.integers(0, 2, n)
    y = np.sin(2 * X[:, 0]) + 0.3 * X[:, 1] + 0.1 * rng.standard_normal(n)
    return X, y


def _brute_edges(x, n_bins):
    """Distinct inverted-CDF quantiles at ``t / n_bins``: the smallest value
    whose empirical distribution function reaches the level."""
    xs = np.sort(x)
    n = len(xs)
    edges = []
    for t in range(n_bins + 1):
        k = max(int(np.ceil(t / n_bins * n - 1e-9)), 1)
        edges.append(xs[k - 1])
    return np.unique(edges)


def test_piecewise_code_against_brute_force():
    X, _ = _data()
    enc = PiecewiseLinearEmbedding(n_bins=8).fit(X)
    Z = enc.transform(X)
    mean, std = X.mean(axis=0), X.std(axis=0)
    np.testing.assert_allclose(Z[:, :3], (X - mean) / std, atol=1e-12)
    col = 3
    for j in range(3):
        edges = _brute_edges(X[:, j], 8)
        if len(edges) < 3:  # binary: z alone
            assert len(enc.bin_edges_[j]) == 0
            continue
        np.testing.assert_array_equal(enc.bin_edges_[j], edges)
        for t in range(1, len(edges)):
            lo, hi = edges[t - 1], edges[t]
            expected = [min(max((x - lo) / (hi - lo), 0.0), 1.0) for x in X[:, j]]
            np.testing.assert_allclose(Z[:, col], expected, atol=1e-12)
            col += 1
    assert col == Z.shape[1] == enc.n_output_features_


def test_onehot_code_against_brute_force():
    X, _ = _data()
    enc = OneHotBinEmbedding(n_bins=8).fit(X)
    Z = enc.transform(X)
    assert sp.issparse(Z)
    Z = Z.toarray()
    col = 3
    for j in range(3):
        edges = enc.bin_edges_[j]
        for t in range(1, len(edges)):
            lo, hi = edges[t - 1], edges[t]
            first, last = t == 1, t == len(edges) - 1
            inside = [(first or x >= lo) and (last or x < hi) for x in X[:, j]]
            np.testing.assert_array_equal(Z[:, col], np.array(inside, dtype=float))
            col += 1
    assert col == Z.shape[1]
    # Every binned column has exactly one bin per row.
    assert (Z[:, 3:].sum(axis=1) == 1 + (len(enc.bin_edges_[1]) > 0)).all()


def test_periodic_code():
    X, _ = _data()
    enc = PeriodicEmbedding(n_frequencies=4).fit(X)
    Z = enc.transform(X)
    z = (X - X.mean(axis=0)) / X.std(axis=0)
    f = np.geomspace(1 / 16, 1.0, 4)
    np.testing.assert_allclose(Z[:, 3 + 4], np.sin(2 * np.pi * f[0] * z[:, 1]))
    np.testing.assert_allclose(
        Z[:, 3 + 12 + 11], np.cos(2 * np.pi * f[3] * z[:, 2]), atol=1e-12
    )
    assert Z.shape[1] == enc.n_output_features_ == 3 * 9


@pytest.mark.parametrize("kind", ["piecewise", "onehot", "periodic"])
def test_values_outside_the_training_range(kind):
    X, _ = _data()
    enc = make_embedding(kind, 8).fit(X)
    low, high = X.min(axis=0) - 100.0, X.max(axis=0) + 100.0
    at_min, at_max = X.min(axis=0), X.max(axis=0)
    Z = enc.transform(np.vstack([low, high, at_min, at_max]))
    Z = Z.toarray() if sp.issparse(Z) else Z
    assert np.isfinite(Z).all()
    d = X.shape[1]
    # z extrapolates linearly.
    np.testing.assert_allclose(
        Z[:2, :d], (np.vstack([low, high]) - enc.mean_) / enc.scale_
    )
    if kind == "periodic":
        return
    # The binned codes clip: beyond the range, the code of its end.
    np.testing.assert_array_equal(Z[0, d:], Z[2, d:])
    np.testing.assert_array_equal(Z[1, d:], Z[3, d:])
    assert Z[:, d:].min() >= 0 and Z[:, d:].max() <= 1
    if kind == "piecewise":
        assert (Z[0, d:] == 0).all() and (Z[1, d:] == 1).all()


@pytest.mark.parametrize("kind", ["piecewise", "onehot", "periodic"])
def test_integer_weights_equal_repeated_rows(kind):
    X, _ = _data(n=60)
    w = np.random.default_rng(1).integers(0, 4, 60)
    weighted = make_embedding(kind, 8).fit(X, w.astype(float))
    repeated = make_embedding(kind, 8).fit(np.repeat(X, w, axis=0))
    Zw, Zr = weighted.transform(X), repeated.transform(X)
    if sp.issparse(Zw):
        Zw, Zr = Zw.toarray(), Zr.toarray()
    np.testing.assert_allclose(Zw, Zr, atol=1e-12)


def test_n_bins_auto():
    assert resolve_n_bins("auto", 100) == 4
    assert resolve_n_bins("auto", 800) == 10
    assert resolve_n_bins("auto", 1279) == 15
    assert resolve_n_bins("auto", 3918) == 32
    assert resolve_n_bins(5, 10**6) == 5


def test_each_fold_encodes_from_its_training_rows_only():
    # The test rows of each fold hold the extremes: a leaking encoder would
    # have edges (and a standardisation) that reach them.
    X, y = _data(n=400)
    X[:, 0] = np.arange(400.0)
    splits = list(KFold(4).split(X))
    est = ADMMResidualRegressor(embedding="piecewise", n_bins=8, **PARAMS)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cv = cross_validate(est, X, y, cv=splits, return_estimator=True)
    for (train, _), fitted in zip(splits, cv["estimator"], strict=True):
        emb = fitted.embedding_
        expected = PiecewiseLinearEmbedding(8).fit(X[train])
        for j in range(X.shape[1]):
            np.testing.assert_array_equal(emb.bin_edges_[j], expected.bin_edges_[j])
        np.testing.assert_allclose(emb.mean_, X[train].mean(axis=0))
        assert emb.bin_edges_[0][0] == X[train, 0].min()
        assert emb.bin_edges_[0][-1] == X[train, 0].max()


def test_encoder_sees_only_the_rows_of_positive_weight():
    X, y = _data()
    sw = np.ones(len(y))
    sw[:50] = 0.0
    fitted = _fit(
        ADMMResidualRegressor(embedding="piecewise", **PARAMS), X, y, sample_weight=sw
    )
    expected = PiecewiseLinearEmbedding(fitted.embedding_.n_bins).fit(X[50:])
    np.testing.assert_array_equal(
        fitted.embedding_.bin_edges_[0], expected.bin_edges_[0]
    )


@pytest.mark.parametrize("Est", [ADMMResidualRegressor, ADMMResidualClassifier])
@pytest.mark.parametrize("kind", ["piecewise", "onehot", "periodic"])
def test_sparse_and_dense_input_give_the_same_fit(Est, kind):
    X, y = _data()
    target = y if Est is ADMMResidualRegressor else (y > 0).astype(int)
    params = dict(PARAMS, embedding=kind, n_bins=6)
    dense = _fit(Est(**params), X, target)
    sparse = _fit(Est(**params), sp.csr_matrix(X), target)
    np.testing.assert_allclose(
        sparse.decision_function(X)
        if Est is ADMMResidualClassifier
        else sparse.predict(X),
        dense.decision_function(X)
        if Est is ADMMResidualClassifier
        else dense.predict(X),
        rtol=0,
        atol=1e-10,
    )
    # Prediction of sparse rows equals that of the same rows dense.
    np.testing.assert_allclose(
        dense.predict(sp.csr_matrix(X)), dense.predict(X), rtol=0, atol=0
    )


def test_sparse_and_dense_codes_give_the_same_fit(monkeypatch):
    # The one-hot code is CSR; densified, the fit must be the same.
    X, y = _data()
    params = dict(PARAMS, embedding="onehot", n_bins=6)
    sparse = _fit(ADMMResidualRegressor(**params), X, y)
    transform = OneHotBinEmbedding.transform
    monkeypatch.setattr(
        OneHotBinEmbedding, "transform", lambda self, X: transform(self, X).toarray()
    )
    dense = _fit(ADMMResidualRegressor(**params), X, y)
    np.testing.assert_allclose(sparse.predict(X), dense.predict(X), rtol=0, atol=1e-10)


def test_none_is_the_input_itself():
    X, y = _data()
    est = _fit(ADMMResidualRegressor(embedding="none", **PARAMS), X, y)
    assert est.embedding_.transform(X) is X
    assert est.coefs_[0].shape[0] == X.shape[1]


@pytest.mark.parametrize("kind", ["piecewise", "onehot", "periodic"])
def test_fitted_network_reads_the_embedding(kind):
    X, y = _data()
    est = _fit(ADMMResidualRegressor(embedding=kind, n_bins=8, **PARAMS), X, y)
    assert est.n_features_in_ == 3
    assert est.coefs_[0].shape[0] == est.embedding_.n_output_features_ > 3
    assert np.isfinite(est.predict(X * 100.0)).all()
    again = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(again.predict(X), est.predict(X))


def test_default_is_no_embedding():
    X, y = _data()
    est = _fit(ADMMResidualRegressor(**PARAMS), X, y)
    assert est.embedding_.kind == "none"
    plain = _fit(ADMMResidualRegressor(embedding="none", **PARAMS), X, y)
    np.testing.assert_array_equal(est.predict(X), plain.predict(X))


def test_warm_start_keeps_the_embedding():
    X, y = _data()
    est = ADMMResidualRegressor(embedding="piecewise", warm_start=True, **PARAMS)
    _fit(est, X, y)
    first = est.embedding_
    _fit(est, X[:150], y[:150])
    assert est.embedding_ is first
    est.set_params(n_bins=3)
    with pytest.raises(ValueError, match="embedding of the previous fit"):
        _fit(est, X, y)


def test_validation_rows_are_embedded():
    X, y = _data()
    est = _fit(
        ADMMResidualRegressor(embedding="piecewise", **PARAMS),
        X[:150],
        y[:150],
        X_val=X[150:],
        y_val=y[150:],
    )
    assert est.early_stopping_ and len(est.validation_scores_) == est.n_iter_


def test_memory_guard_counts_the_embedded_input():
    X, y = _data(n=2000, d=10)
    parts = {}
    for kind in ("none", "piecewise", "onehot"):
        est = ADMMResidualRegressor(embedding=kind, n_bins=16)
        parts[kind] = sum(estimator_memory_parts(est, X, y, None).values())
    assert parts["piecewise"] > parts["onehot"] > parts["none"]
    assert encoded_shape("piecewise", 16, X) == (170, None)
    assert encoded_shape("onehot", 16, X) == (170, 2 * 2000 * 10)


def test_hat_code_spans_the_piecewise_code():
    # Piecewise component t is the sum of hats t..T: the same functions.
    X, _ = _data()
    pl = PiecewiseLinearEmbedding(8).fit(X)
    hat = make_embedding("hat", 8).fit(X)
    Xt = np.vstack([X, X.min(axis=0) - 5, X.max(axis=0) + 5])
    P, H = pl.transform(Xt), hat.transform(Xt).toarray()
    np.testing.assert_array_equal(P[:, :3], H[:, :3])
    start = 3
    for n_bins in pl.n_bins_:
        block = H[:, start : start + n_bins]
        cumulative = np.cumsum(block[:, ::-1], axis=1)[:, ::-1]
        np.testing.assert_allclose(P[:, start : start + n_bins], cumulative, atol=1e-12)
        start += n_bins


def test_warm_start_of_a_model_without_embedding():
    # n_bins means nothing to "none"; a model pickled before embeddings
    # existed (no embedding_) warm-starts on X as it is.
    X, y = _data()
    est = _fit(ADMMResidualRegressor(warm_start=True, **PARAMS), X, y)
    est.set_params(n_bins=3)
    _fit(est, X, y)
    del est.embedding_
    _fit(est, X, y)
    assert est.embedding_.kind == "none"


# ------------------------------------------------------------ embedding="auto"
AUTO = dict(width=16, max_iter=30, random_state=0)


def _steps(n, seed=0):
    """A target of thresholds (where the one-hot code validates better)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 3))
    # Steps at the medians: edges of the quantile bins whatever their number.
    y = np.where(X[:, 0] > np.median(X[:, 0]), 2.0, 0.0)
    y += np.where(X[:, 1] > np.median(X[:, 1]), 1.0, -1.0)
    return X, y + 0.05 * rng.standard_normal(n)


def _linear(n, seed=0):
    """A linear target with noise (where a code only fits noise)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 3))
    return X, X @ np.array([1.0, -0.5, 0.25]) + 0.5 * rng.standard_normal(n)


@pytest.mark.parametrize(
    "data, expected", [(_steps(300), "onehot"), (_linear(300), "none")]
)
def test_auto_chooses_by_cross_validation_and_records_it(data, expected):
    X, y = data
    est = _fit(ADMMResidualRegressor(embedding="auto", **AUTO), X, y)
    record = est.alpha_search_
    assert record["rule"] == "cross-validation"
    assert record["embedding_rule"] == "cross-validation"
    assert record["embedding"] == est.embedding_.kind == expected
    errors = record["embedding_errors"]
    assert set(errors) == {"none", "onehot"}
    assert errors["none"] == np.nanmin(record["mean_errors"])
    assert (errors["onehot"] < errors["none"]) == (expected == "onehot")
    # The code was tried at the penalty chosen without it, on the same folds.
    assert len(record["code_fold_errors"]) == len(record["fold_errors"])
    # The fitted model is the chosen kind's, with the same penalty.
    plain = _fit(
        ADMMResidualRegressor(embedding=expected, alpha=est.alpha_, **AUTO), X, y
    )
    np.testing.assert_array_equal(est.predict(X), plain.predict(X))


def test_auto_is_deterministic():
    X, y = _steps(300)
    first = _fit(ADMMResidualRegressor(embedding="auto", **AUTO), X, y)
    second = _fit(ADMMResidualRegressor(embedding="auto", **AUTO), X, y)
    assert (
        first.alpha_search_["embedding_errors"]
        == (second.alpha_search_["embedding_errors"])
    )
    np.testing.assert_array_equal(first.predict(X), second.predict(X))


@pytest.mark.parametrize("n", [300, 2800])
def test_auto_encoders_see_only_the_training_rows(monkeypatch, n):
    """Every code the choice fits (the folds' and the final one, or the
    held-out comparison's) is fitted on rows of the fit's own training set,
    never on the rows of a cross-validation fold that tests it."""
    X, y = _steps(n)
    X[:, 0] = np.arange(n, dtype=float)  # each row tells which one it is
    seen = []
    original = OneHotBinEmbedding.fit

    def fit(self, X, sample_weight=None):
        seen.append(np.asarray(X)[:, 0].copy())
        return original(self, X, sample_weight)

    monkeypatch.setattr(OneHotBinEmbedding, "fit", fit)
    train, test = np.arange(n) % 5 != 0, np.arange(n) % 5 == 0
    params = dict(AUTO, max_iter=10, width=8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cv = cross_validate(
            ADMMResidualRegressor(embedding="auto", **params),
            X,
            y,
            cv=[(np.flatnonzero(train), np.flatnonzero(test))],
            return_estimator=True,
        )
    assert seen
    for rows in seen:
        assert train[rows.astype(int)].all()
    est = cv["estimator"][0]
    rule = "cross-validation" if n <= 2000 else "held-out"
    assert est.alpha_search_["embedding_rule"] == rule
    if rule == "cross-validation":
        # The folds' codes were fitted on two thirds of the training rows.
        assert min(len(rows) for rows in seen) < train.sum()


def test_auto_above_the_cross_validated_range_holds_out_rows():
    X, y = _steps(2300)
    est = ADMMResidualRegressor(embedding="auto", verbose=1, **AUTO)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from contextlib import redirect_stdout
        from io import StringIO

        out = StringIO()
        with redirect_stdout(out):
            est.fit(X, y)
    record = est.alpha_search_
    assert record["embedding_rule"] == "held-out"
    assert record["held_out_rows"] == 230
    assert record["embedding"] == est.embedding_.kind
    errors = record["embedding_errors"]
    assert record["embedding"] == min(errors, key=lambda k: (errors[k], k != "none"))
    assert "embedding='auto'" in out.getvalue()
    # The chosen fit's own rows: the others, split with a fixed seed.
    assert est.stages_[-1]["n_samples"] == 2300 - 230
    assert est.n_features_in_ == 3 and est.embedding_.params == ("auto", "auto")
    again = _fit(ADMMResidualRegressor(embedding="auto", **AUTO), X, y)
    np.testing.assert_array_equal(est.predict(X), again.predict(X))


def test_auto_held_out_rows_can_be_given():
    X, y = _steps(2600)
    est = _fit(
        ADMMResidualRegressor(embedding="auto", **AUTO),
        X[:2200],
        y[:2200],
        X_val=X[2200:],
        y_val=y[2200:],
    )
    assert est.alpha_search_["embedding_rule"] == "held-out"
    assert est.alpha_search_["held_out_rows"] == 400
    assert est.stages_[-1]["n_samples"] == 2200


def test_auto_classifier_and_a_given_alpha():
    X, y = _steps(300)
    labels = (y > 0.5).astype(int)
    clf = _fit(ADMMResidualClassifier(embedding="auto", **AUTO), X, labels)
    assert clf.alpha_search_["rule"] == "fixed"
    assert clf.alpha_search_["embedding_rule"] == "cross-validation"
    assert clf.alpha_search_["embedding"] == clf.embedding_.kind
    reg = _fit(ADMMResidualRegressor(embedding="auto", alpha=1e-2, **AUTO), X, y)
    assert reg.alpha_ == 1e-2 and reg.alpha_search_["rule"] == "given"
    assert reg.alpha_search_["candidates"] == [1e-2]
    assert reg.alpha_search_["embedding_rule"] == "cross-validation"


def test_auto_on_too_few_rows_is_none():
    X, y = _steps(20)
    est = _fit(ADMMResidualRegressor(embedding="auto", **AUTO), X, y)
    assert est.embedding_.kind == "none"
    assert est.alpha_search_["embedding_rule"] == "too few rows"


def test_warm_start_keeps_the_chosen_embedding():
    X, y = _steps(300)
    est = ADMMResidualRegressor(embedding="auto", warm_start=True, **AUTO)
    _fit(est, X, y)
    first = est.embedding_
    _fit(est, X, y)
    assert est.embedding_ is first
    assert est.alpha_search_["rule"] == "kept"


def test_auto_held_out_split_keeps_identical_rows_together():
    X, y = _steps(600)
    X, y = np.vstack([X, X[:200]]), np.concatenate([y, y[:200]])  # 200 repeats
    (X_tr, y_tr, _), (X_ho, y_ho, _) = ADMMResidualRegressor()._held_out_split(
        X, y, None
    )
    assert len(y_ho) + len(y_tr) == 800 and 60 <= len(y_ho) <= 100
    train_rows = {row.tobytes() for row in X_tr}
    assert not any(row.tobytes() in train_rows for row in X_ho)
    # A classifier's class with fewer rows than parts never leaves training.
    labels = (y > 0.5).astype(int)
    labels[:3] = 2
    (_, yc_tr, _), (_, yc_ho, _) = ADMMResidualClassifier()._held_out_split(
        X, labels, None
    )
    assert 2 in yc_tr and 2 not in yc_ho


def test_auto_integer_weights_choose_as_repeated_rows():
    # A row of weight k is k copies of it: the choice between the kinds sees
    # the same folds (identical rows together) and the same losses either way.
    X, y = _steps(200)
    counts = np.random.default_rng(3).integers(1, 4, len(y))
    weighted = _fit(
        ADMMResidualRegressor(embedding="auto", **AUTO), X, y, sample_weight=counts
    )
    repeated = _fit(
        ADMMResidualRegressor(embedding="auto", **AUTO),
        np.repeat(X, counts, axis=0),
        np.repeat(y, counts),
    )
    chosen = weighted.alpha_search_
    assert chosen["embedding_rule"] == "cross-validation"
    assert chosen["embedding"] == repeated.alpha_search_["embedding"]
    assert weighted.alpha_ == repeated.alpha_
    for kind, error in chosen["embedding_errors"].items():
        np.testing.assert_allclose(
            error, repeated.alpha_search_["embedding_errors"][kind], rtol=1e-6
        )

import gzip
import hashlib
import sys
from importlib.resources import files

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from skadmm.datasets import load_wine_quality

FEATURE_NAMES = [
    "fixed acidity",
    "volatile acidity",
    "citric acid",
    "residual sugar",
    "chlorides",
    "free sulfur dioxide",
    "total sulfur dioxide",
    "density",
    "pH",
    "sulphates",
    "alcohol",
]
# sha256 of the uncompressed originals, from the data README.
SHA256 = {
    "red": "57050ed70cee37ffe2617ad7a7717e4fbe71514c42341c781c1bbba93a7a21f5",
    "white": "3edb25c969af6efe4715ff60629542f4e7a49f6c52be1f662a12647b8f5b4f14",
}
N_RED, N_WHITE = 1599, 4898


@pytest.mark.parametrize("variant", ["red", "white"])
def test_shipped_files_match_checksums(variant):
    resource = files("skadmm.datasets") / "data" / f"winequality-{variant}.csv.gz"
    content = gzip.decompress(resource.read_bytes())
    assert hashlib.sha256(content).hexdigest() == SHA256[variant]


@pytest.mark.parametrize(
    "variant, n_samples, mean_quality",
    [("red", N_RED, 5.6360), ("white", N_WHITE, 5.8779)],
)
def test_single_variant(variant, n_samples, mean_quality):
    bunch = load_wine_quality(variant)
    assert bunch.data.shape == (n_samples, 11)
    assert bunch.target.shape == (n_samples,)
    assert bunch.data.dtype == np.float64
    assert bunch.target.dtype == np.float64
    assert round(bunch.target.mean(), 4) == mean_quality
    assert bunch.feature_names == FEATURE_NAMES
    assert bunch.target_names == ["quality"]
    assert bunch.frame is None
    assert bunch.variant == variant
    assert "Wine quality dataset" in bunch.DESCR
    assert "CC BY 4.0" in bunch.DESCR


def test_default_variant_is_red():
    assert load_wine_quality().variant == "red"


def test_all_variant_stacks_red_then_white_with_is_red():
    red = load_wine_quality("red")
    white = load_wine_quality("white")
    both = load_wine_quality("all")
    assert both.data.shape == (N_RED + N_WHITE, 12)
    assert both.target.shape == (N_RED + N_WHITE,)
    assert both.feature_names == [*FEATURE_NAMES, "is_red"]
    assert_array_equal(both.data[:, :11], np.vstack([red.data, white.data]))
    assert_array_equal(both.target, np.concatenate([red.target, white.target]))
    assert_array_equal(both.data[:N_RED, 11], 1.0)
    assert_array_equal(both.data[N_RED:, 11], 0.0)


@pytest.mark.parametrize("variant", ["red", "white", "all"])
def test_return_X_y(variant):
    X, y = load_wine_quality(variant, return_X_y=True)
    bunch = load_wine_quality(variant)
    assert_array_equal(X, bunch.data)
    assert_array_equal(y, bunch.target)


@pytest.mark.parametrize("variant", ["red", "all"])
def test_as_frame(variant):
    pd = pytest.importorskip("pandas")
    array_bunch = load_wine_quality(variant)
    bunch = load_wine_quality(variant, as_frame=True)
    assert isinstance(bunch.data, pd.DataFrame)
    assert isinstance(bunch.target, pd.Series)
    assert isinstance(bunch.frame, pd.DataFrame)
    assert list(bunch.data.columns) == array_bunch.feature_names
    assert bunch.target.name == "quality"
    assert list(bunch.frame.columns) == [*array_bunch.feature_names, "quality"]
    assert_array_equal(bunch.data.to_numpy(), array_bunch.data)
    assert_array_equal(bunch.target.to_numpy(), array_bunch.target)

    X, y = load_wine_quality(variant, return_X_y=True, as_frame=True)
    assert isinstance(X, pd.DataFrame)
    assert isinstance(y, pd.Series)


def test_pandas_only_needed_for_as_frame(monkeypatch):
    # A None entry in sys.modules makes `import pandas` raise ImportError.
    monkeypatch.setitem(sys.modules, "pandas", None)
    X, _ = load_wine_quality(return_X_y=True)
    assert isinstance(X, np.ndarray)
    with pytest.raises(ImportError, match="requires pandas"):
        load_wine_quality(as_frame=True)


@pytest.mark.parametrize("variant", ["rose", "RED", None, ""])
def test_bad_variant_raises(variant):
    with pytest.raises(ValueError, match="'red', 'white', 'all'"):
        load_wine_quality(variant)

"""The examples in the public docstrings run and give what they show."""

import doctest

import pytest

import skadmm._regressor
import skadmm.datasets._csbm
import skadmm.datasets._planetoid
import skadmm.datasets._wine_quality
import skadmm.graph

MODULES = [
    skadmm._regressor,
    skadmm.datasets._wine_quality,
    skadmm.datasets._csbm,
    skadmm.datasets._planetoid,
    skadmm.graph,
]


# The class example fits with the default max_iter; a ConvergenceWarning there
# is not part of the shown output.
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__)
def test_docstring_examples(module):
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0


def test_installed_package_is_tested():
    # Guards the CI promise: the suite imports skadmm from the installed wheel.
    assert (
        "site-packages" in skadmm._regressor.__file__
        or "CI" not in __import__("os").environ
    )

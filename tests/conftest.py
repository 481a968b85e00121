"""Data shared by the test files (builders in ``_problems.py``)."""

import pytest

from ._problems import class_data, regression_data


@pytest.fixture(scope="session")
def data():
    """The regression table of the estimator-level tests: 200 rows x 5."""
    return regression_data(200, 5, seed=1)


@pytest.fixture(scope="session")
def classes():
    """The three-class table of the classifier tests: 240 rows x 4."""
    return class_data()


@pytest.fixture
def interrupt_third_sweep(monkeypatch):
    """Ctrl-C during the third backward sweep of a sharded problem (a fit on
    Dask collections, or a row-blocked fit in process)."""
    from skadmm._sharded import ShardedProblem

    sweep = ShardedProblem.reset_sweep
    calls = []

    def interrupted(self, beta, run):
        calls.append(beta)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return sweep(self, beta, run)

    monkeypatch.setattr(ShardedProblem, "reset_sweep", interrupted)

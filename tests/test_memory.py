"""Memory guard: limit readers on fake files, the estimate against traced peaks."""

import tracemalloc
import warnings

import numpy as np
import pytest

from skadmm import ADMMResidualClassifier, ADMMResidualRegressor, _limits, _memory

from ._problems import estimator_memory_parts
from ._threads import meet_in_row_blocks

GIB = 2**30


@pytest.fixture
def fake_system(tmp_path, monkeypatch):
    """``/proc`` and ``/sys/fs/cgroup`` under ``tmp_path``, no RLIMIT_AS."""
    proc, cgroup = tmp_path / "proc", tmp_path / "cgroup"
    (proc / "self").mkdir(parents=True)
    cgroup.mkdir()
    monkeypatch.setattr(_limits, "PROC", proc)
    monkeypatch.setattr(_limits, "CGROUP", cgroup)
    infinity = _limits.resource.RLIM_INFINITY
    monkeypatch.setattr(_limits.resource, "getrlimit", lambda _: (infinity, infinity))
    (proc / "meminfo").write_text(
        "MemTotal:       16000000 kB\nMemAvailable:    8000000 kB\n"
    )
    (proc / "self" / "status").write_text("Name:\tpython\nVmSize:\t  100000 kB\n")
    (proc / "self" / "cgroup").write_text("0::/\n")
    return proc, cgroup


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_meminfo_only(fake_system):
    assert _limits.memory_limit() == (8000000 * 1024, _limits.READERS[0][0])


def test_rlimit_as_minus_vmsize(fake_system, monkeypatch):
    soft = 2 * GIB
    monkeypatch.setattr(_limits.resource, "getrlimit", lambda _: (soft, soft))
    limit, source = _limits.memory_limit()
    assert limit == soft - 100000 * 1024
    assert "RLIMIT_AS" in source


def test_cgroup_v2_takes_the_tightest_ancestor(fake_system):
    proc, cgroup = fake_system
    (proc / "self" / "cgroup").write_text("0::/job/step\n")
    write(cgroup / "job" / "step" / "memory.max", "max\n")
    write(cgroup / "job" / "step" / "memory.current", "100\n")
    write(cgroup / "job" / "memory.max", f"{GIB}\n")
    write(cgroup / "job" / "memory.current", f"{GIB // 4}\n")
    write(cgroup / "job" / "memory.stat", f"anon 5\ninactive_file {GIB // 8}\n")
    limit, source = _limits.memory_limit()
    assert limit == GIB - GIB // 4 + GIB // 8
    assert "cgroup v2" in source


def test_cgroup_v1_with_container_fallback(fake_system):
    proc, cgroup = fake_system
    # The host path of the cgroup is not mounted in the container: the root is.
    (proc / "self" / "cgroup").write_text("4:memory:/host/abc\n0::/\n")
    write(cgroup / "memory" / "memory.limit_in_bytes", f"{GIB}\n")
    write(cgroup / "memory" / "memory.usage_in_bytes", f"{GIB // 2}\n")
    limit, source = _limits.memory_limit()
    assert limit == GIB // 2
    assert "cgroup v1" in source
    # "No limit" is a huge number: MemAvailable decides again.
    write(cgroup / "memory" / "memory.limit_in_bytes", "9223372036854771712\n")
    assert _limits.memory_limit()[1] == _limits.READERS[0][0]


def test_no_readable_limit(fake_system):
    proc, _ = fake_system
    (proc / "meminfo").unlink()
    assert _limits.memory_limit() == (None, None)


def data(n_samples=600, n_features=6, n_outputs=1, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, n_features))
    y = X @ rng.standard_normal((n_features, n_outputs)) + 0.1 * rng.standard_normal(
        (n_samples, n_outputs)
    )
    return X, y[:, 0] if n_outputs == 1 else y


def test_guard_refuses_before_allocating(monkeypatch):
    # Weights alone: 5 layers of 20000 x 20000 float64 (16 GB a copy).
    X, y = data()
    limit = GIB
    monkeypatch.setattr(_memory, "memory_limit", lambda: (limit, "test limit"))
    est = ADMMResidualRegressor(width=20000, n_blocks=4, solver="radmm")
    tracemalloc.start()
    try:
        with pytest.raises(MemoryError, match=r"GiB.*limit: test limit.*`width`"):
            est.fit(X, y)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 0.05 * limit
    assert not hasattr(est, "coefs_")


def test_guard_lets_a_fit_just_above_its_estimate_run(monkeypatch):
    X, y = data()
    est = ADMMResidualRegressor(width=30, max_iter=2)
    nbytes = sum(estimator_memory_parts(est, X, y, None).values())
    monkeypatch.setattr(_memory, "memory_limit", lambda: (nbytes, "test limit"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(X, y)
    monkeypatch.setattr(_memory, "memory_limit", lambda: (nbytes - 1, "test limit"))
    with pytest.raises(MemoryError, match="solver='radmm'"):
        est.fit(X, y)


CONFIGS = {
    "reset": (dict(width=120), {}),
    "reset deep": (dict(width=80, n_blocks=2), {}),
    "reset wide few rows": (dict(width=300, n_blocks=1), dict(n_samples=150)),
    # Streamed row blocks (skadmm._row_blocks): a block's state at a time.
    "reset row blocks": (dict(width=40, n_jobs=2), dict(n_samples=40_000)),
    # The classifier's blocks hold its trials' features for every row, and
    # its stage on all the rows casts X and Y to float32.
    "classifier row blocks": (dict(width=60, n_jobs=2), dict(n_samples=30_000)),
    "reset two deep": (dict(width=100, n_blocks=3, splitting="two"), {}),
    "reset two regions": (
        dict(width=60, n_blocks=2, splitting="two", n_regions=2, n_jobs=2),
        {},
    ),
    "radmm three": (dict(width=100, n_blocks=2, solver="radmm"), {}),
    "radmm two": (dict(width=100, n_blocks=1, solver="radmm", splitting="two"), {}),
    "radmm linearized": (
        dict(width=100, n_blocks=1, solver="radmm", update="linearized"),
        {},
    ),
    "early stopping, 3 outputs": (
        dict(width=60, n_blocks=1, early_stopping=True),
        dict(n_outputs=3),
    ),
    "regions": (
        dict(width=60, n_blocks=2, solver="radmm", n_regions=2, n_jobs=2),
        {},
    ),
    "dladmm": (dict(width=100, n_blocks=2, solver="dladmm"), {}),
    "dladmm wide few rows": (
        dict(width=300, n_blocks=1, solver="dladmm"),
        dict(n_samples=150),
    ),
    "mdlam": (dict(width=100, n_blocks=2, solver="mdlam"), {}),
    "mdlam wide few rows": (
        dict(width=300, n_blocks=1, solver="mdlam"),
        dict(n_samples=150),
    ),
    "pdadmm": (dict(width=100, n_blocks=2, solver="pdadmm", beta=1.0, rho=4.5), {}),
    "pdadmm regions": (
        dict(
            width=60,
            n_blocks=4,
            solver="pdadmm",
            beta=1.0,
            rho=4.5,
            n_regions=2,
            n_jobs=2,
        ),
        {},
    ),
    "pdadmm quantized p, 16 bits": (
        dict(
            width=150,
            n_blocks=1,
            solver="pdadmm",
            beta=1.0,
            rho=4.5,
            quantize="p",
            quantize_bits=16,
        ),
        {},
    ),
    "pdadmm quantized pq": (
        dict(width=100, n_blocks=2, solver="pdadmm", beta=1.0, rho=4.5, quantize="pq"),
        {},
    ),
    "pdadmm early stopping": (
        dict(
            width=150,
            n_blocks=1,
            solver="pdadmm",
            beta=1.0,
            rho=4.5,
            early_stopping=True,
        ),
        {},
    ),
}


@pytest.mark.parametrize("name", list(CONFIGS))
def test_estimate_brackets_the_traced_peak(name, monkeypatch):
    # numpy reports its array allocations to tracemalloc, so the traced peak is
    # the arrays' peak; the estimate must cover it without being far above.
    # The estimate counts a block's state per thread of the row blocks: both
    # threads must take part, which a loaded machine might not let happen.
    meet_in_row_blocks(monkeypatch)
    params, shape = CONFIGS[name]
    X, y = data(**{"n_samples": 1000, **shape})
    estimator = ADMMResidualRegressor
    if name.startswith("classifier"):
        estimator, y = (
            ADMMResidualClassifier,
            np.digitize(y, np.quantile(y, [0.3, 0.7])),
        )
    est = estimator(max_iter=1, random_state=0, **params)
    estimate = sum(estimator_memory_parts(est, X, y, None).values())
    tracemalloc.start()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est.fit(X, y)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak <= estimate <= 2.5 * peak, (estimate / peak, name)


def test_float32_halves_the_estimate():
    X, y = data()
    est = ADMMResidualRegressor(width=50)
    full = sum(estimator_memory_parts(est, X, y, None).values())
    half = sum(estimator_memory_parts(est, X.astype(np.float32), y, None).values())
    assert half == pytest.approx(full / 2, rel=1e-6)


def traced_peak(est, X, y):
    tracemalloc.start()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est.fit(X, y)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("solver", ["reset", "radmm"])
def test_two_splitting_needs_less_memory_when_deep(solver):
    # Two n_samples x width arrays per hidden layer instead of three, against a
    # few whole scratch arrays of the two-splitting's backtracked blocks.
    X, y = data(n_samples=2000)
    params = dict(width=100, n_blocks=4, max_iter=1, random_state=0, solver=solver)
    peaks, estimates = {}, {}
    for splitting in ["two", "three"]:
        est = ADMMResidualRegressor(splitting=splitting, **params)
        estimates[splitting] = sum(estimator_memory_parts(est, X, y, None).values())
        peaks[splitting] = traced_peak(est, X, y)
    assert peaks["two"] < 0.9 * peaks["three"], peaks
    assert estimates["two"] < estimates["three"], estimates

"""The reset-solver variants screened by ``benchmarks/bench_reset_variants.py``.

They are not part of skadmm, but the measured table is only meaningful if each
variant keeps the property the default mode guarantees: the true training
objective, computed from scratch, never increases. With no option the variant
class must run exactly the one-sweep solver without extrapolation, and the
adopted variant exactly the solver's default.
"""

import numpy as np
import pytest

from skadmm._activations import ACTIVATIONS
from skadmm._parallel import run_in_order as _run_in_order
from skadmm._solvers._reset import ResetSolver

from ._benchmarks import imported, needs
from .test_reset import make_problem, true_objective

pytestmark = needs("bench_reset_variants.py")
OPTIONS = {
    "nesterov, 2 sweeps, per layer": dict(
        momentum="nesterov", min_gain=0.1, n_sweeps=2, per_layer=True
    ),
    "adaptive, 3 sweeps": dict(momentum="adaptive", n_sweeps=3),
}


@pytest.fixture(scope="module")
def variants():
    with imported("bench_reset_variants") as (module,):
        yield module


def make_solver(variants, options):
    cls = type("Variant", (variants.VariantSolver,), {"options": options})
    return cls(1, 0.0, 1, eta=0.1, eta_max=10.0, mu=1.0)


@pytest.mark.parametrize("options", list(OPTIONS))
@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_variants_never_increase_the_true_objective(variants, activation, options):
    problem, X, Y, sw, act = make_problem(activation, n_blocks=2, weighted=True)
    mode = make_solver(variants, OPTIONS[options])
    values = [mode.setup(problem)[0]]
    for _ in range(12):
        value, _ = mode.step(problem, _run_in_order)
        expected = true_objective(problem.W, X, Y, sw, act, problem.alpha)
        np.testing.assert_allclose(value, expected, rtol=1e-10)
        values.append(value)
    assert np.all(np.diff(values) <= 0.0), np.diff(values).max()
    assert values[-1] < 0.95 * values[0]


def run_steps(mode, n_steps=6):
    problem, *_ = make_problem("tanh", n_blocks=1)
    values = [mode.setup(problem)[0]]
    values += [mode.step(problem, _run_in_order)[0] for _ in range(n_steps)]
    return values, problem.weights()


@pytest.mark.parametrize(
    "options, extrapolate",
    [({}, False), (dict(momentum="nesterov", min_gain=0.1), True)],
    ids=["no option: one sweep", "nesterov_gain: the adopted default"],
)
def test_variant_runs_exactly_the_solver(variants, options, extrapolate):
    reference = ResetSolver(
        1, 0.0, 1, eta=0.1, eta_max=10.0, mu=1.0, extrapolate=extrapolate
    )
    expected, expected_weights = run_steps(reference)
    values, weights = run_steps(make_solver(variants, options))
    assert values == expected
    for W, V in zip(weights, expected_weights, strict=True):
        np.testing.assert_array_equal(W, V)


def test_a_rising_extrapolation_is_rejected_and_restarts(variants, monkeypatch):
    problem, *_ = make_problem("relu")
    mode = make_solver(variants, dict(momentum="nesterov"))
    mode.setup(problem)
    for _ in range(3):
        mode.step(problem, _run_in_order)
    assert mode._t > 1
    before, value = problem.weights(), mode.value
    readout = variants.VariantSolver._readout
    # The extrapolated point's objective is declared higher than the current one.
    monkeypatch.setattr(
        variants.VariantSolver,
        "_readout",
        lambda self, p, hidden: (readout(self, p, hidden)[0], value * (1 + 1e-12)),
    )
    mode._extrapolate(problem, before)
    assert mode.value == value and mode._t == 1
    for W, V in zip(problem.W, before, strict=True):
        np.testing.assert_array_equal(W, V)


def test_each_variant_is_compared_with_its_own_baseline(variants):
    def row(name, mse):
        out = dict(dataset="d", variant=name)
        for n in variants.CHECKPOINTS:
            out |= {f"mse_{n}": mse, f"objective_{n}": 1.0, f"time_{n}": 1.0}
        return out

    mse = dict(
        default=2.0,
        nesterov=1.0,
        deep_default=8.0,
        deep_per_layer=4.0,
        deep_nesterov_gain=5.0,
        deep_nesterov_gain_per_layer=4.0,
    )
    rows = variants.add_ratios([row(name, value) for name, value in mse.items()])
    ratio = {r["variant"]: r["mse_200_ratio"] for r in rows}
    assert ratio == dict(
        default=1.0,
        nesterov=0.5,
        deep_default=1.0,
        deep_per_layer=0.5,
        deep_nesterov_gain=0.625,
        # Per-layer factors on top of the default solver, against that solver.
        deep_nesterov_gain_per_layer=0.8,
    )


def test_variants_screened_apart_then_combined(variants, tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    common = ["--quick", "--datasets", "sine"]
    variants.main([*common, "--variants", "deep_default", "--out", str(first)])
    variants.main([*common, "--variants", "deep_nesterov_gain", "--out", str(second)])
    files = [str(d / "reset_variants.csv") for d in (first, second)]
    variants.main(["--combine", *files, "--out", str(tmp_path)])
    rows = {r["variant"]: r for r in variants.read_csv(tmp_path / "reset_variants.csv")}
    assert set(rows) == {"deep_default", "deep_nesterov_gain"}
    expected = float(rows["deep_nesterov_gain"]["mse_200"]) / float(
        rows["deep_default"]["mse_200"]
    )
    assert float(rows["deep_nesterov_gain"]["mse_200_ratio"]) == pytest.approx(
        expected, rel=1e-3
    )

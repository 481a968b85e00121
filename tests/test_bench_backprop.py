"""The same-objective benchmark against backpropagation: its objective is the
one both sides minimise, and a smoke run writes its tables."""

import csv

import numpy as np
import pytest
from sklearn.neural_network import MLPRegressor

from skadmm import ADMMResidualRegressor

from ._benchmarks import imported, needs

pytestmark = [
    needs("bench_backprop.py"),
    # Short fits on purpose: both stop at their iteration limits.
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"),
]


@pytest.fixture(scope="module")
def bench():
    with imported("bench_backprop") as (module,):
        yield module


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((120, 3))
    y = np.sin(2 * X[:, 0]) + X[:, 1] * X[:, 2]
    return X, (y - y.mean()) / y.std()


def test_objective_is_mlp_loss_at_alpha_times_n(bench, data):
    """scikit-learn's own final loss (half MSE + penalty / n) is F at alpha."""
    X, y = data
    alpha = 3e-3
    mlp = bench.make_model("lbfgs", alpha, len(y), max_iter_scale=0.01)
    assert isinstance(mlp, MLPRegressor)
    mlp.fit(X, y)
    assert bench.objective(mlp, X, y, alpha) == pytest.approx(mlp.loss_, rel=1e-9)


def test_objective_is_the_reset_modes_merit(bench, data):
    """On a standardised target, F of the fitted weights is the last merit of
    the reset mode's curve (read-out not refitted after the run)."""
    X, y = data
    alpha = 3e-3
    model = ADMMResidualRegressor(
        width=20, alpha=alpha, max_iter=15, refit_readout=False, random_state=0
    ).fit(X, y)
    F = bench.objective(model, X, y, alpha)
    assert F == pytest.approx(model.objective_curve_[-1], rel=1e-6)


def test_quick_run_writes_ratios_to_lbfgs(bench, tmp_path):
    out = ["--quick", "--datasets", "sine", "--out", str(tmp_path)]
    bench.main([*out, "--parts", "table"])
    text = (tmp_path / "backprop.md").read_text()
    for name in bench.MODELS:
        assert f"| sine | {name} |" in text
    assert "`reset` against `lbfgs`" in text


def test_curves_hold_every_curve_model(bench, data):
    """The F-against-time points (no figure: matplotlib is a docs extra)."""
    X, y = data
    rows = bench.curve_rows("toy", X, y, max_iter_scale=0.02)
    assert {r["model"] for r in rows} == set(bench.CURVE_MODELS)
    backprop = [r for r in rows if r["model"] == "lbfgs"]
    assert len(backprop) == len(bench.MLP_ITERATIONS)
    assert all(r["objective"] > 0 and r["seconds"] >= 0 for r in rows)


def test_curves_figure(bench, tmp_path):
    pytest.importorskip("matplotlib")
    bench.main(["--quick", "--datasets", "sine", "--out", str(tmp_path)])
    with open(tmp_path / "backprop_curves.csv", newline="") as f:
        curves = list(csv.DictReader(f))
    assert {r["model"] for r in curves} == set(bench.CURVE_MODELS)
    assert (tmp_path / "backprop_curves.png").stat().st_size > 0

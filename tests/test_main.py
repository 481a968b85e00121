"""The main job (python -m skadmm): end to end, its table, and Ctrl-C."""

import io
import signal
import subprocess
import sys
import time

import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

from skadmm import ADMMResidualRegressor
from skadmm.__main__ import main
from skadmm._solvers._reset import ResetSolver
from skadmm.datasets import load_wine_quality
from skadmm.exceptions import FitInterruptedWarning


def test_main_job_prints_progress_and_table():
    out = io.StringIO()
    tables = main(["--variant", "red", "--folds", "2", "--task", "regression"], out=out)
    assert list(tables) == ["regression"]
    rows = tables["regression"]
    text = out.getvalue()
    assert text.count("fold 2/2") == 3
    assert "| red | ADMMResidualRegressor |" in text
    assert "Classification" not in text
    names = [name for _, name, _, _ in rows]
    assert names == ["ADMMResidualRegressor", "Ridge", "MLPRegressor"]
    for _, _, mses, seconds in rows:
        assert mses.shape == (2,) and (mses > 0).all() and (mses < 1.0).all()
        assert (seconds >= 0).all()


def test_main_job_classification_table():
    out = io.StringIO()
    tables = main(
        ["--variant", "red", "--folds", "2", "--task", "classification"], out=out
    )
    assert list(tables) == ["classification"]
    text = out.getvalue()
    assert "MSE" not in text  # no regression fit
    assert "red: 1599 samples, 11 features, 3 classes (744/638/217 rows)" in text
    assert text.count("fold 2/2") == 3
    assert "| red | ADMMResidualClassifier |" in text
    rows = tables["classification"]
    names = [name for _, name, *_ in rows]
    assert names == ["ADMMResidualClassifier", "LogisticRegression", "MLPClassifier"]
    for _, _, accs, losses, seconds in rows:
        assert accs.shape == losses.shape == seconds.shape == (2,)
        # Three classes, the largest with 47 % of the rows: every model beats
        # the majority class and the uniform guess (log-loss ln 3 = 1.10).
        assert (accs > 0.5).all() and (accs <= 1.0).all()
        assert (losses > 0).all()
    admm, logreg, _ = rows
    assert (admm[3] < 1.0).all() and (logreg[3] < 1.0).all()
    # The table reports the per-fold numbers it returns.
    assert f"| {admm[2].mean():.4f} | {admm[2].std():.4f} |" in text


def test_quality_classes():
    from skadmm.datasets._wine_quality import quality_classes

    assert quality_classes([3, 5, 5.0, 6, 7, 9]).tolist() == [0, 0, 0, 1, 2, 2]


def test_module_entry_point_help():
    done = subprocess.run(
        [sys.executable, "-m", "skadmm", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "--variant" in done.stdout and "--task" in done.stdout
    assert "at least 2" in done.stdout  # every option says what it takes


@pytest.mark.parametrize("folds", ["0", "1", "-3", "abc"])
def test_bad_folds_are_a_usage_error_before_any_work(folds, capsys):
    """A usage error (exit 2), not a traceback from KFold after the data load."""
    with pytest.raises(SystemExit) as stop:
        main(["--folds", folds])
    assert stop.value.code == 2
    assert "--folds" in capsys.readouterr().err


def test_interrupted_fit_stops_the_job(monkeypatch):
    # A direct fit turns Ctrl-C into a warning and returns; the job must not
    # carry on with the next fold or model.
    handler = signal.getsignal(signal.SIGINT)
    calls = []

    def interrupted_step(self, problem, run):
        calls.append(1)
        raise KeyboardInterrupt

    monkeypatch.setattr(ResetSolver, "step", interrupted_step)
    out = io.StringIO()
    with pytest.raises(SystemExit) as stop:
        main(["--variant", "red", "--folds", "3"], out=out)
    assert stop.value.code == 130
    assert len(calls) == 1
    text = out.getvalue()
    assert "fold 1/3" not in text and "Ridge" not in text
    assert "Interrupted by the user" in text
    # The handler of the job is gone: Ctrl-C means what it meant before (the
    # default KeyboardInterrupt, or nothing in a background job).
    assert signal.getsignal(signal.SIGINT) is handler


def test_interrupted_classifier_fit_stops_the_job(monkeypatch):
    # The classification task stops the same way, before its table.
    handler = signal.getsignal(signal.SIGINT)
    calls = []

    def interrupted_step(self, problem, run):
        calls.append(1)
        raise KeyboardInterrupt

    monkeypatch.setattr(ResetSolver, "step", interrupted_step)
    out = io.StringIO()
    with pytest.raises(SystemExit) as stop:
        main(["--variant", "red", "--folds", "3", "--task", "classification"], out=out)
    assert stop.value.code == 130
    assert len(calls) == 1
    text = out.getvalue()
    assert "fold 1/3" not in text and "LogisticRegression" not in text
    assert "Interrupted by the user" in text
    assert signal.getsignal(signal.SIGINT) is handler


def test_direct_fit_keeps_weights_with_a_dedicated_warning(monkeypatch):
    X, y = load_wine_quality("red", return_X_y=True)
    X = StandardScaler().fit_transform(X[:300])
    y = y[:300]
    real_step = ResetSolver.step
    calls = []

    def step_then_interrupt(self, problem, run):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real_step(self, problem, run)

    monkeypatch.setattr(ResetSolver, "step", step_then_interrupt)
    # A fixed alpha: no cross-validation fits before the training itself.
    est = ADMMResidualRegressor(width=20, alpha=3e-3, random_state=0)
    with pytest.warns(FitInterruptedWarning, match="interrupted by the user"):
        est.fit(X, y)
    assert est.n_iter_ == 2
    assert issubclass(FitInterruptedWarning, ConvergenceWarning)


def test_ctrl_c_during_the_alpha_search_stops_the_fit(monkeypatch):
    # alpha='auto' fits clones on 100-2000 rows; none of them may swallow the
    # interrupt and let the search go on (there are no weights to keep yet).
    X, y = load_wine_quality("red", return_X_y=True)
    X = StandardScaler().fit_transform(X[:300])
    calls = []

    def interrupted_step(self, problem, run):
        calls.append(1)
        raise KeyboardInterrupt

    monkeypatch.setattr(ResetSolver, "step", interrupted_step)
    est = ADMMResidualRegressor(width=20, random_state=0)
    with pytest.raises(KeyboardInterrupt):
        est.fit(X, y[:300])
    assert len(calls) == 1
    assert not hasattr(est, "coefs_")


def test_ctrl_c_ends_the_module_with_status_130():
    job = subprocess.Popen(
        [sys.executable, "-m", "skadmm", "--variant", "red", "--folds", "5"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # SIGINT once the first fit has started.
        for line in job.stdout:
            if line.startswith("red:"):
                break
        time.sleep(0.3)
        job.send_signal(signal.SIGINT)
        rest, _ = job.communicate(timeout=60)
    finally:
        job.kill()
    assert job.returncode == 130
    assert "Interrupted by the user" in rest
    # At most the fold in flight when the signal came completed.
    assert rest.count("fold") <= 1

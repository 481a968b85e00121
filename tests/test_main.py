"""The main job (python -m skadmm) runs end to end and prints its table."""

import io
import subprocess
import sys

from skadmm.__main__ import main


def test_main_job_prints_progress_and_table():
    out = io.StringIO()
    rows = main(["--variant", "red", "--folds", "2"], out=out)
    text = out.getvalue()
    assert text.count("fold 2/2") == 3
    assert "| red | ADMMResidualRegressor |" in text
    names = [name for _, name, _, _ in rows]
    assert names == ["ADMMResidualRegressor", "Ridge", "MLPRegressor"]
    for _, _, mses, seconds in rows:
        assert mses.shape == (2,) and (mses > 0).all() and (mses < 1.0).all()
        assert (seconds >= 0).all()


def test_module_entry_point_help():
    done = subprocess.run(
        [sys.executable, "-m", "skadmm", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "--variant" in done.stdout

"""The documentation agrees with the code it describes."""

import re
from pathlib import Path

import pytest

from skadmm import ADMMResidualClassifier, ADMMResidualRegressor
from skadmm._solvers import SOLVERS

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "doc"
NUMBERS = {"both": 2, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6}


def _texts():
    yield "ADMMResidualRegressor", ADMMResidualRegressor.__doc__
    yield "ADMMResidualClassifier", ADMMResidualClassifier.__doc__
    for path in sorted(DOC.glob("*.rst")) + [ROOT / "README.md"]:
        if path.exists():
            yield path.name, path.read_text()


def _flat(text):
    return " ".join(text.split())


TEXTS = dict(_texts())


@pytest.mark.parametrize("name", list(TEXTS))
def test_every_count_of_the_modes_is_the_number_of_solvers(name):
    # "Three further modes" counts a subset; "N (training) modes" counts them all.
    pattern = r"\b(both|two|three|four|five|six)\s+(?:training\s+)?modes\b"
    for match in re.finditer(pattern, _flat(TEXTS[name]), re.IGNORECASE):
        assert NUMBERS[match.group(1).lower()] == len(SOLVERS), (name, match[0])


def test_the_regressor_names_every_mode():
    summary = ADMMResidualRegressor.__doc__.split("Parameters\n")[0]
    for solver in SOLVERS:
        assert f'"{solver}"' in summary, solver


def test_the_cost_of_an_iteration_counts_the_read_out():
    # O(n_blocks * ...) would be 0 for the default n_blocks=0.
    notes = _flat(ADMMResidualRegressor.__doc__.split("Notes\n")[1])
    assert "O((n_blocks + 1) * (n_samples * width**2 + width**3))" in notes
    if DOC.exists():
        guide = _flat((DOC / "user_guide.rst").read_text())
        assert r"(n_\text{blocks} + 1) (N n^2 + n^3)" in guide


@pytest.mark.skipif(not DOC.exists(), reason="documentation sources not present")
def test_the_user_guide_says_the_validation_curves_continue_on_warm_starts():
    guide = _flat((DOC / "user_guide.rst").read_text())
    section = guide.split("Warm starts --")[1][:1200]
    continued = section.split("continue across warm-started calls")[0]
    for curve in ("validation_scores_", "validation_loss_curve_", "loss_curve_"):
        assert curve in continued, curve


# Built from parts so that this file does not match itself.
OUTSIDE = ("ALGORITHM" + ".md", ".." + "/shared", "design" + "/")


@pytest.mark.skipif(not DOC.exists(), reason="repository sources not present")
def test_nothing_cites_a_file_outside_the_repository():
    suffixes = {".py", ".rst", ".md", ".toml", ".txt", ".cfg"}
    cited = []
    for folder in ("skadmm", "tests", "doc", "examples", "benchmarks"):
        for path in (ROOT / folder).rglob("*"):
            if path.suffix not in suffixes or "_build" in path.parts:
                continue
            text = path.read_text(errors="replace")
            cited += [f"{path}: {s}" for s in OUTSIDE if s in text]
    readme = (ROOT / "README.md").read_text()
    cited += [f"README.md: {s}" for s in OUTSIDE if s in readme]
    assert not cited


INVENTORIES = DOC / "_inventories"
# Pages whose text the documentation renders: the .rst pages and the public
# docstrings.
RENDERED = [
    *sorted(DOC.glob("*.rst")),
    *(ROOT / "skadmm" / name for name in ("_docs.py", "_regressor.py")),
    *(ROOT / "skadmm" / name for name in ("_classifier.py", "exceptions.py")),
    *sorted((ROOT / "skadmm" / "datasets").glob("*.py")),
]
EXTERNAL = r"sklearn|numpy|scipy|joblib|warnings|copy|pickle|tracemalloc"


def _inventory_builder():
    import importlib.util

    path = INVENTORIES / "build_inventories.py"
    spec = importlib.util.spec_from_file_location("build_inventories", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(not INVENTORIES.exists(), reason="documentation not present")
def test_the_shipped_inventories_are_those_the_script_writes():
    builder = _inventory_builder()
    for key, (project, version, entries) in builder.INVENTORIES.items():
        shipped = (INVENTORIES / f"{key}.inv").read_bytes()
        assert shipped == builder.inventory(project, version, entries), key


@pytest.mark.skipif(not INVENTORIES.exists(), reason="documentation not present")
def test_every_external_reference_of_the_docs_is_in_an_inventory():
    builder = _inventory_builder()
    names = {e[0] for _, _, entries in builder.INVENTORIES.values() for e in entries}
    conf = {}
    exec((DOC / "conf.py").read_text(), conf)
    # Offline: every mapping reads a shipped file, and a missing name is no error.
    assert set(conf["intersphinx_mapping"]) == set(builder.INVENTORIES)
    for _, inventory in conf["intersphinx_mapping"].values():
        assert (DOC / inventory).is_file(), inventory
    assert not conf.get("nitpicky", False)
    role = r":(?:class|func|meth|mod|obj|exc|data|attr):`~?((?:%s)\.?[\w.]*)`"
    missing = set()
    for path in RENDERED:
        for name in re.findall(role % EXTERNAL, path.read_text()):
            if name not in names and not name.startswith("threadpoolctl"):
                missing.add(f"{path.name}: {name}")
    assert not missing


@pytest.mark.skipif(not DOC.exists(), reason="documentation not present")
def test_the_practical_guide_is_linked_and_covers_every_warning_and_mode():
    import skadmm.exceptions

    assert "\n   practical_guide\n" in (DOC / "index.rst").read_text()
    guide = (DOC / "practical_guide.rst").read_text()
    warned = [
        name
        for name in skadmm.exceptions.__all__
        if name.endswith("Warning") or name.endswith("Error")
    ]
    for name in [*warned, "MemoryError", "ignores"]:
        assert name in guide, name
    for solver in SOLVERS:
        assert f'"{solver}"' in guide, solver
    for parameter in ("alpha", "early_stopping", "n_jobs", "n_regions", "width"):
        assert f"``{parameter}" in guide, parameter


@pytest.mark.parametrize("section", ["objective_curve_ :", "tol :"])
def test_the_merit_of_every_mode_is_named(section):
    text = ADMMResidualRegressor.__doc__.split(section)[1]
    entry = re.split(r"\n    \w+ : ", text)[0]
    for solver in SOLVERS:
        assert f'"{solver}"' in entry, (section, solver)

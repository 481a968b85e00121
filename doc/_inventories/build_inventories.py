"""Write the small intersphinx inventories that the documentation ships.

The documentation is built without network access, so Sphinx cannot download
the inventories (``objects.inv``) of scikit-learn, NumPy, SciPy, joblib and
Python. This script writes, next to itself, one inventory per project holding
only the names that skadmm's pages and docstrings refer to, with the public
URLs of the projects' own documentation; ``doc/conf.py`` points
``intersphinx_mapping`` at them. A reference to a name missing here renders as
plain text (``nitpicky`` is off), so add a name when a page starts citing it,
rerun ``python doc/_inventories/build_inventories.py`` and commit the output.

The format is Sphinx's inventory version 2: four header lines, then
zlib-compressed lines ``name domain:role priority uri dispname``, where a
``uri`` ending in ``$`` stands for the uri followed by the name and a
``dispname`` of ``-`` for the name itself (as ``sphinx.util.inventory`` writes
them).
"""

import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent

# Where each kind of page lives, relative to the project's base URL (the
# mapping's first element in doc/conf.py).
SKLEARN_API = "modules/generated/$.html#$"
NUMPY_API = "reference/generated/$.html#$"
SCIPY_API = "reference/generated/$.html#$"
JOBLIB_API = "generated/$.html#$"

# project: (version label, [(name, domain:role, uri), ...]); a uri with "$"
# before the anchor has that "$" replaced by the name as well.
INVENTORIES = {
    "sklearn": (
        "scikit-learn",
        "stable",
        [
            *(
                (name, "py:class", SKLEARN_API)
                for name in (
                    "sklearn.base.BaseEstimator",
                    "sklearn.base.ClassifierMixin",
                    "sklearn.base.RegressorMixin",
                    "sklearn.ensemble.HistGradientBoostingRegressor",
                    "sklearn.exceptions.ConvergenceWarning",
                    "sklearn.exceptions.InconsistentVersionWarning",
                    "sklearn.linear_model.LogisticRegression",
                    "sklearn.linear_model.Ridge",
                    "sklearn.linear_model.RidgeCV",
                    "sklearn.model_selection.GridSearchCV",
                    "sklearn.neural_network.MLPClassifier",
                    "sklearn.neural_network.MLPRegressor",
                    "sklearn.pipeline.Pipeline",
                    "sklearn.preprocessing.StandardScaler",
                    "sklearn.utils.Bunch",
                )
            ),
            *(
                (name, "py:function", SKLEARN_API)
                for name in (
                    "sklearn.datasets.make_regression",
                    "sklearn.metrics.r2_score",
                    "sklearn.model_selection.cross_val_score",
                    "sklearn.model_selection.train_test_split",
                    "sklearn.pipeline.make_pipeline",
                )
            ),
            # Glossary terms, for the parameter types of the docstrings.
            ("array-like", "std:term", "glossary.html#term-array-like"),
            ("early stopping", "std:term", "glossary.html#term-early-stopping"),
            ("n_jobs", "std:term", "glossary.html#term-n_jobs"),
            ("random_state", "std:term", "glossary.html#term-random_state"),
            ("sample_weight", "std:term", "glossary.html#term-sample_weight"),
            ("warm_start", "std:term", "glossary.html#term-warm_start"),
        ],
    ),
    "numpy": (
        "NumPy",
        "stable",
        [
            ("numpy.ndarray", "py:class", NUMPY_API),
            ("numpy.dtype", "py:class", NUMPY_API),
            ("numpy.finfo", "py:class", NUMPY_API),
            ("numpy.errstate", "py:class", NUMPY_API),
            ("numpy.float32", "py:class", "reference/arrays.scalars.html#$"),
            ("numpy.float64", "py:class", "reference/arrays.scalars.html#$"),
            ("numpy.random.Generator", "py:class", "reference/random/generator.html#$"),
            ("numpy.random.RandomState", "py:class", "reference/random/legacy.html#$"),
        ],
    ),
    "scipy": (
        "SciPy",
        "stable",
        [
            ("scipy.linalg.cho_factor", "py:function", SCIPY_API),
            ("scipy.linalg.cho_solve", "py:function", SCIPY_API),
            ("scipy.linalg.cholesky", "py:function", SCIPY_API),
            ("scipy.linalg.eigh", "py:function", SCIPY_API),
            ("scipy.linalg.solve_triangular", "py:function", SCIPY_API),
            ("scipy.optimize.minimize", "py:function", SCIPY_API),
            ("scipy.special.expit", "py:data", SCIPY_API),
            ("scipy.special.log_expit", "py:data", SCIPY_API),
            ("scipy.special.log_softmax", "py:function", SCIPY_API),
            ("scipy.special.softmax", "py:function", SCIPY_API),
        ],
    ),
    "joblib": (
        "joblib",
        "stable",
        [
            ("joblib.Parallel", "py:class", JOBLIB_API),
            ("joblib.parallel_config", "py:class", JOBLIB_API),
            ("joblib.parallel_backend", "py:class", JOBLIB_API),
            ("joblib.delayed", "py:function", JOBLIB_API),
            ("joblib.cpu_count", "py:function", JOBLIB_API),
            ("joblib.Memory", "py:class", JOBLIB_API),
        ],
    ),
    "python": (
        "Python",
        "3",
        [
            ("bool", "py:class", "library/functions.html#$"),
            ("float", "py:class", "library/functions.html#$"),
            ("int", "py:class", "library/functions.html#$"),
            ("dict", "py:class", "library/stdtypes.html#$"),
            ("list", "py:class", "library/stdtypes.html#$"),
            ("str", "py:class", "library/stdtypes.html#$"),
            ("tuple", "py:class", "library/stdtypes.html#$"),
            ("None", "py:data", "library/constants.html#$"),
            ("FloatingPointError", "py:exception", "library/exceptions.html#$"),
            ("KeyboardInterrupt", "py:exception", "library/exceptions.html#$"),
            ("MemoryError", "py:exception", "library/exceptions.html#$"),
            ("UserWarning", "py:exception", "library/exceptions.html#$"),
            ("ValueError", "py:exception", "library/exceptions.html#$"),
            ("copy.deepcopy", "py:function", "library/copy.html#$"),
            ("pickle", "py:module", "library/pickle.html#module-$"),
            ("tracemalloc", "py:module", "library/tracemalloc.html#module-$"),
            ("warnings.catch_warnings", "py:class", "library/warnings.html#$"),
            ("warnings.simplefilter", "py:function", "library/warnings.html#$"),
            ("warnings.warn", "py:function", "library/warnings.html#$"),
        ],
    ),
}


def inventory(project, version, entries):
    """The bytes of a version-2 inventory of ``entries``."""
    header = (
        "# Sphinx inventory version 2\n"
        f"# Project: {project}\n"
        f"# Version: {version}\n"
        "# The remainder of this file is compressed using zlib.\n"
    )
    lines = []
    for name, role, uri in sorted(entries):
        # "$" before the anchor is the page named after the object (written
        # out); a final "$" is kept, which readers expand to the name.
        page, _, anchor = uri.partition("#")
        uri = page.replace("$", name) + ("#" + anchor if anchor else "")
        lines.append(f"{name} {role} 1 {uri} -\n")
    return header.encode() + zlib.compress("".join(lines).encode(), 9)


def main():
    for key, (project, version, entries) in INVENTORIES.items():
        path = HERE / f"{key}.inv"
        path.write_bytes(inventory(project, version, entries))
        print(f"{path.name}: {len(entries)} names")


if __name__ == "__main__":
    main()

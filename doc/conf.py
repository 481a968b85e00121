"""Sphinx configuration of the skadmm documentation.

Build with ``python -m sphinx -W --keep-going -b html doc doc/_build/html``
from the repository root. No extension needs network access: intersphinx reads
the small inventories shipped in ``_inventories/`` (written by its
``build_inventories.py``), never the projects' websites.
"""

import re

import skadmm

_METADATA_REQUEST = re.compile(r"set_\w+_request")

# -- Project information -----------------------------------------------------
project = "skadmm"
author = "skadmm developers"
copyright = "skadmm developers"
version = skadmm.__version__
release = skadmm.__version__

# -- General configuration ---------------------------------------------------
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    # Renders the benchmark suite's Markdown result tables (benchmarks.rst).
    "myst_parser",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "_inventories", "Thumbs.db", ".DS_Store"]
root_doc = "index"
default_role = "literal"

# -- intersphinx ----------------------------------------------------------------
# Links to the projects' public pages from inventories shipped with the docs (the
# build machine has no network). A name that is not in them stays plain text:
# nitpicky is off, so a missing link is never a warning.
intersphinx_mapping = {
    name: (url, f"_inventories/{name}.inv")
    for name, url in {
        "sklearn": "https://scikit-learn.org/stable/",
        "numpy": "https://numpy.org/doc/stable/",
        "scipy": "https://docs.scipy.org/doc/scipy/",
        "joblib": "https://joblib.readthedocs.io/en/stable/",
        "python": "https://docs.python.org/3/",
    }.items()
}
nitpicky = False

# -- autodoc / autosummary / numpydoc -----------------------------------------
autosummary_generate = True
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
# Parameter types link to the shipped inventories: only the words aliased here,
# so that "of", "shape" or "default" never become references.
numpydoc_xref_param_type = True
numpydoc_xref_ignore = "all"
numpydoc_xref_aliases = {
    "array-like": ":term:`array-like`",
    "ndarray": "numpy.ndarray",
    "RandomState": "numpy.random.RandomState",
    # numpydoc's defaults point some of these at labels the inventory lacks.
    **{name: f":class:`{name}`" for name in ("bool", "dict", "float", "int", "list")},
    "str": ":class:`str`",
}


def _skip_metadata_request_methods(app, what, name, obj, skip, options):
    """Leave out the ``set_{method}_request`` methods made by scikit-learn.

    scikit-learn attaches them to every estimator whose ``fit`` or ``score``
    takes ``sample_weight``; their docstrings link to scikit-learn's own glossary
    and user guide, which do not exist in this documentation.
    """
    if _METADATA_REQUEST.fullmatch(name):
        return True
    return None


# ``:ref:`text <label>``` or ``:ref:`label``` in an inherited docstring.
_REF = re.compile(r":ref:`(?:([^`<]*?)\s*<([^`>]+)>|([^`<]+))`")
# Pages of scikit-learn's documentation that its inherited docstrings refer to.
_SKLEARN_DOC = "https://scikit-learn.org/stable/"
_SKLEARN_LABELS = {
    "r2_score": "modules/model_evaluation.html#r2-score",
    "metadata_routing": "metadata_routing.html",
}


def _link_sklearn_refs(app, what, name, obj, options, lines):
    """Point the ``:ref:`` roles of scikit-learn's docstrings at its website.

    The inherited methods (``score``, ``get_metadata_routing``) refer to labels
    of scikit-learn's own documentation, which do not exist here; they become
    links to scikit-learn's pages (plain text for an unknown label).
    """
    if not (getattr(obj, "__module__", None) or "").startswith("sklearn"):
        return

    def replace(match):
        text, label = match.group(1), match.group(2) or match.group(3)
        text = text or label
        page = _SKLEARN_LABELS.get(label)
        return f"`{text} <{_SKLEARN_DOC}{page}>`__" if page else text

    lines[:] = [_REF.sub(replace, line) for line in lines]


def setup(app):
    app.connect("autodoc-skip-member", _skip_metadata_request_methods)
    app.connect("autodoc-process-docstring", _link_sklearn_refs)


# -- sphinx-gallery ------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": "/plot_",
    "image_scrapers": ("matplotlib",),
    "remove_config_comments": True,
    "download_all_examples": False,
}

# -- HTML output ---------------------------------------------------------------
html_theme = "alabaster"
html_theme_options = {
    "description": "Residual networks trained by ADMM, without backpropagation",
    "fixed_sidebar": True,
}
html_static_path = []
html_title = f"skadmm {release}"

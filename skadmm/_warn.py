"""Warnings that point at the user's call of ``fit``.

A fixed ``stacklevel`` breaks whenever a warning moves to another depth (the
solvers warn several calls below ``fit``, and ``fit`` itself runs inside
scikit-learn's ``_fit_context`` wrapper), so the level is counted: it is that
of the first frame outside this package and outside that wrapper, as
``skip_file_prefixes`` of :func:`warnings.warn` does from Python 3.12.
"""

import os
import sys
import warnings

import sklearn.base

_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep
_SKLEARN_BASE = os.path.abspath(sklearn.base.__file__)


def _internal(code):
    filename = os.path.abspath(code.co_filename)
    if filename.startswith(_PACKAGE):
        return True
    # The wrapper of sklearn.base._fit_context around every fit.
    return filename == _SKLEARN_BASE and code.co_name == "wrapper"


def warn(message, category):
    """:func:`warnings.warn` at the first caller outside skadmm (the user's ``fit``)."""
    frame, stacklevel = sys._getframe(1), 2
    while frame is not None and _internal(frame.f_code):
        frame, stacklevel = frame.f_back, stacklevel + 1
    warnings.warn(message, category, stacklevel=stacklevel)

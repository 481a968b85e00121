"""The classification suite: six tables usable offline, with their sources and licences.

Every loader returns ``(X, y)``: ``X`` float64, unscaled (the models see it
through a ``StandardScaler``), ``y`` integer class labels ``0 .. k-1``.

* ``breast_cancer`` (569 x 30, 2 classes): Wisconsin Diagnostic Breast Cancer
  (Wolberg, Street and Mangasarian 1995, UCI, CC BY 4.0), scikit-learn's
  bundled copy (``load_breast_cancer``, BSD-3-Clause with scikit-learn);
* ``digits`` (1797 x 64, 10 classes): UCI Optical Recognition of Handwritten
  Digits (Alpaydin and Kaynak 1998, CC BY 4.0), 8x8 images, scikit-learn's
  bundled copy (``load_digits``);
* ``wine`` (178 x 13, 3 classes): UCI Wine (Aeberhard and Forina 1991,
  CC BY 4.0), three cultivars, scikit-learn's bundled copy (``load_wine``);
* ``wine_quality`` (4898 x 11, 3 classes): UCI Wine Quality (Cortez et al.
  2009, CC BY 4.0), shipped with skadmm (``skadmm.datasets``), **white wines
  only**, the quality score cut into three classes: ``quality <= 5`` (1640
  rows), ``quality == 6`` (2198), ``quality >= 7`` (1060);
* ``classification`` (2000 x 20, 3 classes): generated here by
  ``make_classification(n_samples=2000, n_features=20, n_informative=10,
  n_redundant=5, n_classes=3, random_state=0)`` (clusters on the vertices of a
  hypercube, 1 % of the labels flipped);
* ``moons`` (1000 x 2, 2 classes): generated here by
  ``make_moons(n_samples=1000, noise=0.3, random_state=0)``, two interleaved
  half circles: a small nonlinear boundary that a linear model cannot draw.

"Nonlinear" marks the tables where a linear model leaves much to learn.
"""

import numpy as np
from sklearn.datasets import (
    load_breast_cancer,
    load_digits,
    load_wine,
    make_classification,
    make_moons,
)

from skadmm.datasets._wine_quality import quality_classes

from _common import SEED, wine


def wine_quality():
    """White Wine Quality as a 3-class task."""
    X, quality = wine("white")
    return X, quality_classes(quality)


def classification():
    return make_classification(
        n_samples=2000,
        n_features=20,
        n_informative=10,
        n_redundant=5,
        n_classes=3,
        random_state=SEED,
    )


def moons():
    return make_moons(n_samples=1000, noise=0.3, random_state=SEED)


#: name -> (loader, nonlinear)
DATASETS = {
    "breast_cancer": (lambda: load_breast_cancer(return_X_y=True), False),
    "digits": (lambda: load_digits(return_X_y=True), True),
    "wine": (lambda: load_wine(return_X_y=True), False),
    "wine_quality": (wine_quality, True),
    "classification": (classification, True),
    "moons": (moons, True),
}


def load(name):
    """``(X, y)`` of the suite's dataset ``name``: float64 ``X``, integer ``y``."""
    X, y = DATASETS[name][0]()
    return np.asarray(X, dtype=float), np.asarray(y, dtype=np.intp)

"""skadmm: residual networks trained by ADMM, as scikit-learn estimators."""

from . import graph
from ._classifier import ADMMResidualClassifier
from ._regressor import ADMMResidualRegressor

__version__ = "0.1.0"

__all__ = ["ADMMResidualClassifier", "ADMMResidualRegressor", "__version__", "graph"]

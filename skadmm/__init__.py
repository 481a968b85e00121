"""skadmm: residual networks trained by ADMM, as scikit-learn estimators."""

from ._regressor import ADMMResidualRegressor

__version__ = "0.1.0"

__all__ = ["ADMMResidualRegressor", "__version__"]

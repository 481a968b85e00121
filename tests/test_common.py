"""scikit-learn's estimator checks over several configurations."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from skadmm import ADMMResidualRegressor

CONFIGS = [
    ADMMResidualRegressor(),
    ADMMResidualRegressor(splitting="two"),
    ADMMResidualRegressor(activation="tanh", width=16, n_blocks=2),
    ADMMResidualRegressor(activation="tanh", splitting="two", width=16, n_blocks=2),
    ADMMResidualRegressor(
        update="linearized", activation="leaky_relu", splitting="two", beta=10.0
    ),
    ADMMResidualRegressor(n_jobs=2, n_regions=2),
    ADMMResidualRegressor(splitting="two", n_jobs=-1, n_regions=3),
]


@parametrize_with_checks(CONFIGS)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)

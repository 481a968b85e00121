"""
Tuning the relaxation weight and the width with a grid search
=============================================================

:class:`~skadmm.ADMMResidualRegressor` is an ordinary scikit-learn regressor,
so it fits into a :class:`~sklearn.pipeline.Pipeline` and can be tuned by
:class:`~sklearn.model_selection.GridSearchCV`. Here the pipeline standardises
the red Wine Quality features and the search compares two values of ``beta``
(the weight that ties the auxiliary variables to the forward network) and two
layer widths, by 3-fold cross-validated mean squared error.
"""

# %%
# Data and pipeline
# -----------------
# The scaler sits inside the pipeline, so each cross-validation split
# standardises with statistics of its own training folds only.
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import mean_squared_error
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skadmm import ADMMResidualRegressor
from skadmm.datasets import load_wine_quality

X, y = load_wine_quality("red", return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)

pipe = make_pipeline(
    StandardScaler(),
    ADMMResidualRegressor(n_blocks=2, random_state=0),
)

# %%
# Grid search
# -----------
# Four candidates and three folds: twelve fits, run on two workers. With a small
# ``beta`` the auxiliary variables are free to absorb part of the fit, and the
# forward network that makes the predictions is worse; the default
# ``beta=1000`` keeps them close to it.
#
# Early stopping is left off, so each fit runs until the augmented Lagrangian
# stalls. The ``beta=100`` candidates keep lowering it slowly and stop at
# ``max_iter=200`` with a :class:`~sklearn.exceptions.ConvergenceWarning`; that
# is expected here and the warning is silenced (scikit-learn passes the filter
# on to the parallel workers).
warnings.filterwarnings("ignore", category=ConvergenceWarning)
param_grid = {
    "admmresidualregressor__beta": [100.0, 1000.0],
    "admmresidualregressor__width": [32, 64],
}
search = GridSearchCV(
    pipe, param_grid, cv=3, scoring="neg_mean_squared_error", n_jobs=2
)
search.fit(X_train, y_train)

test_mse = mean_squared_error(y_test, search.predict(X_test))
print("best parameters:", search.best_params_)
print(f"best cross-validated MSE: {-search.best_score_:.3f}")
print(f"test MSE of the refitted best pipeline: {test_mse:.3f}")

# %%
# Cross-validated error of each candidate
# ---------------------------------------
# Bars show the mean MSE over the three folds, with their standard deviation.
# The slowest candidates are the ``beta=100`` ones, which run all ``max_iter``
# iterations.
results = search.cv_results_
mean_mse = -results["mean_test_score"]
std_mse = results["std_test_score"]
labels = []
for i, params in enumerate(results["params"]):
    beta = params["admmresidualregressor__beta"]
    width = params["admmresidualregressor__width"]
    labels.append(f"beta={beta:g}\nwidth={width}")
    print(
        f"beta={beta:<6g} width={width:<3d} CV MSE {mean_mse[i]:.3f} "
        f"(+/- {std_mse[i]:.3f}), {results['mean_fit_time'][i]:.2f} s per fit"
    )
best = int(np.argmin(mean_mse))
colors = ["C1" if i == best else "C0" for i in range(len(labels))]

fig, ax = plt.subplots(figsize=(6.5, 4))
ax.bar(np.arange(len(labels)), mean_mse, yerr=std_mse, color=colors, capsize=4)
ax.set_xticks(np.arange(len(labels)), labels)
ax.set_ylabel("mean CV MSE (lower is better)")
ax.set_title("GridSearchCV, 3 folds (best in orange)")
fig.tight_layout()
fig.savefig("grid_search.png", dpi=100)
plt.show()

"""
Convergence of the paper's ADMM on Wine Quality
===============================================

With ``solver="radmm"``, :class:`~skadmm.ADMMResidualRegressor` runs the
RADMM of the paper it implements. It does not follow a loss gradient: it
minimises an augmented Lagrangian ``L_rho`` of a relaxed problem, one block of
variables at a time (the default mode, ``solver="reset"``, is shown in
:ref:`sphx_glr_auto_examples_plot_hidden_layers_learn.py`). This example
fits the estimator on the red Wine Quality data with early stopping and draws
what it records during training:

* ``objective_curve_``, the value of ``L_rho`` after each iteration, which never
  goes up, and ``residual_curve_``, how far the auxiliary variables still are
  from a real forward pass of the network;
* ``loss_curve_`` and ``validation_loss_curve_``, the mean squared error of the
  forward network (the one :meth:`~skadmm.ADMMResidualRegressor.predict` uses)
  on the training rows and on the held-out validation rows.

A :class:`~sklearn.linear_model.Ridge` model and the estimator's default mode
give reference levels for the error. See the :ref:`user guide <user_guide>` for
the algorithm.
"""

# %%
# Data
# ----
# The inputs are standardised, as the estimator expects; the target, a quality
# score between 3 and 8, is used as is.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.linear_model import Ridge
from sklearn.metrics import mean_squared_error
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from skadmm import ADMMResidualRegressor
from skadmm.datasets import load_wine_quality

X, y = load_wine_quality("red", return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
scaler = StandardScaler().fit(X_train)
X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
print(f"{X_train.shape[0]} training rows, {X_test.shape[0]} test rows")

# %%
# Training with early stopping
# ----------------------------
# With ``early_stopping=True`` a tenth of the training rows is held out. Training
# stops once the validation :math:`R^2` has not improved for
# ``n_iter_no_change`` iterations, and the weights of the best iteration are
# kept.
reg = ADMMResidualRegressor(
    solver="radmm",
    early_stopping=True,
    n_iter_no_change=30,
    max_iter=150,
    random_state=0,
)
reg.fit(X_train, y_train)
admm_mse = mean_squared_error(y_test, reg.predict(X_test))
best_iter = int(np.argmax(reg.validation_scores_)) + 1

ridge = Ridge().fit(X_train, y_train)
ridge_mse = mean_squared_error(y_test, ridge.predict(X_test))
# The default mode, forward-reset block descent, for comparison.
default = ADMMResidualRegressor(random_state=0).fit(X_train, y_train)
default_mse = mean_squared_error(y_test, default.predict(X_test))

print(f"iterations run: {reg.n_iter_}, best validation iteration: {best_iter}")
print(f"best validation R^2: {reg.best_validation_score_:.3f}")
print(f"test MSE, ADMMResidualRegressor: {admm_mse:.3f}")
print(f"test MSE, Ridge:                 {ridge_mse:.3f}")
print(f"test MSE, default mode (reset):  {default_mse:.3f}")

# %%
# Convergence curves
# ------------------
# Left: ``L_rho`` decreases at every iteration, and the relaxation residual
# shows how closely the auxiliaries follow the forward pass (both on logarithmic
# scales).
# Right: the errors of the forward network itself. The dotted line marks the
# iteration whose weights were kept.
#
# Both sides level off after a few dozen iterations at most, but they answer
# different questions: a small ``L_rho`` only says that the relaxed problem is
# nearly solved, while the right panel shows how good the network that
# :meth:`~skadmm.ADMMResidualRegressor.predict` uses really is. Early stopping
# watches the latter; ``n_iter_`` counts every iteration run, including those
# after the kept one.
#
# At its default ``beta`` RADMM barely moves the hidden weights: its network
# is close to its random initial features with a ridge read-out, and its test
# error stays near Ridge's. The default mode trains the hidden layers and ends
# lower (the dash-dotted line).
iterations = np.arange(1, reg.n_iter_ + 1)
fig, (ax_obj, ax_mse) = plt.subplots(1, 2, figsize=(11, 4.2))

ax_obj.semilogy(iterations, reg.objective_curve_, color="C0", label=r"$L_\rho$")
ax_obj.set_xlabel("ADMM iteration")
ax_obj.set_ylabel(r"augmented Lagrangian $L_\rho$", color="C0")
ax_res = ax_obj.twinx()
ax_res.semilogy(iterations, reg.residual_curve_, color="C1", label="residual")
ax_res.set_ylabel("relaxation residual", color="C1")
handles = ax_obj.get_lines() + ax_res.get_lines()
ax_obj.legend(handles, [h.get_label() for h in handles], loc="upper right")
ax_obj.set_title("Relaxed problem")

ax_mse.plot(iterations, reg.loss_curve_, label="training MSE")
ax_mse.plot(iterations, reg.validation_loss_curve_, label="validation MSE")
ax_mse.axhline(ridge_mse, color="k", linestyle="--", label="Ridge, test MSE")
ax_mse.axhline(default_mse, color="C2", linestyle="-.", label="default mode, test MSE")
ax_mse.axvline(best_iter, color="gray", linestyle=":", label="kept iterate")
ax_mse.set_xlabel("ADMM iteration")
ax_mse.set_ylabel("mean squared error")
ax_mse.set_ylim(0.0, 1.0)
ax_mse.legend(loc="upper right")
ax_mse.set_title("Forward network")

fig.tight_layout()
fig.savefig("wine_convergence.png", dpi=100)
plt.show()

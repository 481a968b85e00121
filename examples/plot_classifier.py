"""
Classifying two moons: trained hidden layers against random features
====================================================================

:class:`~skadmm.ADMMResidualClassifier` trains the residual network of
:class:`~skadmm.ADMMResidualRegressor` with the cross-entropy on its outputs,
without backpropagation. This example fits it on ``make_moons``, two
interleaved half circles that no straight line separates, and draws the
decision regions of three models:

* the classifier with its defaults (the forward-reset mode);
* **its own random features**: the same network after one RADMM iteration
  (``solver="radmm", max_iter=1``), whose hidden layers are still the random
  initial ones, with the penalised cross-entropy read-out fitted on top. A
  training mode whose hidden layers learn must draw a better boundary than
  this;
* :class:`~sklearn.neural_network.MLPClassifier`, a network of the same width
  trained by backpropagation.

Then it plots the training cross-entropy of the forward network after each
iteration (``loss_curve_``) beside MLPClassifier's.
"""

# %%
# Data
# ----
# 600 noisy points of two moons; a third is held out for testing. The inputs
# are standardised, as the estimator expects.
import time

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_moons
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler
from sklearn.utils._testing import ignore_warnings

from skadmm import ADMMResidualClassifier

X, y = make_moons(n_samples=600, noise=0.25, random_state=0)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=1 / 3, stratify=y, random_state=0
)
scaler = StandardScaler().fit(X_train)
X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)

# %%
# Three models
# ------------
# The two skadmm models share their seed, so they start from the same random
# network: the difference between them is what training the hidden layers
# adds.
models = {
    "ADMMResidualClassifier": ADMMResidualClassifier(random_state=0),
    "its random features": ADMMResidualClassifier(
        solver="radmm", max_iter=1, random_state=0
    ),
    "MLPClassifier": MLPClassifier(max_iter=2000, random_state=0),
}
scores = {}
for name, model in models.items():
    tick = time.perf_counter()
    # One RADMM iteration does not converge, by design: silence its warning.
    with ignore_warnings(category=ConvergenceWarning):
        model.fit(X_train, y_train)
    seconds = time.perf_counter() - tick
    scores[name] = model.score(X_test, y_test)
    print(
        f"{name:<23} test accuracy {scores[name]:.3f}  "
        f"(train {model.score(X_train, y_train):.3f}, fit {seconds:.1f} s)"
    )

# %%
# Decision regions
# ----------------
# The colour is the predicted probability of the second moon, the line the
# boundary where it crosses 1/2; the dots are the test points. With the
# penalty that ``alpha="auto"`` picks for them, the random features draw an
# almost straight boundary: their read-out is linear in the random hidden
# units. The trained network follows the moons, as the MLP does.
xx, yy = np.meshgrid(np.linspace(-2.6, 2.6, 200), np.linspace(-2.6, 2.6, 200))
grid = np.column_stack([xx.ravel(), yy.ravel()])

fig, axes = plt.subplots(1, 3, figsize=(13, 4.2), sharey=True)
for ax, (name, model) in zip(axes, models.items(), strict=True):
    proba = model.predict_proba(grid)[:, 1].reshape(xx.shape)
    ax.contourf(xx, yy, proba, levels=np.linspace(0, 1, 11), cmap="RdBu", alpha=0.8)
    ax.contour(xx, yy, proba, levels=[0.5], colors="k", linewidths=1.2)
    ax.scatter(X_test[:, 0], X_test[:, 1], c=y_test, cmap="RdBu", edgecolors="k", s=18)
    ax.set_title(f"{name}\ntest accuracy {scores[name]:.3f}", fontsize=10)
    ax.set_xlabel("$x_1$ (standardised)")
axes[0].set_ylabel("$x_2$ (standardised)")
fig.tight_layout()

# %%
# Training loss
# -------------
# ``loss_curve_`` holds the training cross-entropy of the forward network (the
# one ``predict_proba`` uses) after each iteration; MLPClassifier's holds its
# own after each epoch (its small L2 penalty included). The single point of the
# random features is the loss of the random network with its read-out: the
# first sweep of the forward-reset mode, which trains every layer, already goes
# well below it, and the next ones refine it (this curve is not the quantity
# the mode keeps from increasing, ``objective_curve_``, so it may wiggle).
admm = models["ADMMResidualClassifier"]
random_features = models["its random features"]
mlp = models["MLPClassifier"]

fig, ax = plt.subplots(figsize=(6.5, 4.2))
ax.plot(
    np.arange(1, admm.n_iter_ + 1),
    admm.loss_curve_,
    label="ADMMResidualClassifier (iterations)",
)
ax.plot(
    np.arange(1, mlp.n_iter_ + 1),
    mlp.loss_curve_,
    label="MLPClassifier (epochs)",
    alpha=0.8,
)
ax.plot(1, random_features.loss_curve_[-1], "o", label="its random features")
ax.set_xscale("log")
ax.set_yscale("log")
ax.set_xlabel("iteration / epoch")
ax.set_ylabel("training cross-entropy")
ax.legend()
fig.tight_layout()
plt.show()

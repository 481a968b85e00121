"""
Node classification on a synthetic graph: raw against hop features
===================================================================

A contextual stochastic block model (:func:`~skadmm.datasets.make_csbm`) is a
graph whose nodes carry noisy features around a mean per class and whose
edges join nodes of the same class more often than not (homophily 0.8 here).
The node features alone say little about the class; averaging them over the
neighbours (:func:`~skadmm.graph.hop_features`, the inputs of a
graph-augmented MLP) removes part of the noise.

This example trains :class:`~skadmm.ADMMResidualClassifier` in the
layer-parallel mode ``solver="pdadmm"`` on 20 labelled nodes per class, as in
the Planetoid benchmarks, once on the raw features and once on ``k`` hops of
them for ``k = 1 .. 5``, with and without 8-bit quantized layer inputs
(``quantize="p"``, pdADMM-G-Q), and plots the test accuracy against ``k``.
See :ref:`graphs` and :ref:`pdadmm`.
"""

# %%
# The graph and a Planetoid-like split
# ------------------------------------
import warnings

import matplotlib.pyplot as plt
import numpy as np

from skadmm import ADMMResidualClassifier
from skadmm.datasets import make_csbm
from skadmm.graph import hop_features

A, X, y = make_csbm(
    n_nodes=1500,
    n_classes=3,
    n_features=16,
    homophily=0.8,
    feature_signal=1.0,
    average_degree=10.0,
    random_state=0,
)
rng = np.random.default_rng(0)
train = np.concatenate(
    [rng.choice(np.flatnonzero(y == c), 20, replace=False) for c in range(3)]
)
test = np.setdiff1d(np.arange(len(y)), train)


def accuracy(n_hops, **params):
    """Test accuracy of the classifier on ``n_hops`` hops (0: raw features)."""
    H = np.asarray(hop_features(A, X, n_hops=n_hops))
    clf = ADMMResidualClassifier(
        solver="pdadmm", width=64, max_iter=50, random_state=0, **params
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # short fits stop at max_iter
        clf.fit(H[train], y[train])
    return clf.score(H[test], y[test]), clf


# %%
# Accuracy against the number of hops
# -----------------------------------
hops = np.arange(6)
exact = [accuracy(k)[0] for k in hops]
quantized = [accuracy(k, quantize="p", quantize_bits=8)[0] for k in hops]
for k, a, q in zip(hops, exact, quantized, strict=True):
    print(f"{k} hops: {a:.3f} (8-bit p: {q:.3f})")

fig, ax = plt.subplots(figsize=(6, 4))
ax.plot(hops, exact, "o-", label="pdADMM")
ax.plot(hops, quantized, "s--", label="pdADMM, 8-bit p (pdADMM-G-Q)")
ax.set_xlabel("number of hops (0: raw node features)")
ax.set_ylabel("test accuracy")
ax.set_title("CSBM, 3 classes, homophily 0.8, 60 labelled nodes")
ax.legend()
fig.tight_layout()

# %%
# What crosses the layer boundaries
# ---------------------------------
# ``exchange_bytes_`` counts, per iteration, the bytes of every array a layer
# sends to its neighbours: the 8-bit inputs ``p`` go as one byte per value
# plus an offset and a step, a quarter of float32 and an eighth of float64.
_, plain = accuracy(3)
_, small = accuracy(3, quantize="p", quantize_bits=8)
print("float64:", plain.exchange_bytes_)
print("8-bit p:", small.exchange_bytes_)

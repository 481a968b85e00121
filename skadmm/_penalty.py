"""The L2 penalty ``alpha`` of a fit, ``alpha="auto"`` resolved.

The training objective is a weighted *mean* of squared errors plus
``alpha/2 ||W||^2``, so the same ``alpha`` regularises a small table much less,
relative to the data, than ridge regression's usual penalty on the *sum* of
squared errors. ``"auto"`` takes a fixed mean-scale penalty, chosen on the
regression benchmark suite, but never less than a sum-scale penalty of
``_MIN_SUM_PENALTY`` (``alpha * n``, with ``n`` the summed row weights), which
keeps small tables from overfitting (see the user guide, "Regularisation").
"""

# Measured with 3-fold CV on the benchmark suite (user guide, "Regularisation").
_AUTO_ALPHA = 3e-3
_MIN_SUM_PENALTY = 3.0


def resolve_alpha(alpha, n_samples, sample_weight):
    """The penalty of a fit on ``n_samples`` rows with weights ``sample_weight``.

    A number is returned unchanged. For ``"auto"``,
    ``max(_AUTO_ALPHA, _MIN_SUM_PENALTY / n)`` with ``n`` the sum of the
    weights (the number of rows without weights), so that integer weights and
    repeated rows give the same penalty.
    """
    if alpha != "auto":
        return float(alpha)
    n = float(n_samples if sample_weight is None else sample_weight.sum())
    return max(_AUTO_ALPHA, _MIN_SUM_PENALTY / n)

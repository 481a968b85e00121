"""Warnings raised by skadmm."""

from sklearn.exceptions import ConvergenceWarning


class DivergenceWarning(ConvergenceWarning):
    """Training stopped early because an iterate became non-finite or exploded.

    The estimator keeps the weights of the last finite iteration, so it stays
    usable; the message names the parameter to change. A subclass of
    :class:`~sklearn.exceptions.ConvergenceWarning`, so filters on the latter
    also catch it.
    """


__all__ = ["ConvergenceWarning", "DivergenceWarning"]

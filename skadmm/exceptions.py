"""Warnings raised by skadmm."""

from sklearn.exceptions import ConvergenceWarning


class DivergenceWarning(ConvergenceWarning):
    """Training stopped early because an iterate became non-finite or exploded.

    The estimator keeps the weights of the last finite iteration, so it stays
    usable; the message names the parameter to change. A subclass of
    :class:`~sklearn.exceptions.ConvergenceWarning`, so filters on the latter
    also catch it.
    """


class NumericalError(ValueError, FloatingPointError):
    """A fit or prediction would produce NaN or infinity from finite input.

    Raised instead of returning non-finite weights or predictions: by ``fit``
    when the input's scale would overflow the network's products or the trained
    weights are not finite (the estimator is then left as it was), and by
    ``predict`` when the forward pass overflows for the given ``X``. The message
    says what to change, usually to standardise ``X``. A subclass of
    ``ValueError`` (bad input) and of ``FloatingPointError``.
    """


__all__ = ["ConvergenceWarning", "DivergenceWarning", "NumericalError"]

"""Warnings raised by skadmm."""

from sklearn.exceptions import ConvergenceWarning


class DivergenceWarning(ConvergenceWarning):
    """Training stopped early because an iterate became non-finite or exploded.

    The estimator keeps the weights of the last finite iteration, so it stays
    usable; the message names the parameter to change. A subclass of
    :class:`~sklearn.exceptions.ConvergenceWarning`, so filters on the latter
    also catch it.
    """


class PenaltyConditionWarning(UserWarning):
    """The penalties break the condition under which a solver's merit decreases.

    Issued by ``fit`` with ``solver="pdadmm"`` when ``rho`` is not above
    ``max(4 * beta * S^2, (sqrt(17) + 1) / 2 * beta)`` (``S`` the Lipschitz
    constant of the activation). Training still runs (the published
    experiments use ``rho = beta``), but the augmented Lagrangian may then
    increase, which stops it with a :class:`DivergenceWarning`. The message
    says which term of the bound failed and what to set.
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


class FitInterruptedWarning(ConvergenceWarning):
    """Training was interrupted by the user (Ctrl-C, ``KeyboardInterrupt``).

    A direct call to ``fit`` catches the interrupt, keeps the weights of the
    last completed iteration (the estimator stays usable) and issues this
    warning instead of raising. Code that runs several fits in a row, such as
    ``python -m skadmm``, can turn it back into a stop: with
    :func:`warnings.catch_warnings` and ``record=True``, or with a filter
    ``warnings.simplefilter("error", FitInterruptedWarning)``. A subclass of
    :class:`~sklearn.exceptions.ConvergenceWarning`, so filters on the latter
    also catch it.
    """


__all__ = [
    "ConvergenceWarning",
    "DivergenceWarning",
    "FitInterruptedWarning",
    "NumericalError",
    "PenaltyConditionWarning",
]

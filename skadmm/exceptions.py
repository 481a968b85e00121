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
    :class:`warnings.catch_warnings` and ``record=True``, or with a filter
    ``warnings.simplefilter("error", FitInterruptedWarning)``. A subclass of
    :class:`~sklearn.exceptions.ConvergenceWarning`, so filters on the latter
    also catch it.
    """


class InconsistentVersionWarning(UserWarning):
    """An estimator is unpickled by another skadmm version than the one that pickled it.

    The skadmm counterpart of scikit-learn's
    :class:`~sklearn.exceptions.InconsistentVersionWarning`, which scikit-learn
    issues for its own estimators only. The fitted attributes or their meaning
    may differ between versions, so the unpickled estimator may fail or give
    other results: refit it with the installed version, or install the version
    that pickled it.

    Parameters
    ----------
    estimator_name : str
        Name of the estimator's class.
    current_version : str
        The installed skadmm version.
    original_version : str or None
        The version that pickled the estimator; None for pickles made before
        skadmm recorded it.
    """

    def __init__(self, *, estimator_name, current_version, original_version):
        self.estimator_name = estimator_name
        self.current_version = current_version
        self.original_version = original_version

    def __str__(self):
        original = (
            "an unknown skadmm version (one that did not record it)"
            if self.original_version is None
            else f"skadmm {self.original_version}"
        )
        return (
            f"Unpickling estimator {self.estimator_name} pickled by {original} "
            f"with skadmm {self.current_version}. It may fail or give other "
            "results: refit it with this version, or install the one that "
            "pickled it."
        )


class InputScaleWarning(UserWarning):
    """``X`` is far from standardised, and the fit will likely be poor.

    Issued by ``fit`` before any work when the network sees ``X`` as it is
    (``embedding="none"`` or ``"auto"``, and every sharded fit) and a
    column's root mean square is above 10 or a varying column spans a range
    below 0.05. The defaults
    (initialisation, penalty, stopping) are tuned for columns of mean 0 and
    variance 1: an offset of 10 or a scale of 30 on Friedman #1 lowered the
    test R2 from 0.95 to about 0.82-0.86, without any error. Training still
    runs. Standardise ``X`` (for example with
    :class:`~sklearn.preprocessing.StandardScaler` in a pipeline), or pass an
    embedding other than ``"none"``, which standardises every column.
    """


class WorkerLostError(RuntimeError):
    """A Dask worker holding rows of a sharded fit was lost during the fit.

    The rows' auxiliaries and multipliers lived only in that worker's memory,
    so the fit cannot go on: it stops, the estimator is left as it was before
    ``fit`` (not half fitted) and the other workers' state is released. The
    message says what to do (check the workers' memory limits, then fit
    again). A subclass of :class:`RuntimeError`.
    """


__all__ = [
    "ConvergenceWarning",
    "DivergenceWarning",
    "FitInterruptedWarning",
    "InconsistentVersionWarning",
    "InputScaleWarning",
    "NumericalError",
    "PenaltyConditionWarning",
    "WorkerLostError",
]

"""Ctrl-C inside nested fits: a stop, not a warning.

A direct ``fit`` turns ``KeyboardInterrupt`` into a
:class:`~skadmm.exceptions.FitInterruptedWarning` and returns its last weights.
A fit that runs other fits (``alpha="auto"`` cross-validates by fitting clones)
must not let them swallow the interrupt and carry on with the next one.
"""

import warnings
from contextlib import contextmanager

from .exceptions import FitInterruptedWarning


@contextmanager
def interrupts_propagate():
    """Within the block, an interrupted fit raises ``KeyboardInterrupt``."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", FitInterruptedWarning)
        try:
            yield
        except FitInterruptedWarning:
            raise KeyboardInterrupt from None

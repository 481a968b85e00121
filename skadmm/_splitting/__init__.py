"""Relaxations of the residual-network training problem and their block updates."""

from ._base import Splitting
from ._three import ThreeSplitting
from ._two import TwoSplitting

SPLITTINGS = {"three": ThreeSplitting, "two": TwoSplitting}

__all__ = ["SPLITTINGS", "Splitting", "ThreeSplitting", "TwoSplitting"]

"""Relaxations of the residual-network training problem and their block updates."""

from ._base import SplitRelaxation
from ._three import ThreeSplitRelaxation
from ._two import TwoSplitRelaxation

SPLITTINGS = {"three": ThreeSplitRelaxation, "two": TwoSplitRelaxation}

__all__ = [
    "SPLITTINGS",
    "SplitRelaxation",
    "ThreeSplitRelaxation",
    "TwoSplitRelaxation",
]

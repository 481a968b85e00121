"""Datasets shipped with skadmm."""

from ._wine_quality import load_wine_quality

__all__ = ["load_wine_quality"]

"""Datasets shipped with skadmm, and generators of synthetic ones."""

from ._csbm import make_csbm
from ._planetoid import load_planetoid
from ._wine_quality import load_wine_quality

__all__ = ["load_planetoid", "load_wine_quality", "make_csbm"]

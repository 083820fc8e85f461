"""Small helpers shared by op implementations (axis handling, attribute checks).

Keep this file to helpers that several op files need; one idea each, each with a docstring.
"""
from __future__ import annotations

from typing import Iterable, List, Optional

import numpy as np

from ..errors import ModelError, RuntimeFailure


def normalize_axis(axis: int, rank: int, node=None, what: str = "axis") -> int:
    """Map a possibly negative axis into [0, rank); a clear error when out of range."""
    a = int(axis)
    if not -rank <= a < max(rank, 1) or (rank == 0 and a not in (0, -1)):
        raise RuntimeFailure(node, f"{what}={axis} is out of range for a tensor of rank {rank}")
    return a + rank if a < 0 else a


def normalize_axes(axes: Iterable[int], rank: int, node=None, what: str = "axes") -> List[int]:
    out = [normalize_axis(a, rank, node, what) for a in axes]
    if len(set(out)) != len(out):
        raise RuntimeFailure(node, f"{what}={list(axes)} repeats an axis")
    return out


def as_int_list(x: Optional[np.ndarray]) -> Optional[List[int]]:
    """A 0-D/1-D integer tensor input (axes, shape, pads ...) as a Python list; None stays None."""
    if x is None:
        return None
    return [int(v) for v in np.asarray(x).reshape(-1)]


def require(cond: bool, node, message: str, model_error: bool = True) -> None:
    """Raise a ModelError (or RuntimeFailure) naming the node when ``cond`` is false."""
    if not cond:
        raise (ModelError if model_error else RuntimeFailure)(node, message)

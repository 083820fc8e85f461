"""Identity — y = x, for a tensor, a sequence (list) or an optional (None = empty).

The value is passed through without a copy; tinyinfer never mutates a value in place.
"""
from __future__ import annotations

from ..registry import op


@op("Identity", since=1)
def Identity(x):
    """y = x."""
    return x

"""Shape, Size — a tensor's shape and element count as int64 tensors.

    Shape(x: (d0, ..., dr-1), start=0, end=r) -> (end - start,) int64 = [d_start, ..., d_end-1]
        start/end (opset 15) may be negative (counted from the back) and are clamped to [0, r]
    Size(x) -> () int64 = d0 * ... * dr-1
"""
from __future__ import annotations

import numpy as np

from ..registry import op


@op("Shape", since=1)
def Shape(x, *, start=0, end=None):
    """y = shape(x)[start:end] as int64 (Python slicing already clamps out-of-range bounds)."""
    return np.array(np.shape(x)[int(start):None if end is None else int(end)], dtype=np.int64)


@op("Size", since=1)
def Size(x):
    """y = number of elements of x, as a 0-D int64 tensor."""
    return np.array(np.size(x), dtype=np.int64)

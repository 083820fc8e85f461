"""Where — y = x where cond else y, all three broadcast together.

    cond: bool, x and y: one dtype T (any, strings included)  ->  T of the broadcast shape
"""
from __future__ import annotations

import numpy as np

from ..registry import op


@op("Where", since=9)
def Where(cond, x, y):
    """out[i] = x[i] if cond[i] else y[i], broadcast."""
    out = np.where(np.asarray(cond, dtype=bool), x, y)
    return out if out.dtype == x.dtype else out.astype(x.dtype)

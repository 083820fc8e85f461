"""CumSum, CumProd — running sum / product along one axis (axis is a scalar input).

    x: (d0, ..., dn) -> y of the same shape and dtype
    y[.., i, ..] = x[.., 0, ..] ∘ ... ∘ x[.., i, ..]          (default)
    exclusive=1: stops before i (y[0] = 0 for sums, 1 for products); reverse=1: runs from the end
"""
from __future__ import annotations

import numpy as np

from ..errors import RuntimeFailure
from ..registry import Op, op
from ._common import normalize_axis
from ._floatcodec import decode, encode


class _Cumulative(Op):
    ufunc = None
    identity = 0

    def __init__(self, node, *, exclusive: int = 0, reverse: int = 0):
        self.node, self.exclusive, self.reverse = node, bool(exclusive), bool(reverse)

    def run(self, x, axis):
        if np.size(axis) != 1:
            raise RuntimeFailure(self.node, f"axis must be a scalar, got shape {np.shape(axis)}")
        f, tag = decode(x)
        ax = normalize_axis(int(np.asarray(axis).reshape(())), f.ndim, self.node)
        if self.reverse:
            f = np.flip(f, ax)
        y = type(self).ufunc.accumulate(f, axis=ax, dtype=f.dtype)
        if self.exclusive:  # shift by one along ax, the identity entering first
            pad = np.full_like(np.take(y, [0], axis=ax), type(self).identity)
            y = np.concatenate([pad, np.take(y, np.arange(y.shape[ax] - 1), axis=ax)], axis=ax)
        if self.reverse:
            y = np.flip(y, ax)
        return encode(np.ascontiguousarray(y), tag)


@op("CumSum", since=11)
class CumSum(_Cumulative):
    """y = running sum of x along axis."""
    ufunc, identity = np.add, 0


@op("CumProd", since=26)
class CumProd(_Cumulative):
    """y = running product of x along axis."""
    ufunc, identity = np.multiply, 1

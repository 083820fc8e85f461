"""ArgMax, ArgMin — the index of the largest / smallest element along one axis.

    x: (d0, ..., dn), axis a  ->  int64 (d0, .., 1, .., dn) with keepdims=1, or axis a removed

Ties give the first index, or the last with select_last_index=1 (opset 12+). NaN counts as the
extreme value, as numpy.argmax does.
"""
from __future__ import annotations

import numpy as np

from ..registry import Op, op
from ._common import normalize_axis
from ._floatcodec import decode


class _ArgExtreme(Op):
    pick = None

    def __init__(self, node, *, axis: int = 0, keepdims: int = 1, select_last_index: int = 0):
        self.node, self.axis = node, int(axis)
        self.keepdims, self.last = bool(keepdims), bool(select_last_index)

    def run(self, x):
        f = decode(x)[0]
        axis = normalize_axis(self.axis, f.ndim, self.node)
        if self.last:  # the first extreme of the reversed axis is the last one
            n = f.shape[axis]
            idx = n - 1 - type(self).pick(np.flip(f, axis), axis=axis)
        else:
            idx = type(self).pick(f, axis=axis)
        idx = idx.astype(np.int64)
        return np.expand_dims(idx, axis) if self.keepdims else idx


@op("ArgMax", since=1)
class ArgMax(_ArgExtreme):
    """y = index of the maximum of x along axis."""
    pick = staticmethod(np.argmax)


@op("ArgMin", since=1)
class ArgMin(_ArgExtreme):
    """y = index of the minimum of x along axis."""
    pick = staticmethod(np.argmin)

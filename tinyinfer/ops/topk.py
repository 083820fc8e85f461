"""TopK — the k largest (or smallest) elements along an axis, and their indices.

    x: (d0, .., dn), k  ->  values (d0, .., k, .., dn) of x's dtype, indices int64 of that shape

Ties keep the lower index first (a stable order), as the spec requires. sorted=0 still returns
sorted results (allowed: the order is then unspecified). Opset 1-9 take k as an attribute,
opset 10+ as a 1-element int64 input; largest/sorted arrive in opset 11.
"""
from __future__ import annotations

import numpy as np

from ..errors import ModelError, RuntimeFailure
from ..registry import Op, op
from ._common import normalize_axis
from ._floatcodec import decode


def topk(x, k, axis, largest):
    """(values, indices) of the k extreme elements of x along axis, ties by lower index."""
    f = decode(x)[0]
    n = f.shape[axis]
    if largest:
        # a stable ascending sort of the reversed axis, read backwards, puts larger values first
        # and equal values in ascending index order
        order = np.argsort(np.flip(f, axis), axis=axis, kind="stable")
        order = n - 1 - np.flip(order, axis)
    else:
        order = np.argsort(f, axis=axis, kind="stable")
    idx = np.take(order, np.arange(k), axis=axis).astype(np.int64)
    vals = np.take_along_axis(x, idx, axis=axis)
    return vals, idx


class _TopK(Op):
    def __init__(self, node, *, axis: int = -1, largest: int = 1, sorted: int = 1, k=None):  # noqa: A002
        self.node, self.axis, self.largest, self.k = node, int(axis), bool(largest), k

    def select(self, x, k):
        axis = normalize_axis(self.axis, x.ndim, self.node)
        if not 0 <= k <= x.shape[axis]:
            raise RuntimeFailure(self.node, f"k={k} is outside [0, {x.shape[axis]}] "
                                            f"(the size of axis {axis})")
        return topk(x, k, axis, self.largest)


@op("TopK", since=1)
class TopK_1(_TopK):
    """(values, indices) of the k largest elements; k is an attribute."""

    def run(self, x):
        if self.k is None:
            raise ModelError(self.node, "required attribute 'k' is missing (TopK before opset 10)")
        return self.select(x, int(self.k))


@op("TopK", since=10)
class TopK_10(_TopK):
    """(values, indices) of the k largest (or smallest) elements; k is an input."""

    def run(self, x, k):
        if np.size(k) != 1:
            raise RuntimeFailure(self.node, f"K must hold exactly one value, got shape {np.shape(k)}")
        return self.select(x, int(np.asarray(k).reshape(-1)[0]))

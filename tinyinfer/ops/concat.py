"""Concat, Split — join tensors along an axis, or cut one into pieces.

    Concat(x0: (.., a0, ..), x1: (.., a1, ..), ..., axis) -> (.., a0 + a1 + ..., ..)
    Split(x: (.., d, ..), split=None, axis=0, num_outputs=None) -> k tensors (.., s_i, ..)
        split (attribute before opset 13, input from 13) gives the sizes; otherwise the pieces
        are equal, or (num_outputs, opset 18) ceil(d / k) each with a smaller last piece
"""
from __future__ import annotations

import numpy as np

from ..errors import ModelError, RuntimeFailure
from ..registry import Op, op
from ._common import as_int_list, normalize_axis


@op("Concat", since=1)
class Concat(Op):
    def __init__(self, node, *, axis=1):
        # axis became required in opset 4; opset 1 defaulted to 1
        self.node, self.axis = node, int(axis)

    def run(self, *xs):
        xs = [x for x in xs if x is not None]
        if not xs:
            raise RuntimeFailure(self.node, "Concat needs at least one input")
        r = xs[0].ndim
        a = normalize_axis(self.axis, r, self.node)
        for i, x in enumerate(xs):
            if x.ndim != r or x.shape[:a] + x.shape[a + 1:] != xs[0].shape[:a] + xs[0].shape[a + 1:]:
                raise RuntimeFailure(self.node, f"input {i} has shape {list(x.shape)}, which does not "
                                                f"match input 0's {list(xs[0].shape)} outside axis {a}")
        return np.concatenate(xs, axis=a)


@op("Split", since=1)
class Split(Op):
    def __init__(self, node, *, axis=0, split=None, num_outputs=None):
        self.node, self.axis = node, int(axis)
        self.split_attr = None if split is None else [int(s) for s in split]
        self.num_outputs = None if num_outputs is None else int(num_outputs)
        self.k = len(node.outputs)
        if self.num_outputs is not None and self.num_outputs != self.k:
            raise ModelError(node, f"num_outputs={num_outputs} but the node has {self.k} outputs")

    def run(self, x, split=None):
        a = normalize_axis(self.axis, x.ndim, self.node)
        d = x.shape[a]
        sizes = as_int_list(split) if split is not None else self.split_attr
        if sizes is None:
            k = self.k
            if self.num_outputs is not None:
                step = -(-d // k)  # ceil: all pieces equal except a smaller last one
                sizes = [min(step, max(d - i * step, 0)) for i in range(k)]
            else:
                if d % k:
                    raise RuntimeFailure(self.node, f"axis {a} of size {d} cannot be split "
                                                    f"into {k} equal parts")
                sizes = [d // k] * k
        if len(sizes) != self.k or any(s < 0 for s in sizes) or sum(sizes) != d:
            raise RuntimeFailure(self.node, f"split={sizes} must have {self.k} non-negative "
                                            f"sizes adding up to {d} (axis {a})")
        cuts = np.cumsum(sizes)[:-1]
        return tuple(np.split(x, cuts, axis=a))

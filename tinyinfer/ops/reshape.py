"""Reshape, Flatten, Squeeze, Unsqueeze, Expand — same elements, new shape.

    Reshape(x, shape: (k,) int64, allowzero=0) -> k-D; shape[i] == 0 copies x's dim i (unless
        allowzero=1, where 0 means a real 0), one -1 is inferred from the element count
        (opset 1-4: shape is an attribute)
    Flatten(x: (d0..dr-1), axis=1) -> (d0*...*d_axis-1, d_axis*...*dr-1)
    Squeeze(x, axes) -> x without the listed size-1 axes (all size-1 axes when axes is absent)
    Unsqueeze(x, axes) -> rank r+len(axes), 1s inserted at the axes of the *output*
        (axes: attribute before opset 13, input from 13)
    Expand(x, shape) -> broadcast(x, shape) with NumPy broadcasting rules (either side may be 1)
"""
from __future__ import annotations

import math

import numpy as np

from ..errors import ModelError, RuntimeFailure
from ..registry import Op, op
from ._common import as_int_list, check_output_size, normalize_axes, normalize_axis


@op("Reshape", since=1)
class Reshape(Op):
    def __init__(self, node, *, shape=None, allowzero=0):
        self.node, self.shape_attr, self.allowzero = node, shape, int(allowzero)

    def run(self, x, shape=None):
        req = as_int_list(shape) if shape is not None else (
            None if self.shape_attr is None else [int(v) for v in self.shape_attr])
        if req is None:
            raise ModelError(self.node, "the target shape is missing (no 'shape' input or attribute)")
        return x.reshape(reshape_target(x.shape, req, self.allowzero, self.node))


def reshape_target(in_shape, req, allowzero, node):
    """The concrete shape for Reshape: resolve 0 (copy) and -1 (infer); errors name the node."""
    out = list(req)
    if out.count(-1) > 1:
        raise RuntimeFailure(node, f"shape {req} has more than one -1")
    if allowzero and 0 in out and -1 in out:
        raise RuntimeFailure(node, f"shape {req} has both 0 and -1 while allowzero=1")
    for i, d in enumerate(out):
        if d == 0 and not allowzero:
            if i >= len(in_shape):
                raise RuntimeFailure(node, f"shape {req} copies dim {i} (a 0) but the input "
                                           f"{list(in_shape)} has rank {len(in_shape)}")
            out[i] = in_shape[i]
        elif d < -1:
            raise RuntimeFailure(node, f"shape {req} has an invalid dimension {d}")
    total = math.prod(in_shape)  # Python ints: no int64 overflow on hostile shapes
    if -1 in out:
        known = math.prod(d for d in out if d != -1)
        if known == 0 or total % known:
            raise RuntimeFailure(node, f"cannot reshape a tensor of shape {list(in_shape)} "
                                       f"({total} elements) to {req}")
        out[out.index(-1)] = total // known
    if math.prod(out) != total:
        raise RuntimeFailure(node, f"cannot reshape a tensor of shape {list(in_shape)} "
                                   f"({total} elements) to {req} ({math.prod(out)} elements)")
    return out


@op("Flatten", since=1)
class Flatten(Op):
    def __init__(self, node, *, axis=1):
        self.node, self.axis = node, int(axis)

    def run(self, x):
        r = x.ndim
        if not -r <= self.axis <= r:
            raise RuntimeFailure(self.node, f"axis={self.axis} is out of range for rank {r}")
        a = self.axis + r if self.axis < 0 else self.axis
        outer = int(np.prod(x.shape[:a], dtype=np.int64))
        return x.reshape(outer, int(np.prod(x.shape[a:], dtype=np.int64)))  # (d0*..*da-1, rest)


@op("Squeeze", since=1)
class Squeeze(Op):
    def __init__(self, node, *, axes=None):
        self.node, self.axes_attr = node, axes

    def run(self, x, axes=None):
        axes = as_int_list(axes) if axes is not None else self.axes_attr
        if axes is None:
            return x.reshape([d for d in x.shape if d != 1])
        ax = normalize_axes(axes, x.ndim, self.node)
        for a in ax:
            if x.shape[a] != 1:
                raise RuntimeFailure(self.node, f"cannot squeeze axis {a} of shape {list(x.shape)}: "
                                                f"its size is {x.shape[a]}, not 1")
        return x.reshape([d for i, d in enumerate(x.shape) if i not in ax])


@op("Unsqueeze", since=1)
class Unsqueeze(Op):
    def __init__(self, node, *, axes=None):
        self.node, self.axes_attr = node, axes

    def run(self, x, axes=None):
        axes = as_int_list(axes) if axes is not None else self.axes_attr
        if axes is None:
            raise ModelError(self.node, "axes is missing (an input from opset 13, an attribute before)")
        r = x.ndim + len(axes)
        ax = set(normalize_axes(axes, r, self.node))
        it = iter(x.shape)
        return x.reshape([1 if i in ax else next(it) for i in range(r)])


@op("Expand", since=8)
class Expand(Op):
    def run(self, x, shape):
        dims = as_int_list(shape)
        a, b = list(x.shape), dims
        n = max(len(a), len(b))
        a, b = [1] * (n - len(a)) + a, [1] * (n - len(b)) + b
        out = []
        for da, db in zip(a, b):
            if da != db and da != 1 and db != 1:
                raise RuntimeFailure(self.node, f"cannot expand shape {list(x.shape)} to {dims}")
            out.append(da if db == 1 else db)
        check_output_size(out, self.node)
        return np.broadcast_to(x, out).copy()

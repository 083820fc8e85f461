"""Slice — y = x[starts:ends:steps] along the given axes, NumPy-style.

    Slice(x, starts, ends, axes=all, steps=1) -> on each listed axis of size d:
        negative starts/ends count from the back (+d), then clamp:
            step > 0: start, end in [0, d]       step < 0: start in [0, d-1], end in [-1, d-1]
        (opset 1-9: starts/ends/axes are attributes and steps are 1)
"""
from __future__ import annotations

import numpy as np

from ..errors import ModelError, RuntimeFailure
from ..registry import Op, op
from ._common import as_int_list, normalize_axes


@op("Slice", since=1)
class Slice(Op):
    def __init__(self, node, *, starts=None, ends=None, axes=None):
        self.node = node
        self.attrs = (starts, ends, axes)

    def run(self, x, starts=None, ends=None, axes=None, steps=None):
        if self.opset < 10 and starts is None:
            starts, ends, axes = self.attrs
            if starts is None or ends is None:
                raise ModelError(self.node, "starts and ends attributes are required before opset 10")
            starts, ends = list(starts), list(ends)
            axes = None if axes is None else list(axes)
        else:
            starts, ends, axes = as_int_list(starts), as_int_list(ends), as_int_list(axes)
        steps = as_int_list(steps)
        if starts is None or ends is None:
            raise RuntimeFailure(self.node, "starts and ends are required")
        if axes is None:
            axes = list(range(len(starts)))
        if steps is None:
            steps = [1] * len(starts)
        if not len(starts) == len(ends) == len(axes) == len(steps):
            raise RuntimeFailure(self.node, f"starts, ends, axes and steps must have equal lengths, "
                                            f"found {len(starts)}, {len(ends)}, {len(axes)}, {len(steps)}")
        axes = normalize_axes(axes, x.ndim, self.node)
        index = [slice(None)] * x.ndim
        for a, s, e, st in zip(axes, starts, ends, steps):
            index[a] = slice_bounds(x.shape[a], int(s), int(e), int(st), self.node)
        return x[tuple(index)]


def slice_bounds(d: int, start: int, end: int, step: int, node) -> slice:
    """The Python slice for one axis of size d after ONNX's negative-index and clamping rules."""
    if step == 0:
        raise RuntimeFailure(node, "a slice step must not be zero")
    if start < 0:
        start += d
    if end < 0:
        end += d
    if step > 0:
        start, end = min(max(start, 0), d), min(max(end, 0), d)
        return slice(start, end, step)
    start, end = min(max(start, 0), d - 1), min(max(end, -1), d - 1)
    return slice(start, None if end < 0 else end, step)

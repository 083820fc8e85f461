"""ScatterElements, Scatter (opset 9-10), ScatterND — write updates at data-given indices.

    ScatterElements(data, indices, updates: same shape as indices, axis=0, reduction=none)
        y = copy(data); y[.., indices[i..], ..] (on axis) op= updates[i..]
    ScatterND(data: (d..), indices: (q.., k), updates: (q.., d[k:]..), reduction=none)
        y = copy(data); y[*indices[q..]] op= updates[q..]
    reduction: none (last write wins), add, mul, max, min. Indices are validated before use.
"""
from __future__ import annotations

import numpy as np

from ..errors import ModelError, RuntimeFailure
from ..registry import Op, op
from ._common import normalize_axis
from .gather import checked_indices

_UFUNC = {"add": np.add, "mul": np.multiply, "max": np.maximum, "min": np.minimum}


def _reduction(node, reduction):
    if reduction != "none" and reduction not in _UFUNC:
        raise ModelError(node, f"reduction must be none, add, mul, max or min, found {reduction!r}")
    return reduction


def _write(out, where, updates, reduction):
    if reduction == "none":
        out[where] = updates  # with duplicates the last write wins, as in the spec's loop
    else:
        _UFUNC[reduction].at(out, where, updates)


@op("ScatterElements", since=11)
class ScatterElements(Op):
    def __init__(self, node, *, axis=0, reduction="none"):
        self.node, self.axis, self.reduction = node, int(axis), _reduction(node, reduction)

    def run(self, data, indices, updates):
        a = normalize_axis(self.axis, data.ndim, self.node)
        if indices.shape != updates.shape or indices.ndim != data.ndim:
            raise RuntimeFailure(self.node, f"indices {list(indices.shape)} and updates "
                                            f"{list(updates.shape)} must have equal shapes of rank {data.ndim}")
        for i, (di, ii) in enumerate(zip(data.shape, indices.shape)):
            if i != a and ii > di:
                raise RuntimeFailure(self.node, f"indices shape {list(indices.shape)} exceeds data "
                                                f"shape {list(data.shape)} on axis {i}")
        idx = checked_indices(self.node, indices, data.shape[a])
        where = list(np.indices(idx.shape, sparse=True))
        where[a] = idx
        out = data.copy()
        _write(out, tuple(where), updates, self.reduction)
        return out


@op("Scatter", since=9)
class Scatter(ScatterElements):
    def __init__(self, node, *, axis=0):
        super().__init__(node, axis=axis)


@op("ScatterND", since=11)
class ScatterND(Op):
    def __init__(self, node, *, reduction="none"):
        self.node, self.reduction = node, _reduction(node, reduction)

    def run(self, data, indices, updates):
        k = indices.shape[-1] if indices.ndim else 0
        if indices.ndim < 1 or k > data.ndim:
            raise RuntimeFailure(self.node, f"indices shape {list(indices.shape)} does not fit data "
                                            f"of rank {data.ndim}")
        want = indices.shape[:-1] + data.shape[k:]
        if updates.shape != want:
            raise RuntimeFailure(self.node, f"updates shape {list(updates.shape)} should be {list(want)}")
        cols = tuple(checked_indices(self.node, indices[..., j], data.shape[j]) for j in range(k))
        out = data.copy()
        _write(out, cols, updates, self.reduction)
        return out

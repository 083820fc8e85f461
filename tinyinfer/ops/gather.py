"""Gather, GatherElements, GatherND — read elements at data-given indices (validated first).

    Gather(data: (d0..dr-1), indices: (q...), axis=0) -> data.shape[:axis] + (q...) + data.shape[axis+1:]
        y[.., i.., ..] = data[.., indices[i..], ..]
    GatherElements(data, indices: same rank, axis=0) -> indices.shape
        y[i][j][k] = data[indices[i][j][k]][j][k]   (axis 0; likewise others)
    GatherND(data: (b.., d..), indices: (b.., q.., k), batch_dims=b) -> (b.., q.., d[b+k:]..)
        y[b.., q..] = data[b.., *indices[b.., q.., :]]
Negative indices count from the back; anything outside [-d, d) is a RuntimeFailure.
"""
from __future__ import annotations

import numpy as np

from ..errors import RuntimeFailure
from ..registry import Op, op
from ._common import normalize_axis


def checked_indices(node, indices, d, what="indices"):
    """Indices wrapped into [0, d) as intp; RuntimeFailure naming the node if any is outside [-d, d)."""
    idx = np.asarray(indices)
    if idx.dtype.kind not in "iu":
        raise RuntimeFailure(node, f"{what} must be integers, found {idx.dtype}")
    idx = idx.astype(np.int64)
    if idx.size and (idx.min() < -d or idx.max() >= d):
        bad = idx[(idx < -d) | (idx >= d)].reshape(-1)[0]
        raise RuntimeFailure(node, f"{what} value {int(bad)} is out of range for an axis of size {d}")
    return np.where(idx < 0, idx + d, idx).astype(np.intp)


@op("Gather", since=1)
class Gather(Op):
    def __init__(self, node, *, axis=0):
        self.node, self.axis = node, int(axis)

    def run(self, data, indices):
        a = normalize_axis(self.axis, data.ndim, self.node)
        return np.take(data, checked_indices(self.node, indices, data.shape[a]), axis=a)


@op("GatherElements", since=11)
class GatherElements(Op):
    def __init__(self, node, *, axis=0):
        self.node, self.axis = node, int(axis)

    def run(self, data, indices):
        a = normalize_axis(self.axis, data.ndim, self.node)
        if indices.ndim != data.ndim:
            raise RuntimeFailure(self.node, f"indices rank {indices.ndim} differs from data rank {data.ndim}")
        for i, (di, ii) in enumerate(zip(data.shape, indices.shape)):
            if i != a and ii > di:
                raise RuntimeFailure(self.node, f"indices shape {list(indices.shape)} exceeds data "
                                                f"shape {list(data.shape)} on axis {i}")
        idx = checked_indices(self.node, indices, data.shape[a])
        sub = data[tuple(slice(0, n) if i != a else slice(None) for i, n in enumerate(idx.shape))]
        return np.take_along_axis(sub, idx, axis=a)


@op("GatherND", since=11)
class GatherND(Op):
    def __init__(self, node, *, batch_dims=0):
        self.node, self.b = node, int(batch_dims)

    def run(self, data, indices):
        b = self.b
        if indices.ndim < 1 or b < 0 or b >= min(data.ndim, indices.ndim):
            raise RuntimeFailure(self.node, f"batch_dims={b} is invalid for data {list(data.shape)} "
                                            f"and indices {list(indices.shape)}")
        if data.shape[:b] != indices.shape[:b]:
            raise RuntimeFailure(self.node, f"the first {b} dims of data {list(data.shape)} and "
                                            f"indices {list(indices.shape)} differ")
        k = indices.shape[-1]
        if k > data.ndim - b:
            raise RuntimeFailure(self.node, f"indices last dim {k} exceeds data rank {data.ndim} - batch_dims {b}")
        batch = int(np.prod(data.shape[:b], dtype=np.int64))
        d = data.reshape((batch,) + data.shape[b:])                       # (B, d..)
        ind = indices.reshape((batch, -1, k)).astype(np.int64)           # (B, Q, k)
        cols = []
        for j in range(k):
            cols.append(checked_indices(self.node, ind[..., j], d.shape[1 + j]))
        bi = np.arange(batch).reshape(batch, 1)
        g = d[(bi, *cols)]                                              # (B, Q, d[b+k:]..)
        return g.reshape(indices.shape[:-1] + data.shape[b + k:])

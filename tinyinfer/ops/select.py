"""NonZero, Compress, Unique, Trilu, OneHot, ReverseSequence — selecting and arranging elements.

    NonZero(x: (d..)) -> (rank, n) int64, the indices of the n non-zero elements (row-major order)
    Compress(x, condition: (c,) bool, axis=None) -> keeps slices i of axis with condition[i]
        (c may be shorter than the axis; no axis: x is flattened first)
    Unique(x, axis=None, sorted=1) -> (Y, indices, inverse_indices, counts)
        Y = unique elements (or slices along axis), indices = first occurrence in x,
        inverse_indices[i] = where x's element/slice i went in Y, counts = occurrences
    Trilu(x: (.., n, m), k=0, upper=1) -> keeps j - i >= k (upper) or j - i <= k (lower), zeros elsewhere
    OneHot(indices: (q..), depth: (), values: (2,) = [off, on], axis=-1)
        -> (q.. with depth inserted at axis), on where the index (negative counts from depth) matches
    ReverseSequence(x, sequence_lens: (B,), batch_axis=1, time_axis=0)
        -> for batch b, the first sequence_lens[b] steps along time_axis reversed
"""
from __future__ import annotations

import numpy as np

from .. import dtypes
from ..errors import ModelError, RuntimeFailure
from ..registry import Op, op
from ._common import bfloat16_to_float32, check_output_size, normalize_axis


@op("NonZero", since=9)
def NonZero(x):
    """y = stack(nonzero(x)) as int64 (rank, n); a 0-D input counts as one element of rank 1."""
    x = np.asarray(x)
    if dtypes.is_tagged(x.dtype):
        x = x.view(x.dtype[0])  # every tagged encoding has zero = all-zero bits (except -0.0)
    return np.array(np.nonzero(x.reshape(1) if x.ndim == 0 else x), dtype=np.int64).reshape(max(x.ndim, 1), -1)


@op("Compress", since=9)
class Compress(Op):
    def __init__(self, node, *, axis=None):
        self.node, self.axis = node, axis

    def run(self, x, condition):
        cond = np.asarray(condition).reshape(-1).astype(bool)
        if self.axis is None:
            x, a = x.reshape(-1), 0
        else:
            a = normalize_axis(self.axis, x.ndim, self.node)
        d = x.shape[a]
        if cond.size > d and cond[d:].any():
            raise RuntimeFailure(self.node, f"condition has {cond.size} entries, more than the "
                                            f"{d} slices of axis {a}")
        return np.take(x, np.nonzero(cond[:d])[0], axis=a)


@op("Unique", since=11)
class Unique(Op):
    def __init__(self, node, *, axis=None, sorted=1):
        self.node, self.axis, self.sorted = node, axis, int(sorted)

    def run(self, x):
        keys = bfloat16_to_float32(x) if x.dtype == dtypes.bfloat16 else x
        if self.axis is None:
            flat = x.reshape(-1)
            _, first, inverse, counts = np.unique(keys.reshape(-1), return_index=True,
                                                  return_inverse=True, return_counts=True)
            a = 0
        else:
            a = normalize_axis(self.axis, x.ndim, self.node)
            flat = x
            rows = np.moveaxis(keys, a, 0).reshape(x.shape[a], -1)       # (n, rest)
            _, first, inverse, counts = np.unique(rows, axis=0, return_index=True,
                                                  return_inverse=True, return_counts=True)
        inverse = inverse.reshape(-1)
        if not self.sorted:  # order of first occurrence
            order = np.argsort(first, kind="stable")
            rank = np.empty_like(order)
            rank[order] = np.arange(order.size)
            first, counts, inverse = first[order], counts[order], rank[inverse]
        y = np.take(flat, first, axis=a)
        i64 = lambda v: np.asarray(v, dtype=np.int64)  # noqa: E731
        return y, i64(first), i64(inverse), i64(counts)


@op("Trilu", since=14)
class Trilu(Op):
    def __init__(self, node, *, upper=1):
        self.node, self.upper = node, int(upper)

    def run(self, x, k=None):
        if x.ndim < 2:
            raise RuntimeFailure(self.node, f"the input must have rank >= 2, found shape {list(x.shape)}")
        kk = 0 if k is None else int(np.asarray(k).reshape(-1)[0])
        n, m = x.shape[-2:]
        diff = np.arange(m)[None, :] - np.arange(n)[:, None]  # (n, m): j - i
        drop = diff < kk if self.upper else diff > kk
        out = x.copy()
        out[..., drop] = np.zeros((), dtype=x.dtype)
        return out


@op("OneHot", since=9)
class OneHot(Op):
    def __init__(self, node, *, axis=-1):
        self.node, self.axis = node, int(axis)

    def run(self, indices, depth, values):
        dv = np.asarray(depth).reshape(-1)
        if dv.size != 1:
            raise RuntimeFailure(self.node, f"depth must hold one value, found {dv.size}")
        d = int(bfloat16_to_float32(dv)[0] if dv.dtype == dtypes.bfloat16 else dv[0])
        if d < 1:
            raise RuntimeFailure(self.node, f"depth must be positive, found {d}")
        vals = np.asarray(values).reshape(-1)
        if vals.size != 2:
            raise RuntimeFailure(self.node, f"values must hold [off, on], found {vals.size} values")
        r = indices.ndim
        a = self.axis + r + 1 if self.axis < 0 else self.axis
        if not 0 <= a <= r:
            raise RuntimeFailure(self.node, f"axis={self.axis} is out of range for output rank {r + 1}")
        shape = list(indices.shape[:a]) + [d] + list(indices.shape[a:])
        check_output_size(shape, self.node)
        idx = np.asarray(indices)
        if idx.dtype.kind == "f":
            idx = np.trunc(idx)
        idx = idx.astype(np.int64)
        idx = np.where(idx < 0, idx + d, idx)  # out of range -> matches no position
        pos = np.arange(d).reshape([1] * a + [d] + [1] * (r - a))
        hot = np.expand_dims(idx, a) == pos
        out = np.empty(shape, dtype=vals.dtype)
        out[...] = vals[0]
        out[hot] = vals[1]
        return out


@op("ReverseSequence", since=10)
class ReverseSequence(Op):
    def __init__(self, node, *, batch_axis=1, time_axis=0):
        self.node, self.batch_axis, self.time_axis = node, int(batch_axis), int(time_axis)

    def run(self, x, sequence_lens):
        b = normalize_axis(self.batch_axis, x.ndim, self.node, "batch_axis")
        t = normalize_axis(self.time_axis, x.ndim, self.node, "time_axis")
        if b == t:
            raise ModelError(self.node, "batch_axis and time_axis must differ")
        lens = np.asarray(sequence_lens).reshape(-1).astype(np.int64)
        T, B = x.shape[t], x.shape[b]
        if lens.size != B or (lens.size and (lens.min() < 0 or lens.max() > T)):
            raise RuntimeFailure(self.node, f"sequence_lens {lens.tolist()} must have {B} values in [0, {T}]")
        steps = np.arange(T)[:, None]                                    # (T, 1)
        src = np.where(steps < lens[None, :], lens[None, :] - 1 - steps, steps)  # (T, B)
        if b < t:
            src = src.T
        shape = [1] * x.ndim
        shape[t], shape[b] = T, B
        return np.take_along_axis(x, src.reshape(shape), axis=t)

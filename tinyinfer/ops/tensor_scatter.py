"""TensorScatter — write a block of new entries into a fixed-size (KV) cache.

    present = copy(past_cache)
    present[b, ..., write_indices[b] + s, ...] = update[b, ..., s, ...]    (index mod max_seq
                                                                           when circular)

    past_cache: (batch, D1, ..., max_seq, ..., Dn)     the sequence axis is ``axis`` (not 0)
    update:     (batch, D1, ..., seq, ..., Dn)          seq <= max_seq
    write_indices: (batch,) int64, zeros when absent   ->  present_cache: shape of past_cache
"""
from __future__ import annotations

import numpy as np

from ..errors import ModelError, RuntimeFailure
from ..registry import Op, op
from ._common import normalize_axis


@op("TensorScatter", since=24)
class TensorScatter(Op):
    def __init__(self, node, *, axis=-2, mode="linear"):
        self.node = node
        self.axis = int(axis)
        self.mode = mode.decode() if isinstance(mode, bytes) else str(mode)
        if self.mode not in ("linear", "circular"):
            raise ModelError(node, f"mode={self.mode!r} must be 'linear' or 'circular'")

    def run(self, past_cache, update, write_indices=None):
        node = self.node
        rank = past_cache.ndim
        axis = normalize_axis(self.axis, rank, node)
        if axis == 0:
            raise RuntimeFailure(node, "axis must not be the batch axis 0")
        if update.ndim != rank or any(u != p for i, (u, p) in
                                      enumerate(zip(update.shape, past_cache.shape)) if i != axis):
            raise RuntimeFailure(node, f"update shape {list(update.shape)} must equal the cache "
                                       f"shape {list(past_cache.shape)} except on axis {axis}")
        max_seq, seq = past_cache.shape[axis], update.shape[axis]
        if seq > max_seq:
            raise RuntimeFailure(node, f"update has {seq} entries on axis {axis}, more than the "
                                       f"cache's {max_seq}")
        batch = past_cache.shape[0]
        if write_indices is None:
            starts = np.zeros(batch, dtype=np.int64)
        else:
            starts = np.asarray(write_indices).astype(np.int64).reshape(-1)
            if starts.shape != (batch,):
                raise RuntimeFailure(node, f"write_indices has shape "
                                           f"{list(np.shape(write_indices))}; expected [{batch}]")
        if starts.size and starts.min() < 0:
            raise RuntimeFailure(node, f"write_indices {starts.tolist()} must be non-negative")
        if self.mode == "linear" and starts.size and starts.max() + seq > max_seq:
            raise RuntimeFailure(node, f"write_indices {starts.tolist()} plus {seq} new entries "
                                       f"run past the cache length {max_seq} (mode='linear')")
        present = past_cache.copy()
        dst = np.moveaxis(present, axis, 1)  # a view: (batch, max_seq, ...)
        src = np.moveaxis(update, axis, 1)   # (batch, seq, ...)
        for b in range(batch):
            idx = starts[b] + np.arange(seq)
            if self.mode == "circular":
                idx %= max_seq
            dst[b, idx] = src[b]
        return present

"""RotaryEmbedding — rotate pairs of features by a position-dependent angle (RoPE).

    for each head, over the first d = rotary_embedding_dim features (all when 0):
        halves:      x1 = x[:d/2],  x2 = x[d/2:d]          interleaved: x1 = x[0:d:2], x2 = x[1:d:2]
        y1 = cos * x1 - sin * x2
        y2 = sin * x1 + cos * x2                            features past d pass through

    X: (batch, heads, seq, head) or 3-D (batch, seq, heads*head) with num_heads set
    cos_cache, sin_cache: (max_pos, d/2) indexed by position_ids (batch, seq),
                          or (batch, seq, d/2) when position_ids is absent
    -> Y: same shape as X
"""
from __future__ import annotations

import numpy as np

from ..errors import ModelError, RuntimeFailure
from ..registry import Op, op
from ._common import float_compute, float_restore


@op("RotaryEmbedding", since=23)
class RotaryEmbedding(Op):
    def __init__(self, node, *, interleaved=0, num_heads=0, rotary_embedding_dim=0):
        self.node = node
        self.interleaved = bool(interleaved)
        self.num_heads = int(num_heads or 0)
        self.rotary_dim = int(rotary_embedding_dim or 0)
        if self.num_heads < 0 or self.rotary_dim < 0 or self.rotary_dim % 2:
            raise ModelError(node, f"num_heads={num_heads} must be non-negative and "
                                   f"rotary_embedding_dim={rotary_embedding_dim} non-negative and "
                                   "even")

    def prepare(self, X, cos_cache, sin_cache, position_ids=None):
        if X.shape is not None and len(X.shape) == 3 and not self.num_heads:
            raise ModelError(self.node, "a 3-D input needs the num_heads attribute")

    def run(self, X, cos_cache, sin_cache, position_ids=None):
        node, dtype = self.node, X.dtype
        x, cos, sin = (float_compute(a) for a in (X, cos_cache, sin_cache))
        if x.ndim == 4:
            x = x.transpose(0, 2, 1, 3)  # (B, H, S, D) -> (B, S, H, D)
        elif x.ndim == 3:
            if not self.num_heads or x.shape[2] % self.num_heads:
                raise RuntimeFailure(node, f"a 3-D input of hidden size {x.shape[2]} needs "
                                           f"num_heads dividing it (num_heads={self.num_heads})")
            x = x.reshape(x.shape[0], x.shape[1], self.num_heads, -1)
        else:
            raise RuntimeFailure(node, f"input must be 3-D or 4-D; it has shape {list(X.shape)}")
        B, S, H, D = x.shape
        d = self.rotary_dim or D
        if d > D or d % 2:
            raise RuntimeFailure(node, f"rotary dimension {d} must be even and at most the head "
                                       f"size {D}")
        if position_ids is not None:
            pos = np.asarray(position_ids).astype(np.int64)
            if pos.shape != (B, S):
                raise RuntimeFailure(node, f"position_ids has shape {list(pos.shape)}; expected "
                                           f"[{B}, {S}]")
            if cos.ndim != 2 or sin.shape != cos.shape:
                raise RuntimeFailure(node, "with position_ids, cos_cache and sin_cache must be "
                                           "2-D of the same shape")
            if pos.size and (pos.min() < 0 or pos.max() >= cos.shape[0]):
                raise RuntimeFailure(node, f"position_ids range [{pos.min()}, {pos.max()}] is "
                                           f"outside the cache of {cos.shape[0]} positions")
            cos, sin = cos[pos], sin[pos]  # (B, S, d/2)
        if cos.shape != (B, S, d // 2) or sin.shape != cos.shape:
            raise RuntimeFailure(node, f"cos_cache/sin_cache give shape {list(cos.shape)} per "
                                       f"token; expected [{B}, {S}, {d // 2}] (rotary dim {d})")
        cos, sin = cos[:, :, None, :], sin[:, :, None, :]  # broadcast over heads
        rot = x[..., :d]
        if self.interleaved:
            x1, x2 = rot[..., 0::2], rot[..., 1::2]
        else:
            x1, x2 = rot[..., :d // 2], rot[..., d // 2:]
        real = cos * x1 - sin * x2
        imag = sin * x1 + cos * x2
        if self.interleaved:
            rot = np.stack([real, imag], axis=-1).reshape(rot.shape)
        else:
            rot = np.concatenate([real, imag], axis=-1)
        y = np.concatenate([rot, x[..., d:]], axis=-1)
        y = y.reshape(X.shape) if X.ndim == 3 else y.transpose(0, 2, 1, 3)
        return float_restore(y, dtype)

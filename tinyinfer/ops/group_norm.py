"""InstanceNormalization and GroupNormalization — statistics per sample over channel groups.

    x: (N, C, D1..Dn), channels split into G groups of C/G
    mean, var over (C/G, D1..Dn) for each (n, group)     (population variance)
    y = (x - mean) / sqrt(var + epsilon) * scale + bias

InstanceNormalization is the case G = C with scale, B of shape (C,).
GroupNormalization: opset 18 has scale, bias of shape (G,) (one per group); opset 21 changed them
to (C,) (one per channel) and added stash_type, the type statistics are computed in.
"""
from __future__ import annotations

import numpy as np

from .. import dtypes
from ..errors import ModelError, RuntimeFailure
from ..registry import Op, op
from . import _window as W


def group_normalize(node, x, groups: int, epsilon: float, ct) -> np.ndarray:
    """(x - mean) / sqrt(var + eps) with statistics per (n, group): (N, C, ...) -> same shape."""
    if x.ndim < 2 or x.shape[1] % groups:
        raise RuntimeFailure(node, f"input X has shape {list(x.shape)}; its channel count must "
                                   f"be divisible by the {groups} groups")
    n, c = x.shape[:2]
    xg = x.astype(ct, copy=False).reshape(n, groups, -1)  # (N, G, C/G * D1..Dn)
    mean = xg.mean(axis=2, keepdims=True)
    d = xg - mean
    var = (d * d).mean(axis=2, keepdims=True)
    return (d / np.sqrt(var + ct.type(epsilon))).reshape(x.shape)


def _per_channel(node, p, c: int, ndim: int, what: str, ct):
    p = np.asarray(p).astype(ct, copy=False).reshape(-1)
    if p.size != c:
        raise RuntimeFailure(node, f"{what} has {p.size} values; expected {c}, one per channel")
    return p.reshape((1, c) + (1,) * (ndim - 2))


@op("InstanceNormalization", since=1)
class InstanceNormalization(Op):
    """InstanceNormalization — y = (x - mean) / sqrt(var + epsilon) * scale + B per (n, c).

        x: (N, C, D1..Dn)   scale, B: (C,)   ->   y: (N, C, D1..Dn)
    """

    def __init__(self, node, *, epsilon=1e-5, consumed_inputs=None):
        self.node, self.epsilon = node, float(epsilon)

    def prepare(self, x, scale, b):
        W.check_spatial_input(self.node, x.shape)

    def run(self, x, scale, b):
        ct = W.compute_dtype(x.dtype)
        c = x.shape[1] if x.ndim >= 2 else 0
        y = group_normalize(self.node, x, c, self.epsilon, ct)
        y = y * _per_channel(self.node, scale, c, x.ndim, "scale", ct) + \
            _per_channel(self.node, b, c, x.ndim, "B", ct)
        return y.astype(x.dtype, copy=False)


@op("GroupNormalization", since=18)
class GroupNormalization(Op):
    """GroupNormalization — y = (x - mean_g) / sqrt(var_g + epsilon) * scale + bias.

        x: (N, C, D1..Dn)   scale, bias: (G,) at opset 18, (C,) from 21   ->   y: x.shape
    """

    def __init__(self, node, *, num_groups, epsilon=1e-5, stash_type=1):
        self.node = node
        self.groups, self.epsilon = int(num_groups), float(epsilon)
        if self.groups < 1:
            raise ModelError(node, f"num_groups={num_groups} must be at least 1")
        self.stash = np.dtype(dtypes.ONNX_TO_NUMPY.get(int(stash_type), np.float32))

    def prepare(self, x, scale, bias):
        W.check_spatial_input(self.node, x.shape, min_rank=2)
        c = None if x.shape is None else x.shape[1]
        if isinstance(c, int) and c % self.groups:
            raise ModelError(self.node, f"num_groups={self.groups} does not divide the {c} "
                                        "channels of X")

    def run(self, x, scale, bias):
        ct = np.promote_types(self.stash, x.dtype) if x.dtype.kind == "f" else np.float32
        ct = np.dtype(np.float32) if ct == np.float16 else np.dtype(ct)
        y = group_normalize(self.node, x, self.groups, self.epsilon, ct)
        c = x.shape[1]
        if self.opset < 21 and np.size(scale) == self.groups:  # one value per group: repeat
            scale = np.repeat(np.asarray(scale).reshape(-1), c // self.groups)
            bias = np.repeat(np.asarray(bias).reshape(-1), c // self.groups)
        y = y * _per_channel(self.node, scale, c, x.ndim, "scale", ct) + \
            _per_channel(self.node, bias, c, x.ndim, "bias", ct)
        return y.astype(x.dtype, copy=False)

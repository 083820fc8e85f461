"""ChannelShuffle — ShuffleNet's cross-group channel permutation (domain ai.tinyinfer).

    x: (N, C, H, W) with C = group * k
    y[:, j * group + i] = x[:, i * k + j]        for i < group, j < k

ONNX graphs spell it Reshape(N, g, k, H, W) → Transpose(0, 2, 1, 3, 4) → Reshape(N, C, H, W);
passes/fuse_channel_shuffle.py turns that pattern into this op.
"""
from __future__ import annotations

from ..errors import ModelError, RuntimeFailure
from ..registry import Op, op


@op("ChannelShuffle", domain="ai.tinyinfer")
class ChannelShuffle(Op):
    def __init__(self, node, *, group: int = 1):
        self.node, self.group = node, int(group)
        if self.group < 1:
            raise ModelError(node, f"group={group} must be at least 1")

    def prepare(self, x):
        shape = x.shape
        if shape is not None and isinstance(shape[1] if len(shape) > 1 else None, int) \
                and shape[1] % self.group:
            raise ModelError(self.node, f"group={self.group} does not divide C={shape[1]}")

    def run(self, x):
        if x.ndim < 2 or x.shape[1] % self.group:
            raise RuntimeFailure(self.node, f"input of shape {list(x.shape)}: expected (N, C, ...) "
                                            f"with C divisible by group={self.group}")
        n, c = x.shape[:2]
        rest = x.shape[2:]
        k = c // self.group
        # (N, g, k, ...) -> (N, k, g, ...): channel i*k+j moves to j*g+i
        perm = (0, 2, 1) + tuple(range(3, x.ndim + 1))
        return x.reshape((n, self.group, k) + rest).transpose(perm).reshape(x.shape)

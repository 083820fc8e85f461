"""CausalConvWithState — depthwise causal 1-D convolution that carries its left context.

    P = concat(past_state or zeros, input)                  (B, C, k-1+L): the padded input
    y[b, c, t] = bias[c] + sum_{i<k} weight[c, 0, i] * P[b, c, t + i]
    y = y * sigmoid(y)                                       activation 'silu' / 'swish'
    present_state = P[:, :, L:]                              the last k-1 positions

    input: (B, C, L)   weight: (C, 1, k)   bias: (C,)   past_state: (B, C, k-1)
    -> output: (B, C, L), present_state: (B, C, k-1)
"""
from __future__ import annotations

import numpy as np

from ..errors import ModelError, RuntimeFailure
from ..registry import Op, op
from ._common import float_compute, float_restore


@op("CausalConvWithState", since=27)
class CausalConvWithState(Op):
    def __init__(self, node, *, activation="none"):
        self.node = node
        self.activation = activation.decode() if isinstance(activation, bytes) else str(activation)
        if self.activation not in ("none", "silu", "swish"):
            raise ModelError(node, f"activation={self.activation!r} must be 'none', 'silu' or "
                                   "'swish'")

    def run(self, input, weight, bias=None, past_state=None):
        node, dtype = self.node, input.dtype
        if input.ndim != 3:
            raise RuntimeFailure(node, f"input must be 3-D (batch, channels, length); it has "
                                       f"shape {list(input.shape)}")
        B, C, L = input.shape
        if weight.ndim != 3 or weight.shape[:2] != (C, 1) or weight.shape[2] < 1:
            raise RuntimeFailure(node, f"weight has shape {list(weight.shape)}; expected "
                                       f"[{C}, 1, k] with k >= 1")
        k = weight.shape[2]
        if bias is not None and bias.shape != (C,):
            raise RuntimeFailure(node, f"bias has shape {list(bias.shape)}; expected [{C}]")
        if past_state is None:
            past_state = np.zeros((B, C, k - 1), dtype=dtype)
        elif past_state.shape != (B, C, k - 1):
            raise RuntimeFailure(node, f"past_state has shape {list(past_state.shape)}; expected "
                                       f"{[B, C, k - 1]}")
        padded = np.concatenate([past_state, input], axis=2)  # (B, C, k-1+L), exact bits
        p = float_compute(padded)
        w = float_compute(weight)[:, 0, :]  # (C, k)
        acc = p.dtype if p.dtype != np.float16 else np.float32
        p, w = p.astype(acc, copy=False), w.astype(acc, copy=False)
        y = np.zeros((B, C, L), dtype=acc)
        for i in range(k):
            y += w[:, i, None] * p[:, :, i:i + L]
        if bias is not None:
            y += float_compute(bias).astype(acc)[:, None]
        if self.activation != "none":
            # the spec's reference rounds the convolution to the input type before SiLU
            y = float_compute(float_restore(y, dtype)).astype(np.float32)
            y = y * (0.5 * (np.tanh(0.5 * y) + 1))  # silu(y) = y * sigmoid(y)
        return float_restore(y, dtype), padded[:, :, L:]

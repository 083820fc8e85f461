"""FlexAttention (ai.onnx.preview) — attention with user sub-graphs on scores and probabilities.

    S = (Q * sqrt(scale)) (K * sqrt(scale))^T           scale defaults to 1/sqrt(head_size)
    S = score_mod(S)                                     when the score_mod graph is given
    P = softmax(S)                                       over the keys
    P = prob_mod(P)                                      when the prob_mod graph is given
    Y = P V

    Q: (batch, q_heads, q_seq, head)   K: (batch, kv_heads, kv_seq, head)
    V: (batch, kv_heads, kv_seq, v_head)   ->   Y: (batch, q_heads, q_seq, v_head)

Query head h reads KV head h // (q_heads / kv_heads). S and P (and so the sub-graphs' input
and output) use softmax_precision: float32 by default, double for double inputs.
"""
from __future__ import annotations

import numpy as np

from .. import ir
from ..errors import ModelError, RuntimeFailure
from ..registry import Op, op
from ._common import float_compute, float_restore
from .attention import masked_softmax

_PRECISION = {1: np.float32, 10: np.float16, 11: np.float64, 16: np.float32}


@op("FlexAttention", since=1, domain="ai.onnx.preview")
class FlexAttention(Op):
    uses_scope = True

    def __init__(self, node, *, prob_mod=None, scale=None, score_mod=None,
                 softmax_precision=None):
        self.node = node
        self.scale = None if scale is None else float(scale)
        self.softmax_precision = None if softmax_precision is None else int(softmax_precision)
        if self.softmax_precision is not None and self.softmax_precision not in _PRECISION:
            raise ModelError(node, f"softmax_precision={softmax_precision} must be 1 (float), 10 "
                                   "(float16), 11 (double) or 16 (bfloat16)")
        self.graphs = {"score_mod": score_mod, "prob_mod": prob_mod}
        self.plans = {}

    def prepare(self, *inputs):
        for name, graph in self.graphs.items():
            if graph is None:
                continue
            if not isinstance(graph, ir.Graph):
                raise ModelError(self.node, f"attribute {name!r} must be a graph")
            plan = self.ctx.compile(graph, getattr(self, "visible_names", frozenset()))
            if len(plan.input_names) != 1 or len(plan.output_names) != 1:
                raise ModelError(self.node, f"{name} must have exactly one input and one output; "
                                            f"it has {len(plan.input_names)} and "
                                            f"{len(plan.output_names)}")
            self.plans[name] = plan

    def _apply(self, name, x, scope):
        plan = self.plans.get(name)
        if plan is None:
            return x
        (y,) = plan.run({plan.input_names[0]: x}, outer=scope)
        y = np.asarray(y)
        if y.shape != x.shape:
            raise RuntimeFailure(self.node, f"{name} returned shape {list(y.shape)}; it must keep "
                                            f"the input shape {list(x.shape)}")
        return y.astype(x.dtype, copy=False)

    def run(self, Q, K, V, scope=None):
        node, dtype = self.node, V.dtype
        if not (Q.ndim == K.ndim == V.ndim == 4):
            raise RuntimeFailure(node, f"Q, K and V must be 4-D; they have shapes "
                                       f"{list(Q.shape)}, {list(K.shape)}, {list(V.shape)}")
        B, Hq, L, E = Q.shape
        _, Hkv, S, Ek = K.shape
        if K.shape[0] != B or V.shape[:3] != (B, Hkv, S) or Ek != E:
            raise RuntimeFailure(node, f"Q {list(Q.shape)}, K {list(K.shape)} and V "
                                       f"{list(V.shape)} do not agree on batch, heads, sequence "
                                       "or head size")
        if Hq % Hkv:
            raise RuntimeFailure(node, f"{Hq} query heads are not a multiple of {Hkv} key/value "
                                       "heads")
        q, k, v = (float_compute(a) for a in (Q, K, V))
        if Hq != Hkv:
            k, v = np.repeat(k, Hq // Hkv, axis=1), np.repeat(v, Hq // Hkv, axis=1)
        scale = 1.0 / np.sqrt(E) if self.scale is None else self.scale
        s = np.array(np.sqrt(np.float32(scale)), dtype=q.dtype)
        scores = np.matmul(q * s, np.swapaxes(k * s, -1, -2))  # (B, Hq, L, S)
        if self.softmax_precision is not None:
            ct = np.dtype(_PRECISION[self.softmax_precision])
        else:
            ct = np.dtype(np.float64 if q.dtype == np.float64 else np.float32)
        scores = self._apply("score_mod", scores.astype(ct), scope)
        probs = self._apply("prob_mod", masked_softmax(scores), scope)
        y = np.matmul(probs, v.astype(ct))
        return float_restore(y, dtype)

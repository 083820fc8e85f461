"""LinearAttention — attention as a recurrence over a (d_k, d_v) state per key/value head.

    for t in 0..T-1, per batch and KV head (k_t, q_t: (d_k,), v_t: (d_v,), S: (d_k, d_v)):
        S   = exp(g_t) * S                                  gated, gated_delta (g_t = decay)
        v_t = beta_t * (v_t - S^T k_t)                      delta, gated_delta
        S   = S + k_t ⊗ v_t
        o_t = scale * q_t^T S                               scale defaults to 1/sqrt(d_k)

    query: (B, T, Hq*d_k)   key: (B, T, Hkv*d_k)   value: (B, T, Hkv*d_v)
    decay: (B, T, Hkv*d_k) or (B, T, Hkv)   beta: (B, T, Hkv) or (B, T, 1)
    past_state: (B, Hkv, d_k, d_v), zeros when absent
    -> output: (B, T, Hq*d_v), present_state: (B, Hkv, d_k, d_v)

Query head h reads the state of KV head h // (Hq / Hkv). The recurrence runs in float32 (the
spec's reference does); present_state takes past_state's element type, else the query's.
"""
from __future__ import annotations

import numpy as np

from ..errors import ModelError, RuntimeFailure
from ..registry import Op, op
from ._common import float_compute, float_restore

_RULES = {"linear": (False, False), "gated": (True, False), "delta": (False, True),
          "gated_delta": (True, True)}  # rule -> (gating, delta correction)


@op("LinearAttention", since=27)
class LinearAttention(Op):
    def __init__(self, node, *, kv_num_heads, q_num_heads, chunk_size=64, scale=0.0,
                 update_rule="gated_delta"):
        self.node = node
        self.hq, self.hkv = int(q_num_heads), int(kv_num_heads)
        self.scale = float(scale)
        self.rule = update_rule.decode() if isinstance(update_rule, bytes) else str(update_rule)
        if self.rule not in _RULES:
            raise ModelError(node, f"update_rule={self.rule!r} must be one of "
                                   f"{', '.join(_RULES)}")
        if self.hq <= 0 or self.hkv <= 0 or self.hq % self.hkv:
            raise ModelError(node, f"q_num_heads={self.hq} must be a positive multiple of "
                                   f"kv_num_heads={self.hkv}")
        self.gating, self.delta = _RULES[self.rule]

    def prepare(self, query, key, value, past_state=None, decay=None, beta=None):
        names = list(self.node.inputs) + [""] * 6
        for present, needed, what in ((bool(names[4]), self.gating, "decay"),
                                      (bool(names[5]), self.delta, "beta")):
            if present != needed:
                raise ModelError(self.node, f"update_rule={self.rule!r} "
                                            f"{'needs' if needed else 'does not take'} {what}")

    def _unpack(self, x, heads, what, B, T):
        """(B, T, heads*d) -> (B, heads, T, d) in float32."""
        if x.ndim != 3 or x.shape[:2] != (B, T) or x.shape[2] % heads:
            raise RuntimeFailure(self.node, f"{what} has shape {list(x.shape)}; expected "
                                            f"[{B}, {T}, a multiple of {heads}]")
        x = float_compute(x).astype(np.float32)
        return x.reshape(B, T, heads, -1).transpose(0, 2, 1, 3)

    def run(self, query, key, value, past_state=None, decay=None, beta=None):
        node, hq, hkv = self.node, self.hq, self.hkv
        if query.ndim != 3:
            raise RuntimeFailure(node, f"query must be 3-D (B, T, Hq*d_k); it has shape "
                                       f"{list(query.shape)}")
        B, T = query.shape[:2]
        q = self._unpack(query, hq, "query", B, T)    # (B, Hq, T, d_k)
        k = self._unpack(key, hkv, "key", B, T)       # (B, Hkv, T, d_k)
        v = self._unpack(value, hkv, "value", B, T)   # (B, Hkv, T, d_v)
        dk, dv = q.shape[3], v.shape[3]
        if k.shape[3] != dk:
            raise RuntimeFailure(node, f"key head size {k.shape[3]} differs from the query's {dk}")
        if self.gating:
            if decay is None:
                raise RuntimeFailure(node, f"update_rule={self.rule!r} needs decay")
            if decay.ndim != 3 or decay.shape[2] not in (hkv, hkv * dk):
                raise RuntimeFailure(node, f"decay has shape {list(decay.shape)}; expected "
                                           f"[{B}, {T}, {hkv}] or [{B}, {T}, {hkv * dk}]")
            g = self._unpack(decay, hkv, "decay", B, T)  # (B, Hkv, T, 1 or d_k)
        if self.delta:
            if beta is None or beta.ndim != 3 or beta.shape[2] not in (hkv, 1):
                raise RuntimeFailure(node, f"beta has shape "
                                           f"{None if beta is None else list(beta.shape)}; "
                                           f"expected [{B}, {T}, {hkv}] or [{B}, {T}, 1]")
            bt = self._unpack(beta, beta.shape[2], "beta", B, T)  # (B, Hkv or 1, T, 1)
        if past_state is not None:
            if past_state.shape != (B, hkv, dk, dv):
                raise RuntimeFailure(node, f"past_state has shape {list(past_state.shape)}; "
                                           f"expected {[B, hkv, dk, dv]}")
            state_dtype = past_state.dtype
            S = float_compute(past_state).astype(np.float32)  # a copy
        else:
            state_dtype = query.dtype
            S = np.zeros((B, hkv, dk, dv), dtype=np.float32)
        scale = self.scale if self.scale else 1.0 / np.sqrt(dk)
        group = hq // hkv
        out = np.empty((B, hq, T, dv), dtype=np.float32)
        for t in range(T):
            kt, vt = k[:, :, t], v[:, :, t]  # (B, Hkv, d_k), (B, Hkv, d_v)
            if self.gating:
                S = S * np.exp(g[:, :, t])[..., None]  # decay over d_k (or all), broadcast d_v
            if self.delta:
                vt = bt[:, :, t] * (vt - np.einsum("bhdm,bhd->bhm", S, kt))
            S = S + kt[..., :, None] * vt[..., None, :]
            Sq = S if group == 1 else np.repeat(S, group, axis=1)  # (B, Hq, d_k, d_v)
            out[:, :, t] = scale * np.einsum("bhd,bhdm->bhm", q[:, :, t], Sq)
        y = out.transpose(0, 2, 1, 3).reshape(B, T, hq * dv)  # (B, Hq, T, d_v) -> (B, T, Hq*d_v)
        return float_restore(y, query.dtype), float_restore(S, state_dtype)

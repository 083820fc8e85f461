"""Attention — scaled dot-product attention with masks, a KV cache and grouped heads.

    K' = concat(past_key, K), V' = concat(past_value, V)            along the sequence axis
    S  = (Q * sqrt(scale)) (K' * sqrt(scale))^T                     scale = 1/sqrt(head_size)
    S  = softcap * tanh(S / softcap)                                 only when softcap > 0
    P  = softmax(S + bias)                                           over the keys; a row whose
                                                                     bias is all -inf gives P = 0
    Y  = P V'

    Q: (batch, q_heads, q_seq, head)  or 3-D (batch, q_seq, q_heads*head)
    K: (batch, kv_heads, kv_seq, head)       V: (batch, kv_heads, kv_seq, v_head)
    past_key / past_value: (batch, kv_heads, past_seq, head / v_head)
    ->  Y: (batch, q_heads, q_seq, v_head)  or 3-D (batch, q_seq, q_heads*v_head)
        present_key / present_value: (batch, kv_heads, past_seq + kv_seq, head / v_head)
        qk_matmul_output: (batch, q_heads, q_seq, past_seq + kv_seq)

GQA/MQA: query head h reads KV head h // (q_heads / kv_heads). The additive ``bias`` combines
attn_mask (bool: False -> -inf; float: added as is; a short last axis is padded with -inf),
is_causal (key j is visible to query i iff j <= i + offset), the opset-25 window
(offset + i - left_window_size <= j <= offset + i + right_window_size, -1 = unbounded) and
nonpad_kv_seqlen (key j of batch b is visible iff j < nonpad_kv_seqlen[b]). ``offset`` counts
the valid keys before the query block: past_seq with a past_key, nonpad_kv_seqlen[b] - q_seq
with nonpad_kv_seqlen alone, else 0.

qk_matmul_output_mode: 0 = S before softcap, 1 = S after softcap, 2 = S + bias, 3 = P.
bfloat16 is computed in float32; float16 is computed in float16 unless softmax_precision says
otherwise, as the spec's reference does. Taught in notebooks/05.
"""
from __future__ import annotations

import numpy as np

from ..dtypes import bfloat16
from ..errors import ModelError, RuntimeFailure
from ..registry import Op, op
from ._common import float_compute, float_restore

_PRECISION = {1: np.float32, 10: np.float16, 11: np.float64, 16: np.float32}


def masked_softmax(x: np.ndarray) -> np.ndarray:
    """Softmax over the last axis; a row that is all -inf gives zeros instead of NaN."""
    m = np.max(x, axis=-1, keepdims=True)
    m = np.where(np.isneginf(m), 0, m).astype(x.dtype)
    e = np.exp(x - m)
    s = np.sum(e, axis=-1, keepdims=True)
    return e / np.where(s == 0, 1, s).astype(x.dtype)


@op("Attention", since=23)
class Attention(Op):
    window = False  # opset 25 adds left_window_size / right_window_size

    def __init__(self, node, *, is_causal=0, kv_num_heads=None, q_num_heads=None,
                 qk_matmul_output_mode=0, scale=None, softcap=0.0, softmax_precision=None):
        self.node = node
        self.is_causal = bool(is_causal)
        self.q_num_heads = None if q_num_heads is None else int(q_num_heads)
        self.kv_num_heads = None if kv_num_heads is None else int(kv_num_heads)
        self.mode = int(qk_matmul_output_mode)
        self.scale = None if scale is None else float(scale)
        self.softcap = float(softcap)
        self.softmax_precision = None if softmax_precision is None else int(softmax_precision)
        self.left, self.right = -1, -1
        if self.mode not in (0, 1, 2, 3):
            raise ModelError(node, f"qk_matmul_output_mode={qk_matmul_output_mode} must be 0, 1, "
                                   "2 or 3")
        if self.softmax_precision is not None and self.softmax_precision not in _PRECISION:
            raise ModelError(node, f"softmax_precision={softmax_precision} must be 1 (float), 10 "
                                   "(float16), 11 (double) or 16 (bfloat16)")
        for name, v in (("q_num_heads", self.q_num_heads), ("kv_num_heads", self.kv_num_heads)):
            if v is not None and v <= 0:
                raise ModelError(node, f"{name}={v} must be positive")

    def prepare(self, Q, K, V, attn_mask=None, past_key=None, past_value=None,
                nonpad_kv_seqlen=None):
        names = list(self.node.inputs) + [""] * 7
        if bool(names[4]) != bool(names[5]):
            raise ModelError(self.node, "past_key and past_value must be given together")
        if names[6] and names[4]:
            raise ModelError(self.node, "nonpad_kv_seqlen cannot be combined with past_key and "
                                        "past_value")
        ranks = {len(i.shape) for i in (Q, K, V) if i.shape is not None}
        if len(ranks) > 1 or (ranks and ranks.pop() not in (3, 4)):
            raise ModelError(self.node, "Q, K and V must all be 3-D or all be 4-D")
        if Q.shape is not None:
            self._check_heads_attrs(len(Q.shape), ModelError)

    def _check_heads_attrs(self, rank, error):
        if rank == 3 and (self.q_num_heads is None or self.kv_num_heads is None):
            raise error(self.node, "3-D Q, K and V need the q_num_heads and kv_num_heads "
                                   "attributes")
        if rank == 4 and self.window and (self.q_num_heads is not None
                                          or self.kv_num_heads is not None):
            raise error(self.node, "q_num_heads and kv_num_heads must not be set for 4-D inputs")

    def _to_4d(self, x, heads, what):
        """(batch, seq, heads*head) -> (batch, heads, seq, head)."""
        b, s, hidden = x.shape
        if hidden % heads:
            raise RuntimeFailure(self.node, f"{what} hidden size {hidden} is not divisible by "
                                            f"{heads} heads")
        return x.reshape(b, s, heads, hidden // heads).transpose(0, 2, 1, 3)

    def run(self, Q, K, V, attn_mask=None, past_key=None, past_value=None,
            nonpad_kv_seqlen=None):
        node = self.node
        dtype = Q.dtype
        rank = Q.ndim
        if not (K.ndim == V.ndim == rank and rank in (3, 4)):
            raise RuntimeFailure(node, f"Q, K and V must all be 3-D or all be 4-D; they have "
                                       f"shapes {list(Q.shape)}, {list(K.shape)}, {list(V.shape)}")
        self._check_heads_attrs(rank, RuntimeFailure)
        if rank == 3:
            Q = self._to_4d(Q, self.q_num_heads, "Q")
            K = self._to_4d(K, self.kv_num_heads, "K")
            V = self._to_4d(V, self.kv_num_heads, "V")
        if (past_key is None) != (past_value is None):
            raise RuntimeFailure(node, "past_key and past_value must be given together")
        # the cache keeps the exact input bits (no compute round trip)
        present_key = K if past_key is None else self._concat(past_key, K, "past_key")
        present_value = V if past_value is None else self._concat(past_value, V, "past_value")
        B, Hq, Sq, Dq = Q.shape
        _, Hkv, T, Dk = present_key.shape
        if present_key.shape[0] != B or present_value.shape[:3] != (B, Hkv, T) or Dk != Dq:
            raise RuntimeFailure(node, f"Q {list(Q.shape)}, K {list(present_key.shape)} and V "
                                       f"{list(present_value.shape)} do not agree on batch, heads,"
                                       f" sequence or head size")
        if Hq % Hkv:
            raise RuntimeFailure(node, f"{Hq} query heads are not a multiple of {Hkv} key/value "
                                       "heads")
        q, k, v = (float_compute(a) for a in (Q, present_key, present_value))
        ct = q.dtype
        offset, nonpad = self._offset(nonpad_kv_seqlen, past_key, B, Sq, T)
        bias = self._bias(attn_mask, offset, nonpad, ct, Sq, T)

        rep = Hq // Hkv
        if rep > 1:
            k, v = np.repeat(k, rep, axis=1), np.repeat(v, rep, axis=1)
        scale = 1 / np.sqrt(Dq) if self.scale is None else self.scale
        s = np.array(np.sqrt(scale), dtype=ct)
        if dtype.names:  # the reference rounds sqrt(scale) to bfloat16
            s = float_compute(float_restore(s, dtype))
        qk = np.matmul(q * s, np.swapaxes(k * s, -1, -2))  # (B, Hq, Sq, T)
        raw = qk
        if self.softcap > 0:
            qk = (self.softcap * np.tanh(qk / self.softcap)).astype(ct)
        logits = qk + bias
        sm_type = ct if self.softmax_precision is None else _PRECISION[self.softmax_precision]
        probs = masked_softmax(logits.astype(sm_type))
        if self.softmax_precision == 16:
            probs = float_compute(float_restore(probs, bfloat16))
        # a query row with no visible key is zero, even where its logits are NaN
        all_masked = np.isneginf(np.max(bias, axis=-1, keepdims=True))
        probs = np.where(all_masked, 0, probs).astype(sm_type)
        y = np.matmul(probs.astype(ct), v)  # (B, Hq, Sq, Dv)
        if rank == 3:
            y = y.transpose(0, 2, 1, 3).reshape(B, Sq, -1)  # -> (B, Sq, Hq*Dv)
        outs = [float_restore(y, dtype), present_key, present_value]
        n = len(node.outputs)
        if n > 3 and node.outputs[3]:
            qk_out = (raw, qk, logits, probs)[self.mode]
            outs.append(float_restore(np.broadcast_to(qk_out, (B, Hq, Sq, T)), dtype))
        outs = outs[:max(n, 1)]
        return tuple(outs) if len(outs) > 1 else outs[0]

    def _concat(self, past, new, what):
        if past.ndim != 4 or past.shape[:2] != new.shape[:2] or past.shape[3] != new.shape[3]:
            raise RuntimeFailure(self.node, f"{what} has shape {list(past.shape)}; expected "
                                            f"[{new.shape[0]}, {new.shape[1]}, past_seq, "
                                            f"{new.shape[3]}]")
        if past.dtype != new.dtype:
            raise RuntimeFailure(self.node, f"{what} has a different element type from the new "
                                            "keys/values")
        return np.concatenate([past, new], axis=2)

    def _offset(self, nonpad_kv_seqlen, past_key, B, Sq, T):
        """(offset of the query block: int or (B, 1, 1, 1), valid key counts (B,) or None)."""
        if nonpad_kv_seqlen is None:
            return (0 if past_key is None else past_key.shape[2]), None
        if past_key is not None:
            raise RuntimeFailure(self.node, "nonpad_kv_seqlen cannot be combined with past_key "
                                            "and past_value")
        n = np.asarray(nonpad_kv_seqlen).astype(np.int64).reshape(-1)
        if n.shape != (B,):
            raise RuntimeFailure(self.node, f"nonpad_kv_seqlen has shape "
                                            f"{list(np.shape(nonpad_kv_seqlen))}; expected [{B}]")
        if n.size and (n.min() < 0 or n.max() > T):
            raise RuntimeFailure(self.node, f"nonpad_kv_seqlen {n.tolist()} must lie in [0, {T}] "
                                            "(the key sequence length)")
        return (n - Sq).reshape(B, 1, 1, 1), n

    def _bias(self, attn_mask, offset, nonpad, ct, Sq, T):
        """The additive bias: 0 where a key is visible, -inf where not, plus a float mask."""
        bias = np.zeros((Sq, T), dtype=ct)
        if attn_mask is not None:
            m = float_compute(attn_mask)
            if m.ndim > 4 or m.shape[-1] > T:
                raise RuntimeFailure(self.node, f"attn_mask has shape {list(m.shape)}; it must "
                                                f"broadcast to (batch, heads, {Sq}, {T})")
            if m.dtype == np.bool_:
                m = np.where(m, 0, -np.inf).astype(ct)
            if m.shape[-1] < T:  # a short mask leaves the remaining keys masked
                pad = np.full(m.shape[:-1] + (T - m.shape[-1],), -np.inf, dtype=m.dtype)
                m = np.concatenate([m, pad], axis=-1)
            try:
                bias = bias + m.astype(ct)
            except ValueError:
                raise RuntimeFailure(self.node, f"attn_mask has shape {list(m.shape)}; it must "
                                                f"broadcast to (batch, heads, {Sq}, {T})") from None
        # absolute query positions: (Sq, 1), or (B, 1, Sq, 1) with a per-batch offset
        pos = np.arange(Sq).reshape(Sq, 1) + offset
        j = np.arange(T)
        allowed = np.ones(np.broadcast_shapes(np.shape(pos), (T,)), dtype=bool)
        if self.is_causal:
            allowed &= j <= pos
        if self.left >= 0:
            allowed &= pos - j <= self.left
        if self.right >= 0:
            allowed &= j - pos <= self.right
        if nonpad is not None:
            allowed = allowed & (j < nonpad.reshape(-1, 1, 1, 1))
        if not allowed.all():
            bias = bias + np.where(allowed, 0, -np.inf).astype(ct)
        return bias


@op("Attention", since=25)
class Attention_25(Attention):
    window = True

    def __init__(self, node, *, is_causal=0, kv_num_heads=None, q_num_heads=None,
                 qk_matmul_output_mode=0, scale=None, softcap=0.0, softmax_precision=None,
                 left_window_size=-1, right_window_size=-1):
        super().__init__(node, is_causal=is_causal, kv_num_heads=kv_num_heads,
                         q_num_heads=q_num_heads, qk_matmul_output_mode=qk_matmul_output_mode,
                         scale=scale, softcap=softcap, softmax_precision=softmax_precision)
        self.left, self.right = int(left_window_size), int(right_window_size)
        for name, v in (("left_window_size", self.left), ("right_window_size", self.right)):
            if v < -1:
                raise ModelError(node, f"{name}={v} must be -1 (unbounded) or non-negative")

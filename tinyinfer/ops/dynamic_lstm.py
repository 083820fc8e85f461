"""DynamicQuantizeLSTM (com.microsoft) — LSTM with int8 weights and dynamically quantised inputs.

    W: (dirs, input, 4*hidden) (u)int8   R: (dirs, hidden, 4*hidden) (u)int8   (transposed vs LSTM)
    W_scale, W_zero_point, R_scale, R_zero_point: (dirs,) per tensor or (dirs, 4*hidden) per column
    X, B, sequence_lens, initial_h, initial_c, P and the outputs: as LSTM (ops/lstm.py)

onnxruntime's contract (uni_directional_lstm.cc, rnn_helpers.cc ComputeGemm), step for step:

    qx, sx, zx = DynamicQuantizeLinear(X[:max_len])     once, over every row of the sequence
    XW[t]      = float32((qx[t] - zx) @ (W - W_zp)) * (sx * W_scale)
    each step: qh, sh, zh = DynamicQuantizeLinear(H_{t-1})   over the batch's hidden rows
               gates = XW[t] + float32((qh - zh) @ (R - R_zp)) * (sh * R_scale)
    then the LSTM gate equations with bias Wb + Rb (and peepholes), as ops/lstm.py.

The integer products are exact; sigmoid/tanh are NumPy's, where onnxruntime uses MLAS
approximations, so outputs agree to float tolerance, not bit for bit (tests/int8/test_dynamic.py).
"""
from __future__ import annotations

import numpy as np

from ..errors import RuntimeFailure
from ..registry import op
from . import quant_common as Q
from .lstm import LSTM
from .quantize_linear import DynamicQuantizeLinear

F32 = np.float32


def _col(p, d, n, what, node):
    """Per-direction scale/zero point: scalar per tensor, or (4*hidden,) per column."""
    p = np.asarray(p)
    row = p.reshape(p.shape[0], -1)[d] if p.ndim >= 1 and p.size > 1 else p.reshape(-1)
    if row.size not in (1, n):
        raise RuntimeFailure(node, f"{what} has shape {list(p.shape)}; expected (dirs,) or "
                                   f"(dirs, {n})")
    return row.reshape(()) if row.size == 1 else row


@op("DynamicQuantizeLSTM", since=1, domain="com.microsoft")
class DynamicQuantizeLSTM(LSTM):
    def prepare(self, *infos):  # W/R layouts differ from LSTM's; checked in run
        pass

    def _qgemm(self, a, w, w_scale, w_zp):
        """float32((q(a) - za) @ (w - w_zp)) * (sa * w_scale): rnn_helpers ComputeGemm."""
        qa, sa, za = DynamicQuantizeLinear(self.node).run(a)
        acc = Q.int_matmul(Q.as_int32(qa) - np.int32(za), Q.as_int32(w) - Q.as_int32(w_zp))
        return acc.astype(F32) * (F32(sa) * np.asarray(w_scale, F32))

    def run(self, X, W, R, B=None, sequence_lens=None, initial_h=None, initial_c=None, P=None,
            W_scale=None, W_zero_point=None, R_scale=None, R_zero_point=None):
        node, D = self.node, self.num_directions
        if W_scale is None or R_scale is None:
            raise RuntimeFailure(node, "W_scale and R_scale are required inputs")
        X = np.asarray(X, F32)
        if X.ndim != 3 or np.ndim(W) != 3 or np.ndim(R) != 3:
            raise RuntimeFailure(node, "X, W and R must be 3-D")
        if self.layout == 1:
            X = X.transpose(1, 0, 2)
            initial_h = None if initial_h is None else np.asarray(initial_h).transpose(1, 0, 2)
            initial_c = None if initial_c is None else np.asarray(initial_c).transpose(1, 0, 2)
        T, N, I = X.shape
        H = R.shape[1]
        G4 = 4 * H
        for name, a, want in (("W", W, (D, I, G4)), ("R", R, (D, H, G4)), ("B", B, (D, 8 * H)),
                              ("initial_h", initial_h, (D, N, H)),
                              ("initial_c", initial_c, (D, N, H)), ("P", P, (D, 3 * H))):
            self._check(name, a, want)
        lens = np.full(N, T, np.int64) if sequence_lens is None else \
            np.asarray(sequence_lens).astype(np.int64).reshape(-1)
        if lens.shape != (N,) or (N and (lens.min() < 0 or lens.max() > T)):
            raise RuntimeFailure(node, f"sequence_lens must hold {N} lengths in [0, {T}]")
        steps = int(lens.max(initial=0))
        keep_y = bool(node.outputs and node.outputs[0])  # onnxruntime zeroes finished rows of Y
        Y = np.zeros((T, D, N, H), F32)
        Y_h = np.zeros((D, N, H), F32)
        Y_c = np.zeros((D, N, H), F32)
        for d in range(D):
            f, g, h_act = self.acts[d]
            reverse = self.direction == "reverse" or d == 1
            xs = X[:steps]
            if reverse:  # each sequence reversed within its own length
                xs = np.stack([np.concatenate([X[:lens[b]][::-1, b], X[lens[b]:steps, b]])
                               for b in range(N)], axis=1) if N else xs
            xw = self._qgemm(xs.reshape(-1, I), W[d], _col(W_scale, d, G4, "W_scale", node),
                             _col(W_zero_point if W_zero_point is not None else 0, d, G4,
                                  "W_zero_point", node)).reshape(steps, N, G4)
            rs, rz = _col(R_scale, d, G4, "R_scale", node), _col(
                R_zero_point if R_zero_point is not None else 0, d, G4, "R_zero_point", node)
            bias = np.zeros(G4, F32) if B is None else \
                (np.asarray(B[d, :G4], F32) + np.asarray(B[d, G4:], F32))
            p = np.zeros(3 * H, F32) if P is None else np.asarray(P[d], F32)
            h = np.zeros((N, H), F32) if initial_h is None else np.asarray(initial_h[d], F32)
            c = np.zeros((N, H), F32) if initial_c is None else np.asarray(initial_c[d], F32).copy()
            hq = h.copy()  # the rows the next step quantises (finished rows: 0 when Y is kept)
            for t in range(steps):
                z = xw[t] + self._qgemm(hq, R[d], rs, rz)  # (N, 4H) gates i, o, f, c
                i = f(self.gate_clip(z[:, :H] + p[:H] * c + bias[:H]))
                ff = 1 - i if self.input_forget else \
                    f(self.gate_clip(z[:, 2 * H:3 * H] + p[2 * H:] * c + bias[2 * H:3 * H]))
                cc = g(self.gate_clip(z[:, 3 * H:] + bias[3 * H:]))
                c_new = ff * c + i * cc
                o = f(self.gate_clip(z[:, H:2 * H] + p[H:2 * H] * c_new + bias[H:2 * H]))
                h_new = (o * h_act(c_new)).astype(F32)
                live = (t < lens)[:, None]
                h = np.where(live, h_new, h)
                c = np.where(live, c_new, c).astype(F32)
                hq = np.where(live, h_new, 0 if keep_y else hq).astype(F32)
                out = np.where(live, h_new, 0)
                if reverse:
                    for b in range(N):
                        if t < lens[b]:
                            Y[lens[b] - 1 - t, d, b] = out[b]
                else:
                    Y[t, d] = out
            Y_h[d] = np.where((lens == 0)[:, None], 0, h)
            Y_c[d] = np.where((lens == 0)[:, None], 0, c)
        outs = [Y, Y_h, Y_c]
        if self.layout == 1:
            outs[0] = Y.transpose(2, 0, 1, 3)
            outs[1:] = [o.transpose(1, 0, 2) for o in outs[1:]]
        outs = outs[:max(len(node.outputs), 1)]
        return tuple(outs) if len(outs) > 1 else outs[0]

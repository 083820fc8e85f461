"""GRU — the gated recurrent unit. Gates in W, R and B are stacked in the order z, r, h.

    z_t = f(X_t Wz^T + H_{t-1} Rz^T + Wbz + Rbz)                    update gate
    r_t = f(X_t Wr^T + H_{t-1} Rr^T + Wbr + Rbr)                    reset gate
    h_t = g(X_t Wh^T + (r_t * H_{t-1}) Rh^T + Rbh + Wbh)            linear_before_reset = 0
    h_t = g(X_t Wh^T + r_t * (H_{t-1} Rh^T + Rbh) + Wbh)            linear_before_reset != 0
    H_t = (1 - z_t) * h_t + z_t * H_{t-1}                            f = Sigmoid, g = Tanh

    X: (seq, batch, input)   W: (dirs, 3*hidden, input)   R: (dirs, 3*hidden, hidden)
    B: (dirs, 6*hidden) = [Wbz, Wbr, Wbh, Rbz, Rbr, Rbh]
    ->   Y: (seq, dirs, batch, hidden), Y_h: (dirs, batch, hidden)

Layouts, directions, sequence_lens and activation lists: see _recurrent.py.
"""
from __future__ import annotations

from ..registry import op
from ._recurrent import Recurrent


@op("GRU", since=1)
class GRU(Recurrent):
    gates = 3
    default_activations = ("Sigmoid", "Tanh")

    def __init__(self, node, *, activation_alpha=None, activation_beta=None, activations=None,
                 clip=None, direction="forward", hidden_size=None, layout=0,
                 linear_before_reset=0, output_sequence=0):
        super().__init__(node, activation_alpha=activation_alpha, activation_beta=activation_beta,
                         activations=activations, clip=clip, direction=direction,
                         hidden_size=hidden_size, layout=layout,
                         linear_before_reset=bool(linear_before_reset))

    def step_function(self, d, R, Rb, P, H):
        f, g = self.acts[d]
        Rzr_t, Rh_t = R[:2 * H].T, R[2 * H:].T  # (hidden, 2*hidden), (hidden, hidden)
        Rbzr, Rbh = Rb[:2 * H], Rb[2 * H:]
        clip, linear = self.gate_clip, self.linear_before_reset

        def step(xw, h):  # xw: (batch, 3*hidden) = X_t W^T + Wb
            zr = f(clip(xw[:, :2 * H] + h @ Rzr_t + Rbzr))
            z, r = zr[:, :H], zr[:, H:]
            if linear:
                hh = g(clip(xw[:, 2 * H:] + r * (h @ Rh_t + Rbh)))
            else:
                hh = g(clip(xw[:, 2 * H:] + (r * h) @ Rh_t + Rbh))
            return ((1 - z) * hh + z * h,)

        return step

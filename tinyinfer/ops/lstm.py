"""LSTM — long short-term memory. W, R, B stack the gates i, o, f, c; peepholes P: i, o, f.

    i_t = f(X_t Wi^T + H_{t-1} Ri^T + Pi * C_{t-1} + Wbi + Rbi)      input gate
    f_t = f(X_t Wf^T + H_{t-1} Rf^T + Pf * C_{t-1} + Wbf + Rbf)      forget gate (1 - i_t when
                                                                      input_forget=1)
    c_t = g(X_t Wc^T + H_{t-1} Rc^T + Wbc + Rbc)                     cell candidate
    C_t = f_t * C_{t-1} + i_t * c_t
    o_t = f(X_t Wo^T + H_{t-1} Ro^T + Po * C_t + Wbo + Rbo)          output gate
    H_t = o_t * h(C_t)                                               f = Sigmoid, g = h = Tanh

    X: (seq, batch, input)   W: (dirs, 4*hidden, input)   R: (dirs, 4*hidden, hidden)
    B: (dirs, 8*hidden)   P: (dirs, 3*hidden)   initial_h, initial_c: (dirs, batch, hidden)
    ->   Y: (seq, dirs, batch, hidden), Y_h and Y_c: (dirs, batch, hidden)

clip bounds every gate pre-activation (the arguments of f and g above) to [-clip, clip].
Layouts, directions, sequence_lens and activation lists: see _recurrent.py. Taught in notebooks/06.
"""
from __future__ import annotations

import numpy as np

from ..registry import op
from ._recurrent import Recurrent


@op("LSTM", since=1)
class LSTM(Recurrent):
    gates = 4
    default_activations = ("Sigmoid", "Tanh", "Tanh")
    has_cell = True

    def __init__(self, node, *, activation_alpha=None, activation_beta=None, activations=None,
                 clip=None, direction="forward", hidden_size=None, input_forget=0, layout=0,
                 output_sequence=0):
        super().__init__(node, activation_alpha=activation_alpha, activation_beta=activation_beta,
                         activations=activations, clip=clip, direction=direction,
                         hidden_size=hidden_size, layout=layout, input_forget=bool(input_forget))

    def step_function(self, d, R, Rb, P, H):
        f, g, h_act = self.acts[d]
        Rt = R.T  # (hidden, 4*hidden)
        if P is None:
            P = np.zeros(3 * H, dtype=R.dtype)
        p_i, p_o, p_f = P[:H], P[H:2 * H], P[2 * H:]
        clip, input_forget = self.gate_clip, self.input_forget

        def step(xw, h, c):  # xw: (batch, 4*hidden) = X_t W^T + Wb
            gates = xw + h @ Rt + Rb
            i = f(clip(gates[:, :H] + p_i * c))
            ff = 1 - i if input_forget else f(clip(gates[:, 2 * H:3 * H] + p_f * c))
            cc = g(clip(gates[:, 3 * H:]))
            c_new = ff * c + i * cc
            o = f(clip(gates[:, H:2 * H] + p_o * c_new))
            return o * h_act(c_new), c_new

        return step

"""RNN — the simple (Elman) recurrent layer.

    H_t = f(X_t W^T + H_{t-1} R^T + Wb + Rb)          f defaults to Tanh

    X: (seq, batch, input)   W: (dirs, hidden, input)   R: (dirs, hidden, hidden)
    B: (dirs, 2*hidden) = [Wb, Rb]   ->   Y: (seq, dirs, batch, hidden), Y_h: (dirs, batch, hidden)

Layouts, directions, sequence_lens and activation lists are shared with GRU and LSTM: see
_recurrent.py. Opset 14 added layout (batch-first); opset 1's output_sequence is ignored.
"""
from __future__ import annotations

from ..registry import op
from ._recurrent import Recurrent


@op("RNN", since=1)
class RNN(Recurrent):
    gates = 1
    default_activations = ("Tanh",)

    def __init__(self, node, *, activation_alpha=None, activation_beta=None, activations=None,
                 clip=None, direction="forward", hidden_size=None, layout=0, output_sequence=0):
        super().__init__(node, activation_alpha=activation_alpha, activation_beta=activation_beta,
                         activations=activations, clip=clip, direction=direction,
                         hidden_size=hidden_size, layout=layout)

    def step_function(self, d, R, Rb, P, H):
        (f,) = self.acts[d]
        Rt = R.T
        clip = self.gate_clip

        def step(xw, h):  # xw: (batch, hidden) = X_t W^T + Wb
            return (f(clip(xw + h @ Rt + Rb)),)

        return step

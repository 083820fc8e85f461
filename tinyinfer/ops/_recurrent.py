"""What RNN, GRU and LSTM share: attributes, activation lists, layouts, the time loop.

    X: (seq, batch, input)        layout=0      (batch, seq, input) when layout=1
    W: (dirs, G*hidden, input)    R: (dirs, G*hidden, hidden)    B: (dirs, 2*G*hidden)
    initial_h / initial_c: (dirs, batch, hidden)    (batch, dirs, hidden) when layout=1
    Y: (seq, dirs, batch, hidden)                   (batch, seq, dirs, hidden) when layout=1
    Y_h / Y_c: (dirs, batch, hidden)                (batch, dirs, hidden) when layout=1

G is the number of gates (RNN 1, GRU 3, LSTM 4); dirs is 2 for direction="bidirectional", else 1.
With sequence_lens, batch entry b only runs its first sequence_lens[b] steps (a reverse
direction starts at step sequence_lens[b] - 1); Y is zero past the end and Y_h/Y_c hold the
state after the last step that ran. The spec leaves sequence_lens[b] = 0 open; we return zero
Y_h/Y_c for it, as onnxruntime does (not the initial state).
"""
from __future__ import annotations

import numpy as np

from ..errors import ModelError, RuntimeFailure
from ..registry import Op
from ._common import float_compute, float_restore


def _sigmoid(x, a, b):
    return 0.5 * (np.tanh(0.5 * x) + 1)  # = 1 / (1 + exp(-x)), without overflow warnings


def _softplus(x, a, b):
    return np.logaddexp(0, x)


# name -> (function(x, alpha, beta), default alpha, default beta, uses alpha, uses beta)
ACTIVATIONS = {
    "relu": (lambda x, a, b: np.maximum(x, 0), 0.0, 0.0, False, False),
    "tanh": (lambda x, a, b: np.tanh(x), 0.0, 0.0, False, False),
    "sigmoid": (_sigmoid, 0.0, 0.0, False, False),
    "affine": (lambda x, a, b: a * x + b, 1.0, 0.0, True, True),
    "leakyrelu": (lambda x, a, b: np.where(x >= 0, x, a * x), 0.01, 0.0, True, False),
    "thresholdedrelu": (lambda x, a, b: np.where(x > a, x, 0), 1.0, 0.0, True, False),
    "scaledtanh": (lambda x, a, b: a * np.tanh(b * x), 1.0, 1.0, True, True),
    "hardsigmoid": (lambda x, a, b: np.clip(a * x + b, 0, 1), 0.2, 0.5, True, True),
    "elu": (lambda x, a, b: np.where(x >= 0, x, a * (np.exp(np.minimum(x, 0)) - 1)), 1.0, 0.0,
            True, False),
    "softsign": (lambda x, a, b: x / (1 + np.abs(x)), 0.0, 0.0, False, False),
    "softplus": (_softplus, 0.0, 0.0, False, False),
}


def _text(v):
    return v.decode() if isinstance(v, bytes) else str(v)


class Recurrent(Op):
    """Base of RNN, GRU and LSTM. Subclasses set ``gates``, ``default_activations`` and
    ``step_functions``; ``run`` is shared."""

    gates = 1
    default_activations = ("Tanh",)
    has_cell = False  # LSTM carries a second state C

    def __init__(self, node, *, activation_alpha=None, activation_beta=None, activations=None,
                 clip=None, direction="forward", hidden_size=None, layout=0, **extra):
        self.node = node
        self.direction = _text(direction)
        if self.direction not in ("forward", "reverse", "bidirectional"):
            raise ModelError(node, f"direction={self.direction!r} is not one of 'forward', "
                                   "'reverse', 'bidirectional'")
        self.num_directions = 2 if self.direction == "bidirectional" else 1
        self.hidden_size = None if hidden_size is None else int(hidden_size)
        if self.hidden_size is not None and self.hidden_size <= 0:
            raise ModelError(node, f"hidden_size={hidden_size} must be positive")
        self.layout = int(layout)
        if self.layout not in (0, 1):
            raise ModelError(node, f"layout={layout} must be 0 or 1")
        self.clip = None if clip is None else float(clip)
        if self.clip is not None and not self.clip > 0:
            raise ModelError(node, f"clip={clip} must be a positive threshold")
        self.acts = self._activations(activations, activation_alpha, activation_beta)
        for k, v in extra.items():
            setattr(self, k, v)

    def _activations(self, names, alphas, betas):
        """One list of ``len(default_activations)`` callables per direction."""
        k = len(self.default_activations)
        names = [_text(n) for n in (names if names is not None else self.default_activations)]
        if len(names) == k and self.num_directions == 2:
            names = names * 2  # one set given for both directions
        if len(names) != k * self.num_directions:
            raise ModelError(self.node, f"activations has {len(names)} entries; expected "
                                        f"{k * self.num_directions} ({k} per direction) for "
                                        f"direction={self.direction!r}")
        alphas = list(alphas or [])[::-1]
        betas = list(betas or [])[::-1]
        funcs = []
        for name in names:
            entry = ACTIVATIONS.get(name.lower())
            if entry is None:
                raise ModelError(self.node, f"activation {name!r} is not supported; expected "
                                            f"one of {', '.join(sorted(ACTIVATIONS))}")
            fn, a, b, uses_a, uses_b = entry
            # alpha/beta values are consumed in order by the activations that take them
            if uses_a and alphas:
                a = float(alphas.pop())
            if uses_b and betas:
                b = float(betas.pop())
            funcs.append(lambda x, fn=fn, a=a, b=b: fn(x, a, b))
        return [funcs[d * k:(d + 1) * k] for d in range(self.num_directions)]

    def prepare(self, X, W, R, *rest):
        for info, what in ((X, "X"), (W, "W"), (R, "R")):
            if info.shape is not None and len(info.shape) != 3:
                raise ModelError(self.node, f"input {what} must be 3-D; it has shape "
                                            f"{list(info.shape)}")
        if W.shape is not None and isinstance(W.shape[0], int) \
                and W.shape[0] != self.num_directions:
            raise ModelError(self.node, f"W has {W.shape[0]} directions; direction="
                                        f"{self.direction!r} needs {self.num_directions}")
        if R.shape is not None and self.hidden_size is not None and isinstance(R.shape[2], int) \
                and R.shape[2] != self.hidden_size:
            raise ModelError(self.node, f"hidden_size={self.hidden_size} does not match R's "
                                        f"last dimension {R.shape[2]}")

    # -- shared run --------------------------------------------------------------------------
    def _check(self, name, a, shape):
        if a is not None and tuple(a.shape) != tuple(shape):
            raise RuntimeFailure(self.node, f"input {name} has shape {list(a.shape)}; expected "
                                            f"{list(shape)}")

    def run(self, X, W, R, B=None, sequence_lens=None, initial_h=None, initial_c=None, P=None):
        node, G, D = self.node, self.gates, self.num_directions
        dtype = X.dtype
        X, W, R, B, initial_h, initial_c, P = (
            float_compute(a) for a in (X, W, R, B, initial_h, initial_c, P))
        if dtype == np.float16:  # compute half precision in float32, round once at the end
            X, W, R, B, initial_h, initial_c, P = (
                None if a is None else a.astype(np.float32) for a in (X, W, R, B, initial_h,
                                                                     initial_c, P))
        for name, a in (("X", X), ("W", W), ("R", R)):
            if a.ndim != 3:
                raise RuntimeFailure(node, f"input {name} must be 3-D; it has shape "
                                           f"{list(a.shape)}")
        if self.layout == 1:
            X = X.transpose(1, 0, 2)  # (batch, seq, input) -> (seq, batch, input)
            initial_h = None if initial_h is None else initial_h.transpose(1, 0, 2)
            initial_c = None if initial_c is None else initial_c.transpose(1, 0, 2)
        T, N, I = X.shape
        H = R.shape[-1]
        if self.hidden_size is not None and self.hidden_size != H:
            raise RuntimeFailure(node, f"hidden_size={self.hidden_size} does not match R's last "
                                       f"dimension {H}")
        self._check("W", W, (D, G * H, I))
        self._check("R", R, (D, G * H, H))
        self._check("B", B, (D, 2 * G * H))
        self._check("initial_h", initial_h, (D, N, H))
        self._check("initial_c", initial_c, (D, N, H))
        self._check("P", P, (D, 3 * H))
        lens = None
        if sequence_lens is not None:
            lens = np.asarray(sequence_lens).astype(np.int64).reshape(-1)
            if lens.shape != (N,):
                raise RuntimeFailure(node, f"sequence_lens has shape {list(sequence_lens.shape)}"
                                           f"; expected [{N}] (one length per batch entry)")
            if lens.size and (lens.min() < 0 or lens.max() > T):
                raise RuntimeFailure(node, f"sequence_lens {lens.tolist()} must lie in [0, {T}] "
                                           f"(the sequence length of X)")
            if lens.size and lens.min() == T:
                lens = None  # every sequence is full length
        ct = X.dtype
        zeros = np.zeros((D, N, H), dtype=ct)
        h0 = zeros if initial_h is None else initial_h
        c0 = zeros if initial_c is None else initial_c
        Y = np.zeros((T, D, N, H), dtype=ct)
        Y_h = np.empty((D, N, H), dtype=ct)
        Y_c = np.empty((D, N, H), dtype=ct)
        for d in range(D):
            reverse = self.direction == "reverse" or d == 1
            b = np.zeros(2 * G * H, dtype=ct) if B is None else B[d]
            xw = X @ W[d].T + b[:G * H]  # (seq, batch, G*hidden): input projections at once
            step = self.step_function(d, R[d], b[G * H:], None if P is None else P[d], H)
            states = [h0[d], c0[d]] if self.has_cell else [h0[d]]
            for t in (range(T - 1, -1, -1) if reverse else range(T)):
                new = step(xw[t], *states)
                if lens is None:
                    states = list(new)
                    Y[t, d] = new[0]
                else:
                    active = (t < lens)[:, None]  # (batch, 1)
                    states = [np.where(active, n, s) for n, s in zip(new, states)]
                    Y[t, d] = np.where(active, new[0], 0)
            if lens is not None:  # an empty sequence ends in a zero state (as onnxruntime)
                states = [np.where((lens == 0)[:, None], 0, s) for s in states]
            Y_h[d] = states[0]
            if self.has_cell:
                Y_c[d] = states[1]
        outs = [Y, Y_h, Y_c] if self.has_cell else [Y, Y_h]
        if self.layout == 1:
            # (seq, dirs, batch, hidden) -> (batch, seq, dirs, hidden)
            outs[0] = Y.transpose(2, 0, 1, 3)
            outs[1:] = [o.transpose(1, 0, 2) for o in outs[1:]]  # -> (batch, dirs, hidden)
        outs = [float_restore(o, dtype) for o in outs[:max(len(node.outputs), 1)]]
        return tuple(outs) if len(outs) > 1 else outs[0]

    def gate_clip(self, x):
        """Clip a gate pre-activation to [-clip, clip] when the clip attribute is set."""
        return x if self.clip is None else np.clip(x, -self.clip, self.clip)

    def step_function(self, d, R, Rb, P, H):  # pragma: no cover - always overridden
        raise NotImplementedError

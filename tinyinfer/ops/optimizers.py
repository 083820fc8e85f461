"""Training-step optimizers of the ai.onnx.preview.training domain: Adagrad, Adam, Momentum.

Inputs are R (learning rate, scalar), T (update count, int64 scalar), then n tensors to
optimise X_1..X_n, their gradients G_1..G_n and their state (H_i; V_i; V_i and H_i). Outputs are
the new X_1..X_n followed by the new state, in the same grouping. With g = norm_coefficient * X + G:

    Adagrad   r = R / (1 + T * decay_factor);  H' = H + g^2;  X' = X - r * g / (sqrt(H') + epsilon)
    Momentum  b = beta if T > 0 else 1;  V' = alpha * V + b * g
              standard: X' = X - R * V'        nesterov: X' = X - R * (g + alpha * V')
    Adam      V' = alpha V + (1 - alpha) g;  H' = beta H + (1 - beta) g^2
              r = R * sqrt(1 - beta^T) / (1 - alpha^T) if T > 0 else R
              X' = (1 - norm_coefficient_post) * (X - r * V' / (sqrt(H') + epsilon))
"""
from __future__ import annotations

import numpy as np

from ..errors import ModelError, RuntimeFailure
from ..registry import Op, op

DOMAIN = "ai.onnx.preview.training"


class _Optimizer(Op):
    groups = 3   # X, G and the state tensors per optimised value

    def prepare(self, *inputs):
        k = len(self.node.inputs) - 2
        if k <= 0 or k % self.groups:
            raise ModelError(self.node, f"expected R, T and {self.groups} tensors per optimised "
                                        f"value; got {len(self.node.inputs)} inputs")
        self.n = k // self.groups
        if len(self.node.outputs) > (self.groups - 1) * self.n:
            raise ModelError(self.node, f"has {len(self.node.outputs)} outputs; expected at most "
                                        f"{(self.groups - 1) * self.n}")

    def _scalars(self, R, T):
        r, t = np.asarray(R), np.asarray(T)
        if r.size != 1 or t.size != 1:
            raise RuntimeFailure(self.node, "R and T must be scalars (one element each)")
        return float(r.reshape(-1)[0]), int(t.reshape(-1)[0])

    def run(self, R, T, *tensors):
        r, t = self._scalars(R, T)
        n = self.n
        groups = [tensors[i * n:(i + 1) * n] for i in range(self.groups)]
        results = [self.step(r, t, *(g[i] for g in groups)) for i in range(n)]
        # regroup: all new X first, then each kind of state
        outs = [res[j] for j in range(self.groups - 1) for res in results]
        return tuple(outs[: len(self.node.outputs)])


def _f(x):
    return np.asarray(x, dtype=np.float64)


@op("Adagrad", since=1, domain=DOMAIN)
class Adagrad(_Optimizer):
    """Adagrad(R, T, X..., G..., H...) -> (X'..., H'...)."""

    def __init__(self, node, *, decay_factor: float = 0.0, epsilon: float = 1e-6,
                 norm_coefficient: float = 0.0):
        self.node, self.decay_factor = node, decay_factor
        self.epsilon, self.norm_coefficient = epsilon, norm_coefficient

    def step(self, r, t, x, g, h):
        r_ = r / (1 + t * self.decay_factor)
        g_ = self.norm_coefficient * _f(x) + _f(g)
        h_new = _f(h) + g_ * g_
        x_new = _f(x) - r_ * g_ / (np.sqrt(h_new) + self.epsilon)
        return x_new.astype(x.dtype), h_new.astype(h.dtype)


@op("Momentum", since=1, domain=DOMAIN)
class Momentum(_Optimizer):
    """Momentum(R, T, X..., G..., V...) -> (X'..., V'...); mode 'standard' or 'nesterov'."""

    def __init__(self, node, *, alpha: float, beta: float, mode: str, norm_coefficient: float):
        mode = mode.decode() if isinstance(mode, bytes) else mode
        if mode not in ("standard", "nesterov"):
            raise ModelError(node, f"mode={mode!r} must be 'standard' or 'nesterov'")
        self.node, self.alpha, self.beta, self.mode = node, alpha, beta, mode
        self.norm_coefficient = norm_coefficient

    def step(self, r, t, x, g, v):
        g_ = self.norm_coefficient * _f(x) + _f(g)
        v_new = self.alpha * _f(v) + (self.beta if t > 0 else 1.0) * g_
        if self.mode == "standard":
            x_new = _f(x) - r * v_new
        else:
            x_new = _f(x) - r * (g_ + self.alpha * v_new)
        return x_new.astype(x.dtype), v_new.astype(v.dtype)


@op("Adam", since=1, domain=DOMAIN)
class Adam(_Optimizer):
    """Adam(R, T, X..., G..., V..., H...) -> (X'..., V'..., H'...)."""

    groups = 4

    def __init__(self, node, *, alpha: float = 0.9, beta: float = 0.999, epsilon: float = 1e-6,
                 norm_coefficient: float = 0.0, norm_coefficient_post: float = 0.0):
        self.node, self.alpha, self.beta, self.epsilon = node, alpha, beta, epsilon
        self.norm_coefficient, self.norm_coefficient_post = norm_coefficient, norm_coefficient_post

    def step(self, r, t, x, g, v, h):
        a, b = self.alpha, self.beta
        g_ = self.norm_coefficient * _f(x) + _f(g)
        v_new = a * _f(v) + (1 - a) * g_
        h_new = b * _f(h) + (1 - b) * g_ * g_
        r_ = r * np.sqrt(1 - b ** t) / (1 - a ** t) if t > 0 else r
        x_new = (1 - self.norm_coefficient_post) * (_f(x) - r_ * v_new / (np.sqrt(h_new) + self.epsilon))
        return x_new.astype(x.dtype), v_new.astype(v.dtype), h_new.astype(h.dtype)

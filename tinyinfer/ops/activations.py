"""Element-wise activations: y = f(x), same shape and dtype as x.

    Relu        max(x, 0)
    LeakyRelu   x if x >= 0 else alpha * x
    PRelu       x if x >= 0 else slope * x        slope broadcast to x (unidirectional)
    Elu         x if x > 0 else alpha * (e^x - 1)
    Selu        gamma * (x if x > 0 else alpha * (e^x - 1))
    Celu        max(0, x) + min(0, alpha * (e^(x/alpha) - 1))
    Sigmoid     1 / (1 + e^-x)
    HardSigmoid max(0, min(1, alpha * x + beta))
    HardSwish   x * HardSigmoid(x; alpha=1/6, beta=1/2)
    Softplus    ln(1 + e^x)
    Softsign    x / (1 + |x|)
    Swish       x * Sigmoid(alpha * x)
    Mish        x * tanh(Softplus(x))
    Gelu        x/2 * (1 + erf(x/√2)), or the tanh approximation
    ThresholdedRelu  x if x > alpha else 0
    Shrink      x + bias if x < -lambd; x - bias if x > lambd; else 0
    SwiGLU      Swish(a) * b, a (gate) and b (value) of one shape              (opset 28+)
"""
from __future__ import annotations

import math

import numpy as np

from ..errors import ModelError, RuntimeFailure
from ..registry import Op, op
from ._floatcodec import decode, encode
from .unary_math import erf


def _apply(x, fn):
    f, tag = decode(x)
    with np.errstate(all="ignore"):
        y = fn(f)
    return encode(np.asarray(y).astype(f.dtype, copy=False), tag)


def _sigmoid(x):
    # numerically stable for both signs: e^-|x| never overflows
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


@op("Relu", since=1)
def Relu(x):
    """y = max(x, 0)."""
    return _apply(x, lambda f: np.maximum(f, f.dtype.type(0)))


@op("LeakyRelu", since=1)
def LeakyRelu(x, *, alpha: float = 0.01):
    """y = x if x >= 0 else alpha * x."""
    return _apply(x, lambda f: np.where(f >= 0, f, f * f.dtype.type(alpha)))


@op("PRelu", since=1)
def PRelu_1(x, slope):
    """y = x if x >= 0 else slope * x; a 1-D slope of C values runs along axis 1 (N, C, ...)."""
    s = decode(slope)[0]
    if s.ndim == 1 and x.ndim >= 2 and s.shape[0] == x.shape[1] > 1:
        s = s.reshape((-1,) + (1,) * (x.ndim - 2))  # (C,) -> (C, 1, ..., 1)
    return PRelu(x, s)


@op("PRelu", since=7)
def PRelu(x, slope):
    """y = x if x >= 0 else slope * x; slope broadcasts to x's shape."""
    s = decode(slope)[0]
    return _apply(x, lambda f: np.where(f >= 0, f, f * s.astype(f.dtype, copy=False)))


@op("Elu", since=1)
def Elu(x, *, alpha: float = 1.0):
    """y = x if x > 0 else alpha * (e^x - 1)."""
    return _apply(x, lambda f: np.where(f > 0, f, alpha * np.expm1(f)))


@op("Selu", since=1)
def Selu(x, *, alpha: float = 1.67326319217681884765625, gamma: float = 1.05070102214813232421875):
    """y = gamma * (x if x > 0 else alpha * (e^x - 1))."""
    return _apply(x, lambda f: gamma * np.where(f > 0, f, alpha * np.expm1(f)))


@op("Celu", since=12)
def Celu(x, *, alpha: float = 1.0):
    """y = max(0, x) + min(0, alpha * (e^(x/alpha) - 1))."""
    return _apply(x, lambda f: np.maximum(f, 0) + np.minimum(0, alpha * np.expm1(f / alpha)))


@op("Sigmoid", since=1)
def Sigmoid(x):
    """y = 1 / (1 + e^-x)."""
    return _apply(x, _sigmoid)


@op("HardSigmoid", since=1)
def HardSigmoid(x, *, alpha: float = 0.2, beta: float = 0.5):
    """y = max(0, min(1, alpha * x + beta))."""
    return _apply(x, lambda f: np.clip(f * f.dtype.type(alpha) + f.dtype.type(beta), 0, 1))


@op("HardSwish", since=14)
def HardSwish(x):
    """y = x * max(0, min(1, x / 6 + 1/2))."""
    return _apply(x, lambda f: f * np.clip(f * f.dtype.type(1 / 6) + f.dtype.type(0.5), 0, 1))


@op("Softplus", since=1)
def Softplus(x):
    """y = ln(1 + e^x), computed without overflow."""
    return _apply(x, lambda f: np.logaddexp(f.dtype.type(0), f))


@op("Softsign", since=1)
def Softsign(x):
    """y = x / (1 + |x|)."""
    return _apply(x, lambda f: f / (1 + np.abs(f)))


@op("Swish", since=24)
def Swish(x, *, alpha: float = 1.0):
    """y = x * sigmoid(alpha * x)."""
    return _apply(x, lambda f: f * _sigmoid(f * f.dtype.type(alpha)))


@op("Mish", since=18)
def Mish(x):
    """y = x * tanh(ln(1 + e^x))."""
    return _apply(x, lambda f: f * np.tanh(np.logaddexp(0, f.astype(np.float64))))


@op("Gelu", since=20)
class Gelu(Op):
    """y = x/2 * (1 + erf(x/√2)); approximate='tanh': x/2 * (1 + tanh(√(2/π) (x + 0.044715 x³)))."""

    def __init__(self, node, *, approximate: str = "none"):
        self.node = node
        self.approximate = approximate.decode() if isinstance(approximate, bytes) else approximate
        if self.approximate not in ("none", "tanh"):
            raise ModelError(node, f"approximate={self.approximate!r} is not 'none' or 'tanh'")

    def run(self, x):
        if self.approximate == "tanh":
            c = math.sqrt(2 / math.pi)
            return _apply(x, lambda f: 0.5 * f * (1 + np.tanh(c * (f + 0.044715 * f.astype(np.float64) ** 3))))
        def exact(f):
            g = f.astype(np.float32) if f.dtype == np.float16 else f
            return 0.5 * g * (1 + erf(g * g.dtype.type(1 / math.sqrt(2))))
        return _apply(x, exact)


@op("ThresholdedRelu", since=10)
def ThresholdedRelu(x, *, alpha: float = 1.0):
    """y = x if x > alpha else 0."""
    return _apply(x, lambda f: np.where(f > alpha, f, f.dtype.type(0)))


@op("Shrink", since=9)
def Shrink(x, *, bias: float = 0.0, lambd: float = 0.5):
    """y = x + bias if x < -lambd; x - bias if x > lambd; 0 otherwise."""
    def f(v):
        w = v.astype(np.float64)
        return np.where(w < -lambd, w + bias, np.where(w > lambd, w - bias, 0))
    return _apply(x, f)


@op("SwiGLU", since=28)
class SwiGLU(Op):
    """y = Swish_alpha(a) * b = a * sigmoid(alpha * a) * b; a, b and y share one shape."""

    def __init__(self, node, *, alpha: float = 1.0):
        self.node, self.alpha = node, float(alpha)

    def run(self, a, b):
        if a.shape != b.shape:
            raise RuntimeFailure(self.node, f"gate A {a.shape} and value B {b.shape} must have "
                                            "the same shape (no broadcasting)")
        fb = decode(b)[0].astype(np.float32)
        return _apply(a, lambda g: g.astype(np.float32) * _sigmoid(g.astype(np.float32) *
                                                                    np.float32(self.alpha)) * fb)

"""Binary arithmetic with NumPy broadcasting: Add, Sub, Mul, Div, Pow, Mod.

    a: (..., A), b: broadcastable to a      y = a ∘ b   with y.dtype == a.dtype

Integers wrap around like C (two's complement); integer Div truncates toward zero and Mod
(fmod=0) takes the sign of the divisor, fmod=1 the sign of the dividend. Pow keeps the base's
dtype whatever the exponent's.
"""
from __future__ import annotations

import numpy as np

from ..errors import RuntimeFailure
from ..registry import Op, op
from ._floatcodec import decode, encode


def _same(a, b, fn):
    """Apply ``fn`` to a and b in a's dtype (bfloat16 computed in float32)."""
    fa, tag = decode(a)
    fb, _ = decode(b)
    if fb.dtype != fa.dtype:
        fb = fb.astype(fa.dtype)
    return encode(np.asarray(fn(fa, fb)).astype(fa.dtype, copy=False), tag)


def legacy_broadcast(a, b, broadcast, axis):
    """Opset 1-6 binary ops: with broadcast=1, b's dims line up with a's from ``axis`` on
    (default: the trailing dims), e.g. a (N, C, H, W), b (C,), axis=1 -> b as (C, 1, 1)."""
    b = np.asarray(b)
    if broadcast and axis is not None and 0 < b.ndim and np.ndim(a) > 0:
        ax = int(axis) + (np.ndim(a) if int(axis) < 0 else 0)
        b = b.reshape(b.shape + (1,) * max(np.ndim(a) - ax - b.ndim, 0))
    return b


@op("Add", since=1)
def Add_1(a, b, *, broadcast: int = 0, axis=None):
    """y = a + b; opset 1-6 form with the broadcast/axis attributes."""
    return Add(a, legacy_broadcast(a, b, broadcast, axis))


@op("Add", since=7)
def Add(a, b):
    """y = a + b, broadcast."""
    return _same(a, b, np.add)


@op("Sub", since=1)
def Sub_1(a, b, *, broadcast: int = 0, axis=None):
    """y = a - b; opset 1-6 form with the broadcast/axis attributes."""
    return Sub(a, legacy_broadcast(a, b, broadcast, axis))


@op("Sub", since=7)
def Sub(a, b):
    """y = a - b, broadcast."""
    return _same(a, b, np.subtract)


@op("Mul", since=1)
def Mul_1(a, b, *, broadcast: int = 0, axis=None):
    """y = a * b; opset 1-6 form with the broadcast/axis attributes."""
    return Mul(a, legacy_broadcast(a, b, broadcast, axis))


@op("Mul", since=7)
def Mul(a, b):
    """y = a * b, broadcast."""
    return _same(a, b, np.multiply)


def _check_int_divisor(node, b):
    if np.dtype(b.dtype).kind in "iu" and not np.all(b):
        raise RuntimeFailure(node, "integer division by zero (the divisor holds a 0)")


def _trunc_div(a, b):
    """Integer a / b rounded toward zero (C semantics), for broadcast a, b of one dtype."""
    q = np.floor_divide(a, b)
    if a.dtype.kind == "i":
        # floor and trunc differ when the remainder is non-zero and the signs differ
        r = np.remainder(a, b)
        q = q + ((r != 0) & ((a < 0) != (b < 0))).astype(q.dtype)
    return q


@op("Div", since=7)
class Div(Op):
    """y = a / b, broadcast; integer division truncates toward zero."""

    def run(self, a, b):
        if np.dtype(a.dtype).kind in "iu":
            _check_int_divisor(self.node, b)
            return _trunc_div(a, b.astype(a.dtype, copy=False)).astype(a.dtype, copy=False)
        with np.errstate(divide="ignore", invalid="ignore"):
            return _same(a, b, np.true_divide)


@op("Div", since=1)
class Div_1(Div):
    """y = a / b; opset 1-6 form with the broadcast/axis attributes."""

    def __init__(self, node, *, broadcast: int = 0, axis=None):
        self.node, self.broadcast, self.axis = node, broadcast, axis

    def run(self, a, b):
        return super().run(a, legacy_broadcast(a, b, self.broadcast, self.axis))


@op("Mod", since=10)
class Mod(Op):
    """y = a mod b, broadcast. fmod=0: sign of b (Python %); fmod=1: sign of a (C fmod)."""

    def __init__(self, node, *, fmod: int = 0):
        self.node, self.fmod = node, int(fmod)

    def run(self, a, b):
        if np.dtype(a.dtype).kind in "iu":
            _check_int_divisor(self.node, b)
        fn = np.fmod if self.fmod else np.mod
        with np.errstate(divide="ignore", invalid="ignore"):
            return _same(a, b, fn)


@op("Pow", since=1)
def Pow_1(x, y, *, broadcast: int = 0, axis=None):
    """z = x ** y; opset 1-6 form with the broadcast/axis attributes."""
    return Pow(x, legacy_broadcast(x, y, broadcast, axis))


@op("Pow", since=7)
def Pow(x, y):
    """z = x ** y, broadcast; z has x's dtype (the exponent may be of another type)."""
    fx, tag = decode(x)
    fy, _ = decode(y)
    if fx.dtype.kind in "iu" and fy.dtype.kind in "iu":
        if np.any(fy < 0):
            with np.errstate(all="ignore"):
                z = np.power(fx.astype(np.float64), fy.astype(np.float64))
            return np.trunc(z).astype(x.dtype)
        return np.power(fx.astype(np.int64), fy.astype(np.int64)).astype(x.dtype)
    with np.errstate(all="ignore"):
        z = np.power(fx.astype(np.float64), fy.astype(np.float64)).astype(fx.dtype)
    return encode(z, tag)

"""Comparisons, boolean logic and bit operations, broadcast.

    Equal Greater GreaterOrEqual Less LessOrEqual: (a, b) -> bool
    And Or Xor: (bool, bool) -> bool          Not: bool -> bool
    BitwiseAnd BitwiseOr BitwiseXor: (int, int) -> int   BitwiseNot: int -> int
    BitShift: (uint, uint) -> uint, direction 'LEFT' or 'RIGHT'; shifts >= the bit width give 0
"""
from __future__ import annotations

import numpy as np

from ..errors import ModelError
from ..registry import Op, op
from ._floatcodec import decode
from .arithmetic import legacy_broadcast


def _cmp(a, b, fn):
    fa, fb = decode(a)[0], decode(b)[0]
    return np.asarray(fn(fa, fb), dtype=bool)


@op("Equal", since=1)
def Equal_1(a, b, *, broadcast: int = 0, axis=None):
    """Equal in its opset 1-6 form with the broadcast/axis attributes."""
    return Equal(a, legacy_broadcast(a, b, broadcast, axis))


@op("Equal", since=7)
def Equal(a, b):
    """y = a == b (numbers, bools or strings)."""
    if a.dtype == object:  # strings: element-wise Python ==
        return np.asarray(np.equal(a, b), dtype=bool)
    return _cmp(a, b, np.equal)


@op("Greater", since=1)
def Greater_1(a, b, *, broadcast: int = 0, axis=None):
    """Greater in its opset 1-6 form with the broadcast/axis attributes."""
    return Greater(a, legacy_broadcast(a, b, broadcast, axis))


@op("Greater", since=7)
def Greater(a, b):
    """y = a > b."""
    return _cmp(a, b, np.greater)


@op("GreaterOrEqual", since=12)
def GreaterOrEqual(a, b):
    """y = a >= b."""
    return _cmp(a, b, np.greater_equal)


@op("Less", since=1)
def Less_1(a, b, *, broadcast: int = 0, axis=None):
    """Less in its opset 1-6 form with the broadcast/axis attributes."""
    return Less(a, legacy_broadcast(a, b, broadcast, axis))


@op("Less", since=7)
def Less(a, b):
    """y = a < b."""
    return _cmp(a, b, np.less)


@op("LessOrEqual", since=12)
def LessOrEqual(a, b):
    """y = a <= b."""
    return _cmp(a, b, np.less_equal)


@op("And", since=1)
def And_1(a, b, *, broadcast: int = 0, axis=None):
    """And in its opset 1-6 form with the broadcast/axis attributes."""
    return And(a, legacy_broadcast(a, b, broadcast, axis))


@op("And", since=7)
def And(a, b):
    """y = a and b."""
    return np.logical_and(a, b)


@op("Or", since=1)
def Or_1(a, b, *, broadcast: int = 0, axis=None):
    """Or in its opset 1-6 form with the broadcast/axis attributes."""
    return Or(a, legacy_broadcast(a, b, broadcast, axis))


@op("Or", since=7)
def Or(a, b):
    """y = a or b."""
    return np.logical_or(a, b)


@op("Xor", since=1)
def Xor_1(a, b, *, broadcast: int = 0, axis=None):
    """Xor in its opset 1-6 form with the broadcast/axis attributes."""
    return Xor(a, legacy_broadcast(a, b, broadcast, axis))


@op("Xor", since=7)
def Xor(a, b):
    """y = a xor b."""
    return np.logical_xor(a, b)


@op("Not", since=1)
def Not(x):
    """y = not x."""
    return np.logical_not(x)


@op("BitwiseAnd", since=18)
def BitwiseAnd(a, b):
    """y = a & b."""
    return np.bitwise_and(a, b).astype(a.dtype, copy=False)


@op("BitwiseOr", since=18)
def BitwiseOr(a, b):
    """y = a | b."""
    return np.bitwise_or(a, b).astype(a.dtype, copy=False)


@op("BitwiseXor", since=18)
def BitwiseXor(a, b):
    """y = a ^ b."""
    return np.bitwise_xor(a, b).astype(a.dtype, copy=False)


@op("BitwiseNot", since=18)
def BitwiseNot(x):
    """y = ~x."""
    return np.invert(x)


@op("BitShift", since=11)
class BitShift(Op):
    """y = x << s (direction='LEFT') or x >> s ('RIGHT'), broadcast; bits shifted out are lost."""

    def __init__(self, node, *, direction: str):
        self.node = node
        d = direction.decode() if isinstance(direction, bytes) else str(direction)
        if d not in ("LEFT", "RIGHT"):
            raise ModelError(node, f"direction={d!r} is not 'LEFT' or 'RIGHT'")
        self.left = d == "LEFT"

    def run(self, x, s):
        bits = x.dtype.itemsize * 8
        s = np.asarray(s).astype(np.int64)
        too_far = (s >= bits) | (s < 0)
        safe = np.where(too_far, 0, s).astype(x.dtype)
        y = np.left_shift(x, safe) if self.left else np.right_shift(x, safe)
        if np.any(too_far):
            fill = 0
            if not self.left and x.dtype.kind == "i":
                fill = np.where(x < 0, -1, 0)
            y = np.where(too_far, fill, y)
        return np.asarray(y).astype(x.dtype, copy=False)

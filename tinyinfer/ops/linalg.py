"""Einsum and Det.

    Einsum: 'ij,jk->ik' style equation over N inputs (numpy.einsum semantics, '...' allowed)
    Det:    x (..., M, M) -> determinant (...)
"""
from __future__ import annotations

import numpy as np

from ..errors import ModelError, RuntimeFailure
from ..registry import Op, op
from ._floatcodec import decode, encode


@op("Einsum", since=12)
class Einsum(Op):
    """y = einsum(equation, *inputs), y.dtype == inputs[0].dtype."""

    def __init__(self, node, *, equation: str):
        self.node = node
        eq = equation.decode() if isinstance(equation, bytes) else str(equation)
        self.equation = eq.replace(" ", "")
        if not self.equation:
            raise ModelError(node, "the equation attribute is empty")

    def run(self, *xs):
        fs = [decode(x)[0] for x in xs]
        tag = decode(xs[0])[1]
        try:
            y = np.einsum(self.equation, *fs)
        except ValueError as e:
            raise RuntimeFailure(self.node, f"equation {self.equation!r} does not fit inputs of "
                                            f"shapes {[f.shape for f in fs]}: {e}") from None
        return encode(np.asarray(y).astype(fs[0].dtype, copy=False), tag)


@op("Det", since=11)
class Det(Op):
    """y = det(x) over the last two (square) dims."""

    def run(self, x):
        f, tag = decode(x)
        if f.ndim < 2 or f.shape[-1] != f.shape[-2]:
            raise RuntimeFailure(self.node, f"Det needs square matrices (..., M, M), got shape {f.shape}")
        y = np.linalg.det(f.astype(np.float64) if f.dtype == np.float16 else f)
        return encode(np.asarray(y).astype(f.dtype), tag)

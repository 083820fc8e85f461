"""MatMul and Gemm.

    MatMul: a (..., M, K) @ b (..., K, N) -> (..., M, N), batch dims broadcast; a 1-D a is a row
            (K,) and a 1-D b a column (K,), their dim dropped from the result (numpy.matmul).
    Gemm:   y (M, N) = alpha * A' (M, K) @ B' (K, N) + beta * C,  A' = A.T if transA, B' likewise;
            C (optional) broadcasts to (M, N).
"""
from __future__ import annotations

import numpy as np

from ..errors import ModelError, RuntimeFailure
from ..registry import Op, op
from ._floatcodec import decode, encode


@op("MatMul", since=1)
class MatMul(Op):
    """y = a @ b (numpy.matmul semantics), y.dtype == a.dtype."""

    def run(self, a, b):
        fa, tag = decode(a)
        fb = decode(b)[0]
        if fa.ndim == 0 or fb.ndim == 0:
            raise RuntimeFailure(self.node, "MatMul needs inputs of rank >= 1, got a scalar")
        ka, kb = fa.shape[-1], fb.shape[-2] if fb.ndim > 1 else fb.shape[0]
        if ka != kb:
            raise RuntimeFailure(self.node, f"inner dimensions differ: a has shape {fa.shape}, "
                                            f"b has shape {fb.shape} ({ka} != {kb})")
        return encode(np.matmul(fa, fb).astype(fa.dtype, copy=False), tag)


@op("Gemm", since=1)
class Gemm(Op):
    """y = alpha * op(A) @ op(B) + beta * C."""

    def __init__(self, node, *, alpha: float = 1.0, beta: float = 1.0, transA: int = 0,
                 transB: int = 0, broadcast: int = 0):
        self.node, self.alpha, self.beta = node, float(alpha), float(beta)
        self.transA, self.transB = int(transA), int(transB)

    def prepare(self, a, b, c=None):
        for name, info in (("A", a), ("B", b)):
            shape = info.shape
            if shape is not None and len(shape) != 2:
                raise ModelError(self.node, f"input {name} must be 2-D, got shape {tuple(shape)}")

    def run(self, a, b, c=None):
        fa, tag = decode(a)
        fb = decode(b)[0]
        if fa.ndim != 2 or fb.ndim != 2:
            raise RuntimeFailure(self.node, f"A and B must be 2-D, got shapes {fa.shape} and {fb.shape}")
        A = fa.T if self.transA else fa  # (M, K)
        B = fb.T if self.transB else fb  # (K, N)
        if A.shape[1] != B.shape[0]:
            raise RuntimeFailure(self.node, f"inner dimensions differ: op(A) is {A.shape}, "
                                            f"op(B) is {B.shape}")
        y = np.matmul(A, B)
        if self.alpha != 1.0:
            y = y * y.dtype.type(self.alpha) if y.dtype.kind == "f" else (y * self.alpha).astype(y.dtype)
        if c is not None and self.beta != 0.0:
            fc = decode(c)[0].astype(y.dtype, copy=False)
            y = y + (fc if self.beta == 1.0 else fc * self.beta).astype(y.dtype, copy=False)
        return encode(np.asarray(y).astype(fa.dtype, copy=False), tag)

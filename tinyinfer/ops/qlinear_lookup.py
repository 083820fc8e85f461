"""QLinearLookup (domain ai.tinyinfer) — any function of one (u)int8 tensor, as a 256-entry table.

    y = table[byte(x)]          x: (u)int8, any shape;  table: (256,) of y's type, indexed by the
                                byte of x (int8 -128..-1 are bytes 128..255)
    min_rank: y gets leading 1s up to this rank (a chain with a (1,)-shaped constant broadcasts so)

passes/fuse_qlut.py builds it from chains such as QLinearAdd(x, 3) -> QLinearMul(x, .) ->
QLinearMul(., 1/6) -> DequantizeLinear (HardSwish in a QOperator model): each node's reference is
evaluated on all 256 values of x at load time, so the lookup equals running the chain.
With Numba, kernels/qlookup_int8.py does the indexing (np.take here is its twin).
"""
from __future__ import annotations

import numpy as np

from ..errors import RuntimeFailure
from ..registry import Op, op


@op("QLinearLookup", domain="ai.tinyinfer")
class QLinearLookup(Op):
    def __init__(self, node, *, min_rank=0):
        self.node, self.min_rank = node, int(min_rank)

    def run(self, x, table):
        x = np.asarray(x)
        if x.dtype not in (np.dtype(np.uint8), np.dtype(np.int8)) or np.shape(table) != (256,):
            raise RuntimeFailure(self.node, f"expected (u)int8 x and a (256,) table; got "
                                            f"{x.dtype} and {list(np.shape(table))}")
        y = self._fast(x, np.asarray(table))
        if y is None:
            y = np.take(table, x.view(np.uint8))
        if y.ndim < self.min_rank:
            y = y.reshape((1,) * (self.min_rank - y.ndim) + y.shape)
        return y

    @staticmethod
    def _fast(x, table):
        """table[x] by kernels/qlookup_int8.py for byte/float32 tables, else None."""
        from ..kernels import available, get
        code = {np.dtype(np.uint8): "u8", np.dtype(np.int8): "u8",
                np.dtype(np.float32): "f32"}.get(table.dtype)
        if code is None or x.size < 4096 or not available():
            return None
        k = get("qlookup_u8_" + code)
        if k is None:
            return None
        xb = np.ascontiguousarray(x).view(np.uint8).reshape(-1)
        t = np.ascontiguousarray(table)
        if not xb.flags.writeable or not t.flags.writeable:  # compiled signatures: writable
            xb, t = xb.copy(), t.copy()
        y = np.empty(x.shape, table.dtype)
        if code == "u8":
            k(xb, t.view(np.uint8), y.reshape(-1).view(np.uint8))
        else:
            k(xb, t, y.reshape(-1))
        return y

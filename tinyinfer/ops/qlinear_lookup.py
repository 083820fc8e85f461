"""QLinearLookup (domain ai.tinyinfer) — any function of one (u)int8 tensor, as a 256-entry table.

    y = table[byte(x)]          x: (u)int8, any shape;  table: (256,) of y's type, indexed by the
                                byte of x (int8 -128..-1 are bytes 128..255)
    min_rank: y gets leading 1s up to this rank (a chain with a (1,)-shaped constant broadcasts so)

passes/fuse_qlut.py builds it from chains such as QLinearAdd(x, 3) -> QLinearMul(x, .) ->
QLinearMul(., 1/6) -> DequantizeLinear (HardSwish in a QOperator model): each node's reference is
evaluated on all 256 values of x at load time, so the lookup equals running the chain.
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
        y = np.take(table, x.view(np.uint8))
        if y.ndim < self.min_rank:
            y = y.reshape((1,) * (self.min_rank - y.ndim) + y.shape)
        return y

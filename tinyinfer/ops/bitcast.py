"""BitCast (opset 26) — reinterpret the bits of each element as another type of the same width.

    y = bits(x) read as `to`        x: any shape, y: same shape; width(x) == width(to)

Widths: the NumPy item size for ordinary types (bool is 8 bits), 16 for bfloat16, 8 for float8,
6 for float6, 4 for int4/uint4/float4e2m1, 2 for int2/uint2. Strings have no bits to reinterpret.
"""
from __future__ import annotations

import numpy as np

from .. import dtypes
from ..errors import ModelError, RuntimeFailure
from ..registry import Op, op

_SUB_BYTE = {"int4": 4, "uint4": 4, "float4e2m1": 4, "int2": 2, "uint2": 2,
             "float6e2m3": 6, "float6e3m2": 6}


def bit_width(dtype) -> int:
    d = np.dtype(dtype)
    if d.names is not None and d.names[0] in _SUB_BYTE:
        return _SUB_BYTE[d.names[0]]
    return d.itemsize * 8


def _unsigned(bits: int):
    return {8: np.uint8, 16: np.uint16, 32: np.uint32, 64: np.uint64, 128: None}.get(bits)


@op("BitCast", since=26)
class BitCast(Op):
    """y = the bits of x read as `to`; see the module docstring."""

    def __init__(self, node, *, to):
        self.node = node
        try:
            self.dtype = dtypes.to_numpy(int(to))
        except KeyError:
            raise ModelError(node, f"'to'={to} is not a known ONNX element type") from None
        if self.dtype.kind == "O":
            raise ModelError(node, "BitCast to string is not defined: strings have no fixed width")

    def run(self, x):
        x = np.asarray(x)
        if x.dtype.kind in "OUS":
            raise RuntimeFailure(self.node, "BitCast from string is not defined")
        wx, wy = bit_width(x.dtype), bit_width(self.dtype)
        if wx != wy:
            raise RuntimeFailure(self.node, f"x is {dtypes.name(x.dtype)} ({wx} bits) but 'to' is "
                                            f"{dtypes.name(self.dtype)} ({wy} bits); widths must match")
        if x.dtype.names is None and self.dtype.names is None:
            return np.ascontiguousarray(x).view(self.dtype).reshape(x.shape)
        # through the raw bit pattern as an unsigned integer
        if x.dtype.names is not None:
            raw = dtypes.bits(x).astype(np.int64) & ((1 << wx) - 1)
        else:
            raw = np.ascontiguousarray(x).view(_unsigned(wx)).astype(np.int64).reshape(x.shape)
        if self.dtype.names is None:
            return raw.astype(_unsigned(wy)).view(self.dtype).reshape(x.shape)
        if dtypes.is_tagged_int(self.dtype):
            return dtypes.from_int(raw, self.dtype)  # wraps: sign-extends int4/int2
        return dtypes.from_bits(raw, self.dtype)

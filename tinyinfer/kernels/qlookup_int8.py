"""Byte-indexed table lookup for ops/qlinear_lookup.py (QLinearLookup).

    qlookup_u8_<u8|f32>   out[i] = table[x[i]]     x: (n,) bytes, table: (256,), out: (n,)
    qlookup2_u8_u8        out[i] = table[(a[i] << 8 | b[i]) ^ flip]    table: (65536,) bytes,
                          one entry per pair of bytes (com.microsoft QLinearAdd/QLinearMul)

int8 tensors and tables go through as their bytes (uint8 views). The NumPy twin is the op's own
np.take; a scalar loop here is ~2.4x faster than np.take on 230 KB (0.07 vs 0.17 ms).
"""
from __future__ import annotations

import numpy as np

SIGNATURES = {
    "qlookup2_u8_u8": "void(uint8[::1], uint8[::1], int32, uint8[::1], uint8[::1])",
    "qlookup_u8_u8": "void(uint8[::1], uint8[::1], uint8[::1])",
    "qlookup_u8_f32": "void(uint8[::1], float32[::1], float32[::1])",
}


def _lookup(x, table, out):
    for i in range(x.shape[0]):
        out[i] = table[x[i]]  # x is a byte: always < 256 = len(table), checked by the op


qlookup_u8_u8 = qlookup_u8_f32 = _lookup


def qlookup2_u8_u8(a, b, flip, table, out):
    for i in range(a.shape[0]):
        out[i] = table[((np.int32(a[i]) << 8) | np.int32(b[i])) ^ flip]  # < 65536, checked

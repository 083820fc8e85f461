"""Compute on bfloat16 tensors: decode to float32, compute, encode back (round half to even).

    f, tag = decode(x)          # bfloat16 -> float32 (tag = the bfloat16 dtype); others unchanged
    y = encode(g(f), tag)       # float32 -> bfloat16 when tag is set; otherwise g(f) unchanged

Native NumPy dtypes pass through untouched, so math ops call these unconditionally.
"""
from __future__ import annotations

import numpy as np

from .. import dtypes


def bf16_to_f32(x: np.ndarray) -> np.ndarray:
    """bfloat16 bits (tagged) -> float32: the 16 bits are the top half of a float32."""
    bits = np.ascontiguousarray(x).view(np.uint16).astype(np.uint32) << 16
    return bits.view(np.float32).reshape(np.shape(x))


def f32_to_bf16(f: np.ndarray) -> np.ndarray:
    """float32 -> bfloat16 (tagged), round to nearest even; NaN stays a quiet NaN."""
    f = np.ascontiguousarray(f, dtype=np.float32)
    bits = f.view(np.uint32).astype(np.uint64)
    rounded = ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16).astype(np.uint16)
    rounded = np.where(np.isnan(f), np.uint16(0x7FC0), rounded).astype(np.uint16)
    return rounded.view(dtypes.bfloat16).reshape(f.shape)


def decode(x):
    """(float32 array, bfloat16 dtype) for bfloat16 input; (x, None) for any other value."""
    if isinstance(x, np.ndarray) and x.dtype == dtypes.bfloat16:
        return bf16_to_f32(x), x.dtype
    return x, None


def encode(y, tag):
    """Inverse of decode: float32 back to bfloat16 when ``tag`` says so."""
    if tag is not None and tag == dtypes.bfloat16:
        return f32_to_bf16(np.asarray(y, dtype=np.float32))
    return y

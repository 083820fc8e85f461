"""Compute on tagged float tensors (bfloat16, float8 ...): decode to float32, compute, encode back.

    f, tag = decode(x)          # tagged float -> float32 (tag = its dtype); others unchanged
    y = encode(g(f), tag)       # float32 -> the tagged type (round half to even) when tag is set

Native NumPy dtypes pass through untouched, so math ops call these unconditionally. The
conversions themselves live in dtypes.py (to_float32 / from_float).
"""
from __future__ import annotations

import numpy as np

from .. import dtypes


def decode(x):
    """(float32 array, tagged dtype) for a tagged float input; (x, None) for any other value."""
    if isinstance(x, np.ndarray) and x.dtype.names is not None and dtypes.is_tagged_float(x.dtype):
        return dtypes.to_float32(x), x.dtype
    return x, None


def encode(y, tag):
    """Inverse of decode: float32 back to the tagged type when ``tag`` says so."""
    if tag is not None:
        return dtypes.from_float(np.asarray(y, dtype=np.float32), tag)
    return y

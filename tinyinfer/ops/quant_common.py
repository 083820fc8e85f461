"""What every quantisation op shares: parameter layout, checks, and the one requantisation rule.

    scale, zero point:   a scalar (per tensor), a vector of length x.shape[axis] (per axis), or
                         x's shape with x.shape[axis] divided into ceil(D / block_size) blocks
    requantize:          y = saturate(round_half_even(float32(acc) * multiplier) + zero_point)

Integer matrix products (QLinearMatMul, MatMulInteger, QLinearConv) accumulate exactly and
wrap in int32, as a C kernel with an int32 accumulator does; `int_matmul` gets there through
float64 BLAS, which is exact for every sum of (u)int8/(u)int16 products that fits in 2**53.
Taught in notebooks/04_quantisation.ipynb (a QLinearConv computed by hand, bit for bit).
"""
from __future__ import annotations

import numpy as np

from .. import dtypes
from ..errors import RuntimeFailure

INT_TARGETS = (np.dtype(np.uint8), np.dtype(np.int8), np.dtype(np.uint16), np.dtype(np.int16),
               dtypes.uint4, dtypes.int4, dtypes.uint2, dtypes.int2)
FLOAT8_TARGETS = (dtypes.float8e4m3fn, dtypes.float8e4m3fnuz, dtypes.float8e5m2,
                  dtypes.float8e5m2fnuz)
SMALL_FLOAT_TARGETS = (dtypes.float4e2m1, dtypes.float6e2m3, dtypes.float6e3m2)


def as_float(x, dtype=np.float32) -> np.ndarray:
    """Any numeric array (tagged included) as plain floats of ``dtype``."""
    x = np.asarray(x)
    if dtypes.is_tagged_float(x.dtype):
        return dtypes.to_float32(x).astype(dtype, copy=False)
    if dtypes.is_tagged_int(x.dtype):
        return dtypes.to_int(x).astype(dtype)
    return x.astype(dtype, copy=False)


def as_int32(x) -> np.ndarray:
    """Integer array (tagged int4/int2 included) as int32."""
    x = np.asarray(x)
    if dtypes.is_tagged_int(x.dtype):
        return dtypes.to_int(x).astype(np.int32)
    return x.astype(np.int32)


def check_scale(node, scale, what: str = "scale") -> None:
    """A quantisation scale must be finite and non-zero (RuntimeFailure naming the node)."""
    s = as_float(scale, np.float64)
    if not np.all(np.isfinite(s)) or np.any(s == 0):
        bad = s[~np.isfinite(s) | (s == 0)].reshape(-1)[0]
        raise RuntimeFailure(node, f"{what} holds {bad}; quantisation scales must be finite and "
                                   "non-zero")


def layout(node, p, x_shape, axis: int, block_size: int = 0, what: str = "scale") -> np.ndarray:
    """Reshape a scale or zero point so it broadcasts against x (per tensor / axis / block)."""
    p = np.asarray(p)
    rank = len(x_shape)
    if p.ndim == 0 or (p.size == 1 and not block_size):
        return p.reshape(())
    a = axis + rank if axis < 0 else axis
    if not 0 <= a < rank:
        raise RuntimeFailure(node, f"axis={axis} is out of range for an input of rank {rank}")
    if not block_size:
        if p.ndim != 1 or p.shape[0] != x_shape[a]:
            raise RuntimeFailure(node, f"per-axis {what} has shape {list(p.shape)}; expected "
                                       f"({x_shape[a]},), one value per index of axis {axis}")
        return p.reshape([x_shape[a] if i == a else 1 for i in range(rank)])
    if block_size < 0:
        raise RuntimeFailure(node, f"block_size={block_size} must be positive")
    blocks = -(-x_shape[a] // block_size)
    want = tuple(blocks if i == a else d for i, d in enumerate(x_shape))
    if tuple(p.shape) != want:
        raise RuntimeFailure(node, f"blocked {what} has shape {list(p.shape)}; expected "
                                   f"{list(want)} for input shape {list(x_shape)} with "
                                   f"block_size={block_size} on axis {axis}")
    return np.repeat(p, block_size, axis=a).take(np.arange(x_shape[a]), axis=a)


def saturate_round(values: np.ndarray, dtype) -> np.ndarray:
    """THE requantisation rule: round half to even, clamp to dtype's range, store as dtype."""
    lo, hi = dtypes.int_range(dtype)
    v = np.clip(np.rint(values), lo, hi)
    dtype = np.dtype(dtype)
    if dtypes.is_tagged_int(dtype):
        return dtypes.from_int(v.astype(np.int64), dtype)
    return v.astype(dtype)


def requantize(acc, multiplier, zero_point, dtype) -> np.ndarray:
    """y = saturate(rint(float32(acc) * multiplier) + zero_point) for an int32 accumulator.

    This is onnxruntime's MlasRequantizeOutput, step for step, so that results agree bit for
    bit: the accumulator is converted to float32 (rounding above 2**24), multiplied in float32
    by ``multiplier`` = (input scale * weight scale) / output scale (computed in float32, in
    that order, by the caller), rounded half to even, offset by the zero point and saturated.
    kernels/qgemm_int8.py has the Numba twin of this function (`requant_one`).
    """
    d = np.asarray(acc, np.int32).astype(np.float32) * np.asarray(multiplier, np.float32)
    r = np.rint(d).astype(np.float64)
    if zero_point is not None:
        r = r + as_float(zero_point, np.float64)
    return saturate_round(r, dtype)


def int_matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a @ b for int32 operands, exactly, wrapped to int32 like an int32 accumulator."""
    k = a.shape[-1]
    bound = float(k) * (float(np.abs(a).max(initial=0)) * float(np.abs(b).max(initial=0)))
    if bound < 2.0 ** 53:
        y = np.matmul(a.astype(np.float64), b.astype(np.float64))
        return y.astype(np.int64).astype(np.int32)
    return np.matmul(a.astype(np.int64), b.astype(np.int64)).astype(np.int32)

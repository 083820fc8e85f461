"""Quantisation parameters, following onnxruntime's quantiser so both runtimes agree.

    activation_params(rmin, rmax)        asymmetric uint8: range widened to include 0,
        scale = (rmax - rmin) / 255,  zero_point = round(-rmin / scale)  in [0, 255]
    weight_params(w, axis)               symmetric int8 per channel (axis) or per tensor (None):
        scale = max|w| / 127,  zero_point = 0,  q = clip(round(w / scale), -127, 127)
    bias_int32(b, x_scale, w_scale)      q = round(b / (x_scale * w_scale)), int32, zero point 0
    blocked_int4(w2d, axis, block)       symmetric int4 with one scale per `block` values along axis
Rounding is NumPy's: half to even, as QuantizeLinear does.
"""
from __future__ import annotations

from typing import Optional, Tuple

import numpy as np


def activation_params(rmin: float, rmax: float, dtype=np.uint8) -> Tuple[np.ndarray, np.ndarray]:
    rmin, rmax = min(float(rmin), 0.0), max(float(rmax), 0.0)
    info = np.iinfo(dtype)
    qmin, qmax = float(info.min), float(info.max)
    scale = (rmax - rmin) / (qmax - qmin)
    if scale == 0 or not np.isfinite(scale):
        return np.array(1.0, np.float32), np.array(0 if dtype == np.int8 else 0, dtype)
    scale = np.float32(scale)
    zp = np.clip(np.round(np.float32(qmin) - np.float32(rmin) / scale), qmin, qmax)  # in float32, as onnxruntime
    return np.array(scale, np.float32), np.array(zp, dtype)


def weight_params(w: np.ndarray, axis: Optional[int]) -> Tuple[np.ndarray, np.ndarray]:
    """(int8 q, float32 scale) — scale 1-D along `axis`, or a scalar when axis is None."""
    w = np.asarray(w, np.float32)
    if axis is None:
        amax = np.array(np.abs(w).max() if w.size else 0.0)
    else:
        amax = np.abs(np.moveaxis(w, axis, 0).reshape(w.shape[axis], -1)).max(axis=1)
    scale = (amax / 127.0).astype(np.float32)
    scale = np.where(scale > 0, scale, np.float32(1.0)).astype(np.float32)
    shape = [1] * w.ndim
    if axis is not None:
        shape[axis] = -1
    q = np.clip(np.round(w / scale.reshape(shape)), -127, 127).astype(np.int8)
    return q, scale


def bias_int32(b: np.ndarray, x_scale: np.ndarray, w_scale: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    s = (np.float32(x_scale) * np.asarray(w_scale, np.float32)).astype(np.float32)
    s = np.broadcast_to(s, b.shape) if s.ndim else s
    q = np.clip(np.round(np.asarray(b, np.float64) / s), -2**31, 2**31 - 1).astype(np.int32)
    return q, np.ascontiguousarray(s, np.float32)


def blocked_int4(w: np.ndarray, axis: int, block: int) -> Tuple[np.ndarray, np.ndarray]:
    """(int values in [-7, 7] with w's shape, float32 scale with w.shape[axis] -> ceil(/block))."""
    w = np.moveaxis(np.asarray(w, np.float32), axis, -1)
    k = w.shape[-1]
    nb = -(-k // block)
    pad = np.zeros(w.shape[:-1] + (nb * block - k,), np.float32)
    blocks = np.concatenate([w, pad], axis=-1).reshape(w.shape[:-1] + (nb, block))
    scale = (np.abs(blocks).max(axis=-1) / 7.0).astype(np.float32)
    scale = np.where(scale > 0, scale, np.float32(1.0)).astype(np.float32)
    q = np.clip(np.round(blocks / scale[..., None]), -7, 7).reshape(w.shape[:-1] + (nb * block,))[..., :k]
    return np.moveaxis(q.astype(np.int8), -1, axis), np.moveaxis(scale, -1, axis)

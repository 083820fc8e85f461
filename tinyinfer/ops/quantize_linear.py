"""QuantizeLinear, DequantizeLinear, DynamicQuantizeLinear — affine (de)quantisation.

    QuantizeLinear:    y = saturate(round_half_even(x / y_scale) + y_zero_point)
    DequantizeLinear:  y = (x - x_zero_point) * x_scale
    x: any shape; scale and zero point: scalar (per tensor), (D_axis,) (per axis), or x's shape
    with axis split into ceil(D_axis / block_size) blocks (blocked). y has x's shape.

The quantised type is the zero point's type, else `output_dtype`, else uint8: (u)int8, (u)int16,
(u)int4, (u)int2 saturate to their range; float8 targets round half to even and saturate unless
`saturate=0`; float4/float6 always saturate. Float8 zero points must be 0 and are not added.
DequantizeLinear returns the scale's type (or `output_dtype`).
"""
from __future__ import annotations

import numpy as np

from .. import dtypes
from ..errors import ModelError, RuntimeFailure
from ..registry import Op, op
from . import quant_common as Q

_BYTES = (np.dtype(np.uint8), np.dtype(np.int8))
_ALL_TARGETS = Q.INT_TARGETS + Q.FLOAT8_TARGETS + Q.SMALL_FLOAT_TARGETS


def _dtype_attr(node, code, what):
    if not code:
        return None
    try:
        return dtypes.to_numpy(int(code))
    except KeyError:
        raise ModelError(node, f"{what}={code} is not a known ONNX element type") from None


def _round_like(q: np.ndarray, dtype) -> np.ndarray:
    """Round a float32 quotient to the precision of ``dtype`` (what computing in it gives)."""
    dtype = np.dtype(dtype)
    if dtypes.is_tagged_float(dtype):
        return dtypes.to_float32(dtypes.from_float(q, dtype))
    return q.astype(dtype)


def _quantize_bytes(x, s, zp, lo, hi, dtype):
    """y = clip(rint(x / s) + zp, lo, hi) as dtype ((u)int8), float32 x and parameters: the
    Numba kernel (kernels/qlookup_int8.qquant_f32_*) where available, else these NumPy steps."""
    from ..kernels import available, get
    if available() and x.size > 0:
        y = np.empty(x.shape, dtype)
        get("qquant_f32_u8" if dtype == np.uint8 else "qquant_f32_s8")(
            np.ascontiguousarray(x).reshape(-1), s, zp, lo, hi, y.reshape(-1))
        return y
    return quantize_bytes_np(x, s, zp, lo, hi, dtype)


def quantize_bytes_np(x, s, zp, lo, hi, dtype):
    """The NumPy twin of kernels/qlookup_int8.qquant_f32_*: the same float32 steps."""
    q = np.divide(x, s)  # (a new float32 array)
    np.rint(q, out=q)
    q += zp
    return np.clip(q, lo, hi, out=q).astype(dtype)


@op("QuantizeLinear", since=10)
class QuantizeLinear(Op):
    """y = saturate(round_half_even(x / y_scale) + y_zero_point); see the module docstring."""

    def __init__(self, node, *, axis=1, saturate=1, block_size=0, output_dtype=0, precision=0):
        self.node = node
        self.axis, self.saturate, self.block_size = int(axis), bool(saturate), int(block_size)
        self.output_dtype = _dtype_attr(node, output_dtype, "output_dtype")
        self.precision = _dtype_attr(node, precision, "precision")
        if self.output_dtype is not None and self.output_dtype not in _ALL_TARGETS:
            raise ModelError(node, f"output_dtype {dtypes.name(self.output_dtype)} is not a "
                                   "quantised type (int8/uint8/int16/uint16/int4/uint4/int2/"
                                   "uint2/float8/float4/float6)")
        if self.block_size < 0:
            raise ModelError(node, f"block_size={block_size} must be 0 or positive")

    def prepare(self, x, y_scale, y_zero_point=None):
        if y_zero_point is not None and y_zero_point.dtype is not None:
            self.target(y_zero_point.dtype)

    def target(self, zp_dtype):
        if zp_dtype is None:
            return self.output_dtype if self.output_dtype is not None else np.dtype(np.uint8)
        zp_dtype = np.dtype(zp_dtype)
        if self.output_dtype is not None and zp_dtype != self.output_dtype:
            raise ModelError(self.node, f"output_dtype is {dtypes.name(self.output_dtype)} but "
                                        f"the zero point is {dtypes.name(zp_dtype)}; they must "
                                        "match")
        if zp_dtype not in _ALL_TARGETS:
            raise ModelError(self.node, f"zero point type {dtypes.name(zp_dtype)} is not a "
                                        "quantised type")
        return zp_dtype

    def compute_type(self, x_dtype, scale_dtype):
        """x / y_scale is computed in `precision`, else in the common type of x and the scale
        (a bfloat16 operand: in bfloat16)."""
        if self.precision is not None:
            return self.precision
        for d in (x_dtype, scale_dtype):
            if dtypes.is_tagged(d):
                return d
        return np.result_type(x_dtype, scale_dtype)

    _last = None  # (y_scale, y_zero_point, (s, zp, lo, hi, dtype)) of the last per-tensor run

    def run(self, x, y_scale, y_zero_point=None):
        last = self._last
        if last is not None and last[0] is y_scale and last[1] is y_zero_point \
                and isinstance(x, np.ndarray) and x.dtype == np.float32:
            return _quantize_bytes(x, *last[2])  # the same parameters as last run (checked then)
        node = self.node
        dtype = self.target(None if y_zero_point is None else y_zero_point.dtype)
        Q.check_scale(node, y_scale, "y_scale")
        x = np.asarray(x)
        if (x.dtype == np.float32 and dtype in _BYTES and np.size(y_scale) == 1
                and np.asarray(y_scale).dtype == np.float32 and self.precision is None
                and (y_zero_point is None or np.size(y_zero_point) == 1) and not self.block_size):
            # per tensor, float32 -> (u)int8, the common case: the same steps in float32 (the
            # quotient is float32 either way; rint and + zp are exact below 2**24, and beyond
            # that both round trips saturate)
            lo, hi = dtypes.int_range(dtype)
            zp = 0.0 if y_zero_point is None else np.asarray(y_zero_point).reshape(())
            params = (np.float32(np.asarray(y_scale).reshape(())), np.float32(zp),
                      np.float32(lo), np.float32(hi), np.dtype(dtype))
            self._last = (y_scale, y_zero_point, params)
            return _quantize_bytes(x, *params)
        scale = Q.layout(node, y_scale, x.shape, self.axis, self.block_size, "y_scale")
        zp = None if y_zero_point is None else Q.layout(node, y_zero_point, x.shape, self.axis,
                                                          self.block_size, "y_zero_point")
        calc = self.compute_type(x.dtype, scale.dtype)
        if dtypes.is_tagged_float(calc):
            q = _round_like(Q.as_float(x) / Q.as_float(scale), calc)
        else:
            q = Q.as_float(x, calc) / Q.as_float(scale, calc)
        if dtype in Q.INT_TARGETS:
            # reference order: round, then add the integer zero point, then clamp
            r = np.rint(q.astype(np.float64))
            if zp is not None:
                r = r + Q.as_int32(zp)
            return Q.saturate_round(r, dtype)
        if dtype in Q.FLOAT8_TARGETS:
            if zp is not None and np.any(Q.as_float(zp) != 0):
                raise RuntimeFailure(node, "a float8 zero point must be 0")
            return dtypes.from_float(q, dtype, saturate=self.saturate)
        if zp is not None:
            q = q.astype(np.float32) + Q.as_float(zp)
        return dtypes.from_float(q, dtype)


def _lookup(x, t):
    """t[byte of x] for a (256,) float32 table: kernels/qlookup_int8 where available, else take."""
    from ..kernels import available, get
    if available() and t.dtype == np.float32:
        y = np.empty(x.shape, np.float32)
        get("qlookup_u8_f32")(np.ascontiguousarray(x).reshape(-1).view(np.uint8), t,
                              y.reshape(-1))
        return y
    return np.take(t, x.view(np.uint8))


@op("DequantizeLinear", since=10)
class DequantizeLinear(Op):
    """y = (x - x_zero_point) * x_scale; see the module docstring."""

    def __init__(self, node, *, axis=1, block_size=0, output_dtype=0):
        self.node = node
        self.axis, self.block_size = int(axis), int(block_size)
        self.output_dtype = _dtype_attr(node, output_dtype, "output_dtype")
        if self.block_size < 0:
            raise ModelError(node, f"block_size={block_size} must be 0 or positive")

    _last = None  # (x dtype, x_scale, x_zero_point, 256-entry table) of the last lookup run

    def run(self, x, x_scale, x_zero_point=None):
        last = self._last
        if last is not None and last[1] is x_scale and last[2] is x_zero_point \
                and isinstance(x, np.ndarray) and x.dtype == last[0]:
            return _lookup(x, last[3])  # the same parameters as last run (checked then)
        node = self.node
        x = np.asarray(x)
        xs = np.asarray(x_scale)
        if (x.dtype in _BYTES and xs.size == 1 and xs.dtype == np.float32
                and x.size > 256 and self.output_dtype is None and not self.block_size
                and (x_zero_point is None or (np.size(x_zero_point) == 1
                                              and np.asarray(x_zero_point).dtype == x.dtype))):
            # per tensor (u)int8: the formula below on all 256 byte values, then a lookup
            t = self.run(np.arange(256, dtype=np.uint8).view(x.dtype), xs, x_zero_point)
            self._last = (x.dtype, x_scale, x_zero_point, t)
            return _lookup(x, t)
        x_scale = xs
        scale = Q.layout(node, x_scale, x.shape, self.axis, self.block_size, "x_scale")
        is_f8 = x.dtype in Q.FLOAT8_TARGETS
        dx = Q.as_float(x)
        if x_zero_point is not None:
            zp_dtype = np.asarray(x_zero_point).dtype
            if zp_dtype != x.dtype and not is_f8:
                raise RuntimeFailure(node, f"x is {dtypes.name(x.dtype)} but x_zero_point is "
                                           f"{dtypes.name(zp_dtype)}; they must be the same type")
            zp = Q.layout(node, x_zero_point, x.shape, self.axis, self.block_size, "x_zero_point")
            if is_f8:
                if np.any(Q.as_float(zp) != 0):
                    raise RuntimeFailure(node, "a float8 zero point must be 0")
            elif x.dtype not in Q.SMALL_FLOAT_TARGETS:
                dx = dx - Q.as_float(zp)
        y = dx * Q.as_float(scale)
        out = self.output_dtype if self.output_dtype is not None else x_scale.dtype
        if dtypes.is_tagged_float(out):
            return dtypes.from_float(y, out)
        return y.astype(out)


@op("DynamicQuantizeLinear", since=11)
class DynamicQuantizeLinear(Op):
    """(y, y_scale, y_zero_point) = uint8 quantisation of x with a range that includes 0.

        x: float32, any shape  ->  y: uint8 (x's shape), y_scale: float32 (), y_zero_point: uint8 ()
        scale = (max(0, max x) - min(0, min x)) / 255     zero_point = rint(clamp(-min / scale))
    """

    def run(self, x):
        x = np.asarray(x, dtype=np.float32)
        if x.size and not np.all(np.isfinite(x)):
            raise RuntimeFailure(self.node, "x holds NaN or Inf; no scale can be chosen")
        hi = np.float32(max(0.0, float(x.max(initial=0.0))))
        lo = np.float32(min(0.0, float(x.min(initial=0.0))))
        # an all-zero x gets scale 1 (onnxruntime's GetQuantizationParameter), not 1/255
        scale = np.float32(1.0) if hi == lo else np.float32(hi - lo) / np.float32(255)
        zp = np.rint(np.clip(np.float32(0) - lo / scale, 0, 255))
        y = Q.saturate_round(np.rint(x / scale).astype(np.float64) + zp, np.uint8)
        return y, np.array(scale, np.float32), np.array(zp, np.uint8)

"""Resize, Upsample — resample the spatial axes of a tensor (nearest, linear, cubic).

    Resize(X: (d0, ..., dr-1), roi, scales | sizes) -> (o0, ..., or-1)
        scales: o_i = floor(d_i * scale_i)         sizes: o_i = sizes_i (scale_i = o_i / d_i),
        keep_aspect_ratio_policy not_larger / not_smaller: one scale for all axes, o_i = round(s * d_i)
    Each output index y on axis i maps to a source coordinate x (coordinate_transformation_mode):
        half_pixel          x = (y + 0.5) / s - 0.5
        half_pixel_symmetric  as half_pixel, shifted so the centres of input and output coincide
        pytorch_half_pixel  as half_pixel, except x = -0.5 when o == 1
        align_corners       x = y * (d - 1) / (o - 1)
        asymmetric          x = y / s
        tf_crop_and_resize  x = roi_start * (d - 1) + y * (roi_end - roi_start) * (d - 1) / (o - 1);
                            outside [0, d - 1] the output is extrapolation_value
    then interpolates with a kernel over the nearest 1 (nearest), 2 (linear) or 4 (cubic) inputs,
    axis by axis (the kernels are separable). antialias widens linear/cubic kernels by 1/s when
    downsampling. Opset 10 (and Upsample) use asymmetric coordinates, nearest rounds down when
    upsampling and up when downsampling, as onnxruntime does.
"""
from __future__ import annotations

import math

import numpy as np

from .. import dtypes
from ..errors import ModelError, RuntimeFailure
from ..registry import Op, op
from ._common import check_output_size, normalize_axes

_CTM = ("half_pixel", "half_pixel_symmetric", "pytorch_half_pixel", "align_corners",
        "asymmetric", "tf_crop_and_resize")
_NEAREST = ("round_prefer_floor", "round_prefer_ceil", "floor", "ceil", "simple")
_MODES = {"nearest": "nearest", "linear": "linear", "bilinear": "linear", "trilinear": "linear",
          "cubic": "cubic", "bicubic": "cubic"}


@op("Resize", since=10)
class Resize(Op):
    def __init__(self, node, *, mode="nearest", coordinate_transformation_mode="half_pixel",
                 cubic_coeff_a=-0.75, exclude_outside=0, extrapolation_value=0.0,
                 nearest_mode="round_prefer_floor", antialias=0, axes=None,
                 keep_aspect_ratio_policy="stretch"):
        self.node = node
        if mode not in _MODES:
            raise ModelError(node, f"mode must be nearest, linear or cubic, found {mode!r}")
        if coordinate_transformation_mode not in _CTM:
            raise ModelError(node, f"coordinate_transformation_mode {coordinate_transformation_mode!r} "
                                   f"is not one of {', '.join(_CTM)}")
        if nearest_mode not in _NEAREST[:4]:
            raise ModelError(node, f"nearest_mode {nearest_mode!r} is not one of {', '.join(_NEAREST[:4])}")
        if keep_aspect_ratio_policy not in ("stretch", "not_larger", "not_smaller"):
            raise ModelError(node, f"keep_aspect_ratio_policy {keep_aspect_ratio_policy!r} is not "
                                   "stretch, not_larger or not_smaller")
        self.mode, self.ctm, self.nearest_mode = _MODES[mode], coordinate_transformation_mode, nearest_mode
        self.a, self.exclude_outside = float(cubic_coeff_a), bool(exclude_outside)
        self.extrapolation_value, self.antialias = float(extrapolation_value), bool(antialias)
        self.axes, self.policy = axes, keep_aspect_ratio_policy

    def run(self, x, roi=None, scales=None, sizes=None):
        if self.opset < 11:  # Resize-10: (X, scales), asymmetric, onnxruntime's simple rounding
            return resize(self.node, x, None, roi, None, self.mode, "asymmetric", "simple")
        return resize(self.node, x, roi, scales, sizes, self.mode, self.ctm, self.nearest_mode,
                      self.a, self.exclude_outside, self.extrapolation_value, self.antialias,
                      self.axes, self.policy)


@op("Upsample", since=1)
class Upsample(Op):
    """Upsample(X, scales) = Resize-10: o_i = floor(d_i * scales_i), asymmetric coordinates."""

    def __init__(self, node, *, mode="nearest", scales=None, height_scale=None, width_scale=None):
        self.node = node
        if mode not in _MODES:
            raise ModelError(node, f"mode must be nearest, linear or bilinear, found {mode!r}")
        self.mode = _MODES[mode]
        if scales is None and height_scale is not None:  # opset 1: NCHW with two scales
            scales = [1.0, 1.0, float(height_scale), float(width_scale or 1.0)]
        self.scales = scales

    def run(self, x, scales=None):
        if scales is None:
            if self.scales is None:
                raise ModelError(self.node, "scales is missing (an attribute before opset 9, an input from 9)")
            scales = np.array(self.scales, dtype=np.float32)
        return resize(self.node, x, None, scales, None, self.mode, "asymmetric", "simple")


def _present(a):
    return a is not None and np.asarray(a).size > 0


def resize(node, x, roi, scales, sizes, mode, ctm, nearest_mode, a=-0.75, exclude_outside=False,
           extrapolation_value=0.0, antialias=False, axes=None, policy="stretch"):
    """The whole of Resize after attributes are parsed; see the module docstring."""
    r = x.ndim
    axes = list(range(r)) if axes is None else normalize_axes(axes, r, node)
    shape = list(x.shape)
    scale = [1.0] * r
    out = list(shape)
    if _present(scales):
        sc = [float(s) for s in np.asarray(scales).reshape(-1)]
        if len(sc) != len(axes):
            raise RuntimeFailure(node, f"scales has {len(sc)} values for {len(axes)} axes")
        if any(not s > 0 for s in sc):
            raise RuntimeFailure(node, f"scales must be positive, found {sc}")
        for ax, s in zip(axes, sc):
            scale[ax] = s
        out = [int(np.float64(scale[i]) * shape[i]) if i in axes else shape[i] for i in range(r)]
    elif _present(sizes):
        sz = [int(v) for v in np.asarray(sizes).reshape(-1)]
        if len(sz) != len(axes):
            raise RuntimeFailure(node, f"sizes has {len(sz)} values for {len(axes)} axes")
        for ax, v in zip(axes, sz):
            if v < 0 or (v > 0 and shape[ax] == 0):
                raise RuntimeFailure(node, f"cannot resize axis {ax} of size {shape[ax]} to {v}")
            out[ax] = v
            scale[ax] = v / shape[ax] if shape[ax] else 1.0
        if policy != "stretch":
            s = (min if policy == "not_larger" else max)(scale[ax] for ax in axes)
            for ax in axes:
                scale[ax] = s
                out[ax] = int(s * shape[ax] + 0.5)
    else:
        raise RuntimeFailure(node, "one of scales and sizes must be given")
    check_output_size(out, node)

    full_roi = None
    if ctm == "tf_crop_and_resize":
        if not _present(roi):
            raise RuntimeFailure(node, "coordinate_transformation_mode tf_crop_and_resize needs roi")
        rv = [float(v) for v in np.asarray(roi).reshape(-1)]
        if len(rv) != 2 * len(axes):
            raise RuntimeFailure(node, f"roi has {len(rv)} values, expected {2 * len(axes)}")
        full_roi = [(0.0, 1.0)] * r
        for i, ax in enumerate(axes):
            full_roi[ax] = (rv[i], rv[len(axes) + i])

    if x.size == 0 or 0 in out:
        return np.zeros(out, dtype=x.dtype)
    nearest = mode == "nearest"
    tagged = dtypes.is_tagged(x.dtype)
    if not nearest and (tagged or x.dtype.kind not in "fiub"):
        raise RuntimeFailure(node, f"{mode} resize does not support type {dtypes.name(x.dtype)}")
    if nearest and full_roi is None and x.dtype == np.float32 and x.ndim == 4:
        y = _nearest_2d_fast(x, axes, out, scale, shape, ctm, nearest_mode)
        if y is not None:
            return y
    if (mode == "linear" and full_roi is None and x.dtype == np.float32 and x.ndim == 4
            and not exclude_outside and not antialias):
        y = _linear_2d_fast(x, axes, out, scale, shape, ctm, a)
        if y is not None:
            return y
    y = x if nearest else x.astype(np.float64)
    for ax in axes:
        aroi = None if full_roi is None else full_roi[ax]
        if (math.isclose(scale[ax], 1.0) and out[ax] == y.shape[ax]
                and (aroi is None or (math.isclose(aroi[0], 0.0) and math.isclose(aroi[1], 1.0)))):
            continue  # identity along this axis
        src, extra = source_coords(ctm, out[ax], scale[ax], shape[ax], aroi)
        if nearest:
            y = _nearest_axis(y, ax, src, nearest_mode, scale[ax], shape[ax])
        else:
            y = _kernel_axis(y, ax, src, mode, scale[ax], shape[ax], a, exclude_outside, antialias)
        if extra is not None and extra.any():
            mask = extra.reshape((1,) * ax + (-1,) + (1,) * (r - ax - 1))
            fill = np.array(extrapolation_value).astype(y.dtype) if not tagged else None
            if tagged:
                raise RuntimeFailure(node, f"extrapolation is not supported for {dtypes.name(x.dtype)}")
            y = np.where(mask, fill, y)
    if nearest:
        return y
    if x.dtype.kind in "iub":
        info = np.iinfo(x.dtype) if x.dtype.kind != "b" else None
        y = np.round(y)
        if info is not None:
            y = np.clip(y, info.min, info.max)
    return y.astype(x.dtype)


def source_coords(ctm, o, s, d, roi):
    """(x_ori (o,) float64, extrapolated mask or None) for output indices 0..o-1 of one axis."""
    yv = np.arange(o, dtype=np.float64)
    ow = s * d  # the real-valued output length
    if ctm == "align_corners":
        return (np.zeros(o) if ow == 1 else yv * (d - 1) / (ow - 1)), None
    if ctm == "asymmetric":
        return yv / s, None
    if ctm == "tf_crop_and_resize":
        r0, r1 = roi
        xo = np.full(o, (r1 - r0) * (d - 1) / 2) if ow == 1 else yv * (r1 - r0) * (d - 1) / (ow - 1)
        xo = xo + r0 * (d - 1)
        return xo, (xo < 0) | (xo > d - 1)
    if ctm == "pytorch_half_pixel":
        return (np.full(o, -0.5) if ow == 1 else (yv + 0.5) / s - 0.5), None
    if ctm == "half_pixel":
        return (yv + 0.5) / s - 0.5, None
    # half_pixel_symmetric
    offset = d / 2 * (1 - o / ow)
    return offset + (yv + 0.5) / s - 0.5, None


def _nearest_2d_fast(x, axes, out, scale, shape, ctm, nearest_mode):
    """Nearest resize of the two spatial axes of float32 NCHW by kernels/resize2d_f32.py, with
    the same source indices as _nearest_axis; None (use the axis loop) when N or C change or
    kernels are off."""
    if any(out[i] != shape[i] for i in (0, 1)):
        return None
    from .. import kernels  # noqa: PLC0415 - Numba is imported lazily, inside kernels/
    k = kernels.get("resize2d_f32_nearest") if kernels.available() else None
    if k is None:
        return None
    idx = []
    for ax in (2, 3):
        if ax not in axes or (math.isclose(scale[ax], 1.0) and out[ax] == shape[ax]):
            idx.append(np.arange(shape[ax], dtype=np.int64))  # identity along this axis
            continue
        src, _ = source_coords(ctm, out[ax], scale[ax], shape[ax], None)
        idx.append(_nearest_index(src, nearest_mode, scale[ax], shape[ax]).astype(np.int64))
    y = np.empty(out, np.float32)
    xc = np.ascontiguousarray(x)
    k(xc if xc.flags.writeable else xc.copy(), idx[0], idx[1], y)  # indices within [0, d)
    return y


def _linear_2d_fast(x, axes, out, scale, shape, ctm, a):
    """Linear resize of both spatial axes of float32 NCHW by kernels/resize2d_f32.py: the same
    taps and float64 sums as _kernel_axis along H, then W; None (use the axis loop) when N or C
    change, an axis stays as it is, or kernels are off."""
    if any(out[i] != shape[i] for i in (0, 1)) or any(
            ax not in axes or (math.isclose(scale[ax], 1.0) and out[ax] == shape[ax])
            for ax in (2, 3)) or axes.index(2) > axes.index(3):
        return None  # (the reference goes axis by axis in the order of `axes`)
    from .. import kernels  # noqa: PLC0415 - Numba is imported lazily, inside kernels/
    k = kernels.get("resize2d_f32_linear") if kernels.available() else None
    if k is None:
        return None
    taps = []
    for ax in (2, 3):
        src, _ = source_coords(ctm, out[ax], scale[ax], shape[ax], None)
        idx, c = _taps(src, "linear", scale[ax], shape[ax], a, False, False)
        if idx.shape[1] != 2:
            return None
        taps += [np.ascontiguousarray(idx, np.int64), np.ascontiguousarray(c, np.float64)]
    y = np.empty(out, np.float32)
    xc = np.ascontiguousarray(x)
    tmp = np.empty((out[2], shape[3]), np.float64)
    k(xc if xc.flags.writeable else xc.copy(), *taps, tmp, y)  # indices within [0, d)
    return y


def _nearest_axis(y, ax, xo, nearest_mode, s, d):
    return np.take(y, _nearest_index(xo, nearest_mode, s, d), axis=ax)


def _nearest_index(xo, nearest_mode, s, d):
    """Source indices (o,) intp in [0, d) for coordinates xo under nearest_mode."""
    fl = np.floor(xo)
    frac = xo - fl
    if nearest_mode == "round_prefer_floor":
        idx = np.where(frac > 0.5, fl + 1, fl)
    elif nearest_mode == "round_prefer_ceil":
        idx = np.where(frac >= 0.5, fl + 1, fl)
    elif nearest_mode == "floor":
        idx = fl
    elif nearest_mode == "ceil":
        idx = np.ceil(xo)
    else:  # simple (opset 10, Upsample): floor when upsampling, ceil when downsampling
        idx = np.ceil(xo) if s < 1 else fl
    return np.clip(idx, 0, d - 1).astype(np.intp)


def _coeffs(mode, ratio, s, a, antialias):
    """Kernel weights (o, n) for fractional offsets ``ratio`` in (0, 1]."""
    rr = ratio[:, None]
    if mode == "linear":
        if not antialias:
            return np.concatenate([1 - rr, rr], axis=1)
        s = min(s, 1.0)
        start = int(np.floor(-1 / s) + 1)
        args = (np.arange(start, 2 - start)[None, :] - rr) * s
        c = np.clip(1 - np.abs(args), 0, 1)
        return c / c.sum(axis=1, keepdims=True)
    if not antialias:
        t = np.concatenate([rr + 1, rr, 1 - rr, 2 - rr], axis=1)
    else:
        s = min(s, 1.0)
        i_start = int(np.floor(-2 / s) + 1)
        t = s * (np.arange(i_start, 2 - i_start)[None, :] - rr)
    t = np.abs(t)
    c = np.where(t <= 1, ((a + 2) * t - (a + 3)) * t * t + 1,
                 np.where(t < 2, ((a * t - 5 * a) * t + 8 * a) * t - 4 * a, 0.0))
    if antialias:
        c = c / c.sum(axis=1, keepdims=True)
    return c


def _kernel_axis(y, ax, xo, mode, s, d, a, exclude_outside, antialias):
    """Linear/cubic interpolation along one axis (float64 in, float64 out)."""
    idx, c = _taps(xo, mode, s, d, a, exclude_outside, antialias)
    g = np.take(y, idx, axis=ax)  # (..., o, n, ...)
    w = c.reshape((1,) * ax + c.shape + (1,) * (y.ndim - ax - 1))
    return (g * w).sum(axis=ax + 1)


def _taps(xo, mode, s, d, a, exclude_outside, antialias):
    """(idx (o, n) intp source indices clipped to [0, d), c (o, n) float64 weights)."""
    xi = np.floor(xo)
    ratio = np.where(xo == xi, 1.0, xo - xi)  # in (0, 1]: prefer the left neighbour
    c = _coeffs(mode, ratio, s, a, antialias)
    n = c.shape[1]
    pad = (n + 1) // 2
    xp = xo + pad
    p = np.floor(xp).astype(np.int64)
    start = p + np.where(xp - p == 0, -(n // 2), -(n // 2) + 1)
    idx = start[:, None] + np.arange(n)[None, :] - pad  # (o, n) source indices
    if exclude_outside:
        c = np.where((idx < 0) | (idx >= d), 0.0, c)
        tot = c.sum(axis=1, keepdims=True)
        c = c / np.where(tot == 0, 1.0, tot)
    return np.clip(idx, 0, d - 1).astype(np.intp), c

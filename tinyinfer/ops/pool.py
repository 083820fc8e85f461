"""MaxPool, AveragePool, LpPool — reductions over sliding windows of the spatial axes.

    x: (N, C, D1..Dn)  kernel_shape (k1..kn)  ->  y: (N, C, O1..On)
    MaxPool      y[n, c, o] = max_t     x_pad[n, c, o * stride + t * dilation]   (pad = -inf)
    AveragePool  y[n, c, o] = sum_t     x_pad[...] / count(o)                    (pad = 0)
    LpPool       y[n, c, o] = (sum_t |x_pad[...]|^p)^(1/p)                       (pad = 0)

count(o) is the number of taps inside the input (count_include_pad=0) or inside the input plus
the model's pads (count_include_pad=1); taps in ceil_mode's extra tail padding never count.
Geometry (auto_pad, pads, ceil_mode, dilations) is in _window.resolve. Every op loops over the
K kernel taps, each step vectorised over all outputs: K passes, no K-times-larger buffer.
MaxPool's optional Indices output holds the flat input index of each max (first one on ties),
row-major over (N, C, D1..Dn), or column-major over the spatial axes with storage_order=1.
"""
from __future__ import annotations

import numpy as np

from ..errors import ModelError, RuntimeFailure
from ..registry import Op, op
from . import _window as W


class _Pool(Op):
    """Attributes and geometry shared by the three windowed pools."""

    def __init__(self, node, *, kernel_shape, auto_pad="NOTSET", ceil_mode=0, dilations=None,
                 pads=None, strides=None):
        self.node = node
        self.auto_pad = W.auto_pad_name(node, auto_pad)
        self.kernel = [int(k) for k in kernel_shape]
        if not self.kernel or any(k < 1 for k in self.kernel):
            raise ModelError(node, f"kernel_shape={list(kernel_shape)} must list a positive size "
                                   "for every spatial axis")
        self.ceil_mode = bool(ceil_mode)
        self.dilations_attr, self.pads_attr, self.strides_attr = dilations, pads, strides
        nsp = len(self.kernel)  # check the per-axis attributes once, at load time
        W.spatial_list(node, "strides", strides, nsp, 1)
        W.spatial_list(node, "dilations", dilations, nsp, 1)
        W.pads_list(node, pads, nsp)
        self._geometry = {}

    def prepare(self, x, *rest):
        W.check_spatial_input(self.node, x.shape)
        if x.shape is not None and len(x.shape) - 2 != len(self.kernel):
            raise ModelError(self.node, f"kernel_shape={self.kernel} has {len(self.kernel)} "
                                        f"values but input X of shape {list(x.shape)} has "
                                        f"{len(x.shape) - 2} spatial axes")

    def geometry(self, shape) -> "W.Window":
        win = self._geometry.get(shape)
        if win is None:
            node, nsp = self.node, len(self.kernel)
            if len(shape) != nsp + 2:
                raise RuntimeFailure(node, f"input X has shape {list(shape)}; kernel_shape="
                                           f"{self.kernel} needs (N, C) and {nsp} spatial axes")
            strides = W.spatial_list(node, "strides", self.strides_attr, nsp, 1)
            dilations = W.spatial_list(node, "dilations", self.dilations_attr, nsp, 1)
            pads = W.pads_list(node, self.pads_attr, nsp)
            win = W.resolve(node, self.auto_pad, shape[2:], self.kernel, strides, dilations, pads,
                            self.ceil_mode)
            W.check_budget(node, shape, win, shape[1])
            self._geometry[shape] = win
        return win

    def fast(self, name, x, win):
        """The Numba kernel `name` when x is float32 (N, C, H, W) and kernels are on, else None."""
        if x.dtype != np.float32 or x.ndim != 4:
            return None
        from .. import kernels  # noqa: PLC0415 - Numba is imported lazily, inside kernels/
        return kernels.get(name) if kernels.available() else None

    def fast_args(self, x, win):
        """(x contiguous, out (N, C, OH, OW), kh, kw, sh, sw, dh, dw, ph, pw) for pool2d_f32_*."""
        x = np.ascontiguousarray(x)
        if not x.flags.writeable:
            x = x.copy()
        out = np.empty(tuple(x.shape[:2]) + tuple(win.out), np.float32)
        return x, out, (*win.kernel, *win.strides, *win.dilations, *win.begin)

    def padded(self, x, win, value):
        return W.pad_spatial(x, win.begin, [e + t for e, t in zip(win.end, win.extra_end)], value)

    def tap_sum(self, xp, win):
        """sum over kernel taps: (N, C, *P) padded -> (N, C, *out)."""
        y = None
        for _, sl in W.kernel_offsets(win):
            xs = xp[(slice(None), slice(None)) + sl]
            y = xs.copy() if y is None else np.add(y, xs, out=y)
        return y

    def counts(self, shape, win, include_pad: bool) -> np.ndarray:
        """Taps per output that fall inside the input (or input + pads): shape (*out,)."""
        total = np.ones((), dtype=np.float64)
        for i, (size, k, s, d, b, e, o) in enumerate(zip(
                shape[2:], win.kernel, win.strides, win.dilations, win.begin, win.end, win.out)):
            pos = np.arange(o)[:, None] * s + np.arange(k)[None, :] * d - b  # (o, k) input coords
            lo, hi = (-b, size + e) if include_pad else (0, size)
            cnt = ((pos >= lo) & (pos < hi)).sum(axis=1).astype(np.float64)
            total = np.multiply.outer(total, cnt)
        return total


@op("MaxPool", since=1)
class MaxPool(_Pool):
    """MaxPool — y = max over each window (pad = -inf); optional Indices (int64, flat input index).

        x: (N, C, D1..Dn) float or (u)int8  ->  y: (N, C, O1..On), indices: (N, C, O1..On)
    """

    def __init__(self, node, *, kernel_shape, auto_pad="NOTSET", ceil_mode=0, dilations=None,
                 pads=None, storage_order=0, strides=None):
        super().__init__(node, kernel_shape=kernel_shape, auto_pad=auto_pad, ceil_mode=ceil_mode,
                         dilations=dilations, pads=pads, strides=strides)
        if storage_order not in (0, 1):
            raise ModelError(node, f"storage_order={storage_order} must be 0 (row major) or 1 "
                                   "(column major)")
        self.storage_order = int(storage_order)

    def run(self, x):
        win = self.geometry(x.shape)
        want_indices = len(self.node.outputs) > 1 and bool(self.node.outputs[1])
        if x.dtype.kind == "f":
            low = -np.inf
        elif x.dtype.kind in "iu":
            low = np.iinfo(x.dtype).min
        else:
            raise RuntimeFailure(self.node, f"MaxPool does not accept input of dtype {x.dtype}")
        k = None if want_indices else self.fast("pool2d_f32_max", x, win)
        if k is not None:
            xc, out, geo = self.fast_args(x, win)
            k(xc, out, *geo)
            return out
        xp = self.padded(x, win, low)
        lead = (slice(None), slice(None))
        if not want_indices:
            y = None
            for _, sl in W.kernel_offsets(win):
                xs = xp[lead + sl]
                y = xs.copy() if y is None else np.maximum(y, xs, out=y)
            return y
        y = xp[lead + next(W.kernel_offsets(win))[1]].copy()
        idx = np.zeros(y.shape, dtype=np.int64)
        seen = np.zeros(y.shape, dtype=bool)  # has a tap inside the input been taken yet?
        for kk, sl in W.kernel_offsets(win):
            xs = xp[lead + sl]
            flat, inside = self.tap_index(x.shape, win, kk)
            better = inside & ((xs > y) | ~seen)  # padding never wins, ties keep the first
            y = np.where(better, xs, y)
            idx = np.where(better, flat, idx)
            seen |= inside
        return y, idx

    def tap_index(self, shape, win, kk):
        """Flat input index of tap kk for every output, (N, C, *out) int64, and whether the tap
        lies inside the input, (1, 1, *out) bool (both broadcastable)."""
        sp = shape[2:]
        nsp = len(sp)
        if self.storage_order == 0:
            mult = [int(np.prod(sp[i + 1:])) for i in range(nsp)]
        else:
            mult = [int(np.prod(sp[:i])) for i in range(nsp)]
        flat = np.zeros((1, 1) + (1,) * nsp, dtype=np.int64)
        inside = np.ones((1, 1) + (1,) * nsp, dtype=bool)
        for i in range(nsp):
            pos = np.arange(win.out[i]) * win.strides[i] + kk[i] * win.dilations[i] - win.begin[i]
            axis = (1, 1) + tuple(-1 if j == i else 1 for j in range(nsp))
            inside = inside & ((pos >= 0) & (pos < sp[i])).reshape(axis)
            flat = flat + (np.clip(pos, 0, sp[i] - 1) * mult[i]).reshape(axis)
        plane = int(np.prod(sp))
        nc = (np.arange(shape[0])[:, None] * shape[1] + np.arange(shape[1])[None, :]) * plane
        return flat + nc.reshape(shape[0], shape[1], *([1] * nsp)).astype(np.int64), inside


@op("AveragePool", since=1)
class AveragePool(_Pool):
    """AveragePool — y = sum over each window / number of counted taps.

        x: (N, C, D1..Dn)  ->  y: (N, C, O1..On)
    """

    def __init__(self, node, *, kernel_shape, auto_pad="NOTSET", ceil_mode=0,
                 count_include_pad=0, dilations=None, pads=None, strides=None):
        super().__init__(node, kernel_shape=kernel_shape, auto_pad=auto_pad, ceil_mode=ceil_mode,
                         dilations=dilations, pads=pads, strides=strides)
        self.count_include_pad = bool(count_include_pad)
        self._counts = {}

    def run(self, x):
        win = self.geometry(x.shape)
        ct = W.compute_dtype(x.dtype)
        k = self.fast("pool2d_f32_avg", x, win)
        if k is not None:
            count = self._counts.get(x.shape)
            if count is None:  # (OH, OW) float32, once per shape
                count = np.ascontiguousarray(
                    self.counts(x.shape, win, self.count_include_pad), np.float32)
                self._counts[x.shape] = count
            xc, out, geo = self.fast_args(x, win)
            k(xc, count, out, *geo)
            return out
        xp = self.padded(x.astype(ct, copy=False), win, 0)
        y = self.tap_sum(xp, win)
        y /= self.counts(x.shape, win, self.count_include_pad).astype(ct)
        return y.astype(x.dtype, copy=False)


@op("LpPool", since=1)
class LpPool(_Pool):
    """LpPool — y = (sum over each window of |x|^p)^(1/p), zero padding.

        x: (N, C, D1..Dn)  ->  y: (N, C, O1..On)
    """

    def __init__(self, node, *, kernel_shape, auto_pad="NOTSET", ceil_mode=0, dilations=None,
                 p=2, pads=None, strides=None):
        super().__init__(node, kernel_shape=kernel_shape, auto_pad=auto_pad, ceil_mode=ceil_mode,
                         dilations=dilations, pads=pads, strides=strides)
        self.p = float(p)
        if self.p <= 0:
            raise ModelError(node, f"p={p} must be positive")

    def run(self, x):
        win = self.geometry(x.shape)
        ct = W.compute_dtype(x.dtype)
        xp = self.padded(np.abs(x.astype(ct, copy=False)) ** ct.type(self.p), win, 0)
        y = self.tap_sum(xp, win) ** ct.type(1.0 / self.p)
        return y.astype(x.dtype, copy=False)


def _spatial_axes(node, x):
    if x.ndim < 3:
        raise RuntimeFailure(node, f"input X has shape {list(x.shape)}; expected (N, C, D1, ...)")
    return tuple(range(2, x.ndim))


class _GlobalPool(Op):
    def __init__(self, node, **attrs):
        self.node = node
        for k, v in attrs.items():
            setattr(self, k, v)

    def prepare(self, x):
        W.check_spatial_input(self.node, x.shape)


@op("GlobalAveragePool", since=1)
class GlobalAveragePool(_GlobalPool):
    """GlobalAveragePool — y[n, c] = mean over all spatial positions of x[n, c].

        x: (N, C, D1..Dn)  ->  y: (N, C, 1..1)
    """

    def run(self, x):
        axes = _spatial_axes(self.node, x)
        ct = W.compute_dtype(x.dtype)
        return x.mean(axis=axes, dtype=ct, keepdims=True).astype(x.dtype, copy=False)


@op("GlobalMaxPool", since=1)
class GlobalMaxPool(_GlobalPool):
    """GlobalMaxPool — y[n, c] = max over all spatial positions of x[n, c].

        x: (N, C, D1..Dn)  ->  y: (N, C, 1..1)
    """

    def run(self, x):
        return x.max(axis=_spatial_axes(self.node, x), keepdims=True)


@op("GlobalLpPool", since=1)
class GlobalLpPool(_GlobalPool):
    """GlobalLpPool — y[n, c] = (sum over spatial positions of |x[n, c]|^p)^(1/p).

        x: (N, C, D1..Dn)  ->  y: (N, C, 1..1)
    """

    def __init__(self, node, *, p=2):
        super().__init__(node, p=float(p))

    def run(self, x):
        axes = _spatial_axes(self.node, x)
        ct = W.compute_dtype(x.dtype)
        xf = np.abs(x.astype(ct, copy=False))
        y = (xf ** ct.type(self.p)).sum(axis=axes, keepdims=True) ** ct.type(1.0 / self.p)
        return y.astype(x.dtype, copy=False)

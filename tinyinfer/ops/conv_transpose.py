"""ConvTranspose — the adjoint of Conv ("deconvolution"), with groups, strides, dilations.

    x: (N, C, D1..Dn)   w: (C, M/group, k1..kn)   b: (M,)   ->   y: (N, M, O1..On)
    full[n, m, i * stride + t * dilation] += sum_{c in group(m)} x[n, c, i] * w[c, m', t]
    y = full[..., pad_begin : pad_begin + O] + b
    O = stride * (D - 1) + output_padding + (k - 1) * dilation + 1 - pad_begin - pad_end

With output_shape (or auto_pad SAME_*, where output_shape defaults to D * stride) the pads come
from total = stride * (D - 1) + output_padding + (k - 1) * dilation + 1 - output_shape:
SAME_UPPER puts total // 2 first, otherwise total - total // 2 goes first (the ONNX spec). A
negative total (kernel smaller than stride) zero-extends the output to D * stride as the spec
and the ONNX reference do; onnxruntime instead clamps it at 0 and returns a shorter output.
Vectorised as one batched matmul (N, g, M/g * K, L) = w_g^T @ x_g, then a K-tap scatter-add
(_window.col2im_add).
"""
from __future__ import annotations

import numpy as np

from ..errors import ModelError, RuntimeFailure
from ..registry import Op, op
from . import _window as W
from ._common import check_output_size


@op("ConvTranspose", since=1)
class ConvTranspose(Op):
    """ConvTranspose — y = col2im(w^T x) cropped by pads, + b.

        x: (N, C, D1..Dn)   w: (C, M/group, k1..kn)   b: (M,)   ->   y: (N, M, O1..On)
    """

    def __init__(self, node, *, auto_pad="NOTSET", dilations=None, group=1, kernel_shape=None,
                 output_padding=None, output_shape=None, pads=None, strides=None):
        self.node = node
        self.auto_pad = W.auto_pad_name(node, auto_pad)
        self.group = int(group)
        if self.group < 1:
            raise ModelError(node, f"group={group} must be at least 1")
        self.dilations_attr, self.kernel_attr, self.pads_attr = dilations, kernel_shape, pads
        self.strides_attr, self.output_padding_attr = strides, output_padding
        self.output_shape_attr = output_shape
        self._geometry = {}

    def prepare(self, x, w, b=None):
        node = self.node
        W.check_spatial_input(node, x.shape)
        ws = w.shape
        if ws is None:
            return
        for name, attr, low in (("strides", self.strides_attr, 1),
                                ("dilations", self.dilations_attr, 1),
                                ("output_padding", self.output_padding_attr, 0)):
            W.spatial_list(node, name, attr, len(ws) - 2, 1, low)
        W.pads_list(node, self.pads_attr, len(ws) - 2)
        if len(ws) < 3:
            raise ModelError(node, f"weight W has shape {list(ws)}; expected (C, M/group, k1, ...)")
        if self.kernel_attr and [int(k) for k in self.kernel_attr] != list(ws[2:]):
            raise ModelError(node, f"kernel_shape={list(self.kernel_attr)} does not match the "
                                   f"weight's spatial shape {list(ws[2:])}")
        if x.shape is not None and isinstance(x.shape[1], int) and isinstance(ws[0], int) \
                and x.shape[1] != ws[0]:
            raise ModelError(node, f"input X has {x.shape[1]} channels but W has {ws[0]} "
                                   "input channels")
        if isinstance(ws[0], int) and ws[0] % self.group:
            raise ModelError(node, f"group={self.group} does not divide the {ws[0]} input "
                                   "channels of W")

    def geometry(self, x_shape, w_shape):
        key = (x_shape, w_shape)
        g = self._geometry.get(key)
        if g is not None:
            return g
        node, nsp = self.node, len(x_shape) - 2
        if nsp < 1 or len(w_shape) != len(x_shape):
            raise RuntimeFailure(node, f"X has shape {list(x_shape)} and W has shape "
                                       f"{list(w_shape)}; expected (N, C, D1, ...) and "
                                       "(C, M/group, k1, ...) of the same rank")
        if x_shape[1] != w_shape[0] or w_shape[0] % self.group:
            raise RuntimeFailure(node, f"input X has {x_shape[1]} channels; W has {w_shape[0]} "
                                       f"input channels, which group={self.group} must divide")
        kernel = list(w_shape[2:])
        strides = W.spatial_list(node, "strides", self.strides_attr, nsp, 1)
        dil = W.spatial_list(node, "dilations", self.dilations_attr, nsp, 1)
        opad = W.spatial_list(node, "output_padding", self.output_padding_attr, nsp, 0, 0)
        full = [s * (d - 1) + op + (k - 1) * dl + 1
                for s, d, op, k, dl in zip(strides, x_shape[2:], opad, kernel, dil)]
        if self.output_shape_attr or self.auto_pad in ("SAME_UPPER", "SAME_LOWER"):
            if self.output_shape_attr:
                out = [int(v) for v in self.output_shape_attr][-nsp:]
                if len(out) != nsp:
                    raise ModelError(node, f"output_shape={list(self.output_shape_attr)} must "
                                           f"give {nsp} spatial sizes")
            else:
                out = [d * s for d, s in zip(x_shape[2:], strides)]
            total = [f - o for f, o in zip(full, out)]
            if self.auto_pad == "SAME_UPPER":
                begin = [t // 2 for t in total]
            else:
                begin = [t - t // 2 for t in total]
        else:
            pads = [0] * (2 * nsp) if self.auto_pad == "VALID" else \
                W.pads_list(node, self.pads_attr, nsp)
            begin = pads[:nsp]
            out = [f - b - e for f, b, e in zip(full, begin, pads[nsp:])]
        if any(o <= 0 for o in out):
            raise RuntimeFailure(node, f"the output spatial shape {out} is empty; pads are larger "
                                       "than the transposed convolution's extent")
        n, m = x_shape[0], w_shape[1] * self.group
        check_output_size([n, m] + full, node, "uncropped output")
        check_output_size([n, m] + out, node)
        g = (kernel, strides, dil, begin, out)
        self._geometry[key] = g
        return g

    def run(self, x, w, b=None):
        kernel, strides, dil, begin, out = self.geometry(x.shape, w.shape)
        n, c = x.shape[:2]
        grid = list(x.shape[2:])
        g, mg = self.group, w.shape[1]
        cg, K, L = c // g, int(np.prod(kernel)), int(np.prod(grid))
        ct = W.compute_dtype(x.dtype)
        xg = x.astype(ct, copy=False).reshape(n, g, cg, L)
        wg = w.astype(ct, copy=False).reshape(g, cg, mg * K).transpose(0, 2, 1)  # (g, M/g*K, C/g)
        cols = np.matmul(wg, xg)  # (N, g, M/g*K, L)
        cols = cols.reshape((n, g * mg) + tuple(kernel) + tuple(grid))
        extent = [(gi - 1) * s + (k - 1) * d + 1 for gi, s, k, d in zip(grid, strides, kernel, dil)]
        if len(kernel) == 2 and list(strides) == list(kernel) and list(dil) == [1, 1] and all(
                0 <= bg and bg + o <= e for bg, o, e in zip(begin, out, extent)):
            return self._tiled(cols, b, kernel, grid, begin, out, ct).astype(x.dtype, copy=False)
        full = W.col2im_add(cols, kernel, strides, dil, grid, extent)
        y = W.crop_or_pad(full, begin, out)
        if b is not None:
            y = y + b.astype(ct, copy=False).reshape((1, -1) + (1,) * len(out))
        else:
            y = np.ascontiguousarray(y)
        return y.astype(x.dtype, copy=False)

    @staticmethod
    def _tiled(cols, b, kernel, grid, begin, out, ct):
        """stride == kernel (2-D, no dilation): the taps do not overlap, so the scatter-add is a
        transpose, with the bias added in the same pass (each output has exactly one term).
            cols (N, M, kh, kw, H, W) -> y (N, M, H, kh, W, kw) = (N, M, H*kh, W*kw), cropped"""
        n, m = cols.shape[:2]
        (kh, kw), (h, wd) = kernel, grid
        y = np.empty((n, m, h, kh, wd, kw), ct)
        k = None
        if ct == np.float32 and (b is None or (b.ndim == 1 and b.shape[0] == m)):
            from .. import kernels  # noqa: PLC0415 - Numba is imported lazily, inside kernels/
            k = kernels.get("convtranspose2d_f32_tiles") if kernels.available() else None
        src = cols.transpose(0, 1, 4, 2, 5, 3)
        if k is not None:
            bb = np.zeros(0, np.float32) if b is None else np.array(b, np.float32)  # writeable
            k(np.ascontiguousarray(cols), bb, y.reshape(n, m, h * kh, wd * kw))
        elif b is None:
            np.copyto(y, src)
            y += ct.type(0)  # -0.0 -> 0.0, as 0 + v in the scatter-add
        else:
            np.add(src, b.astype(ct, copy=False).reshape(1, -1, 1, 1, 1, 1), out=y)
        y = y.reshape(n, m, h * kh, wd * kw)
        if list(begin) == [0, 0] and list(out) == [h * kh, wd * kw]:
            return y
        return np.ascontiguousarray(y[:, :, begin[0]:begin[0] + out[0], begin[1]:begin[1] + out[1]])

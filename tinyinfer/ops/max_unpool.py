"""MaxUnpool — scatter pooled maxima back to where MaxPool found them.

    x, I: (N, C, d1..dn)   (I = MaxPool's flat Indices)   ->   y: (N, C, O1..On)
    O_i = (d_i - 1) * stride_i + k_i - pad_begin_i - pad_end_i
    y = zeros; y.flat[I] = x
A larger output_shape (N, C, O'1..O'n) zero-extends that result at the end of each spatial
axis; the indices keep addressing the inferred shape (as the ONNX reference and its tests do).
"""
from __future__ import annotations

import numpy as np

from ..errors import ModelError, RuntimeFailure
from ..registry import Op, op
from . import _window as W
from ._common import as_int_list, check_output_size


@op("MaxUnpool", since=9)
class MaxUnpool(Op):
    """MaxUnpool — y = zeros(output shape); y.flat[I] = x.

        x, I: (N, C, d1..dn)   output_shape: optional (N, C, O1..On)   ->   y: (N, C, O1..On)
    """

    def __init__(self, node, *, kernel_shape, pads=None, strides=None):
        self.node = node
        self.kernel = [int(k) for k in kernel_shape]
        if not self.kernel or any(k < 1 for k in self.kernel):
            raise ModelError(node, f"kernel_shape={list(kernel_shape)} must be positive")
        self.pads_attr, self.strides_attr = pads, strides

    def prepare(self, x, i, output_shape=None):
        W.check_spatial_input(self.node, x.shape)

    def run(self, x, indices, output_shape=None):
        node, nsp = self.node, len(self.kernel)
        if x.ndim != nsp + 2 or indices.shape != x.shape:
            raise RuntimeFailure(node, f"X of shape {list(x.shape)} and I of shape "
                                       f"{list(indices.shape)} must match and have {nsp} spatial "
                                       f"axes as kernel_shape={self.kernel} does")
        strides = W.spatial_list(node, "strides", self.strides_attr, nsp, 1)
        pads = W.pads_list(node, self.pads_attr, nsp)
        shape = list(x.shape[:2]) + [
            (d - 1) * s + k - pads[i] - pads[nsp + i]
            for i, (d, s, k) in enumerate(zip(x.shape[2:], strides, self.kernel))]
        check_output_size(shape, node)
        total = int(np.prod(shape))
        flat = np.asarray(indices, dtype=np.int64).reshape(-1)
        if flat.size and (flat.min() < 0 or flat.max() >= total):
            raise RuntimeFailure(node, f"indices range over [{flat.min()}, {flat.max()}], outside "
                                       f"the unpooled shape {shape} ({total} elements)")
        y = np.zeros(total, dtype=x.dtype)
        y[flat] = x.reshape(-1)
        y = y.reshape(shape)
        if output_shape is not None:
            want = as_int_list(output_shape)
            if len(want) != x.ndim or want[:2] != shape[:2] or any(
                    w < s for w, s in zip(want[2:], shape[2:])):
                raise RuntimeFailure(node, f"output_shape={want} must be (N, C, ...) with N, C = "
                                           f"{shape[:2]} and spatial sizes at least {shape[2:]}")
            check_output_size(want, node)
            y = np.ascontiguousarray(W.crop_or_pad(y, [0] * nsp, want[2:]))
        return y

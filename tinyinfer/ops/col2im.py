"""Col2Im and MaxUnpool — scatter windows or pooled maxima back into an image.

    Col2Im     x: (N, C * B, L)  image_shape: (D1..Dn)  block_shape: (b1..bn), B = b1 * ... * bn
               L = prod_i ((D_i + pad_begin_i + pad_end_i - (b_i - 1) * dilation_i - 1)
                           // stride_i + 1)
               y[n, c, p * stride + t * dilation - pad_begin] += x[n, c * B + t, p]
               ->  y: (N, C, D1..Dn)     (the adjoint of im2col; overlaps add up)
    MaxUnpool  x, I: (N, C, d1..dn)  ->  y: (N, C, O1..On) zeros with y.flat[I] = x, where
               O_i = (d_i - 1) * stride_i + k_i - pad_begin_i - pad_end_i; a larger output_shape
               zero-extends that result at the end of each spatial axis (as the ONNX reference)
"""
from __future__ import annotations

import numpy as np

from ..errors import ModelError, RuntimeFailure
from ..registry import Op, op
from . import _window as W
from ._common import as_int_list


@op("Col2Im", since=18)
class Col2Im(Op):
    """Col2Im — y = sum of the column blocks placed back at their image positions.

        x: (N, C * prod(block_shape), L), image_shape, block_shape  ->  y: (N, C, *image_shape)
    """

    def __init__(self, node, *, dilations=None, pads=None, strides=None):
        self.node = node
        self.dilations_attr, self.pads_attr, self.strides_attr = dilations, pads, strides

    def run(self, x, image_shape, block_shape):
        node = self.node
        image, block = as_int_list(image_shape), as_int_list(block_shape)
        nsp = len(image)
        if len(block) != nsp or nsp == 0 or any(v < 1 for v in image + block):
            raise RuntimeFailure(node, f"image_shape={image} and block_shape={block} must be "
                                       "positive and of the same length")
        strides = W.spatial_list(node, "strides", self.strides_attr, nsp, 1)
        dil = W.spatial_list(node, "dilations", self.dilations_attr, nsp, 1)
        pads = W.pads_list(node, self.pads_attr, nsp)
        win = W.resolve(node, "NOTSET", image, block, strides, dil, pads)
        K, L = int(np.prod(block)), int(np.prod(win.out))
        if x.ndim != 3 or x.shape[1] % K or x.shape[2] != L:
            raise RuntimeFailure(node, f"input has shape {list(x.shape)}; expected (N, C * {K}, "
                                       f"{L}) for block_shape={block} over image_shape={image}")
        n, c = x.shape[0], x.shape[1] // K
        cols = x.reshape((n, c) + tuple(block) + tuple(win.out))
        full = [i + b + e for i, b, e in zip(image, win.begin, win.end)]
        y = W.col2im_add(cols, block, strides, dil, win.out, full)
        return np.ascontiguousarray(W.crop_or_pad(y, win.begin, image))


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
        total = int(np.prod(shape))
        flat = np.asarray(indices, dtype=np.int64).reshape(-1)
        if flat.size and (flat.min() < 0 or flat.max() >= total):
            raise RuntimeFailure(node, f"indices range over [{flat.min()}, {flat.max()}], outside "
                                       f"the unpooled shape {shape} ({total} elements)")
        y = np.zeros(total, dtype=x.dtype)
        y[flat] = x.reshape(-1)
        y = y.reshape(shape)
        if output_shape is not None:  # indices address the inferred shape; place it top-left
            want = as_int_list(output_shape)
            if len(want) != x.ndim or want[:2] != shape[:2] or any(
                    w < s for w, s in zip(want[2:], shape[2:])):
                raise RuntimeFailure(node, f"output_shape={want} must be (N, C, ...) with N, C = "
                                           f"{shape[:2]} and spatial sizes at least {shape[2:]}")
            y = np.ascontiguousarray(W.crop_or_pad(y, [0] * nsp, want[2:]))
        return y

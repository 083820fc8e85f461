"""Fast 2-D float32 convolution: picks a variant per layer and drives it (NumPy + kernels).

    choose(x_shape, w_shape, group, win)   -> variant name or None (then: the reference)
        "conv2d_f32_1x1"   1x1, stride 1, no pads, group 1:  y[n] = W(M, C) @ x[n](C, H*W)  (BLAS)
        "dwconv2d_f32_nchw" depthwise (C/group = 1): direct loops (kernels/conv2d_f32.py)
        "conv2d_f32_gemm"  group 1, any k x k: im2col by row tiles (Numba) + GEMM (BLAS)
    run(variant, x, w, b, win, act, a0, a1)  -> y (N, M, OH, OW) float32

Only float32 NCHW with 2 spatial axes is handled; everything else stays on the reference.
The 1x1 variant is plain NumPy/BLAS; the others need Numba (kernels.available()).
Epilogue `act` codes are elementwise_f32.ACT_*.
"""
from __future__ import annotations

import numpy as np

from . import available, get, impl_choice

TILE_BYTES = 1 << 22  # im2col tile budget: rows of output per GEMM so the columns fit ~4 MB


def choose(x_shape, w_shape, group, win):
    if impl_choice() == "reference" or len(w_shape) != 4 or (x_shape is not None and len(x_shape) != 4):
        return None
    m, cg, kh, kw = w_shape
    one_by_one = (kh == kw == 1 and win.strides == [1, 1] and not any(win.begin)
                  and not any(win.end))
    if group == 1 and one_by_one:
        return "conv2d_f32_1x1"
    if not available():
        return None
    if cg == 1 and m % group == 0 and (x_shape is None or x_shape[1] == group):
        return "dwconv2d_f32_nchw"
    if group == 1:
        return "conv2d_f32_gemm"
    return None


def _epilogue(y3, b, act, a0, a1):
    """y3: (N, M, S) in place: y = act(y + b)."""
    if b is None and act == 0:
        return
    k = get("conv2d_f32_epilogue") if available() else None
    if k is None:
        if b is not None:
            y3 += b.reshape(1, -1, 1)
        if act:
            from .elementwise_f32 import apply_act
            y3[...] = np.vectorize(lambda v: apply_act(v, act, a0, a1), otypes=[np.float32])(y3)
        return
    k(y3, _NO_BIAS if b is None else b, act, np.float32(a0), np.float32(a1))


_NO_BIAS = np.zeros(0, np.float32)


def run(variant, x, w, b, win, act=0, a0=0.0, a1=0.0):
    n, c, h, wd = x.shape
    m = w.shape[0]
    oh, ow = win.out
    x = _rw(x)
    w = _rw(w)
    bb = None if b is None else _rw(b).reshape(-1)
    if variant == "conv2d_f32_1x1":
        y = np.empty((n, m, oh * ow), np.float32)
        np.matmul(w.reshape(m, c), x.reshape(n, c, h * wd), out=y)  # (M, C) @ (N, C, HW)
        _epilogue(y, bb, act, a0, a1)
        return y.reshape(n, m, oh, ow)
    sh, sw = win.strides
    dh, dw = win.dilations
    ph, pw = win.begin
    if variant == "dwconv2d_f32_nchw":
        y = np.empty((n, m, oh, ow), np.float32)
        k = get(variant)
        k(x, np.ascontiguousarray(w.reshape(m, w.shape[2], w.shape[3])),
          _zeros(m) if bb is None else bb, y, sh, sw, dh, dw, ph, pw, m // c, act,
          np.float32(a0), np.float32(a1))
        return y
    # conv2d_f32_gemm: for each image, tiles of output rows; cols (C*KH*KW, rows*OW)
    kh, kw = w.shape[2], w.shape[3]
    kk = c * kh * kw
    w2 = w.reshape(m, kk)
    rows = max(1, min(oh, TILE_BYTES // max(1, kk * ow * 4)))
    y = np.empty((n, m, oh * ow), np.float32)
    cols = np.empty(kk * rows * ow, np.float32)
    im2col = get("conv2d_f32_im2col")
    for i in range(n):
        for r0 in range(0, oh, rows):
            r1 = min(oh, r0 + rows)
            span = (r1 - r0) * ow
            cv = cols[:kk * span].reshape(kk, span)
            im2col(x[i], cv, kh, kw, sh, sw, dh, dw, ph, pw, r0, r1, ow)
            np.matmul(w2, cv, out=y[i, :, r0 * ow:r1 * ow])
    _epilogue(y, bb, act, a0, a1)
    return y.reshape(n, m, oh, ow)


def _rw(a):
    """A C-contiguous, writeable float32 array (compiled signatures take no read-only arrays)."""
    a = np.ascontiguousarray(a, dtype=np.float32)
    return a if a.flags.writeable else a.copy()


def _zeros(m):
    return np.zeros(m, np.float32)

"""Fast 2-D float32 convolution: picks a variant per layer and drives it (NumPy + kernels).

    choose(x_shape, w_shape, group, win)   -> variant name or None (then: the reference)
        "conv2d_f32_1x1"   1x1, stride 1, no pads: y[n, g] = W_g(M/g, C/g) @ x[n, g](C/g, H*W) (BLAS)
        "dwconv2d_f32_nchw" depthwise (C/group = 1): direct loops (kernels/conv2d_f32.py)
        "conv2d_f32_taps"  stride 1, k x k > 1, C/g >= 32, M/g <= min(C/g, 96): one GEMM
                           (K*M/g, C/g) @ (C/g, rows*Wp) per tile of zero-padded input rows gives
                           every tap's plane at once; tapsum adds them into y at their offsets
                           (no K-times-larger column buffer, and a taller GEMM than im2col's)
        "conv2d_f32_gemm"  any k x k, any group: im2col by row tiles (Numba) + GEMM per group (BLAS)
    pack(variant, w)  -> the weights as the variant reads them (a new array; w is never written)
    run(variant, x, wp, b, win, act, a0, a1, z)  -> y = act(conv(x, w) + b + z)  (N, M, OH, OW)

Only float32 NCHW with 2 spatial axes is handled; everything else stays on the reference.
The 1x1 variant is plain NumPy/BLAS; the others need Numba (kernels.available()).
Epilogue `act` codes are elementwise_f32.ACT_*; z (optional) is the residual, shape of y.
`pack` runs once per weight array (ops/conv.py caches it), so run() copies no weights.
"""
from __future__ import annotations

import numpy as np

from . import available, get, impl_choice

TILE_BYTES = 1 << 22  # im2col tile budget: rows of output per GEMM so the columns fit ~4 MB
TAP_TILE_BYTES = 1 << 20  # taps: padded input rows per GEMM so its (K*M/g, rows*Wp) output fits
# taps when C/g >= TAPS_MIN_CHANNELS (else its GEMM is too shallow) and M/g <= min(C/g,
# TAPS_MAX_OUT) (else its K*M/g-row output leaves the cache); measured per layer on the 'light'
# models' and PP-OCR's 3x3 shapes: 1.1-1.6x faster there, slower outside (taller M, C=16)
TAPS_MIN_CHANNELS = 32
TAPS_MAX_OUT = 96


def choose(x_shape, w_shape, group, win):
    if impl_choice() == "reference" or len(w_shape) != 4 or (x_shape is not None and len(x_shape) != 4):
        return None
    m, cg, kh, kw = w_shape
    one_by_one = (kh == kw == 1 and win.strides == [1, 1] and not any(win.begin)
                  and not any(win.end))
    if one_by_one and (group == 1 or cg > 1):
        return "conv2d_f32_1x1"
    if not available():
        return None
    if cg == 1 and m % group == 0 and (x_shape is None or x_shape[1] == group):
        return "dwconv2d_f32_nchw"
    mg = m // group
    if (win.strides == [1, 1] and kh * kw > 1 and cg >= TAPS_MIN_CHANNELS
            and mg <= min(cg, TAPS_MAX_OUT)):
        return "conv2d_f32_taps"
    return "conv2d_f32_gemm"


def pack(variant, w, group=1):
    """Weights laid out for `variant`: (g, M/g, C/g*KH*KW) for the GEMMs, (M, KH, KW) depthwise,
    (g, KH*KW*M/g, C/g) for the taps (row t*M/g + m holds tap t of output channel m)."""
    m, cg, kh, kw = w.shape
    if variant == "dwconv2d_f32_nchw":
        return np.array(w, dtype=np.float32, order="C").reshape(m, kh, kw)
    if variant == "conv2d_f32_taps":  # (M, C/g, KH, KW) -> (g, KH*KW, M/g, C/g)
        wt = np.asarray(w, dtype=np.float32).reshape(group, m // group, cg, kh * kw)
        wt = np.ascontiguousarray(wt.transpose(0, 3, 1, 2))
        return wt.reshape(group, kh * kw * (m // group), cg)
    return np.array(w, dtype=np.float32, order="C").reshape(group, m // group, cg * kh * kw)


def _epilogue(y3, b, act, a0, a1, z3=None):
    """y3: (N, M, S) in place: y = act((y + b) + z)."""
    if b is None and act == 0 and z3 is None:
        return
    if z3 is not None:
        k = get("conv2d_f32_epilogue_res") if available() else None
        if k is not None:
            k(y3, _NO_BIAS if b is None else b, z3, act, np.float32(a0), np.float32(a1))
            return
    k = get("conv2d_f32_epilogue") if available() else None
    if k is None:
        if b is not None:
            y3 += b.reshape(1, -1, 1)
        if z3 is not None:
            y3 += z3
        if act:
            from .elementwise_f32 import apply_act
            y3[...] = np.vectorize(lambda v: apply_act(v, act, a0, a1), otypes=[np.float32])(y3)
        return
    if z3 is not None:  # no residual kernel: add it here, then bias + activation
        if b is not None:
            y3 += b.reshape(1, -1, 1)
            b = None
        y3 += z3
    k(y3, _NO_BIAS if b is None else b, act, np.float32(a0), np.float32(a1))


_NO_BIAS = np.zeros(0, np.float32)


def run(variant, x, wp, b, win, act=0, a0=0.0, a1=0.0, z=None):
    """wp: pack(variant, w, group). z: None or an array of y's shape (N, M, OH, OW)."""
    n, c, h, wd = x.shape
    oh, ow = win.out
    x = _rw(x)
    bb = None if b is None else _rw(b).reshape(-1)
    z3 = None if z is None else _rw(z).reshape(n, -1, oh * ow)
    if variant == "dwconv2d_f32_nchw":
        m = wp.shape[0]
        y = np.empty((n, m, oh, ow), np.float32)
        sh, sw = win.strides
        dh, dw = win.dilations
        ph, pw = win.begin
        inline = z3 is None  # the kernel applies bias + act itself; a residual comes after
        get(variant)(x, wp, _zeros(m) if bb is None else bb, y, sh, sw, dh, dw, ph, pw, m // c,
                     act if inline else 0, np.float32(a0), np.float32(a1))
        if not inline:
            _epilogue(y.reshape(n, m, oh * ow), None, act, a0, a1, z3)
        return y
    if variant == "conv2d_f32_taps":
        return _run_taps(x, wp, bb, win, act, a0, a1, z3)
    g, mg, kk = wp.shape
    m, cg = g * mg, c // g
    y = np.empty((n, m, oh * ow), np.float32)
    if variant == "conv2d_f32_1x1":
        if g == 1:
            np.matmul(wp[0], x.reshape(n, c, h * wd), out=y)  # (M, C) @ (N, C, HW)
        else:  # (g, M/g, C/g) @ (N, g, C/g, HW)
            np.matmul(wp, x.reshape(n, g, cg, h * wd), out=y.reshape(n, g, mg, oh * ow))
        _epilogue(y, bb, act, a0, a1, z3)
        return y.reshape(n, m, oh, ow)
    # conv2d_f32_gemm: per image and group, tiles of output rows; cols (C/g*KH*KW, rows*OW)
    sh, sw = win.strides
    dh, dw = win.dilations
    ph, pw = win.begin
    kh, kw = win.kernel
    rows = max(1, min(oh, TILE_BYTES // max(1, kk * ow * 4)))
    cols = np.empty(kk * rows * ow, np.float32)
    im2col = get("conv2d_f32_im2col")
    for i in range(n):
        for gi in range(g):
            xg = x[i, gi * cg:(gi + 1) * cg]  # (C/g, H, W), contiguous
            yg = y[i, gi * mg:(gi + 1) * mg]
            for r0 in range(0, oh, rows):
                r1 = min(oh, r0 + rows)
                span = (r1 - r0) * ow
                cv = cols[:kk * span].reshape(kk, span)
                im2col(xg, cv, kh, kw, sh, sw, dh, dw, ph, pw, r0, r1, ow)
                np.matmul(wp[gi], cv, out=yg[:, r0 * ow:r1 * ow])
    _epilogue(y, bb, act, a0, a1, z3)
    return y.reshape(n, m, oh, ow)


def _run_taps(x, wp, bb, win, act, a0, a1, z3):
    """conv2d_f32_taps: per image, group and tile of padded rows, T = W_taps @ rows, y += T."""
    n, c, h, wd = x.shape
    oh, ow = win.out
    kh, kw = win.kernel
    dh, dw = win.dilations
    ph, pw = win.begin
    g, kmg, cg = wp.shape
    k = kh * kw
    mg = kmg // k
    wpad = wd + pw + win.end[1]  # padded width: OW + (KW - 1) * dw at stride 1
    hn = oh + (kh - 1) * dh  # padded rows the outputs read
    rows = max(1, min(hn, TAP_TILE_BYTES // (kmg * wpad * 4)))
    buf = np.empty(cg * rows * wpad, np.float32)
    t = np.empty(kmg * rows * wpad, np.float32)
    y = np.empty((n, g * mg, oh * ow), np.float32)
    if bb is None:
        y.fill(0.0)
    else:  # start from the bias: y = b + sum of taps
        y[...] = bb.reshape(1, -1, 1)
    padrows, tapsum = get("conv2d_f32_padrows"), get("conv2d_f32_tapsum")
    for i in range(n):
        for gi in range(g):
            xg = x[i, gi * cg:(gi + 1) * cg]  # (C/g, H, W), contiguous
            yg = y[i, gi * mg:(gi + 1) * mg]  # (M/g, OH*OW), contiguous
            for r0 in range(0, hn, rows):
                rr = min(rows, hn - r0)
                bv = buf[:cg * rr * wpad].reshape(cg, rr, wpad)
                padrows(xg, bv, r0, ph, pw)
                tv = t[:kmg * rr * wpad].reshape(kmg, rr * wpad)
                np.matmul(wp[gi], bv.reshape(cg, rr * wpad), out=tv)  # (K*M/g, C/g) @ (C/g, rr*Wp)
                tapsum(tv, yg, kh, kw, dh, dw, r0, rr, wpad, ow)
    _epilogue(y, None, act, a0, a1, z3)
    return y.reshape(n, g * mg, oh, ow)


def _rw(a):
    """A C-contiguous, writeable float32 array (compiled signatures take no read-only arrays)."""
    a = np.ascontiguousarray(a, dtype=np.float32)
    return a if a.flags.writeable else a.copy()


def _zeros(m):
    return np.zeros(m, np.float32)

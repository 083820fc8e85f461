"""2-D convolution hot loops on float32 NCHW, for ops/conv.py (the reference there is the spec).

    dwconv2d_f32_nchw   depthwise (C/group = 1, channel multiplier M/C), direct loops:
        out[n, m, oh, ow] = b[m] + sum_{kh,kw} w[m, kh, kw] * x[n, m // mult, ih, iw]
        ih = oh * sh - ph + kh * dh,  iw = ow * sw - pw + kw * dw   (taps outside x are zero)
        3 taps wide, stride 1, pad 1, OW = W (the common 3x3 "same" case), or stride 2, pad 1,
        and 5 taps wide, stride 1, pad 2, OW = W: one pass per input row adding the taps per
        output in kw order, so the sums equal the general loop's
    conv2d_f32_im2col   the columns of rows [oh0, oh1) for one image, for a BLAS GEMM:
        cols[(c * KH + kh) * KW + kw, (oh - oh0) * OW + ow] = x[c, ih, iw]   (zero outside x)
    conv2d_f32_padrows  rows [r0, r0 + R) of the zero-padded image, for the tap GEMM:
        buf[c, r, j] = x[c, r0 + r - ph, j - pw]   (zero outside x), buf: (C, R, Wp)
    conv2d_f32_tapsum   stride 1: adds the tap GEMM's planes t = T[(kh*KW + kw)*M + m] (each
        tap's weights times the padded rows) into y at their offsets:
        y[m, oh, ow] += t[(oh + kh*dh - r0) * Wp + ow + kw*dw]   for padded rows in [r0, r0+R)
    conv2d_f32_epilogue  y = act(y + b[m]) in place, over (N, M, S)
    conv2d_f32_epilogue_res  y = act((y + b[m]) + z) in place, z (N, M, S) the residual

Epilogue codes (`act`, with parameters a0, a1): see elementwise_f32.ACT_* and apply_act.
Every index is derived from shapes the op validated (Window.resolve), and loops clip the taps to
the input, so no access leaves the arrays.
"""
from __future__ import annotations

import numpy as np

from .elementwise_f32 import act_row, apply_act  # noqa: F401 - apply_act: jitted helper

SIGNATURES = {
    "dwconv2d_f32_nchw": "void(float32[:, :, :, ::1], float32[:, :, ::1], float32[::1], "
                         "float32[:, :, :, ::1], int64, int64, int64, int64, int64, int64, int64, "
                         "int64, float32, float32)",
    "conv2d_f32_im2col": "void(float32[:, :, ::1], float32[:, ::1], int64, int64, int64, int64, "
                         "int64, int64, int64, int64, int64, int64, int64)",
    "conv2d_f32_padrows": "void(float32[:, :, ::1], float32[:, :, ::1], int64, int64, int64)",
    "conv2d_f32_tapsum": "void(float32[:, ::1], float32[:, ::1], int64, int64, int64, int64, "
                         "int64, int64, int64, int64)",
    "conv2d_f32_epilogue": "void(float32[:, :, ::1], float32[::1], int64, float32, float32)",
    "conv2d_f32_epilogue_res": "void(float32[:, :, ::1], float32[::1], float32[:, :, ::1], int64, "
                               "float32, float32)",
}


def _tap_range(off, s, size, n_out):
    """Outputs o in [lo, hi) whose tap o * s + off falls inside [0, size)."""
    lo = 0 if off >= 0 else (-off + s - 1) // s
    last = size - 1 - off
    hi = 0 if last < 0 else last // s + 1
    if hi > n_out:
        hi = n_out
    if lo > hi:
        lo = hi
    return lo, hi


def dwconv2d_f32_nchw(x, w, b, out, sh, sw, dh, dw, ph, pw, mult, act, a0, a1):
    n_img, _, h, wd = x.shape
    m_out, oh_n, ow_n = out.shape[1], out.shape[2], out.shape[3]
    kh_n, kw_n = w.shape[1], w.shape[2]
    los = np.empty(kw_n, np.int64)
    his = np.empty(kw_n, np.int64)
    for kw in range(kw_n):
        los[kw], his[kw] = _tap_range(kw * dw - pw, sw, wd, ow_n)
    same3 = kw_n == 3 and sw == 1 and dw == 1 and pw == 1 and ow_n == wd
    # 3 taps, stride 2, pad 1 (MobileNet/ShuffleNet downsampling): interior outputs [1, i2) read
    # columns 2i-1 .. 2i+1, all inside x; the few others check each tap
    tap3s2 = kw_n == 3 and sw == 2 and dw == 1 and pw == 1
    # 3x3, stride 1, pad 1, OH = H too: interior rows add all nine taps per output in one pass
    same33 = same3 and kh_n == 3 and sh == 1 and dh == 1 and ph == 1 and oh_n == h
    # 5 taps, stride 1, pad 2, OW = W (PP-LCNet's 5x5 depthwise): interior outputs [2, W - 2)
    same5 = kw_n == 5 and sw == 1 and dw == 1 and pw == 2 and ow_n == wd
    i2 = max(1, min(ow_n, (wd - 2) // 2 + 1)) if wd >= 2 else 1
    for n in range(n_img):
        for m in range(m_out):
            xc = x[n, m // mult]
            o = out[n, m]
            bias = b[m]
            for oh in range(oh_n):
                row = o[oh]
                interior = same33 and 1 <= oh < h - 1
                if interior:  # all nine taps of an interior row in one pass
                    _dw3x3_row(row, xc[oh - 1], xc[oh], xc[oh + 1], w[m], bias)
                else:
                    row[:] = bias
                # (one act_row call below for both: each inlined copy costs seconds of compile)
                for kh in range(0 if interior else kh_n):
                    ih = oh * sh - ph + kh * dh
                    if ih < 0 or ih >= h:
                        continue
                    xr = xc[ih]
                    if same3:  # 3 taps, stride 1, pad 1, OW = W: one pass, taps in kw order
                        w0, w1, w2 = w[m, kh, 0], w[m, kh, 1], w[m, kh, 2]
                        v = row[0] + w1 * xr[0]
                        if wd > 1:
                            v += w2 * xr[1]
                        row[0] = v
                        for i in range(1, wd - 1):
                            v = row[i]
                            v += w0 * xr[i - 1]
                            v += w1 * xr[i]
                            v += w2 * xr[i + 1]
                            row[i] = v
                        if wd > 1:
                            v = row[wd - 1]
                            v += w0 * xr[wd - 2]
                            v += w1 * xr[wd - 1]
                            row[wd - 1] = v
                        continue
                    if same5:  # 5 taps in kw order per output, as the general loop adds them
                        w0, w1, w2 = w[m, kh, 0], w[m, kh, 1], w[m, kh, 2]
                        w3, w4 = w[m, kh, 3], w[m, kh, 4]
                        # slices from 0: non-negative indices, so LLVM drops the wraparound
                        rs = row[2:max(2, wd - 2)]
                        x0, x1, x2, x3, x4 = xr[0:], xr[1:], xr[2:], xr[3:], xr[4:]
                        for j in range(rs.shape[0]):
                            v = rs[j]
                            v += w0 * x0[j]
                            v += w1 * x1[j]
                            v += w2 * x2[j]
                            v += w3 * x3[j]
                            v += w4 * x4[j]
                            rs[j] = v
                        e0 = min(2, wd)
                        e1 = max(e0, wd - 2)
                        for e in range(e0 + wd - e1):  # the outputs within 2 of an edge
                            i = e if e < e0 else e1 + e - e0
                            v = row[i]
                            for k in range(5):
                                c = i - 2 + k
                                if 0 <= c < wd:
                                    v += w[m, kh, k] * xr[c]
                            row[i] = v
                        continue
                    if tap3s2:  # 3 taps in kw order per output, as the general loop adds them
                        w0, w1, w2 = w[m, kh, 0], w[m, kh, 1], w[m, kh, 2]
                        for i in range(1, i2):
                            v = row[i]
                            v += w0 * xr[2 * i - 1]
                            v += w1 * xr[2 * i]
                            v += w2 * xr[2 * i + 1]
                            row[i] = v
                        for e in range(1 + max(0, ow_n - i2)):  # output 0 and those past i2
                            i = 0 if e == 0 else i2 + e - 1
                            if i >= ow_n:
                                break
                            v = row[i]
                            c = 2 * i - 1
                            if 0 <= c < wd:
                                v += w0 * xr[c]
                            if 0 <= c + 1 < wd:
                                v += w1 * xr[c + 1]
                            if 0 <= c + 2 < wd:
                                v += w2 * xr[c + 2]
                            row[i] = v
                        continue
                    for kw in range(kw_n):
                        wv = w[m, kh, kw]
                        off = kw * dw - pw
                        lo = los[kw]
                        # slices start at 0, so LLVM sees non-negative indices and vectorises
                        rs = row[lo:his[kw]]
                        xs = xr[lo * sw + off:]
                        if sw == 1:
                            for i in range(rs.shape[0]):
                                rs[i] += wv * xs[i]
                        else:
                            for i in range(rs.shape[0]):
                                rs[i] += wv * xs[i * sw]
                if act != 0:
                    act_row(row, act, a0, a1)


def _dw3x3_row(row, xa, xb, xc, wm, bias):
    """row = bias + the nine taps over input rows xa, xb, xc (pad 1), added in (kh, kw) order
    as the row-by-row loop adds them, so the sums are the same."""
    wd = row.shape[0]
    w00, w01, w02 = wm[0, 0], wm[0, 1], wm[0, 2]
    w10, w11, w12 = wm[1, 0], wm[1, 1], wm[1, 2]
    w20, w21, w22 = wm[2, 0], wm[2, 1], wm[2, 2]
    v = bias + w01 * xa[0]
    if wd > 1:
        v += w02 * xa[1]
    v += w11 * xb[0]
    if wd > 1:
        v += w12 * xb[1]
    v += w21 * xc[0]
    if wd > 1:
        v += w22 * xc[1]
    row[0] = v
    rs = row[1:max(1, wd - 1)]  # slices from 0: no wraparound checks, LLVM vectorises
    a0, a1, a2, b0, b1, b2 = xa[0:], xa[1:], xa[2:], xb[0:], xb[1:], xb[2:]
    c0, c1, c2 = xc[0:], xc[1:], xc[2:]
    for j in range(rs.shape[0]):
        v = bias + w00 * a0[j]
        v += w01 * a1[j]
        v += w02 * a2[j]
        v += w10 * b0[j]
        v += w11 * b1[j]
        v += w12 * b2[j]
        v += w20 * c0[j]
        v += w21 * c1[j]
        v += w22 * c2[j]
        rs[j] = v
    if wd > 1:
        v = bias + w00 * xa[wd - 2]
        v += w01 * xa[wd - 1]
        v += w10 * xb[wd - 2]
        v += w11 * xb[wd - 1]
        v += w20 * xc[wd - 2]
        v += w21 * xc[wd - 1]
        row[wd - 1] = v


def conv2d_f32_im2col(x, cols, kh_n, kw_n, sh, sw, dh, dw, ph, pw, oh0, oh1, ow_n):
    c_n, h, wd = x.shape
    for c in range(c_n):
        for kh in range(kh_n):
            for kw in range(kw_n):
                r = (c * kh_n + kh) * kw_n + kw
                dst = cols[r]
                off = kw * dw - pw
                lo, hi = _tap_range(off, sw, wd, ow_n)
                for oh in range(oh0, oh1):
                    base = (oh - oh0) * ow_n
                    ih = oh * sh - ph + kh * dh
                    if ih < 0 or ih >= h:
                        for ow in range(ow_n):
                            dst[base + ow] = 0.0
                        continue
                    xr = x[c, ih]
                    for ow in range(lo):
                        dst[base + ow] = 0.0
                    ds = dst[base + lo:base + hi]
                    xs = xr[lo * sw + off:]
                    if sw == 1:
                        for i in range(ds.shape[0]):
                            ds[i] = xs[i]
                    else:
                        for i in range(ds.shape[0]):
                            ds[i] = xs[i * sw]
                    for ow in range(hi, ow_n):
                        dst[base + ow] = 0.0


def conv2d_f32_padrows(x, buf, r0, ph, pw):
    c_n, h, wd = x.shape
    r_n, wp = buf.shape[1], buf.shape[2]
    lo = min(pw, wp)
    hi = min(wp, pw + wd)
    for c in range(c_n):
        for r in range(r_n):
            dst = buf[c, r]
            ih = r0 + r - ph
            if ih < 0 or ih >= h:
                for j in range(wp):
                    dst[j] = 0.0
                continue
            xr = x[c, ih]
            for j in range(lo):
                dst[j] = 0.0
            ds = dst[lo:hi]
            for j in range(ds.shape[0]):
                ds[j] = xr[j]
            for j in range(hi, wp):
                dst[j] = 0.0


def conv2d_f32_tapsum(t, y, kh_n, kw_n, dh, dw, r0, r_n, wp, ow_n):
    m_n = y.shape[0]
    oh_n = y.shape[1] // ow_n
    for m in range(m_n):
        for kh in range(kh_n):
            for r in range(r_n):
                oh = r0 + r - kh * dh  # padded row r0 + r is tap kh of output row oh
                if oh < 0 or oh >= oh_n:
                    continue
                ys = y[m, oh * ow_n:(oh + 1) * ow_n]
                for kw in range(kw_n):
                    ts = t[(kh * kw_n + kw) * m_n + m, r * wp + kw * dw:]
                    for i in range(ow_n):
                        ys[i] += ts[i]


def conv2d_f32_epilogue(y, b, act, a0, a1):
    n_img, m_n, s_n = y.shape
    has_bias = b.shape[0] == m_n
    for n in range(n_img):
        for m in range(m_n):
            r = y[n, m]
            bias = b[m] if has_bias else np.float32(0)  # float32 sums, as the reference
            for i in range(s_n):
                r[i] += bias
            act_row(r, act, a0, a1)


def conv2d_f32_epilogue_res(y, b, z, act, a0, a1):
    n_img, m_n, s_n = y.shape
    has_bias = b.shape[0] == m_n
    for n in range(n_img):
        for m in range(m_n):
            r = y[n, m]
            zr = z[n, m]
            bias = b[m] if has_bias else np.float32(0)  # float32 sums, as the reference
            for i in range(s_n):
                r[i] = (r[i] + bias) + zr[i]
            act_row(r, act, a0, a1)

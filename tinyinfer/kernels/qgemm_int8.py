"""Integer GEMM and convolution hot loops with an int32 accumulator, for ops/qlinear.py.

    qgemm_s16_s32_<u8|s8|s32>   out[m, s] = requant(bias[m] + sum_k a[m, k] * b[s, k])
        a: (M, K) int16 weights with their zero point already subtracted (packed at prepare)
        b: (S, K) int16 columns with the input zero point subtracted (K innermost: one row of
           a and one row of b are contiguous, so the dot product is a 16-bit multiply-add into
           32-bit lanes: vpmaddwd, or vpdpwssd with AVX512-VNNI)
        out: (M, S), any strides (QLinearMatMul passes a transposed view). s32: no requantisation
        (the caller passes lo > hi)
    qconv2d_<u8|s8>_im2col      b[(oh - oh0) * OW + ow, (c * KH + kh) * KW + kw] = x[c, ih, iw] - x_zp
                                (0 outside x: onnxruntime pads with the zero point)
    qconv2d_<u8|s8>_dw          depthwise direct loops, int32 row accumulators, requantised rows:
        out[m, oh, ow] = requant(bias[m] + sum_{kh,kw} w[m, kh, kw] * (x[m // mult, ih, iw] - x_zp))

requant(acc) = clamp(rint(float32(acc) * mult[m]) + zp, lo, hi): ops/quant_common.requantize,
step for step (float32 product, round half to even), inlined here so no helper is needed.
The products fit easily: |a|, |b| <= 255, so a pair of products is < 2**17 and K up to 2**15
cannot overflow the int32 lanes (ops check K; audit.py reports real headroom).
Every index comes from shapes the op validated; tap ranges are clipped to the input.
"""
from __future__ import annotations

import numpy as np

_GEMM = ("void(int16[:, ::1], int16[:, ::1], int32[::1], float32[::1], int32, int32, int32, "
         "{}[:, :])")
_IM2COL = ("void({}[:, :, ::1], int32, int16[:, ::1], int64, int64, int64, int64, int64, int64, "
           "int64, int64, int64, int64, int64)")
_DW = ("void({0}[:, :, ::1], int32, int16[:, :, ::1], int32[::1], float32[::1], int32, int32, "
       "int32, {0}[:, :, ::1], int64, int64, int64, int64, int64, int64, int64, int32[::1])")

SIGNATURES = {
    "qgemm_s16_s32_u8": _GEMM.format("uint8"),
    "qgemm_s16_s32_s8": _GEMM.format("int8"),
    "qgemm_s16_s32_s32": _GEMM.format("int32"),
    "qconv2d_u8_im2col": _IM2COL.format("uint8"),
    "qconv2d_s8_im2col": _IM2COL.format("int8"),
    "qconv2d_u8_dw": _DW.format("uint8"),
    "qconv2d_s8_dw": _DW.format("int8"),
}


def _qgemm(a, b, bias, mult, zp, lo, hi, out):
    m_n, k_n = a.shape
    s_n = b.shape[0]
    requant = lo <= hi  # s32 output: the caller passes lo > hi, the raw accumulator
    for m in range(m_n):
        am = a[m]
        bm = bias[m]
        mu = mult[m]
        for s in range(s_n):
            bs = b[s]
            c = np.int32(0)
            # K innermost, one reduction: LLVM turns it into vpmaddwd + vpaddd on 32-bit lanes
            # (several accumulators in one loop defeat that match and give vpmulld instead)
            for k in range(k_n):
                c = np.int32(c + np.int32(am[k]) * np.int32(bs[k]))
            acc = np.int32(c + bm)
            if requant:
                r = np.rint(np.float32(acc) * mu) + np.float32(zp)
                r = min(max(r, np.float32(lo)), np.float32(hi))
                out[m, s] = r
            else:
                out[m, s] = acc


qgemm_s16_s32_u8 = qgemm_s16_s32_s8 = qgemm_s16_s32_s32 = _qgemm


def _qim2col(x, zp, cols, kh_n, kw_n, sh, sw, dh, dw, ph, pw, oh0, oh1, ow_n):
    c_n, h, wd = x.shape
    k_n = c_n * kh_n * kw_n
    for oh in range(oh0, oh1):
        for ow in range(ow_n):
            row = cols[(oh - oh0) * ow_n + ow]
            for k in range(k_n):
                row[k] = 0
    for c in range(c_n):
        for kh in range(kh_n):
            for kw in range(kw_n):
                k = (c * kh_n + kh) * kw_n + kw
                off = kw * dw - pw
                # outputs [lo, hi) whose tap falls inside x (as conv2d_f32._tap_range)
                lo = 0 if off >= 0 else (-off + sw - 1) // sw
                last = wd - 1 - off
                hi = 0 if last < 0 else last // sw + 1
                if hi > ow_n:
                    hi = ow_n
                if lo > hi:
                    lo = hi
                for oh in range(oh0, oh1):
                    ih = oh * sh - ph + kh * dh
                    if ih < 0 or ih >= h:
                        continue
                    base = (oh - oh0) * ow_n
                    for ow in range(lo, hi):
                        cols[base + ow, k] = np.int16(np.int32(x[c, ih, ow * sw + off]) - zp)


qconv2d_u8_im2col = qconv2d_s8_im2col = _qim2col


def _qdw(x, xzp, w, bias, mult, zp, lo_q, hi_q, out, sh, sw, dh, dw, ph, pw, mult_c, acc):
    _, h, wd = x.shape
    m_out, oh_n, ow_n = out.shape
    kh_n, kw_n = w.shape[1], w.shape[2]
    for m in range(m_out):
        xc = x[m // mult_c]
        o = out[m]
        mu = mult[m]
        for oh in range(oh_n):
            for i in range(ow_n):
                acc[i] = bias[m]
            for kh in range(kh_n):
                ih = oh * sh - ph + kh * dh
                if ih < 0 or ih >= h:
                    continue
                xr = xc[ih]
                for kw in range(kw_n):
                    wv = np.int32(w[m, kh, kw])
                    off = kw * dw - pw
                    lo = 0 if off >= 0 else (-off + sw - 1) // sw
                    last = wd - 1 - off
                    hi = 0 if last < 0 else last // sw + 1
                    if hi > ow_n:
                        hi = ow_n
                    if lo > hi:
                        lo = hi
                    a = acc[lo:hi]
                    xs = xr[lo * sw + off:]
                    if sw == 1:
                        for i in range(a.shape[0]):
                            a[i] += wv * (np.int32(xs[i]) - xzp)
                    else:
                        for i in range(a.shape[0]):
                            a[i] += wv * (np.int32(xs[i * sw]) - xzp)
            row = o[oh]
            for i in range(ow_n):
                r = np.rint(np.float32(acc[i]) * mu) + np.float32(zp)
                r = min(max(r, np.float32(lo_q)), np.float32(hi_q))
                row[i] = r


qconv2d_u8_dw = qconv2d_s8_dw = _qdw

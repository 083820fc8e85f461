"""2-D pooling hot loops on float32 NCHW, for ops/pool.py (the reference there is the spec).

    pool2d_f32_max   out[n, c, oh, ow] = max_{kh,kw} x[n, c, ih, iw]     (-inf if no tap inside)
    pool2d_f32_avg   out[n, c, oh, ow] = (sum_{kh,kw} x[n, c, ih, iw]) / count[oh, ow]
        ih = oh * sh - ph + kh * dh,  iw = ow * sw - pw + kw * dw   (taps outside x are skipped)

count (OH, OW) comes from the op (count_include_pad decides it). Loops clip the taps to the
input with _tap_range, so no access leaves the arrays; out's shape is the op's validated output.
NaN propagates through max as in np.maximum.
"""
from __future__ import annotations

import numpy as np

from .conv2d_f32 import _tap_range

SIGNATURES = {
    "pool2d_f32_max": "void(float32[:, :, :, ::1], float32[:, :, :, ::1], int64, int64, int64, "
                      "int64, int64, int64, int64, int64)",
    "pool2d_f32_avg": "void(float32[:, :, :, ::1], float32[:, ::1], float32[:, :, :, ::1], int64, "
                      "int64, int64, int64, int64, int64, int64, int64)",
}


def pool2d_f32_max(x, out, kh_n, kw_n, sh, sw, dh, dw, ph, pw):
    """Separable: per output row, the max over the KH input rows (contiguous, vectorises), then
    the max over KW taps of that row. A select, not a branch: v wins if v > r or v is NaN."""
    n_img, c_n, h, wd = x.shape
    oh_n, ow_n = out.shape[2], out.shape[3]
    los = np.empty(kw_n, np.int64)
    his = np.empty(kw_n, np.int64)
    for kw in range(kw_n):
        los[kw], his[kw] = _tap_range(kw * dw - pw, sw, wd, ow_n)
    tmp = np.empty(wd, np.float32)
    for n in range(n_img):
        for c in range(c_n):
            xc = x[n, c]
            for oh in range(oh_n):
                row = out[n, c, oh]
                row[:] = -np.inf
                tmp[:] = -np.inf
                for kh in range(kh_n):  # tmp[iw] = max over the taps kh inside x
                    ih = oh * sh - ph + kh * dh
                    if ih < 0 or ih >= h:
                        continue
                    xr = xc[ih]
                    for i in range(wd):
                        v, r = xr[i], tmp[i]
                        tmp[i] = v if (v > r) | (v != v) else r
                for kw in range(kw_n):  # row[ow] = max over the taps kw inside x of tmp
                    lo = los[kw]
                    rs = row[lo:his[kw]]
                    xs = tmp[lo * sw + kw * dw - pw:]
                    if sw == 1:
                        for i in range(rs.shape[0]):
                            v, r = xs[i], rs[i]
                            rs[i] = v if (v > r) | (v != v) else r
                    elif sw == 2:
                        for i in range(rs.shape[0]):
                            v, r = xs[2 * i], rs[i]
                            rs[i] = v if (v > r) | (v != v) else r
                    else:
                        for i in range(rs.shape[0]):
                            v, r = xs[i * sw], rs[i]
                            rs[i] = v if (v > r) | (v != v) else r


def pool2d_f32_avg(x, count, out, kh_n, kw_n, sh, sw, dh, dw, ph, pw):
    n_img, c_n, h, wd = x.shape
    oh_n, ow_n = out.shape[2], out.shape[3]
    los = np.empty(kw_n, np.int64)
    his = np.empty(kw_n, np.int64)
    for kw in range(kw_n):
        los[kw], his[kw] = _tap_range(kw * dw - pw, sw, wd, ow_n)
    # 3 taps, stride 1, pad 1, OW = W (Inception's 3x3 'same' average): one pass per input row,
    # the taps added per output in kw order as the loop below adds them
    same3 = kw_n == 3 and sw == 1 and dw == 1 and pw == 1 and ow_n == wd
    for n in range(n_img):
        for c in range(c_n):
            xc = x[n, c]
            for oh in range(oh_n):
                row = out[n, c, oh]
                row[:] = 0.0
                for kh in range(kh_n):
                    ih = oh * sh - ph + kh * dh
                    if ih < 0 or ih >= h:
                        continue
                    xr = xc[ih]
                    if same3:
                        v = row[0] + xr[0]
                        if wd > 1:
                            v += xr[1]
                        row[0] = v
                        rs = row[1:max(1, wd - 1)]  # slices from 0: no wraparound checks
                        x0, x1, x2 = xr[0:], xr[1:], xr[2:]
                        for j in range(rs.shape[0]):
                            v = rs[j]
                            v += x0[j]
                            v += x1[j]
                            v += x2[j]
                            rs[j] = v
                        if wd > 1:
                            v = row[wd - 1]
                            v += xr[wd - 2]
                            v += xr[wd - 1]
                            row[wd - 1] = v
                        continue
                    for kw in range(kw_n):
                        lo = los[kw]
                        rs = row[lo:his[kw]]
                        xs = xr[lo * sw + kw * dw - pw:]
                        if sw == 1:
                            for i in range(rs.shape[0]):
                                rs[i] += xs[i]
                        elif sw == 2:
                            for i in range(rs.shape[0]):
                                rs[i] += xs[2 * i]
                        else:
                            for i in range(rs.shape[0]):
                                rs[i] += xs[i * sw]
                cr = count[oh]
                for i in range(ow_n):
                    row[i] = row[i] / cr[i]

"""Resize hot loop on float32 NCHW, for ops/resize.py (the reference there is the spec).

    resize2d_f32_nearest   out[n, c, oh, ow] = x[n, c, hidx[oh], widx[ow]]
        hidx (OH,), widx (OW,): the source rows/columns the op computed with its nearest rule and
        clipped to [0, H), [0, W) before calling. An output row whose source row equals the
        previous one's is a copy of that row (upsampling by k writes each distinct row once).
    resize2d_f32_linear    two taps per axis, H then W, in float64 as ops/resize._kernel_axis:
        t[oh, w] = x[hi[oh, 0], w] * hc[oh, 0] + x[hi[oh, 1], w] * hc[oh, 1]
        out[oh, ow] = float32(t[oh, wi[ow, 0]] * wc[ow, 0] + t[oh, wi[ow, 1]] * wc[ow, 1])
        hi, wi (O, 2) source indices clipped by the op; hc, wc (O, 2) float64 weights; t (OH, W)
"""
from __future__ import annotations

import numpy as np

SIGNATURES = {
    "resize2d_f32_nearest": "void(float32[:, :, :, ::1], int64[::1], int64[::1], "
                            "float32[:, :, :, ::1])",
    "resize2d_f32_linear": "void(float32[:, :, :, ::1], int64[:, ::1], float64[:, ::1], "
                           "int64[:, ::1], float64[:, ::1], float64[:, ::1], "
                           "float32[:, :, :, ::1])",
}


def resize2d_f32_linear(x, hi, hc, wi, wc, t, out):
    n_img, c_n, oh_n, ow_n = out.shape
    w_n = x.shape[3]
    for n in range(n_img):
        for c in range(c_n):
            xc = x[n, c]
            for oh in range(oh_n):
                r0 = xc[hi[oh, 0]]
                r1 = xc[hi[oh, 1]]
                a0 = hc[oh, 0]
                a1 = hc[oh, 1]
                tr = t[oh]
                for i in range(w_n):
                    tr[i] = np.float64(r0[i]) * a0 + np.float64(r1[i]) * a1
            oc = out[n, c]
            for oh in range(oh_n):
                tr = t[oh]
                row = oc[oh]
                for i in range(ow_n):
                    row[i] = np.float32(tr[wi[i, 0]] * wc[i, 0] + tr[wi[i, 1]] * wc[i, 1])


def resize2d_f32_nearest(x, hidx, widx, out):
    n_img, c_n, oh_n, ow_n = out.shape
    for n in range(n_img):
        for c in range(c_n):
            xc = x[n, c]
            oc = out[n, c]
            for oh in range(oh_n):
                row = oc[oh]
                ih = hidx[oh]
                if oh > 0 and ih == hidx[oh - 1]:
                    prev = oc[oh - 1]
                    for i in range(ow_n):
                        row[i] = prev[i]
                    continue
                xr = xc[ih]
                for i in range(ow_n):
                    row[i] = xr[widx[i]]

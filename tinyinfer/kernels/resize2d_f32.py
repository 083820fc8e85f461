"""Resize hot loop on float32 NCHW, for ops/resize.py (the reference there is the spec).

    resize2d_f32_nearest   out[n, c, oh, ow] = x[n, c, hidx[oh], widx[ow]]
        hidx (OH,), widx (OW,): the source rows/columns the op computed with its nearest rule and
        clipped to [0, H), [0, W) before calling. An output row whose source row equals the
        previous one's is a copy of that row (upsampling by k writes each distinct row once).
"""
from __future__ import annotations

SIGNATURES = {
    "resize2d_f32_nearest": "void(float32[:, :, :, ::1], int64[::1], int64[::1], "
                            "float32[:, :, :, ::1])",
}


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

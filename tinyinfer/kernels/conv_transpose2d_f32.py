"""ConvTranspose hot loop on float32 NCHW, for ops/conv_transpose.py (the reference there is the spec).

    convtranspose2d_f32_tiles   stride == kernel, no dilation: the taps do not overlap, so the
        col2im scatter-add is a placement of each GEMM column, with the bias added on the way:
        out[n, m, i * KH + t, j * KW + u] = cols[n, m, t, u, i, j] + b[m]
        cols: (N, M, KH, KW, H, W) = w^T @ x   b: (M,) or (0,) (no bias)   out: (N, M, H*KH, W*KW)

The op checks that out has exactly that shape before calling (cropping happens after, in NumPy).
"""
from __future__ import annotations

import numpy as np

SIGNATURES = {
    "convtranspose2d_f32_tiles": "void(float32[:, :, :, :, :, ::1], float32[::1], "
                                 "float32[:, :, :, ::1])",
}


def convtranspose2d_f32_tiles(cols, b, out):
    n_img, m_n, kh_n, kw_n, h, wd = cols.shape
    has_bias = b.shape[0] == m_n
    for n in range(n_img):
        for m in range(m_n):
            bias = b[m] if has_bias else np.float32(0)  # 0 + v, as the scatter-add into zeros
            for i in range(h):
                for t in range(kh_n):
                    orow = out[n, m, i * kh_n + t]
                    for u in range(kw_n):
                        src = cols[n, m, t, u, i]
                        dst = orow[u:]
                        if kw_n == 2:
                            for j in range(wd):
                                dst[2 * j] = src[j] + bias
                        else:
                            for j in range(wd):
                                dst[j * kw_n] = src[j] + bias

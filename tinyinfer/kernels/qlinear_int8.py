"""Drivers for the integer kernels (kernels/qgemm_int8.py): pick a variant, pack, call.

    conv_variant(w_shape, group, x_shape)   "qconv2d_im2col" (group 1), "qconv2d_dw" (C/group = 1)
                                            or None (then: ops/qlinear.py's reference)
    pack_rows(w2, zp)     (M, K) (u)int8 - zero point (scalar or (M,)) -> (M, Kp) int16,
                          K padded with zeros to a multiple of 32 (whole 512-bit vectors)
    qconv2d(variant, x, x_zp, wpack, bias, mult, y_zp, win, mult_c) -> y (N, M, OH, OW)
    qmatmul(a, a_zp, bpack, bias, mult, y_zp, out_dtype)            -> (..., R, N)

The multiplier is computed by the op exactly as the reference does (float32, x_scale * w_scale /
y_scale) and the kernels requantise as quant_common.requantize does, so results are identical.
Without Numba (or TINYINFER_IMPL=reference) conv_variant returns None and nothing here runs.
"""
from __future__ import annotations

import numpy as np

from . import available, get, impl_choice

KPAD = 32
TILE_BYTES = 1 << 22  # im2col columns per tile (int16), rows of output at a time


def _pad_k(k: int) -> int:
    return -(-k // KPAD) * KPAD


def conv_variant(w_shape, group, x_shape):
    if impl_choice() == "reference" or not available() or len(w_shape) != 4:
        return None
    if x_shape is not None and len(x_shape) != 4:
        return None
    m, cg = w_shape[0], w_shape[1]
    if group == 1:
        return "qconv2d_im2col"
    if cg == 1 and m % group == 0:
        return "qconv2d_dw"
    return None


def pack_rows(w2: np.ndarray, zp) -> np.ndarray:
    """(M, K) -> (M, Kp) int16 = w - zp (per tensor or per row), zero padded along K."""
    m, k = w2.shape
    out = np.zeros((m, _pad_k(k)), np.int16)
    z = np.zeros(()) if zp is None else np.asarray(zp).astype(np.int32).reshape(-1)
    z = z.reshape(()) if z.size == 1 else z.reshape(m, 1)
    out[:, :k] = w2.astype(np.int32) - z
    return out


def _out_dtype_code(dt):
    return {np.dtype(np.uint8): "u8", np.dtype(np.int8): "s8"}[np.dtype(dt)]


def _lo_hi(dt):
    return {np.dtype(np.uint8): (0, 255), np.dtype(np.int8): (-128, 127)}.get(np.dtype(dt), (1, 0))


def gemm(a16, b16, bias, mult, y_zp, out):
    """out (M, S) <- requant(bias + a16 @ b16.T); out int32: the raw accumulator."""
    code = {np.dtype(np.uint8): "u8", np.dtype(np.int8): "s8", np.dtype(np.int32): "s32"}
    k = get("qgemm_s16_s32_" + code[out.dtype])
    lo, hi = _lo_hi(out.dtype)
    k(a16, b16, bias, mult, np.int32(y_zp), np.int32(lo), np.int32(hi), out)


def qconv2d(variant, x, x_zp, wpack, w_shape, bias, mult, y_zp, y_dtype, win):
    """x: (N, C, H, W) (u)int8; wpack: (M, Kp) int16 (im2col) or (M, KH, KW) int16 (dw)."""
    n, c, h, wd = x.shape
    m, _, kh, kw = w_shape
    oh, ow = win.out
    sh, sw = win.strides
    dh, dw = win.dilations
    ph, pw = win.begin
    x = np.ascontiguousarray(x)
    if not x.flags.writeable:  # compiled signatures take no read-only arrays
        x = x.copy()
    y = np.empty((n, m, oh, ow), y_dtype)
    lo, hi = _lo_hi(y_dtype)
    src = _out_dtype_code(x.dtype)
    if variant == "qconv2d_dw":
        k = get(f"qconv2d_{src}_dw")
        acc = np.empty(ow, np.int32)
        for i in range(n):
            k(x[i], np.int32(x_zp), wpack, bias, mult, np.int32(y_zp), np.int32(lo), np.int32(hi),
              y[i], sh, sw, dh, dw, ph, pw, m // c, acc)
        return y
    kp = wpack.shape[1]
    rows = max(1, min(oh, TILE_BYTES // max(1, kp * ow * 2)))
    cols = np.zeros((rows * ow, kp), np.int16)  # K padding stays 0
    im2col = get(f"qconv2d_{src}_im2col")
    g = get("qgemm_s16_s32_" + _out_dtype_code(y_dtype))
    y3 = y.reshape(n, m, oh * ow)
    for i in range(n):
        for r0 in range(0, oh, rows):
            r1 = min(oh, r0 + rows)
            span = (r1 - r0) * ow
            cv = cols[:span]
            im2col(x[i], np.int32(x_zp), cv, kh, kw, sh, sw, dh, dw, ph, pw, r0, r1, ow)
            g(wpack, cv, bias, mult, np.int32(y_zp), np.int32(lo), np.int32(hi),
              y3[i, :, r0 * ow:r1 * ow])
    return y


def pack_a(a: np.ndarray, zp, kp: int) -> np.ndarray:
    """(R, K) (u)int8 rows -> (R, Kp) int16 = a - zp (per tensor or per row), zero padded."""
    r, k = a.shape
    out = np.zeros((r, kp), np.int16)
    z = 0 if zp is None else np.asarray(zp).astype(np.int32)
    z = z.reshape(()) if np.size(z) == 1 else z.reshape(-1, 1)
    out[:, :k] = a.astype(np.int32) - z
    return out

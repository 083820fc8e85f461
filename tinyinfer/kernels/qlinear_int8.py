"""Drivers for the integer kernels (kernels/qgemm_int8.py): pick a variant, pack, call.

    conv_variant(w_shape, group, x_shape)   "qconv2d_im2col" (group 1), "qconv2d_dw" (C/group = 1),
                                            "qconv2d_grouped" (other groups: direct plane runs)
                                            or None (then: ops/qlinear.py's reference)
    pack_weights(w2, zp)  (M, K) (u)int8 weights -> Packed: 's16' (w - zp as int16 pairs, any
                          CPU) or 'u8s8' (int8 weights with zero point 0 on AVX512-VNNI: raw
                          bytes in quads, x - x_zp handled as x' w - x_zp' rowsum in the bias)
    pack_cols(pk, b, zp)  (S, K) (u)int8 activations -> bp (SB, KU, W) int32 column blocks
    gemm(pk, bp, bias, mult, y_zp, out)     out (M, S) <- requant(bias + a @ b.T)
    qconv2d(variant, x, x_zp, wpack, w_shape, bias, mult, y_zp, y_dtype, win) -> (N, M, OH, OW)

The layouts are drawn in kernels/qgemm_int8.py. The NumPy twins (`*_np`) compute the same
packings and products without Numba; tests compare kernel, twin and the op reference.
The multiplier is computed by the op exactly as the reference does (float32, x_scale * w_scale /
y_scale) and the kernels requantise as quant_common.requantize does, so results are identical.
Without Numba (or TINYINFER_IMPL=reference) conv_variant returns None and nothing here runs.
"""
from __future__ import annotations

import numpy as np

from . import available, get, impl_choice

MR = 4                  # weight rows per micro-kernel call
NV = 2                  # vectors of columns per micro-kernel call
TILE_BYTES = 1 << 19    # packed im2col columns per tile: rows of output at a time


_ISA = None


def isa() -> str:
    """'avx512vnni', 'avx512' (AVX512-BW), 'avx2' or 'generic': the micro-kernels' instructions."""
    global _ISA
    if _ISA is None:
        _ISA = "generic"
        try:
            from llvmlite import binding as ll
            from numba.core import config
            f = ll.get_host_cpu_features()
            if config.CPU_NAME or config.CPU_FEATURES:  # a chosen target, maybe not this CPU
                pass
            elif f.get("avx512bw", False):
                _ISA = "avx512vnni" if f.get("avx512vnni", False) else "avx512"
            elif f.get("avx2", False):
                _ISA = "avx2"
        except Exception:
            pass
    return _ISA


def lanes(which: str) -> int:
    return 16 if which.startswith("avx512") else 8


_W = None


def block() -> int:
    """W, columns per block of the packed activations (MR x W accumulators per call)."""
    global _W
    if _W is None:
        _W = NV * lanes(isa())
    return _W


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
    if m % group == 0:
        return "qconv2d_grouped"
    return None


def pack_grouped(w: np.ndarray, zp) -> np.ndarray:
    """(M, CG, KH, KW) (u)int8 weights -> w - w_zp as int16 (the grouped kernel's operand)."""
    m = w.shape[0]
    z = np.zeros((), np.int32) if zp is None else np.asarray(zp).astype(np.int32).reshape(-1)
    z = z.reshape(()) if z.size == 1 else z.reshape(m, 1, 1, 1)
    return np.ascontiguousarray(w.astype(np.int32) - z).astype(np.int16)


def _plane_dims(oh, ow, kh, kw, win):
    sh, sw = win.strides
    dh, dw = win.dilations
    return (oh - 1) * sh + (kh - 1) * dh + 1, (ow - 1) * sw + (kw - 1) * dw + 1


def qconv2d_grouped_np(x, x_zp, wq, bias, mult, y_zp, y_dtype, win, group):
    """NumPy twin of qconv2d_<u8|s8>_gplane: the same zero-padded planes of x - x_zp and the
    same sums, one output channel's taps at a time. x: (N, C, H, W); wq: (M, CG, KH, KW) int16."""
    n, c, h, wd = x.shape
    m, cg, kh, kw = wq.shape
    oh, ow = win.out
    sh, sw = win.strides
    dh, dw = win.dilations
    ph, pw = win.begin
    hp, wp = _plane_dims(oh, ow, kh, kw, win)
    y = np.empty((n, m, oh, ow), y_dtype)
    from ..ops.quant_common import requantize
    for i in range(n):
        pl = np.zeros((c, hp, wp), np.int64)  # plane[r, q] = x[r - ph, q - pw] - x_zp, else 0
        r0, r1 = min(max(ph, 0), hp), min(max(ph + h, 0), hp)
        q0, q1 = min(max(pw, 0), wp), min(max(pw + wd, 0), wp)
        if r1 > r0 and q1 > q0:
            pl[:, r0:r1, q0:q1] = x[i, :, r0 - ph:r1 - ph, q0 - pw:q1 - pw].astype(np.int64) - x_zp
        acc = np.zeros((m, oh, ow), np.int64) + np.asarray(bias, np.int64).reshape(m, 1, 1)
        for o in range(m):
            g = o // (m // group)
            for ci in range(cg):
                for a in range(kh):
                    for b in range(kw):
                        acc[o] += int(wq[o, ci, a, b]) * pl[g * cg + ci, a * dh:a * dh + (oh - 1)
                                                            * sh + 1:sh, b * dw:b * dw +
                                                            (ow - 1) * sw + 1:sw]
        y[i] = requantize(acc.astype(np.int32), np.asarray(mult, np.float32).reshape(m, 1, 1),
                          np.asarray(y_zp).astype(y_dtype), y_dtype)
    return y


def _zp(zp, n):
    """Zero point (None, scalar, or one per row) as int32, shaped to subtract from (n, K) rows."""
    z = np.zeros((), np.int32) if zp is None else np.asarray(zp).astype(np.int32).reshape(-1)
    return z.reshape(()) if z.size == 1 else z.reshape(n, 1)


class Packed:
    """Weights (M, K) packed once. kind 's16': a32 (Mp, ceil(K/2)) int16 pairs of w - w_zp;
    kind 'u8s8' (int8 weights, zero point 0, AVX512-VNNI): a32 (Mp, ceil(K/4)) int8 quads of w,
    rowsum (M,) = sum_k w[m, k] for the input zero point's correction (see `bias_for`)."""

    def __init__(self, kind, a32, rowsum, m, k):
        self.kind, self.a32, self.rowsum, self.m, self.k = kind, a32, rowsum, m, k

    _last = (None, None, None)

    def bias_for(self, bias, x_zp, x_dtype):
        """sum_k (x - x_zp) w = sum_k x' w - x_zp' rowsum, x' = x as uint8 (int8: x + 128)."""
        if self.kind != "u8s8":
            return bias
        zq = int(x_zp) + (128 if np.dtype(x_dtype) == np.int8 else 0)
        b, z, out = self._last
        if b is bias and z == zq:  # the same bias array and zero point as last call
            return out
        out = (bias.astype(np.int64) - zq * self.rowsum.astype(np.int64)).astype(np.int32)
        self._last = (bias, zq, out)
        return out


def pack_weights(w2: np.ndarray, zp) -> Packed:
    """(M, K) (u)int8 weights -> Packed, u8s8 where the CPU and the weights allow."""
    m, k = w2.shape
    if (isa() == "avx512vnni" and w2.dtype == np.int8
            and (zp is None or not np.any(np.asarray(zp)))):
        mp, kq = -(-m // MR) * MR, -(-k // 4)
        out = np.zeros((mp, 4 * kq), np.int8)
        out[:m, :k] = w2
        return Packed("u8s8", out.view(np.int32), w2.astype(np.int32).sum(1).astype(np.int32),
                      m, k)
    return Packed("s16", pack_rows(w2, zp), None, m, k)


def pack_rows(w2: np.ndarray, zp) -> np.ndarray:
    """(M, K) -> a32 (Mp, KP) int32: rows w - zp as int16 pairs, zero padded (runs once)."""
    m, k = w2.shape
    mp, kp = -(-m // MR) * MR, -(-k // 2)
    out = np.zeros((mp, 2 * kp), np.int16)
    out[:m, :k] = w2.astype(np.int32) - _zp(zp, m)
    return out.view(np.int32)


def pack_cols_np(b: np.ndarray, zp, ku: int, w: int, kind: str = "s16") -> np.ndarray:
    """NumPy twin of qpack_rows / qpack8_rows: (S, K) -> bp (SB, KU, W) int32."""
    s, k = b.shape
    sb = -(-s // w)
    if kind == "s16":
        full = np.zeros((sb * w, 2 * ku), np.int16)
        full[:s, :k] = b.astype(np.int32) - _zp(zp, s)
    else:  # bytes as uint8 (int8 + 128), K padding: the zero point (any value would do)
        flip = 128 if b.dtype == np.int8 else 0
        zq = (0 if zp is None else int(np.asarray(zp).reshape(-1)[0])) + flip
        full = np.full((sb * w, 4 * ku), zq, np.uint8)
        full[:s, :k] = (b.astype(np.int32) + flip).astype(np.uint8)
    u = full.shape[1] // ku
    # (SB*W, KU*u) -> (SB, W, KU, u) -> (SB, KU, W, u)
    return np.ascontiguousarray(full.reshape(sb, w, ku, u).transpose(0, 2, 1, 3)).view(
        np.int32).reshape(sb, ku, w)


def gemm_np(pk: Packed, bp, bias, mult, y_zp, out):
    """NumPy twin of qgemm_*: the same sums from the packed operands (bias as for the kernel)."""
    m, s = out.shape
    sb, ku, w = bp.shape
    if pk.kind == "s16":
        a = pk.a32.view(np.int16).astype(np.int64)[:m]                        # (M, 2KU)
        b = bp.view(np.int16).reshape(sb, ku, w, 2).transpose(0, 2, 1, 3).reshape(sb * w, 2 * ku)
    else:
        a = pk.a32.view(np.int8).astype(np.int64)[:m]                         # (M, 4KU)
        b = bp.view(np.uint8).reshape(sb, ku, w, 4).transpose(0, 2, 1, 3).reshape(sb * w, 4 * ku)
    acc = (a @ b[:s].astype(np.int64).T).astype(np.int32) + np.asarray(bias, np.int32)[:, None]
    if out.dtype == np.int32:
        out[...] = acc
        return
    from ..ops.quant_common import requantize
    out[...] = requantize(acc, np.asarray(mult, np.float32)[:, None], out.dtype.type(y_zp),
                          out.dtype)


def _lo_hi(dt):
    return {np.dtype(np.uint8): (0, 255), np.dtype(np.int8): (-128, 127)}.get(np.dtype(dt), (1, 0))


_CODE = {np.dtype(np.uint8): "u8", np.dtype(np.int8): "s8", np.dtype(np.int32): "s32"}


_NO_TABLE = np.zeros(0, np.uint8)


def gemm(pk: Packed, bp, bias, mult, y_zp, out):
    """out (M, S) <- requant(bias + a @ b.T); out int32: the raw accumulator. For u8s8, bias
    already holds the zero point correction (Packed.bias_for)."""
    k = get(("qgemm_s16_s32_" if pk.kind == "s16" else "qconv2d_u8s8_gemm_") + _CODE[out.dtype])
    lo, hi = _lo_hi(out.dtype)
    k(pk.a32, bp, bias, mult, np.int32(y_zp), np.int32(lo), np.int32(hi), out, _NO_TABLE)


def _writable(x):
    x = np.ascontiguousarray(x)
    return x if x.flags.writeable else x.copy()  # compiled signatures take no read-only arrays


def pack_cols(pk: Packed, b: np.ndarray, zp) -> np.ndarray:
    """(S, K) (u)int8 rows (any strides) -> bp (SB, KU, W) int32 for pk's kind, zero padded."""
    s, k = b.shape
    w = block()
    ku = pk.a32.shape[1]
    if not b.flags.writeable:
        b = b.copy()
    z = 0 if zp is None else int(np.asarray(zp).reshape(-1)[0])
    if pk.kind == "s16":
        bp = np.zeros((-(-s // w), ku, w), np.int32)
        get(f"qgemm_s16_pack_{_CODE[b.dtype]}")(b, np.int32(z), bp.view(np.int16).reshape(
            bp.shape + (2,)))
        return bp
    flip = 128 if b.dtype == np.int8 else 0
    bp = np.empty((-(-s // w), ku, w), np.int32)
    b8 = bp.view(np.uint8).reshape(bp.shape + (4,))
    b8.fill(z + flip)
    get(f"qconv2d_u8s8_pack_{_CODE[b.dtype]}")(b, np.int32(flip), b8)
    return bp


def qconv2d(variant, x, x_zp, wpack, w_shape, bias, mult, y_zp, y_dtype, win, table=None):
    """x: (N, C, H, W) (u)int8; wpack: Packed (im2col) or (M, KH, KW) int16 (dw).
    table: None, or a (256,) (u)int8 table applied to the output bytes (y then has its type).
    None when no kernel applies (depthwise with y's type unlike x's)."""
    n, c, h, wd = x.shape
    m, _, kh, kw = w_shape
    oh, ow = win.out
    sh, sw = win.strides
    dh, dw = win.dilations
    ph, pw = win.begin
    x = _writable(x)
    lo, hi = _lo_hi(y_dtype)
    if table is not None:  # the kernels write table[byte] into y's bytes
        tab = np.ascontiguousarray(table).view(np.uint8)
        y = np.empty((n, m, oh, ow), table.dtype)
        y_dtype, y_out = np.dtype(np.uint8), y.view(np.uint8)
    else:
        tab = _NO_TABLE
        y = y_out = np.empty((n, m, oh, ow), y_dtype)
    src = _CODE[x.dtype]
    if variant == "qconv2d_grouped":
        if table is None and y_out.dtype != x.dtype:
            return None  # the kernel writes x's type (the op's reference does the rest)
        y_out = y_out.view(x.dtype)
        k = get(f"qconv2d_{src}_gplane")
        hp, wp = _plane_dims(oh, ow, kh, kw, win)
        planes = np.empty((c, hp * wp + (kw - 1) * dw), np.int16)
        acc = np.empty(oh * wp, np.int32)
        for i in range(n):
            k(x[i], np.int32(x_zp), wpack, bias, mult, np.int32(y_zp), np.int32(lo), np.int32(hi),
              y_out[i], sh, sw, dh, dw, ph, pw, m // (c // wpack.shape[1]), planes, acc, tab)
        return y
    if variant == "qconv2d_dw":
        if table is None and y_out.dtype != x.dtype:
            return None  # the depthwise kernels write x's type (the op's reference does the rest)
        y_out = y_out.view(x.dtype)  # table bytes stored as x's type: the same bytes
        k = get(f"qconv2d_{src}_dwplane")
        wp = (ow - 1) * sw + (kw - 1) * dw + 1
        hp = (oh - 1) * sh + (kh - 1) * dh + 1
        plane = np.empty(hp * wp + (kw - 1) * dw, np.int16)
        acc = np.empty(oh * wp, np.int32)
        for i in range(n):
            k(x[i], np.int32(x_zp), wpack, bias, mult, np.int32(y_zp), np.int32(lo), np.int32(hi),
              y_out[i], sh, sw, dh, dw, ph, pw, m // c, plane, acc, tab)
        return y
    pk = wpack
    ku = pk.a32.shape[1]
    bias = pk.bias_for(bias, x_zp, x.dtype)
    g = get(("qgemm_s16_s32_" if pk.kind == "s16" else "qconv2d_u8s8_gemm_") + _CODE[y_dtype])
    y3 = y_out.reshape(n, m, oh * ow)
    pointwise = (kh == kw == 1 and sh == sw == 1 and ph == pw == 0
                 and tuple(win.end) == (0, 0) and (oh, ow) == (h, wd))
    if pointwise:  # 1x1: the columns are x itself, transposed: (C, H*W) -> (H*W, C)
        for i in range(n):
            if pk.kind == "u8s8":
                flip = 128 if x.dtype == np.int8 else 0
                bp = np.empty((-(-(h * wd) // block()), ku, block()), np.int32)
                b8 = bp.view(np.uint8).reshape(bp.shape + (4,))
                b8.fill(x_zp + flip)
                get(f"qconv2d_u8s8_pack1x1_{src}")(x[i].reshape(c, h * wd), np.int32(flip), b8)
            else:
                bp = pack_cols(pk, x[i].reshape(c, h * wd).T, x_zp)
            g(pk.a32, bp, bias, mult, np.int32(y_zp), np.int32(lo), np.int32(hi), y3[i], tab)
        return y
    w = block()
    rows = max(1, min(oh, TILE_BYTES // max(1, ku * 4 * ow)))
    bp = np.empty((-(-rows * ow // w), ku, w), np.int32)
    if pk.kind == "s16":
        bv, fill, flip = bp.view(np.int16).reshape(bp.shape + (2,)), 0, x_zp
        im2col = get(f"qconv2d_{src}_im2col")
    else:
        flip = 128 if x.dtype == np.int8 else 0
        bv, fill = bp.view(np.uint8).reshape(bp.shape + (4,)), x_zp + flip
        im2col = get(f"qconv2d_{src}_im2col8")
    # a tile of rows is a strided column slice of y; the GEMM writes C-contiguous (M, cols) blocks
    tile = np.empty(m * rows * ow, y_dtype) if rows < oh else None
    for i in range(n):
        for r0 in range(0, oh, rows):
            r1 = min(oh, r0 + rows)
            bv.fill(fill)
            im2col(x[i], np.int32(flip), bv, kh, kw, sh, sw, dh, dw, ph, pw, r0, r1, ow)
            dst = y3[i] if tile is None else tile[:m * (r1 - r0) * ow].reshape(m, (r1 - r0) * ow)
            g(pk.a32, bp[:-(-(r1 - r0) * ow // w)], bias, mult, np.int32(y_zp), np.int32(lo),
              np.int32(hi), dst, tab)
            if tile is not None:
                y3[i, :, r0 * ow:r1 * ow] = dst
    return y

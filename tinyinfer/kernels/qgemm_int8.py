"""Integer GEMM and convolution hot loops with an int32 accumulator, for ops/qlinear.py.

Layout (packed once per weight at prepare, once per call for the activations):
    a32: (Mp, KP) int32     row m of the weights (zero point subtracted), two int16 per int32:
                            a32[m, p] = (a[m, 2p], a[m, 2p + 1]); Mp = M rounded up to MR rows,
                            KP = ceil(K / 2); padding is 0
    bp:  (SB, KP, W) int32  the S columns (im2col rows, input zero point subtracted) in blocks of
                            W: bp[s // W, p, s % W] = (b[s, 2p], b[s, 2p + 1]); padding is 0

    qgemm_s16_s32_<u8|s8|s32>  out[m, s] = requant(bias[m] + sum_k a[m, k] * b[s, k])
                               (or table[byte of that] with a (256,) table, else an empty one)
    qgemm_s16_pack_<u8|s8>     bp <- rows of a 2-D (S, K) array minus its zero point (any strides)
    qconv2d_u8s8_gemm_<..>     the same GEMM on int8 weights and uint8 columns in quads (vpdpbusd:
    qconv2d_u8s8_pack_<u8|s8>  four u8 x s8 products per int32 lane; int8 inputs + 128, the zero
    qconv2d_<u8|s8>_im2col8    point's share comes off the bias: kernels/qlinear_int8.Packed)
    qconv2d_<u8|s8>_im2col     bp <- x[c, ih, iw] - x_zp at k = (c * KH + kh) * KW + kw,
                               s = (oh - oh0) * OW + ow (0 outside x: onnxruntime pads with zp)
    qconv2d_<u8|s8>_gplane     grouped (C/group > 1): the dwplane runs over C/group planes each
    qconv2d_<u8|s8>_dw         depthwise direct loops, int32 row accumulators, requantised rows:
        out[m, oh, ow] = requant(bias[m] + sum_{kh,kw} w[m, kh, kw] * (x[m // mult, ih, iw] - x_zp))

The micro-kernel (`_mk`, written in LLVM IR) keeps MR x W int32 accumulators in vector registers
and adds, for each k pair p, MR broadcast weight pairs times the W column pairs of bp[sb, p]:
    acc[i, j] += a[m0+i, 2p] * b[s, 2p] + a[m0+i, 2p+1] * b[s, 2p+1]      (s = sb * W + j)
which is exactly one pmaddwd per vector (16-bit pairs multiplied and summed into 32-bit lanes);
LLVM fuses the add into vpdpwssd where AVX512-VNNI is present. On other CPUs the same sum is
written in plain vector IR (sext, mul, add), which every LLVM back end lowers (NEON: smlal).

requant(acc) = clamp(rint(float32(acc) * mult[m]) + zp, lo, hi): ops/quant_common.requantize,
step for step (float32 product, round half to even). The products fit easily: |a|, |b| <= 255,
so a pair is < 2**17 and K up to 2**15 cannot overflow the int32 lanes (ops check K).
The NumPy twins of the packing and the GEMM are in kernels/qlinear_int8.py (tests compare).
Every index comes from shapes the op validated and the driver sized; `_mk` checks nothing.
"""
from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit
from numba.core import cgutils, types
from numba.core.extending import intrinsic

from .qlinear_int8 import MR, NV, isa, lanes

ISA = isa()
V = lanes(ISA)           # int32 lanes per vector
W = NV * V               # columns per block
GP_CHUNK = 2048          # int32 sums per run of the grouped plane kernel (8 KB: L1)

_I16, _I32, _I64 = ir.IntType(16), ir.IntType(32), ir.IntType(64)
_VACC = ir.VectorType(_I32, V)
_VPAIR = ir.VectorType(_I16, 2 * V)


def _madd(builder, av, bv):
    """<V x i32>: av[2j] * bv[2j] + av[2j+1] * bv[2j+1] for the 2V int16 lanes of av, bv."""
    if ISA.startswith("avx512"):
        fnty = ir.FunctionType(_VACC, [_VPAIR, _VPAIR])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.x86.avx512.pmaddw.d.512")
        return builder.call(fn, [av, bv])
    if ISA == "avx2":
        fnty = ir.FunctionType(_VACC, [_VPAIR, _VPAIR])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.x86.avx2.pmadd.wd")
        return builder.call(fn, [av, bv])
    vw = ir.VectorType(_I32, 2 * V)
    p = builder.mul(builder.sext(av, vw), builder.sext(bv, vw))
    ev = ir.Constant(ir.VectorType(_I32, V), [2 * j for j in range(V)])
    od = ir.Constant(ir.VectorType(_I32, V), [2 * j + 1 for j in range(V)])
    return builder.add(builder.shuffle_vector(p, p, ev), builder.shuffle_vector(p, p, od))


def _vpdpbusd(builder, acc, bv, av):
    """acc + sum of four u8 (bv) x s8 (av) byte products per int32 lane (AVX512-VNNI)."""
    fnty = ir.FunctionType(_VACC, [_VACC, _VACC, _VACC])
    fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.x86.avx512.vpdpbusd.512")
    return builder.call(fn, [acc, bv, av])


def _s16_step(builder, acc, av, bv):
    return builder.add(acc, _madd(builder, builder.bitcast(av, _VPAIR), builder.bitcast(bv, _VPAIR)))


def _u8s8_step(builder, acc, av, bv):
    return _vpdpbusd(builder, acc, bv, av)


def _micro_kernel(step):
    """An intrinsic: tile[i, j] = sum_p step(a32[m0 + i, p], bp[sb, p, j]), i < MR, j < W."""
    @intrinsic
    def mk(typingctx, a32, m0, bp, sb, tile):
        sig = types.void(a32, m0, bp, sb, tile)

        def codegen(context, builder, signature, args):
            a_, m0_, b_, sb_, t_ = args
            aty, _, bty, _, tty = signature.args
            A = context.make_array(aty)(context, builder, a_)
            B = context.make_array(bty)(context, builder, b_)
            T = context.make_array(tty)(context, builder, t_)
            kp = builder.extract_value(A.shape, 1)
            m0_ = builder.sext(m0_, _I64) if m0_.type.width < 64 else m0_
            sb_ = builder.sext(sb_, _I64) if sb_.type.width < 64 else sb_
            abase = builder.gep(A.data, [builder.mul(m0_, kp)])
            bbase = builder.gep(B.data, [builder.mul(builder.mul(sb_, kp), ir.Constant(_I64, W))])
            accs = [cgutils.alloca_once(builder, _VACC) for _ in range(MR * NV)]
            for p in accs:
                builder.store(ir.Constant(_VACC, [0] * V), p)
            zeros = ir.Constant(ir.VectorType(_I32, V), [0] * V)
            with cgutils.for_range(builder, kp) as loop:
                k = loop.index
                bvs = []
                for j in range(NV):
                    off = builder.add(builder.mul(k, ir.Constant(_I64, W)),
                                      ir.Constant(_I64, j * V))
                    ptr = builder.bitcast(builder.gep(bbase, [off]), _VACC.as_pointer())
                    bvs.append(builder.load(ptr, align=4))
                for i in range(MR):
                    ap = builder.gep(abase, [builder.add(builder.mul(ir.Constant(_I64, i), kp), k)])
                    av = builder.insert_element(ir.Constant(_VACC, None), builder.load(ap),
                                                ir.Constant(_I32, 0))
                    av = builder.shuffle_vector(av, av, zeros)  # broadcast one 32-bit unit
                    for j in range(NV):
                        p = accs[i * NV + j]
                        builder.store(step(builder, builder.load(p), av, bvs[j]), p)
            for i in range(MR):
                for j in range(NV):
                    tp = builder.gep(T.data, [ir.Constant(_I64, i * W + j * V)])
                    builder.store(builder.load(accs[i * NV + j]),
                                  builder.bitcast(tp, _VACC.as_pointer()), align=4)
            return context.get_dummy_value()
        return sig, codegen
    return mk


_mk = _micro_kernel(_s16_step)
_mk8 = _micro_kernel(_u8s8_step)


_GEMM = ("void(int32[:, ::1], int32[:, :, ::1], int32[::1], float32[::1], int32, int32, int32, "
         "{}[:, ::1], uint8[::1])")
_PACK = "void({}[:, :], int32, int16[:, :, :, ::1])"
_IM2COL = ("void({}[:, :, ::1], int32, int16[:, :, :, ::1], int64, int64, int64, int64, int64, "
           "int64, int64, int64, int64, int64, int64)")
_PACK8 = "void({}[:, :], int32, uint8[:, :, :, ::1])"
_IM2COL8 = ("void({}[:, :, ::1], int32, uint8[:, :, :, ::1], int64, int64, int64, int64, int64, "
            "int64, int64, int64, int64, int64, int64)")
_DW = ("void({0}[:, :, ::1], int32, int16[:, :, ::1], int32[::1], float32[::1], int32, int32, "
       "int32, {0}[:, :, ::1], int64, int64, int64, int64, int64, int64, int64, int32[::1])")

_DWP = ("void({0}[:, :, ::1], int32, int16[:, :, ::1], int32[::1], float32[::1], int32, int32, "
        "int32, {0}[:, :, ::1], int64, int64, int64, int64, int64, int64, int64, int16[::1], "
        "int32[::1], uint8[::1])")

_GP = ("void({0}[:, :, ::1], int32, int16[:, :, :, ::1], int32[::1], float32[::1], int32, int32, "
       "int32, {0}[:, :, ::1], int64, int64, int64, int64, int64, int64, int64, int16[:, ::1], "
       "int32[::1], uint8[::1])")

SIGNATURES = {
    "qgemm_s16_s32_u8": _GEMM.format("uint8"),
    "qgemm_s16_s32_s8": _GEMM.format("int8"),
    "qgemm_s16_s32_s32": _GEMM.format("int32"),
    "qgemm_s16_pack_u8": _PACK.format("uint8"),
    "qgemm_s16_pack_s8": _PACK.format("int8"),
    "qconv2d_u8_im2col": _IM2COL.format("uint8"),
    "qconv2d_s8_im2col": _IM2COL.format("int8"),
    "qconv2d_u8s8_gemm_u8": _GEMM.format("uint8"),
    "qconv2d_u8s8_gemm_s8": _GEMM.format("int8"),
    "qconv2d_u8s8_gemm_s32": _GEMM.format("int32"),
    "qconv2d_u8s8_pack_u8": _PACK8.format("uint8"),
    "qconv2d_u8s8_pack_s8": _PACK8.format("int8"),
    "qconv2d_u8s8_pack1x1_u8": "void(uint8[:, ::1], int32, uint8[:, :, :, ::1])",
    "qconv2d_u8s8_pack1x1_s8": "void(int8[:, ::1], int32, uint8[:, :, :, ::1])",
    "qconv2d_u8_im2col8": _IM2COL8.format("uint8"),
    "qconv2d_s8_im2col8": _IM2COL8.format("int8"),
    "qconv2d_u8_dwplane": _DWP.format("uint8"),
    "qconv2d_s8_dwplane": _DWP.format("int8"),
    "qconv2d_u8_gplane": _GP.format("uint8"),
    "qconv2d_s8_gplane": _GP.format("int8"),
    "qconv2d_u8_dw": _DW.format("uint8"),
    "qconv2d_s8_dw": _DW.format("int8"),
}


@njit(inline="always", cache=False, error_model="numpy")
def _requant_row(t, bm, mu, zp, lo, hi, o, table):
    """o[i] = clamp(rint(float32(t[i] + bm) * mu) + zp, lo, hi): quant_common.requantize;
    with a (256,) table (a QLinearLookup fused after the conv): o[i] = table[byte of that]."""
    fz, flo, fhi = np.float32(zp), np.float32(lo), np.float32(hi)
    if table.shape[0] == 256:  # two passes: the first vectorises, the lookup cannot
        for i in range(o.shape[0]):
            r = np.rint(np.float32(np.int32(t[i] + bm)) * mu) + fz
            o[i] = np.int32(min(max(r, flo), fhi)) & 255  # the byte (int8 out: same bits)
        for i in range(o.shape[0]):
            o[i] = table[np.int32(o[i]) & 255]
    else:
        for i in range(o.shape[0]):
            r = np.rint(np.float32(np.int32(t[i] + bm)) * mu) + fz
            o[i] = min(max(r, flo), fhi)


def _gemm_with(mk):
    def gemm(a32, bp, bias, mult, zp, lo, hi, out, table):
        m_n, s_n = out.shape
        sb_n = bp.shape[0]
        requant = lo <= hi  # s32 output: the caller passes lo > hi, the raw accumulator
        tile = np.empty((MR, W), np.int32)
        for sb in range(sb_n):      # one block of columns stays in L1/L2 while all rows pass
            s0 = sb * W
            s1 = min(s_n, s0 + W)
            for m0 in range(0, m_n, MR):
                mk(a32, m0, bp, sb, tile)
                for i in range(min(MR, m_n - m0)):
                    m = m0 + i
                    if requant:
                        _requant_row(tile[i], bias[m], mult[m], zp, lo, hi, out[m, s0:s1],
                                     table)
                    else:
                        o = out[m]
                        t = tile[i]
                        for s in range(s0, s1):
                            o[s] = np.int32(t[s - s0] + bias[m])
    return gemm


_qgemm = _gemm_with(_mk)
_qgemm8 = _gemm_with(_mk8)


qgemm_s16_s32_u8 = qgemm_s16_s32_s8 = qgemm_s16_s32_s32 = _qgemm
qconv2d_u8s8_gemm_u8 = qconv2d_u8s8_gemm_s8 = qconv2d_u8s8_gemm_s32 = _qgemm8


def _qpack_rows(b, zp, bp16):
    # bp16: (SB, KP, W, 2) int16 view of bp, zeroed by the caller
    s_n, k_n = b.shape
    for s in range(s_n):
        sb = s // W
        j = s - sb * W
        for k in range(k_n):
            bp16[sb, k >> 1, j, k & 1] = np.int16(np.int32(b[s, k]) - zp)


qgemm_s16_pack_u8 = qgemm_s16_pack_s8 = _qpack_rows


def _qim2col(x, zp, bp16, kh_n, kw_n, sh, sw, dh, dw, ph, pw, oh0, oh1, ow_n):
    # bp16: (SB, KP, W, 2) int16, zeroed by the caller (padding taps, columns and k stay 0)
    c_n, h, wd = x.shape
    for c in range(c_n):
        for kh in range(kh_n):
            for kw in range(kw_n):
                k = (c * kh_n + kh) * kw_n + kw
                kp = k >> 1
                kl = k & 1
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
                    xr = x[c, ih]
                    base = (oh - oh0) * ow_n
                    for ow in range(lo, hi):
                        s = base + ow
                        sb = s // W
                        bp16[sb, kp, s - sb * W, kl] = np.int16(np.int32(xr[ow * sw + off]) - zp)


qconv2d_u8_im2col = qconv2d_s8_im2col = _qim2col


def _qpack8_rows(b, flip, bp8):
    # bp8: (SB, KQ, W, 4) uint8 view of bp, filled by the caller; u8 = b ^ flip (s8: flip 128)
    s_n, k_n = b.shape
    if b.strides[0] <= b.strides[1]:  # a transposed view (1x1 conv): walk along s innermost
        for k in range(k_n):
            for s in range(s_n):
                sb = s // W
                bp8[sb, k >> 2, s - sb * W, k & 3] = np.uint8(np.int32(b[s, k]) ^ flip)
    else:
        for s in range(s_n):
            sb = s // W
            j = s - sb * W
            for k in range(k_n):
                bp8[sb, k >> 2, j, k & 3] = np.uint8(np.int32(b[s, k]) ^ flip)


qconv2d_u8s8_pack_u8 = qconv2d_u8s8_pack_s8 = _qpack8_rows


def _qpack8_planes(x2, flip, bp8):
    """1x1 convs: x2 (C, S) C-contiguous -> bp8[s // W, c // 4, s % W, c % 4] = x2[c, s] ^ flip,
    four rows at a time so each store of four bytes is one interleave group (vectorised);
    bp8 is filled with the zero point byte by the caller (the K and S padding)."""
    c_n, s_n = x2.shape
    for sb in range(bp8.shape[0]):
        s0 = sb * W
        n = min(W, s_n - s0)
        for kq in range(c_n // 4):
            r0 = x2[4 * kq, s0:s0 + n]
            r1 = x2[4 * kq + 1, s0:s0 + n]
            r2 = x2[4 * kq + 2, s0:s0 + n]
            r3 = x2[4 * kq + 3, s0:s0 + n]
            d = bp8[sb, kq]
            for j in range(n):
                d[j, 0] = np.uint8(np.int32(r0[j]) ^ flip)
                d[j, 1] = np.uint8(np.int32(r1[j]) ^ flip)
                d[j, 2] = np.uint8(np.int32(r2[j]) ^ flip)
                d[j, 3] = np.uint8(np.int32(r3[j]) ^ flip)
        kq = c_n // 4
        for l in range(c_n - 4 * kq):
            r = x2[4 * kq + l, s0:s0 + n]
            d = bp8[sb, kq]
            for j in range(n):
                d[j, l] = np.uint8(np.int32(r[j]) ^ flip)


qconv2d_u8s8_pack1x1_u8 = qconv2d_u8s8_pack1x1_s8 = _qpack8_planes


def _qim2col8(x, flip, bp8, kh_n, kw_n, sh, sw, dh, dw, ph, pw, oh0, oh1, ow_n):
    # bp8: (SB, KQ, W, 4) uint8, filled with the zero point byte by the caller (padding taps)
    c_n, h, wd = x.shape
    for c in range(c_n):
        for kh in range(kh_n):
            for kw in range(kw_n):
                k = (c * kh_n + kh) * kw_n + kw
                kq = k >> 2
                kl = k & 3
                off = kw * dw - pw
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
                    xr = x[c, ih]
                    base = (oh - oh0) * ow_n
                    for ow in range(lo, hi):
                        s = base + ow
                        sb = s // W
                        bp8[sb, kq, s - sb * W, kl] = np.uint8(np.int32(xr[ow * sw + off]) ^ flip)


qconv2d_u8_im2col8 = qconv2d_s8_im2col8 = _qim2col8


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


def _qdw_plane(x, xzp, w, bias, mult, zp, lo_q, hi_q, out, sh, sw, dh, dw, ph, pw, mult_c,
               plane, acc, table):
    """Depthwise through a zero-padded int16 plane of x - x_zp, one channel at a time.

    plane: (HP * WP + (KW - 1) * DW,) int16, HP = (OH - 1) * SH + (KH - 1) * DH + 1,
           WP = (OW - 1) * SW + (KW - 1) * DW + 1: plane[r * WP + q] = x[r - ph, q - pw] - x_zp
    acc:   (OH * WP,) int32, the sums at every column (stride 1 along W; the epilogue keeps
           every SW-th). With SH = 1 each tap is one run over the flat plane,
           acc[q] += w * plane[q + kh * DH * WP + kw * DW] (the last (KW - 1) * DW columns of a
           row are junk, never stored); otherwise one run per output row. Runs are slices
           indexed from 0, which LLVM vectorises (an offset index defeats it: 10x slower).
    """
    c_n, h, wd = x.shape
    m_out, oh_n, ow_n = out.shape
    kh_n, kw_n = w.shape[1], w.shape[2]
    wp = (ow_n - 1) * sw + (kw_n - 1) * dw + 1
    hp = (oh_n - 1) * sh + (kh_n - 1) * dh + 1
    wq = (ow_n - 1) * sw + 1                  # columns computed per output row
    n_acc = oh_n * wp
    plane[:] = 0
    q0 = min(max(pw, 0), wp)                  # plane columns [q0, q1) hold x columns
    q1 = min(max(pw + wd, q0), wp)
    cur = -1
    for m in range(m_out):
        c = m // mult_c
        if c != cur:                          # channel multiplier: reuse the plane
            cur = c
            xc = x[c]
            for r in range(hp):
                ih = r - ph
                if ih < 0 or ih >= h:
                    continue                  # stays 0 from the first fill
                dst = plane[r * wp + q0:r * wp + q1]
                src = xc[ih, q0 - pw:q1 - pw]
                for i in range(dst.shape[0]):
                    dst[i] = np.int16(np.int32(src[i]) - xzp)
        acc[:] = bias[m]
        for kh in range(kh_n):
            for kw in range(kw_n):
                wv = np.int32(w[m, kh, kw])
                off = kh * dh * wp + kw * dw
                if sh == 1:
                    src = plane[off:off + n_acc]
                    for i in range(n_acc):
                        acc[i] += wv * np.int32(src[i])
                else:
                    for oh in range(oh_n):
                        a = acc[oh * wp:oh * wp + wq]
                        src = plane[oh * sh * wp + off:oh * sh * wp + off + wq]
                        for i in range(wq):
                            a[i] += wv * np.int32(src[i])
        mu = mult[m]
        for oh in range(oh_n):
            _requant_row(acc[oh * wp:oh * wp + wq:sw], 0, mu, zp, lo_q, hi_q, out[m, oh], table)


qconv2d_u8_dwplane = qconv2d_s8_dwplane = _qdw_plane


def _qgroup_plane(x, xzp, w, bias, mult, zp, lo_q, hi_q, out, sh, sw, dh, dw, ph, pw, m_per_g,
                  planes, acc, table):
    """Grouped convolution (C/group = CG > 1, e.g. ShuffleNet's 1x1 group convs) as direct runs
    over zero-padded int16 planes of x - x_zp, one output channel at a time:

        out[m] = requant(bias[m] + sum_{c < CG, kh, kw} w[m, c, kh, kw] * plane[g * CG + c][...])
        g = m // m_per_g      w: (M, CG, KH, KW) int16 (w - w_zp)    planes: (C, HP * WP + pad)

    The plane layout and the runs are _qdw_plane's (stride 1 along W computed, every SW-th kept);
    tiny planes and few channels per group make this cheaper than packing columns for a GEMM.
    """
    c_n, h, wd = x.shape
    m_out, oh_n, ow_n = out.shape
    cg_n, kh_n, kw_n = w.shape[1], w.shape[2], w.shape[3]
    wp = (ow_n - 1) * sw + (kw_n - 1) * dw + 1
    hp = (oh_n - 1) * sh + (kh_n - 1) * dh + 1
    wq = (ow_n - 1) * sw + 1
    n_acc = oh_n * wp
    planes[:, :] = 0
    q0 = min(max(pw, 0), wp)
    q1 = min(max(pw + wd, q0), wp)
    for c in range(c_n):
        xc = x[c]
        pl = planes[c]
        for r in range(hp):
            ih = r - ph
            if ih < 0 or ih >= h:
                continue
            dst = pl[r * wp + q0:r * wp + q1]
            src = xc[ih, q0 - pw:q1 - pw]
            for i in range(dst.shape[0]):
                dst[i] = np.int16(np.int32(src[i]) - xzp)
    for m in range(m_out):
        c0 = (m // m_per_g) * cg_n
        acc[:] = bias[m]
        if sh == 1:  # runs of GP_CHUNK sums at a time, so that they stay in L1 over all taps
            for i0 in range(0, n_acc, GP_CHUNK):
                i1 = min(n_acc, i0 + GP_CHUNK)
                a = acc[i0:i1]
                for ci in range(cg_n):
                    pl = planes[c0 + ci]
                    for kh in range(kh_n):
                        for kw in range(kw_n):
                            wv = np.int32(w[m, ci, kh, kw])
                            off = kh * dh * wp + kw * dw + i0
                            src = pl[off:off + (i1 - i0)]
                            for i in range(a.shape[0]):
                                a[i] += wv * np.int32(src[i])
        else:
            for ci in range(cg_n):
                pl = planes[c0 + ci]
                for kh in range(kh_n):
                    for kw in range(kw_n):
                        wv = np.int32(w[m, ci, kh, kw])
                        off = kh * dh * wp + kw * dw
                        for oh in range(oh_n):
                            a = acc[oh * wp:oh * wp + wq]
                            src = pl[oh * sh * wp + off:oh * sh * wp + off + wq]
                            for i in range(wq):
                                a[i] += wv * np.int32(src[i])
        mu = mult[m]
        for oh in range(oh_n):
            _requant_row(acc[oh * wp:oh * wp + wq:sw], 0, mu, zp, lo_q, hi_q, out[m, oh], table)


qconv2d_u8_gplane = qconv2d_s8_gplane = _qgroup_plane

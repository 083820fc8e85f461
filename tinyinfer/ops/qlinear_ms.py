"""com.microsoft quantised operators, as onnxruntime's own quantizer emits them.

    QLinearAdd:   C = sat(rint(A_scale/C_scale * (A - A_zp) + B_scale/C_scale * (B - B_zp)) + C_zp)
    QLinearMul:   C = sat(rint((A - A_zp) * (B - B_zp) * (A_scale * B_scale / C_scale)) + C_zp)
    QLinearSigmoid, QLinearLeakyRelu:   a 256-entry table  y[q] = quantize(f(dequantize(q)))
    QLinearGlobalAveragePool:  y = requantize(sum(x) - x_zp * HW, x_scale / (y_scale * HW), y_zp)
    QLinearAveragePool, QLinearSoftmax:   dequantize -> float op -> quantize
    QLinearConcat: each input requantised to (Y_scale, Y_zp) by a table, then concatenated
    QGemm:        y = requantize(alpha * (A - a_zp) @ (B - b_zp) + C, ...) or float when no y_scale
    MatMulIntegerToFloat:  y = float32(acc) * (a_scale * b_scale) + bias
    DynamicQuantizeMatMul: A quantised by DynamicQuantizeLinear, then MatMulIntegerToFloat
    QuantizeLinear / DequantizeLinear (com.microsoft): the ONNX ops, axis attribute included

All arithmetic is float32 in onnxruntime's order (MLAS reference helpers), so that results agree
bit for bit where onnxruntime computes in float; tests/int8/ counts the exceptions.
"""
from __future__ import annotations

import numpy as np

from .. import dtypes
from ..errors import RuntimeFailure
from ..registry import Op, op
from . import quant_common as Q
from .qlinear import _check_8bit, _matmul_integer
from .quantize_linear import DequantizeLinear, DynamicQuantizeLinear, QuantizeLinear

MS = "com.microsoft"
F32 = np.float32


def _s(v) -> np.float32:
    return F32(np.asarray(v, F32).reshape(-1)[0])


def _zp(v) -> int:
    return 0 if v is None else int(np.asarray(v).reshape(-1)[0])


def _sat(r, dtype):
    lo, hi = dtypes.int_range(dtype)
    return np.clip(r, lo, hi).astype(dtype)


def quantize_f32(y, scale, zp, dtype):
    """MlasQuantizeLinear: sat(rint(y / scale) + zp), in float32, clamped in float before the
    integer cast as MLAS does (so +-inf saturate; NaN becomes the zero point)."""
    lo, hi = dtypes.int_range(dtype)
    q = np.divide(np.asarray(y, F32), F32(scale))
    np.rint(q, out=q)
    np.clip(q, F32(lo - zp), F32(hi - zp), out=q)
    q = np.nan_to_num(q, copy=False, nan=0.0).astype(np.int32)
    q += np.int32(zp)
    return q.astype(dtype)


def dequantize_f32(x, scale, zp):
    """(x - zp) * scale in float32; (u)int8 through a 256-entry table of that formula."""
    x = np.asarray(x)
    if x.dtype in (np.dtype(np.uint8), np.dtype(np.int8)) and x.size > 256:
        grid = np.arange(256, dtype=np.uint8).view(x.dtype)
        return np.take(dequantize_f32(grid, scale, zp), x.view(np.uint8))
    return (x.astype(np.int32) - zp).astype(F32) * F32(scale)


def _table(dtype, xs, xz, ys, yz, fn):
    """256-entry lookup: table[q - min] = quantize(fn(dequantize(q)))."""
    lo, hi = dtypes.int_range(dtype)
    q = np.arange(lo, hi + 1)
    return quantize_f32(fn(dequantize_f32(q, xs, xz)), ys, yz, dtype)


def _lookup(x, table, dtype):
    lo = dtypes.int_range(dtype)[0]
    return table[(x.astype(np.int32) - lo)]


class _QBinary(Op):
    """Elementwise (u)int8 op whose result depends only on the pair (a, b): the reference
    formula `value(fa, fb)` is evaluated once on all 256 x 256 pairs and then looked up, which is
    bit for bit the reference (same float32 expression per pair) and far fewer passes in NumPy."""

    TABLE_MIN = 1 << 14  # below this many outputs, computing directly is cheaper

    def value(self, fa, fb, sa, sb, sc):  # pragma: no cover - overridden
        raise NotImplementedError

    def run(self, A, A_scale, A_zero_point, B, B_scale, B_zero_point, C_scale, C_zero_point=None):
        _check_8bit(self.node, A, "A")
        _check_8bit(self.node, B, "B")
        key = (A.dtype.str, B.dtype.str, float(_s(A_scale)), _zp(A_zero_point), float(_s(B_scale)),
               _zp(B_zero_point), float(_s(C_scale)), _zp(C_zero_point))
        args = (_s(A_scale), _zp(A_zero_point), _s(B_scale), _zp(B_zero_point), _s(C_scale),
                _zp(C_zero_point), A.dtype)
        if max(A.size, B.size) < self.TABLE_MIN:
            return self._direct(A, B, *args)
        if A.size == 1 or B.size == 1:  # one operand is a scalar: a 256-entry table of the other
            return self._unary(A, B, key, args)
        table = self.__dict__.get("_table")
        if table is None or table[0] != key:
            ga = np.arange(*_span(A.dtype)).astype(A.dtype).reshape(-1, 1)
            gb = np.arange(*_span(B.dtype)).astype(B.dtype).reshape(1, -1)
            table = self._table = (key, self._direct(ga, gb, *args).reshape(-1))
        flip = (0x8000 if A.dtype == np.int8 else 0) | (0x80 if B.dtype == np.int8 else 0)
        y = _pair_kernel(A, B, flip, table[1])
        if y is not None:
            return y
        # index = (byte(A) << 8 | byte(B)) ^ sign flips, built in place: (broadcast shape) uint16
        idx = np.empty(np.broadcast_shapes(A.shape, B.shape), np.uint16)
        np.left_shift(A.view(np.uint8), 8, out=idx, dtype=np.uint16)
        np.bitwise_or(idx, B.view(np.uint8), out=idx)
        flip = (0x8000 if A.dtype == np.int8 else 0) | (0x80 if B.dtype == np.int8 else 0)
        if flip:  # int8 bytes 0x80..0x7f -> table rows 0..255 (value - min of the type)
            np.bitwise_xor(idx, np.uint16(flip), out=idx)
        return np.take(table[1], idx)

    def _unary(self, A, B, key, args):
        """y = t[byte(X)] for the non-scalar operand X; t is the reference formula on all 256
        bytes of X's type against the scalar, cached per (parameters, scalar)."""
        scalar_b = B.size == 1
        x, c = (A, B) if scalar_b else (B, A)
        k = key + (scalar_b, int(c.reshape(-1)[0]), c.dtype.str, x.shape, c.shape)
        t = self.__dict__.get("_table1")
        if t is None or t[0] != k:
            grid = np.arange(256, dtype=np.uint8).view(x.dtype)  # every byte, in byte order
            y = self._direct(grid, c.reshape(()), *args) if scalar_b else \
                self._direct(c.reshape(()), grid, *args)
            t = self._table1 = (k, y)
        from .qlinear_lookup import QLinearLookup
        y = QLinearLookup._fast(x, t[1])  # kernels/qlookup_int8.py, or None
        if y is None:
            y = np.take(t[1], x.view(np.uint8))
        shape = np.broadcast_shapes(A.shape, B.shape)
        return y if y.shape == shape else np.broadcast_to(y, shape).copy()

    def _direct(self, A, B, sa, za, sb, zb, sc, zc, dtype):
        fa = (A.astype(np.int32) - za).astype(F32)
        fb = (B.astype(np.int32) - zb).astype(F32)
        lo, hi = _span(dtype)
        # clamp in float before the int cast (as MLAS does): |v| >= 2**63 or inf saturates
        v = np.clip(np.rint(self.value(fa, fb, sa, sb, sc)), lo - zc, hi - 1 - zc)
        return _sat(v.astype(np.int64) + zc, dtype)


def _pair_kernel(A, B, flip, table):
    """table[(byte(A) << 8 | byte(B)) ^ flip] by kernels/qlookup_int8.py, or None (no Numba).
    The np.take formula in _QBinary.run is its twin."""
    from ..kernels import available, get
    if not available() or table.dtype not in (np.dtype(np.uint8), np.dtype(np.int8)) \
            or table.shape != (65536,):
        return None
    k = get("qlookup2_u8_u8")
    if k is None:
        return None
    shape = np.broadcast_shapes(A.shape, B.shape)
    a, b = (np.ascontiguousarray(v if v.shape == shape else np.broadcast_to(v, shape))
            for v in (A, B))
    a, b = (v if v.flags.writeable else v.copy() for v in (a, b))  # compiled: writable only
    a, b = a.view(np.uint8).reshape(-1), b.view(np.uint8).reshape(-1)
    t = np.ascontiguousarray(table).view(np.uint8)
    y = np.empty(shape, table.dtype)
    k(a, b, np.int32(flip), t if t.flags.writeable else t.copy(), y.reshape(-1).view(np.uint8))
    return y


def _span(dtype):
    lo, hi = dtypes.int_range(dtype)
    return int(lo), int(hi) + 1


def _index(x):
    """(u)int8 -> 0..255 as uint16 (value - min of the type)."""
    if x.dtype == np.uint8:
        return x.astype(np.uint16)
    return (x.view(np.uint8) ^ np.uint8(0x80)).astype(np.uint16)


def _fma(x, y, z):
    """float32 fused multiply-add: x * y + z rounded once (exact in float64 for |x| < 2**8)."""
    return (np.asarray(x, np.float64) * np.float64(y) + np.asarray(z, np.float64)).astype(F32)


@op("QLinearAdd", since=1, domain=MS)
class QLinearAdd(_QBinary):
    """onnxruntime's x86 kernel (MLAS qladd_avx2.cpp), step for step: r_a = sa / sc, r_b = sb / sc,
    fixed = zc - (r_a * za + r_b * zb); c = fma(a, r_a, fma(b, r_b, fixed)), or with a one-value
    operand s folded into fixed (fixed + s * r_s) first; round half to even, saturate. Not
    (a - za) * r_a + (b - zb) * r_b then + zc: that differs at ties (PP-OCRv4's x + 3)."""

    def value(self, fa, fb, sa, sb, sc):  # the textbook formula (kept for reference)
        return (sa / sc) * fa + (sb / sc) * fb

    def _direct(self, A, B, sa, za, sb, zb, sc, zc, dtype):
        ra, rb = F32(F32(sa) / F32(sc)), F32(F32(sb) / F32(sc))
        fixed = F32(F32(zc) - F32(F32(ra * F32(za)) + F32(rb * F32(zb))))
        fa, fb = np.asarray(A).astype(F32), np.asarray(B).astype(F32)
        if fa.size == 1:  # onnxruntime: LengthA == 1 first, then LengthB == 1
            r = _fma(fb, rb, F32(fixed + F32(fa.reshape(()) * ra)))
            r = r.reshape(np.broadcast_shapes(fa.shape, fb.shape))
        elif fb.size == 1:
            r = _fma(fa, ra, F32(fixed + F32(fb.reshape(()) * rb)))
            r = r.reshape(np.broadcast_shapes(fa.shape, fb.shape))
        else:
            r = _fma(fa, ra, _fma(fb, rb, fixed))
        lo, hi = dtypes.int_range(dtype)
        return np.clip(np.rint(r), lo, hi).astype(dtype)


@op("QLinearMul", since=1, domain=MS)
class QLinearMul(_QBinary):
    def value(self, fa, fb, sa, sb, sc):
        return fa * fb * (sa * sb / sc)


class _QTable(Op):
    fn = None

    def run(self, X, X_scale, X_zero_point, Y_scale, Y_zero_point=None):
        _check_8bit(self.node, X, "X")
        t = _table(X.dtype, _s(X_scale), _zp(X_zero_point), _s(Y_scale), _zp(Y_zero_point),
                   self.fn)
        return _lookup(X, t, X.dtype)


@op("QLinearSigmoid", since=1, domain=MS)
class QLinearSigmoid(_QTable):
    @staticmethod
    def fn(x):
        return (F32(1) / (F32(1) + np.exp(-x))).astype(F32)


@op("QLinearLeakyRelu", since=1, domain=MS)
class QLinearLeakyRelu(_QTable):
    def __init__(self, node, *, alpha=0.01):
        self.node, self.alpha = node, F32(alpha)

    def fn(self, x):
        return np.where(x >= 0, x, x * self.alpha).astype(F32)


@op("QLinearGlobalAveragePool", since=1, domain=MS)
class QLinearGlobalAveragePool(Op):
    """y[n, c] = requantize(sum_hw x - x_zp * HW, x_scale / (y_scale * HW), y_zp)."""

    def __init__(self, node, *, channels_last=0):
        self.node, self.channels_last = node, int(channels_last)

    def run(self, X, x_scale, x_zero_point, y_scale, y_zero_point=None):
        _check_8bit(self.node, X, "X")
        axes = tuple(range(1, X.ndim - 1)) if self.channels_last else tuple(range(2, X.ndim))
        size = int(np.prod([X.shape[a] for a in axes]))
        acc = X.astype(np.int32).sum(axis=axes, keepdims=True, dtype=np.int32)
        acc = acc - np.int32(_zp(x_zero_point) * size)
        scale = _s(x_scale) / (_s(y_scale) * F32(size))
        return Q.requantize(acc, scale, np.asarray(_zp(y_zero_point)), X.dtype)


@op("QLinearAveragePool", since=1, domain=MS)
class QLinearAveragePool(Op):
    def __init__(self, node, *, kernel_shape, auto_pad="NOTSET", ceil_mode=0,
                 count_include_pad=0, pads=None, strides=None, channels_last=0):
        from .pool import AveragePool
        self.node, self.channels_last = node, int(channels_last)
        self.pool = AveragePool(node, kernel_shape=kernel_shape, auto_pad=auto_pad,
                                ceil_mode=ceil_mode, count_include_pad=count_include_pad,
                                pads=pads, strides=strides)

    def run(self, X, x_scale, x_zero_point, y_scale, y_zero_point=None):
        _check_8bit(self.node, X, "X")
        x = dequantize_f32(X, _s(x_scale), _zp(x_zero_point))
        if self.channels_last:
            x = np.moveaxis(x, -1, 1)
        y = self.pool.run(x)
        if self.channels_last:
            y = np.moveaxis(y, 1, -1)
        # onnxruntime's qlinear_pool.cc quantize_value: nearbyintf(y / y_scale + y_zero_point),
        # the zero point added in float before rounding (not MLAS's order), then clamped
        lo, hi = dtypes.int_range(X.dtype)
        q = np.divide(np.asarray(y, F32), _s(y_scale))
        q += F32(_zp(y_zero_point))
        np.rint(q, out=q)
        return np.clip(np.nan_to_num(q, nan=0.0), lo, hi).astype(X.dtype)


@op("QLinearSoftmax", since=1, domain=MS)
class QLinearSoftmax(Op):
    def __init__(self, node, *, axis=None, opset=13):
        # the `opset` attribute (the Softmax's opset: axis semantics) is kept apart from
        # op.opset, which the plan sets to the com.microsoft domain's version
        self.node, self.softmax_opset = node, int(opset)
        self.axis = int(axis) if axis is not None else (1 if self.softmax_opset < 13 else -1)

    def run(self, X, X_scale, x_zero_point, y_scale, y_zero_point=None):
        """onnxruntime's qlinear_softmax.cc, step for step: a 256-entry float32 table of
        exp((i - 255 + shift) * x_scale) (computed in double; shift keeps the row sum finite),
        each row's bytes moved so its max reads entry 255, the row summed in order in float32,
        y = nearbyint(e * floor(1 / y_scale) / sum) + y_zp (x_zero_point plays no part)."""
        _check_8bit(self.node, X, "X")
        X = np.asarray(X)
        if X.size == 0:
            return X.copy()
        axis = self.axis + X.ndim if self.axis < 0 else self.axis
        if self.softmax_opset < 13:  # coerced to 2-D at axis
            rows = X.reshape(int(np.prod(X.shape[:axis], dtype=np.int64)), -1)
            return self._rows(rows, X_scale, y_scale, y_zero_point).reshape(X.shape)
        moved = np.moveaxis(X, axis, -1)
        y = self._rows(moved.reshape(-1, moved.shape[-1]), X_scale, y_scale, y_zero_point)
        return np.ascontiguousarray(np.moveaxis(y.reshape(moved.shape), -1, axis))

    @staticmethod
    def _kernel(x, table, y_scale, y_zero_point):
        """kernels/qlookup_int8.qlookup_softmax_* (this class's NumPy below is its twin)."""
        from ..kernels import available, get
        if x.size < 4096 or not available():
            return None
        k = get("qlookup_softmax_" + ("u8" if x.dtype == np.uint8 else "s8"))
        if k is None:
            return None
        x = np.ascontiguousarray(x)
        x = x if x.flags.writeable else x.copy()
        y = np.empty_like(x)
        k(x, np.ascontiguousarray(table, F32), F32(np.floor(F32(1.0) / _s(y_scale))),
          np.int32(_zp(y_zero_point)), y)
        return y

    @staticmethod
    def _rows(x, X_scale, y_scale, y_zero_point):
        d = x.shape[-1]
        xs = float(_s(X_scale))
        fmax = float(np.finfo(np.float32).max)
        shift = max(0.0, float(np.log(fmax / d)) - 5.0) / xs
        i = np.arange(256, dtype=np.float64)
        table = np.exp((i - 255 + shift) * xs).astype(F32)  # by i; int8 rows index uint8(i-128)
        if x.dtype == np.int8:
            tab = np.empty(256, F32)
            tab[(np.arange(256) - 128) & 255] = table
        y = QLinearSoftmax._kernel(x, table if x.dtype == np.uint8 else tab, y_scale, y_zero_point)
        if y is not None:
            return y
        if x.dtype == np.int8:
            adj = np.int32(127) - x.max(axis=1, keepdims=True).astype(np.int32)
            idx = ((adj + x.astype(np.int32)) & 255).astype(np.uint8)  # uint8(adj + x)
            # onnxruntime's table for int8 is stored at uint8(i - 128): entry j holds i = j+128
            tab = np.empty(256, F32)
            tab[(np.arange(256) - 128) & 255] = table
            e = tab[idx]
        else:
            xmax = x.max(axis=1, keepdims=True).astype(np.int32)
            e = table[x.astype(np.int32) + (255 - xmax)]
        vsum = np.cumsum(e, axis=1, dtype=F32)[:, -1:]  # sequential float32 sum, in order
        ys = F32(np.floor(F32(1.0) / _s(y_scale)))
        zp = _zp(y_zero_point)
        # e * ys can overflow to inf (one-element rows); the int casts then give what x86 gives
        with np.errstate(all="ignore"):
            v = np.rint((e * ys) / vsum).astype(np.int64)
        if x.dtype == np.int8:  # (the onnxruntime release tested saturates at 127)
            return np.clip(v + zp, -128, 127).astype(np.int8)
        q = (v & 0xFFFFFFFF) + zp  # uint32 arithmetic, then min(255)
        return np.minimum(q, 255).astype(np.uint8)


@op("QLinearConcat", since=1, domain=MS)
class QLinearConcat(Op):
    def __init__(self, node, *, axis):
        self.node, self.axis = node, int(axis)

    def run(self, Y_scale, Y_zero_point, *triples):
        if len(triples) % 3:
            raise RuntimeFailure(self.node, "inputs after Y_scale, Y_zero_point must come in "
                                            "(X, X_scale, X_zero_point) triples")
        ys, yz = _s(Y_scale), _zp(Y_zero_point)
        parts = []
        for i in range(0, len(triples), 3):
            x, xs, xz = triples[i:i + 3]
            if _s(xs) == ys and _zp(xz) == yz:
                parts.append(x)
            else:
                t = _table(x.dtype, _s(xs), _zp(xz), ys, yz, lambda v: v)
                parts.append(_lookup(x, t, x.dtype))
        return np.concatenate(parts, axis=self.axis)


@op("QGemm", since=1, domain=MS)
class QGemm(Op):
    """y = alpha * (A' - a_zp) @ (B' - b_zp) (+ C), requantised when y_scale is given."""

    def __init__(self, node, *, alpha=1.0, transA=0, transB=0):
        self.node, self.alpha, self.transA, self.transB = node, F32(alpha), transA, transB

    def run(self, A, a_scale, a_zero_point, B, b_scale, b_zero_point, C=None, y_scale=None,
            y_zero_point=None):
        a = A.T if self.transA else A
        b = B.T if self.transB else B
        bzp = b_zero_point
        acc = _matmul_integer(self.node, a, b, a_zero_point, bzp)
        bs = np.asarray(b_scale, F32).reshape(-1)
        mult = self.alpha * _s(a_scale) * (bs if bs.size > 1 else bs[0])
        if y_scale is None:
            y = acc.astype(F32) * mult
            return y + C.astype(F32) if C is not None else y
        if C is not None:
            acc = acc + C.astype(np.int32)
        out = np.asarray(y_zero_point).dtype if y_zero_point is not None else np.dtype(np.uint8)
        return Q.requantize(acc, mult / _s(y_scale), y_zero_point, out)


def _int_to_float(node, A, B, a_scale, b_scale, a_zp, b_zp, bias):
    acc = _matmul_integer(node, A, B, a_zp, b_zp)
    bs = np.asarray(b_scale, F32).reshape(-1)
    y = acc.astype(F32) * (_s(a_scale) * (bs if bs.size > 1 else bs[0]))
    return y + bias.astype(F32) if bias is not None else y


@op("MatMulIntegerToFloat", since=1, domain=MS)
class MatMulIntegerToFloat(Op):
    def run(self, A, B, a_scale, b_scale, a_zero_point=None, b_zero_point=None, bias=None):
        return _int_to_float(self.node, A, B, a_scale, b_scale, a_zero_point, b_zero_point, bias)


@op("DynamicQuantizeMatMul", since=1, domain=MS)
class DynamicQuantizeMatMul(Op):
    def run(self, A, B, b_scale, b_zero_point=None, bias=None):
        qa, sa, za = DynamicQuantizeLinear(self.node).run(A)
        return _int_to_float(self.node, qa, B, sa, b_scale, za, b_zero_point, bias)


@op("QuantizeLinear", since=1, domain=MS)
class QuantizeLinearMS(QuantizeLinear):
    pass


@op("DequantizeLinear", since=1, domain=MS)
class DequantizeLinearMS(DequantizeLinear):
    pass

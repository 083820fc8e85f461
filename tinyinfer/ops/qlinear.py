"""QLinearMatMul, MatMulInteger, QLinearConv — integer products with an exact int32 accumulator.

    MatMulInteger:  y = (a - a_zero_point) @ (b - b_zero_point)                       int32
    QLinearMatMul:  y = requantize((a - a_zp) @ (b - b_zp), a_scale * b_scale / y_scale, y_zp)
    QLinearConv:    y = requantize(Conv(x - x_zp, w - w_zp) + B, x_scale * w_scale / y_scale, y_zp)

    a: (..., M, K)  b: (..., K, N)  -> (..., M, N)  (NumPy matmul broadcasting)
    a_zero_point: scalar or (M,) (per row); b_zero_point / b_scale: scalar or (N,) (per column)
    x: (N, C, D...)  w: (M, C/group, k...)  w_scale, w_zero_point: scalar or (M,)  B: (M,) int32
requantize (quant_common) rounds half to even and saturates to y_zero_point's type.
"""
from __future__ import annotations

import numpy as np

from .. import dtypes
from ..errors import RuntimeFailure
from ..registry import Op, op
from . import _window as W
from . import quant_common as Q
from .conv import _ConvBase, conv_nd

_INT8 = (np.dtype(np.int8), np.dtype(np.uint8))
PLANE_MAX_M = 16      # group-1 stride-1 convs with at most this many output channels and
PLANE_MIN_HW = 4096   # at least this many input positions run on the plane kernel


def _check_8bit(node, arr, what):
    if np.asarray(arr).dtype not in _INT8:
        raise RuntimeFailure(node, f"{what} is {dtypes.name(np.asarray(arr).dtype)}; expected "
                                   "int8 or uint8")


def _row_zero_point(node, zp, a):
    """a_zero_point: scalar, or one per row of a (M,) -> shaped (M, 1)."""
    zp = Q.as_int32(zp)
    if zp.size == 1:
        return zp.reshape(())
    m = a.shape[-2] if a.ndim >= 2 else 1
    if zp.ndim != 1 or zp.size != m:
        raise RuntimeFailure(node, f"a_zero_point has shape {list(zp.shape)}; expected a scalar "
                                   f"or ({m},), one per row of a")
    return zp.reshape(m, 1)


def _col_param(node, p, b, what, as_int=True):
    """b_zero_point / b_scale: scalar, or one per column of b (N,)."""
    p = np.asarray(p)
    if p.size == 1:
        p = p.reshape(())
    else:
        n = b.shape[-1]
        if p.shape[-1] != n:
            raise RuntimeFailure(node, f"{what} has shape {list(p.shape)}; expected a scalar or "
                                       f"({n},), one per column of b")
        if p.ndim >= 2:  # (..., 1, N) batch layouts broadcast as given
            pass
    return Q.as_int32(p) if as_int else p


def _matmul_integer(node, a, b, a_zp, b_zp) -> np.ndarray:
    a32, b32 = Q.as_int32(a), Q.as_int32(b)
    if a32.ndim == 0 or b32.ndim == 0:
        raise RuntimeFailure(node, "MatMul operands must have at least one dimension")
    if a_zp is not None:
        a32 = a32 - _row_zero_point(node, a_zp, a32 if a32.ndim >= 2 else a32[None])
    if b_zp is not None:
        b32 = b32 - _col_param(node, b_zp, b32 if b32.ndim >= 2 else b32[:, None], "b_zero_point")
    if a32.shape[-1] != (b32.shape[-2] if b32.ndim >= 2 else b32.shape[0]):
        raise RuntimeFailure(node, f"cannot multiply shapes {list(a.shape)} and {list(b.shape)}: "
                                   "inner dimensions differ")
    return Q.int_matmul(a32, b32)


@op("MatMulInteger", since=10)
class MatMulInteger(Op):
    """y = (a - a_zero_point) @ (b - b_zero_point), int32; see the module docstring."""

    def run(self, a, b, a_zero_point=None, b_zero_point=None):
        _check_8bit(self.node, a, "a")
        _check_8bit(self.node, b, "b")
        return _matmul_integer(self.node, a, b, a_zero_point, b_zero_point)


@op("QLinearMatMul", since=10)
class QLinearMatMul(Op):
    """y = requantize((a - a_zp) @ (b - b_zp), a_scale * b_scale / y_scale, y_zp)."""

    _hit = None  # (a dtype, the other inputs, kernel arguments) of the last fast run

    def run(self, a, a_scale, a_zero_point, b, b_scale, b_zero_point, y_scale, y_zero_point):
        key = (a_scale, a_zero_point, b, b_scale, b_zero_point, y_scale, y_zero_point)
        hit = self._hit
        if hit is not None and isinstance(a, np.ndarray) and a.dtype == hit[0] and a.ndim >= 2 \
                and a.shape[-1] == hit[2][1].k and all(p is q for p, q in zip(hit[1], key)):
            return self._gemm(a, *hit[2])  # the same constant parameters (checked last time)
        node = self.node
        for what, s in (("a_scale", a_scale), ("b_scale", b_scale), ("y_scale", y_scale)):
            Q.check_scale(node, s, what)
        for what, zp, x in (("a_zero_point", a_zero_point, a), ("b_zero_point", b_zero_point, b)):
            if zp is not None and np.asarray(zp).dtype != np.asarray(x).dtype:
                raise RuntimeFailure(node, f"{what} is {dtypes.name(np.asarray(zp).dtype)} but its "
                                           f"input is {dtypes.name(np.asarray(x).dtype)}")
        if np.asarray(a_scale).size != 1:
            raise RuntimeFailure(node, "a_scale must be a scalar (per tensor)")
        b_scale = _col_param(node, b_scale, np.asarray(b), "b_scale", as_int=False)
        multiplier = np.asarray(a_scale).reshape(()) * b_scale / np.asarray(y_scale).reshape(())
        out = np.asarray(y_zero_point).dtype if y_zero_point is not None else np.asarray(a).dtype
        y = self._fast(a, a_zero_point, b, b_zero_point, multiplier, y_zero_point, out, key)
        if y is not None:
            return y
        acc = _matmul_integer(node, a, b, a_zero_point, b_zero_point)
        return Q.requantize(acc, multiplier, y_zero_point, out)

    _bpack = (None, None, None)

    def _fast(self, a, a_zp, b, b_zp, multiplier, y_zp, out, key=None):
        """(..., R, K) @ (K, N) on the Numba GEMM (kernels/qlinear_int8.py), else None."""
        from ..kernels import available, impl_choice
        if impl_choice() == "reference" or not available():
            return None
        a, b = np.asarray(a), np.asarray(b)
        if (a.ndim < 2 or b.ndim != 2 or a.dtype not in _INT8 or b.dtype not in _INT8
                or out not in _INT8 or a.shape[-1] != b.shape[0] or a.shape[-1] > 1 << 15
                or (a_zp is not None and np.size(a_zp) != 1)
                or (y_zp is not None and np.size(y_zp) != 1)
                or (b_zp is not None and np.size(b_zp) not in (1, b.shape[1]))
                or np.size(multiplier) not in (1, b.shape[1])):
            return None
        from ..kernels import qlinear_int8 as K
        pb, pz, packed = self._bpack
        if pb is not b or pz is not b_zp:
            packed = K.pack_weights(b.T, b_zp)  # column n of b as weight row n
            self._bpack = (b, b_zp, packed)
        n = b.shape[1]
        mult = np.array(np.broadcast_to(np.asarray(multiplier, np.float32).reshape(-1), (n,)))
        yz = 0 if y_zp is None else int(np.asarray(y_zp).reshape(-1)[0])
        az = 0 if a_zp is None else int(np.asarray(a_zp).reshape(-1)[0])
        bias = packed.bias_for(np.zeros(n, np.int32), az, a.dtype)
        args = (a_zp, packed, bias, mult, yz, out)
        if key is not None:
            self._hit = (a.dtype, key, args)
        return self._gemm(a, *args)

    @staticmethod
    def _gemm(a, a_zp, packed, bias, mult, yz, out):
        from ..kernels import qlinear_int8 as K
        n = packed.m
        rows = a.reshape(-1, a.shape[-1])
        ap = K.pack_cols(packed, rows, a_zp)  # (RB, KU, W): rows of a as columns
        yt = np.empty((n, rows.shape[0]), out)
        K.gemm(packed, ap, bias, mult, yz, yt)  # (N, R), transposed back below
        return np.ascontiguousarray(yt.T).reshape(a.shape[:-1] + (n,))


@op("QLinearConv", since=10)
class QLinearConv(_ConvBase):
    """y = requantize(Conv(x - x_zp, w - w_zp) + B, x_scale * w_scale / y_scale, y_zp).

        x: (N, C, D...) (u)int8   w: (M, C/group, k...) (u)int8   B: (M,) int32
        w_scale, w_zero_point: scalar or (M,)   ->   y: (N, M, O...) of y_zero_point's type
    """

    def prepare(self, x, x_scale, x_zero_point, w, *rest):
        W.check_spatial_input(self.node, x.shape)
        self.check_weights(x.shape, w.shape)
        from ..kernels import qlinear_int8
        self._variant = None
        if w.shape is not None and all(isinstance(d, int) for d in w.shape):
            self._variant = qlinear_int8.conv_variant(w.shape, self.group, x.shape)
            # few output channels, stride 1, large planes (checked per run): direct plane runs
            # beat im2col packing, whose byte scatter dominates (db_det's 16 -> 16 3x3 head)
            self._plane_ok = (self._variant == "qconv2d_im2col" and len(w.shape) == 4
                              and w.shape[0] <= PLANE_MAX_M and w.shape[2] * w.shape[3] > 1
                              and not any(s != 1 for s in (self.strides_attr or ())))
        self._wpack = (None, None, None)  # (w, w_zero_point, packed) — packed once per weight
        self._wpack_plane = (None, None, None)  # the same for the plane kernel (_plane_ok)

    _hit = None  # (x shape, x dtype, the other inputs, kernel arguments) of the last fast run

    def _fast(self, x, x_zero_point, w, w_zero_point, bias, multiplier, y_zero_point, out,
              table=None, key=None):
        """The Numba kernels (kernels/qlinear_int8.py), or None where they do not apply."""
        from ..kernels import qlinear_int8 as K
        v = getattr(self, "_variant", None)
        if v is None or x.ndim != 4 or x.dtype not in _INT8 or w.dtype not in _INT8 \
                or out not in _INT8:
            return None
        win = self.geometry(x.shape, w.shape)  # checks channels, group and the size budget
        plane = getattr(self, "_plane_ok", False) and x.shape[2] * x.shape[3] >= PLANE_MIN_HW
        if plane:
            v = "qconv2d_grouped"
        pw, pz, packed = self._wpack_plane if plane else self._wpack
        if pw is not w or pz is not w_zero_point:
            m = w.shape[0]
            if v == "qconv2d_grouped":
                packed = K.pack_grouped(w, w_zero_point)
            elif v == "qconv2d_dw":
                zp = 0 if w_zero_point is None else np.asarray(w_zero_point).astype(np.int32)
                zp = zp.reshape(-1, 1, 1) if np.size(zp) > 1 else np.reshape(zp, ())
                packed = (w.reshape(m, w.shape[2], w.shape[3]).astype(np.int32) - zp
                          ).astype(np.int16)
            else:
                packed = K.pack_weights(w.reshape(m, -1), w_zero_point)
            if plane:
                self._wpack_plane = (w, w_zero_point, packed)
            else:
                self._wpack = (w, w_zero_point, packed)
        m = w.shape[0]
        b = np.zeros(m, np.int32) if bias is None else np.array(bias, np.int32).reshape(-1)
        mult = np.array(np.broadcast_to(np.asarray(multiplier, np.float32).reshape(-1), (m,)))
        xz = 0 if x_zero_point is None else int(np.asarray(x_zero_point).reshape(-1)[0])
        yz = 0 if y_zero_point is None else int(np.asarray(y_zero_point).reshape(-1)[0])
        args = (v, xz, packed, w.shape, b, mult, yz, out, win)
        y = K.qconv2d(v, x, xz, packed, w.shape, b, mult, yz, out, win, table)
        if y is not None and key is not None:
            self._hit = (x.shape, x.dtype, key, args)
        return y

    def run(self, x, x_scale, x_zero_point, w, w_scale, w_zero_point, y_scale, y_zero_point,
            B=None):
        return self._conv(x, x_scale, x_zero_point, w, w_scale, w_zero_point, y_scale,
                          y_zero_point, B)[0]

    def _conv(self, x, x_scale, x_zero_point, w, w_scale, w_zero_point, y_scale, y_zero_point,
              B=None, table=None):
        """(y, True) when a kernel applied `table` (QLinearConvLookup) to y, else (y, False)."""
        key = (x_scale, x_zero_point, w, w_scale, w_zero_point, y_scale, y_zero_point, B)
        hit = self._hit
        if hit is not None and hit[0] == x.shape and hit[1] == x.dtype and all(
                a is b for a, b in zip(hit[2], key)):
            # the same constant parameters as last run (checked then): straight to the kernel
            from ..kernels import qlinear_int8 as K
            v, xz, packed, w_shape, b, mult, yz, out, win = hit[3]
            y = K.qconv2d(v, x, xz, packed, w_shape, b, mult, yz, out, win, table)
            if y is not None:
                return y, table is not None
        node = self.node
        for what, s in (("x_scale", x_scale), ("w_scale", w_scale), ("y_scale", y_scale)):
            Q.check_scale(node, s, what)
        m = w.shape[0]
        win = self.geometry(x.shape, w.shape)
        if x_zero_point is not None and np.size(x_zero_point) != 1:
            raise RuntimeFailure(node, "x_zero_point must be a scalar (per tensor)")
        if w_zero_point is not None and np.size(w_zero_point) not in (1, m):
            raise RuntimeFailure(node, f"w_zero_point has {np.size(w_zero_point)} values; "
                                       f"expected 1 or one per output channel ({m})")
        ws = np.asarray(w_scale).reshape(-1)
        if ws.size not in (1, m):
            raise RuntimeFailure(node, f"w_scale has {ws.size} values; expected 1 or one per "
                                       f"output channel ({m})")
        if B is not None and np.size(B) != m:
            raise RuntimeFailure(node, f"bias B has {np.size(B)} values; expected {m}")
        out = np.asarray(y_zero_point).dtype if y_zero_point is not None else x.dtype
        if y_zero_point is None or np.size(y_zero_point) == 1:
            mult = np.asarray(x_scale).reshape(()) * ws / np.asarray(y_scale).reshape(())
            y = self._fast(x, x_zero_point, w, w_zero_point, B, mult, y_zero_point, out, table,
                           key)
            if y is not None:
                return y, table is not None
        xf = x.astype(np.float64)
        if x_zero_point is not None:
            xf -= float(np.asarray(x_zero_point).reshape(-1)[0])
        wf = w.astype(np.float64)
        per_m = (-1,) + (1,) * (w.ndim - 1)
        if w_zero_point is not None:
            wf -= np.asarray(w_zero_point, np.float64).reshape(-1).reshape(per_m)
        # exact: every partial sum of (u)int8 products is an integer far below 2**53
        acc = np.rint(conv_nd(W.pad_spatial(xf, win.begin, win.end), wf, win, self.group))
        acc = acc.astype(np.int64).astype(np.int32)  # (N, M, O...)
        if B is not None:
            acc = acc + np.asarray(B).astype(np.int32).reshape((1, m) + (1,) * (acc.ndim - 2))
        ws = ws.reshape(()) if ws.size == 1 else ws.reshape((1, m) + (1,) * (acc.ndim - 2))
        multiplier = np.asarray(x_scale).reshape(()) * ws / np.asarray(y_scale).reshape(())
        return Q.requantize(acc, multiplier, y_zero_point, out), False


@op("QLinearConvLookup", domain="ai.tinyinfer")
class QLinearConvLookup(QLinearConv):
    """QLinearConv followed by a QLinearLookup of its output bytes, in one pass:

        y = table[byte(QLinearConv(x, ..., B))]       table: (256,) (u)int8, y of its type

    passes/fuse_qlut.py makes it where a lookup is the conv's only reader (PP-OCRv4: the affine,
    HardSwish, affine between two convolutions); the kernels index the table in their epilogue.
    """

    def prepare(self, x, x_scale, x_zero_point, w, *rest):
        super().prepare(x, x_scale, x_zero_point, w)

    def run(self, x, x_scale, x_zero_point, w, w_scale, w_zero_point, y_scale, y_zero_point,
            B=None, table=None):
        t = np.asarray(table)
        if t.shape != (256,) or t.dtype not in _INT8:
            raise RuntimeFailure(self.node, f"expected a (256,) int8/uint8 table; got "
                                            f"{dtypes.name(t.dtype)} {list(t.shape)}")
        y, looked_up = self._conv(x, x_scale, x_zero_point, w, w_scale, w_zero_point, y_scale,
                                  y_zero_point, B, t)
        return y if looked_up else np.take(t, y.view(np.uint8))

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

    def run(self, a, a_scale, a_zero_point, b, b_scale, b_zero_point, y_scale, y_zero_point):
        node = self.node
        for what, s in (("a_scale", a_scale), ("b_scale", b_scale), ("y_scale", y_scale)):
            Q.check_scale(node, s, what)
        for what, zp, x in (("a_zero_point", a_zero_point, a), ("b_zero_point", b_zero_point, b)):
            if zp is not None and np.asarray(zp).dtype != np.asarray(x).dtype:
                raise RuntimeFailure(node, f"{what} is {dtypes.name(np.asarray(zp).dtype)} but its "
                                           f"input is {dtypes.name(np.asarray(x).dtype)}")
        acc = _matmul_integer(node, a, b, a_zero_point, b_zero_point)
        if np.asarray(a_scale).size != 1:
            raise RuntimeFailure(node, "a_scale must be a scalar (per tensor)")
        b_scale = _col_param(node, b_scale, np.asarray(b), "b_scale", as_int=False)
        multiplier = np.asarray(a_scale).reshape(()) * b_scale / np.asarray(y_scale).reshape(())
        out = np.asarray(y_zero_point).dtype if y_zero_point is not None else np.asarray(a).dtype
        return Q.requantize(acc, multiplier, y_zero_point, out)


@op("QLinearConv", since=10)
class QLinearConv(_ConvBase):
    """y = requantize(Conv(x - x_zp, w - w_zp) + B, x_scale * w_scale / y_scale, y_zp).

        x: (N, C, D...) (u)int8   w: (M, C/group, k...) (u)int8   B: (M,) int32
        w_scale, w_zero_point: scalar or (M,)   ->   y: (N, M, O...) of y_zero_point's type
    """

    def prepare(self, x, x_scale, x_zero_point, w, *rest):
        W.check_spatial_input(self.node, x.shape)
        self.check_weights(x.shape, w.shape)

    def run(self, x, x_scale, x_zero_point, w, w_scale, w_zero_point, y_scale, y_zero_point,
            B=None):
        node = self.node
        for what, s in (("x_scale", x_scale), ("w_scale", w_scale), ("y_scale", y_scale)):
            Q.check_scale(node, s, what)
        m = w.shape[0]
        win = self.geometry(x.shape, w.shape)
        xf = x.astype(np.float64)
        if x_zero_point is not None:
            if np.size(x_zero_point) != 1:
                raise RuntimeFailure(node, "x_zero_point must be a scalar (per tensor)")
            xf -= float(np.asarray(x_zero_point).reshape(-1)[0])
        wf = w.astype(np.float64)
        per_m = (-1,) + (1,) * (w.ndim - 1)
        if w_zero_point is not None:
            zp = np.asarray(w_zero_point, np.float64).reshape(-1)
            if zp.size not in (1, m):
                raise RuntimeFailure(node, f"w_zero_point has {zp.size} values; expected 1 or "
                                           f"one per output channel ({m})")
            wf -= zp.reshape(per_m)
        ws = np.asarray(w_scale).reshape(-1)
        if ws.size not in (1, m):
            raise RuntimeFailure(node, f"w_scale has {ws.size} values; expected 1 or one per "
                                       f"output channel ({m})")
        # exact: every partial sum of (u)int8 products is an integer far below 2**53
        acc = np.rint(conv_nd(W.pad_spatial(xf, win.begin, win.end), wf, win, self.group))
        acc = acc.astype(np.int64).astype(np.int32)  # (N, M, O...)
        if B is not None:
            b = np.asarray(B)
            if b.size != m:
                raise RuntimeFailure(node, f"bias B has {b.size} values; expected {m}")
            acc = acc + b.astype(np.int32).reshape((1, m) + (1,) * (acc.ndim - 2))
        ws = ws.reshape(()) if ws.size == 1 else ws.reshape((1, m) + (1,) * (acc.ndim - 2))
        multiplier = np.asarray(x_scale).reshape(()) * ws / np.asarray(y_scale).reshape(())
        out = np.asarray(y_zero_point).dtype if y_zero_point is not None else x.dtype
        return Q.requantize(acc, multiplier, y_zero_point, out)

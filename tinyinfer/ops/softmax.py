"""Softmax, LogSoftmax, Hardmax along an axis.

    Softmax(x)    = e^(x - max) / Σ e^(x - max)
    LogSoftmax(x) = (x - max) - ln Σ e^(x - max)
    Hardmax(x)    = 1 at the first maximum, 0 elsewhere

Opset 1-12 (`Softmax_1`): x is coerced to 2-D, (prod(shape[:axis]), prod(shape[axis:])), and the
op works over the second dimension; axis defaults to 1.
Opset 13+ (`Softmax_13`): the op works over the single axis `axis`, default -1.
"""
from __future__ import annotations

import numpy as np

from ..errors import ModelError, RuntimeFailure
from ..registry import Op, op
from ._common import normalize_axis
from ._floatcodec import decode, encode


def softmax(f, axis):
    m = np.max(f, axis=axis, keepdims=True)
    e = np.exp(f - m)
    return e / np.sum(e, axis=axis, keepdims=True)


def log_softmax(f, axis):
    s = f - np.max(f, axis=axis, keepdims=True)
    return s - np.log(np.sum(np.exp(s), axis=axis, keepdims=True))


def hardmax(f, axis):
    idx = np.expand_dims(np.argmax(f, axis=axis), axis)
    y = np.zeros_like(f)
    np.put_along_axis(y, idx, 1, axis=axis)
    return y


class _AxisOp(Op):
    fn = None
    coerce_2d = False

    def __init__(self, node, *, axis: int = -1):
        self.node, self.axis = node, int(axis)

    def prepare(self, x):
        if x.shape is not None:
            try:
                normalize_axis(self.axis, len(x.shape), self.node)
            except RuntimeFailure as e:  # known before running: the model is wrong
                raise ModelError(str(e)) from None

    def run(self, x):
        f, tag = decode(x)
        axis = normalize_axis(self.axis, f.ndim, self.node)
        if f.size == 0:
            return x.copy()
        with np.errstate(all="ignore"):
            if self.coerce_2d:
                n = int(np.prod(f.shape[:axis], dtype=np.int64))
                y = type(self).fn(f.reshape(n, -1), 1).reshape(f.shape)  # (N, D) over D
            else:
                y = type(self).fn(f, axis)
        return encode(y.astype(f.dtype, copy=False), tag)


@op("Softmax", since=1)
class Softmax_1(_AxisOp):
    """Softmax over the flattened trailing dims shape[axis:] (x coerced to 2-D)."""
    fn, coerce_2d = staticmethod(softmax), True

    def __init__(self, node, *, axis: int = 1):
        self.node, self.axis = node, int(axis)


@op("Softmax", since=13)
class Softmax_13(_AxisOp):
    """Softmax over one axis (default -1)."""
    fn = staticmethod(softmax)


@op("LogSoftmax", since=1)
class LogSoftmax_1(Softmax_1):
    """LogSoftmax over the flattened trailing dims shape[axis:] (x coerced to 2-D)."""
    fn = staticmethod(log_softmax)


@op("LogSoftmax", since=13)
class LogSoftmax_13(_AxisOp):
    """LogSoftmax over one axis (default -1)."""
    fn = staticmethod(log_softmax)


@op("Hardmax", since=1)
class Hardmax_1(Softmax_1):
    """Hardmax over the flattened trailing dims shape[axis:] (x coerced to 2-D)."""
    fn = staticmethod(hardmax)


@op("Hardmax", since=13)
class Hardmax_13(_AxisOp):
    """Hardmax over one axis (default -1)."""
    fn = staticmethod(hardmax)

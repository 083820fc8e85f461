"""Reductions over a set of axes: ReduceSum Mean Max Min Prod L1 L2 LogSum LogSumExp SumSquare.

    x: (d0, ..., dn), axes ⊆ [0, n]  ->  y with the axes removed (keepdims=0) or kept as 1

    Sum Σx   Mean Σx/n   Max   Min   Prod Πx   L1 Σ|x|   L2 √Σx²   LogSum ln Σx
    LogSumExp ln Σe^x   SumSquare Σx²

`axes` is an attribute up to opset 17 (ReduceSum: 12) and an optional input from opset 18
(ReduceSum: 13). No axes means every axis, unless noop_with_empty_axes=1: then y = x.
Reducing an empty set gives the identity of the reduction: 0 for sums, 1 for Prod, -inf for
LogSum/LogSumExp, the lowest value for Max and the highest for Min.
"""
from __future__ import annotations

import numpy as np

from ..errors import ModelError, RuntimeFailure
from ..registry import Op, op
from ._common import as_int_list, normalize_axes
from ._floatcodec import decode, encode


def _lowest(dtype):
    if dtype.kind == "b":
        return False
    return -np.inf if dtype.kind == "f" else np.iinfo(dtype).min


def _highest(dtype):
    if dtype.kind == "b":
        return True
    return np.inf if dtype.kind == "f" else np.iinfo(dtype).max


def _logsumexp(f, axis, keepdims):
    if f.size == 0:
        return np.log(np.sum(np.exp(f), axis=axis, keepdims=keepdims))
    m = np.max(f, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)
    s = np.log(np.sum(np.exp(f - m), axis=axis, keepdims=True)) + m
    return s if keepdims else np.squeeze(s, axis=axis)


REDUCERS = {
    "ReduceSum": lambda f, ax, k: np.sum(f, axis=ax, keepdims=k),
    "ReduceMean": lambda f, ax, k: np.mean(f, axis=ax, keepdims=k),
    "ReduceMax": lambda f, ax, k: np.max(f, axis=ax, keepdims=k, initial=_lowest(f.dtype)),
    "ReduceMin": lambda f, ax, k: np.min(f, axis=ax, keepdims=k, initial=_highest(f.dtype)),
    "ReduceProd": lambda f, ax, k: np.prod(f, axis=ax, keepdims=k),
    "ReduceL1": lambda f, ax, k: np.sum(np.abs(f), axis=ax, keepdims=k),
    "ReduceL2": lambda f, ax, k: np.sqrt(np.sum(np.square(f.astype(np.float64)), axis=ax, keepdims=k)),
    "ReduceLogSum": lambda f, ax, k: np.log(np.sum(f, axis=ax, keepdims=k)),
    "ReduceLogSumExp": _logsumexp,
    "ReduceSumSquare": lambda f, ax, k: np.sum(np.square(f), axis=ax, keepdims=k),
}


class _Reduce(Op):
    """Shared run: resolve axes, reduce in x's dtype (float64 where precision needs it)."""

    axes_from_input = False

    def __init__(self, node, *, axes=None, keepdims: int = 1, noop_with_empty_axes: int = 0):
        self.node = node
        self.axes = None if axes is None else [int(a) for a in axes]
        self.keepdims = bool(keepdims)
        self.noop = bool(noop_with_empty_axes)

    def prepare(self, x, axes=None):
        """Check axes known before running (attribute or constant input) against x's rank."""
        given = as_int_list(axes.const) if self.axes_from_input and axes is not None else self.axes
        if x.shape is not None and given:
            try:
                normalize_axes(given, len(x.shape), self.node)
            except RuntimeFailure as e:
                raise ModelError(str(e)) from None

    def run(self, x, axes=None):
        axes = as_int_list(axes) if self.axes_from_input else self.axes
        f, tag = decode(x)
        if not axes:
            if self.noop:
                return x
            axes = list(range(f.ndim))
        axes = tuple(normalize_axes(axes, f.ndim, self.node))
        with np.errstate(all="ignore"):
            y = REDUCERS[self.node.op_type](f, axes, self.keepdims)
        return encode(np.asarray(y).astype(f.dtype, copy=False), tag)


class _ReduceInput(_Reduce):
    axes_from_input = True

    def __init__(self, node, *, keepdims: int = 1, noop_with_empty_axes: int = 0):
        super().__init__(node, keepdims=keepdims, noop_with_empty_axes=noop_with_empty_axes)


def _register(name: str, input_since: int) -> None:
    doc = __doc__.splitlines()[0]
    attr = type(name, (_Reduce,), {"__doc__": f"{name} with axes as an attribute. {doc}"})
    inp = type(name, (_ReduceInput,), {"__doc__": f"{name} with axes as an input. {doc}"})
    op(name, since=1)(attr)
    op(name, since=input_since)(inp)


for _name in REDUCERS:
    _register(_name, 13 if _name == "ReduceSum" else 18)

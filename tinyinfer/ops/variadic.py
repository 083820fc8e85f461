"""Variadic element-wise ops over 1..N inputs, all broadcast together: Max, Min, Sum, Mean.

    y = x0 ∘ x1 ∘ ... ∘ x(n-1)      (Mean: the Sum divided by n), y.dtype == x0.dtype

Max/Min propagate NaN, as std::max-free IEEE comparisons in onnxruntime do.
"""
from __future__ import annotations

from functools import reduce

import numpy as np

from ..registry import op
from ._floatcodec import decode, encode


def _fold(xs, fn):
    """fn folded over the inputs left to right, in the first input's dtype."""
    fs = [decode(x)[0] for x in xs]
    y = reduce(fn, fs[1:], fs[0])
    return encode(np.asarray(y).astype(fs[0].dtype, copy=False), decode(xs[0])[1])


@op("Max", since=1)
def Max(*xs):
    """y = element-wise maximum of all inputs."""
    return _fold(xs, np.maximum)


@op("Min", since=1)
def Min(*xs):
    """y = element-wise minimum of all inputs."""
    return _fold(xs, np.minimum)


@op("Sum", since=1)
def Sum(*xs):
    """y = x0 + x1 + ... (broadcast)."""
    return _fold(xs, np.add)


@op("Mean", since=1)
def Mean(*xs):
    """y = (x0 + x1 + ...) / n (broadcast)."""
    fs = [decode(x)[0] for x in xs]
    total = reduce(np.add, fs[1:], fs[0])
    return encode(np.asarray(total / len(xs)).astype(fs[0].dtype), decode(xs[0])[1])

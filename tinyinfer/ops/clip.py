"""Clip — y = min(max(x, lo), hi), same shape and dtype as x.

Opset 1-10 (`Clip_1`): lo and hi are the attributes min / max (default: the float range).
Opset 11+ (`Clip_11`): lo and hi are optional scalar inputs; absent means unbounded.
When lo > hi every element becomes hi (min is applied last), as the spec says.
"""
from __future__ import annotations

import numpy as np

from ..errors import RuntimeFailure
from ..registry import Op, op
from ._floatcodec import decode, encode

_FLT_MAX = float(np.finfo(np.float32).max)


def clip(x, lo, hi):
    f, tag = decode(x)
    y = f
    if lo is not None:
        y = np.maximum(y, np.asarray(lo).astype(f.dtype))
    if hi is not None:
        y = np.minimum(y, np.asarray(hi).astype(f.dtype))
    return encode(np.asarray(y, dtype=f.dtype), tag)


@op("Clip", since=1)
def Clip_1(x, *, min: float = -_FLT_MAX, max: float = _FLT_MAX):  # noqa: A002 - ONNX names
    """y = min(max(x, min), max) with the bounds as attributes."""
    return clip(x, min, max)


@op("Clip", since=11)
class Clip_11(Op):
    """y = min(max(x, lo), hi) with optional scalar inputs lo, hi."""

    def run(self, x, lo=None, hi=None):
        for name, b in (("min", lo), ("max", hi)):
            if b is not None and np.size(b) != 1:
                raise RuntimeFailure(self.node, f"input '{name}' must be a scalar, "
                                                f"got shape {tuple(np.shape(b))}")
        lo = None if lo is None else decode(lo)[0].reshape(())
        hi = None if hi is None else decode(hi)[0].reshape(())
        return clip(x, lo, hi)

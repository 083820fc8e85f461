"""LayerNormalization and RMSNormalization — normalise over the trailing axes from `axis` on.

    x: (D0..Dr-1)   normalised axes A = axis..r-1   scale, B: broadcastable to x.shape[axis:]
    LayerNormalization  mean = E_A[x],  inv = 1 / sqrt(E_A[(x - mean)^2] + epsilon)
                        y = (x - mean) * inv * scale + B
                        outputs y, Mean, InvStdDev   (the last two shaped D0..Daxis-1, 1..1)
    RMSNormalization    y = x / sqrt(E_A[x^2] + epsilon) * scale

Statistics are computed in stash_type (1 = float32; float64 inputs stay float64), Mean and
InvStdDev carry that type, and y has x's type.
"""
from __future__ import annotations

import numpy as np

from .. import dtypes
from ..errors import ModelError, RuntimeFailure
from ..registry import Op, op
from ._common import normalize_axis


def _stash(node, stash_type) -> np.dtype:
    try:
        dt = np.dtype(dtypes.to_numpy(int(stash_type)))
    except (KeyError, ValueError, TypeError):
        dt = None
    if dt is None or dt.kind != "f" or dt == np.float16:
        raise ModelError(node, f"stash_type={stash_type} is not supported; expected 1 (float) "
                               "or 11 (double)")
    return dt


class _TrailingNorm(Op):
    def __init__(self, node, *, axis=-1, epsilon=1e-5, stash_type=1):
        self.node = node
        self.axis = int(axis)
        self.epsilon = float(epsilon)
        self.stash = _stash(node, stash_type)

    def prepare(self, x, *rest):
        if x.shape is not None:
            normalize_axis(self.axis, len(x.shape), self.node)

    def setup(self, x):
        """(axes to reduce, compute dtype, x in that dtype)."""
        axis = normalize_axis(self.axis, x.ndim, self.node)
        ct = np.promote_types(self.stash, x.dtype) if x.dtype.kind == "f" else self.stash
        return tuple(range(axis, x.ndim)), ct, x.astype(ct, copy=False)

    def affine(self, y, p, x, ct, what):
        if p is None:
            return y
        try:
            return y * np.asarray(p).astype(ct, copy=False) if what == "Scale" else \
                y + np.asarray(p).astype(ct, copy=False)
        except ValueError:
            raise RuntimeFailure(self.node, f"{what} of shape {list(np.shape(p))} does not "
                                            f"broadcast to X of shape {list(x.shape)}") from None


@op("LayerNormalization", since=17)
class LayerNormalization(_TrailingNorm):
    """LayerNormalization — y = (x - mean) / sqrt(var + epsilon) * scale + B over axes axis..

        x: (D0..Dr-1)  scale, B: x.shape[axis:]  ->  y: x.shape, Mean, InvStdDev: (D0..Daxis-1, 1..)
    """

    def run(self, x, scale, b=None):
        axes, ct, xf = self.setup(x)
        mean = xf.mean(axis=axes, keepdims=True)
        d = xf - mean
        inv = 1.0 / np.sqrt((d * d).mean(axis=axes, keepdims=True) + ct.type(self.epsilon))
        y = self.affine(self.affine(d * inv, scale, x, ct, "Scale"), b, x, ct, "B")
        return (y.astype(x.dtype, copy=False), mean.astype(self.stash, copy=False),
                inv.astype(self.stash, copy=False))


@op("RMSNormalization", since=23)
class RMSNormalization(_TrailingNorm):
    """RMSNormalization — y = x / sqrt(mean(x^2) + epsilon) * scale over axes axis..

        x: (D0..Dr-1)  scale: broadcastable to x.shape[axis:]  ->  y: x.shape
    """

    def run(self, x, scale):
        axes, ct, xf = self.setup(x)
        inv = 1.0 / np.sqrt((xf * xf).mean(axis=axes, keepdims=True) + ct.type(self.epsilon))
        y = self.affine(xf * inv, scale, x, ct, "Scale")
        return y.astype(x.dtype, copy=False)

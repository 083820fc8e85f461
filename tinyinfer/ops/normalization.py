"""LRN, MeanVarianceNormalization and LpNormalization — the smaller normalisations.

    LRN   x: (N, C, D1..Dn);  for channel c, S[c] = sum of x[c']^2 for
          c' in [c - floor((size-1)/2), c + ceil((size-1)/2)] ∩ [0, C)
          y = x / (bias + alpha / size * S)^beta
    MeanVarianceNormalization   y = (x - E[x]) / (sqrt(E[x^2] - E[x]^2) + 1e-9), E over `axes`
    LpNormalization             y = x / ||x||_p along `axis` (0 where the norm is 0), p in {1, 2}
"""
from __future__ import annotations

import numpy as np

from ..errors import ModelError, RuntimeFailure
from ..registry import Op, op
from . import _window as W
from ._common import normalize_axes, normalize_axis


@op("LRN", since=1)
class LRN(Op):
    """LRN — y = x / (bias + alpha / size * sum of x^2 over `size` neighbouring channels)^beta.

        x: (N, C, D1..Dn)   ->   y: (N, C, D1..Dn)
    """

    def __init__(self, node, *, size, alpha=1e-4, beta=0.75, bias=1.0):
        self.node = node
        self.size, self.alpha, self.beta, self.bias = int(size), float(alpha), float(beta), \
            float(bias)
        if self.size < 1:
            raise ModelError(node, f"size={size} must be at least 1")

    def prepare(self, x):
        W.check_spatial_input(self.node, x.shape)

    def run(self, x):
        if x.ndim < 3:
            raise RuntimeFailure(self.node, f"input X has shape {list(x.shape)}; expected "
                                            "(N, C, D1, ...)")
        ct = W.compute_dtype(x.dtype)
        sq = np.square(x.astype(ct, copy=False))
        c = x.shape[1]
        lo, hi = (self.size - 1) // 2, self.size // 2  # floor and ceil of (size-1)/2
        # running sum over channels: S[c] = cs[min(c+hi, C-1)+1] - cs[max(c-lo, 0)]
        cs = np.concatenate([np.zeros_like(sq[:, :1]), np.cumsum(sq, axis=1)], axis=1)
        idx = np.arange(c)
        s = cs[:, np.minimum(idx + hi, c - 1) + 1] - cs[:, np.maximum(idx - lo, 0)]
        y = x / (ct.type(self.bias) + ct.type(self.alpha / self.size) * s) ** ct.type(self.beta)
        return y.astype(x.dtype, copy=False)


@op("MeanVarianceNormalization", since=9)
class MeanVarianceNormalization(Op):
    """MeanVarianceNormalization — y = (x - mean) / (std + 1e-9), statistics over `axes`.

        x: any shape (axes default (0, 2, 3))   ->   y: x.shape
    """

    def __init__(self, node, *, axes=(0, 2, 3)):
        self.node, self.axes = node, [int(a) for a in axes]

    def run(self, x):
        axes = tuple(normalize_axes(self.axes, x.ndim, self.node))
        ct = W.compute_dtype(x.dtype)
        xf = x.astype(ct, copy=False)
        mean = xf.mean(axis=axes, keepdims=True)
        var = np.maximum((xf * xf).mean(axis=axes, keepdims=True) - mean * mean, 0)
        y = (xf - mean) / (np.sqrt(var) + ct.type(1e-9))
        return y.astype(x.dtype, copy=False)


@op("LpNormalization", since=1)
class LpNormalization(Op):
    """LpNormalization — y = x / (sum |x|^p along axis)^(1/p); zero where the norm is zero.

        x: any shape   ->   y: x.shape
    """

    def __init__(self, node, *, axis=-1, p=2):
        self.node, self.axis, self.p = node, int(axis), int(p)
        if self.p not in (1, 2):
            raise ModelError(node, f"p={p} is not supported; LpNormalization allows 1 or 2")

    def prepare(self, x):
        if x.shape is not None:
            normalize_axis(self.axis, len(x.shape), self.node)

    def run(self, x):
        axis = normalize_axis(self.axis, x.ndim, self.node)
        ct = W.compute_dtype(x.dtype)
        xf = x.astype(ct, copy=False)
        if self.p == 1:
            norm = np.abs(xf).sum(axis=axis, keepdims=True)
        else:
            norm = np.sqrt((xf * xf).sum(axis=axis, keepdims=True))
        with np.errstate(divide="ignore", invalid="ignore"):
            y = np.where(norm == 0, ct.type(0), xf / norm)
        return y.astype(x.dtype, copy=False)

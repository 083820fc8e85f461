"""BatchNormalization — per-channel affine normalisation with stored (or batch) statistics.

    x: (N, C, D1..Dn)   scale, B, mean, var: (C,)   ->   y: (N, C, D1..Dn)
    y = (x - mean) / sqrt(var + epsilon) * scale + B
      = x * a + c    with  a = scale / sqrt(var + epsilon),  c = B - mean * a

Inference mode is every version's default: opset 6/7 `is_test`/`spatial`, and opset 9's
`momentum`, only matter in training, so the stored mean and variance are used. With spatial=0
(opset < 9) the parameters have shape (C, D1..Dn) and broadcast over N only.

training_mode=1 (opset 14+) normalises with the batch statistics over (N, D1..Dn) and also
returns running_mean = mean * momentum + batch_mean * (1 - momentum) (likewise the variance,
population variance). passes/ may fold the inference form into a preceding Conv.
"""
from __future__ import annotations

import numpy as np

from ..errors import ModelError, RuntimeFailure
from ..registry import Op, op
from . import _window as W


@op("BatchNormalization", since=1)
class BatchNormalization(Op):
    """BatchNormalization — y = (x - mean) / sqrt(var + epsilon) * scale + B.

        x: (N, C, ...)   scale, B, input_mean, input_var: (C,)   ->   y: (N, C, ...)
        training_mode=1: also running_mean, running_var: (C,)
    """

    def __init__(self, node, *, epsilon=1e-5, momentum=0.9, training_mode=0, spatial=1,
                 is_test=0, consumed_inputs=None):
        self.node = node
        self.epsilon, self.momentum = float(epsilon), float(momentum)
        self.training_mode = bool(training_mode)
        self.spatial = int(spatial)

    def prepare(self, x, scale, b, mean, var):
        if x.shape is not None and len(x.shape) < 2:
            raise ModelError(self.node, f"input X has shape {list(x.shape)}; expected (N, C, ...)")
        if self.training_mode and self.opset < 14:
            raise ModelError(self.node, "training_mode exists only from opset 14")
        c = None if x.shape is None or len(x.shape) < 2 else x.shape[1]
        for name, info in (("scale", scale), ("B", b), ("input_mean", mean), ("input_var", var)):
            shape = info.shape
            if shape is not None and self.spatial and isinstance(c, int) and len(shape) == 1 \
                    and shape[0] != c:
                raise ModelError(self.node, f"{name} has shape {list(shape)}; expected ({c},), "
                                            "one value per channel of X")

    def _broadcast(self, p, x):
        """A (C,) or, for spatial=0, a (C, D1..Dn) parameter shaped to broadcast against x."""
        p = np.asarray(p)
        if p.ndim == 1:
            if p.shape[0] != x.shape[1]:
                raise RuntimeFailure(self.node, f"a parameter has {p.shape[0]} values but X has "
                                                f"{x.shape[1]} channels")
            return p.reshape((1, -1) + (1,) * (x.ndim - 2))
        return p.reshape((1,) + p.shape)

    def run(self, x, scale, b, mean, var):
        if x.ndim < 2:
            raise RuntimeFailure(self.node, f"input X has shape {list(x.shape)}; expected "
                                            "(N, C, ...)")
        ct = W.compute_dtype(x.dtype)
        xf = x.astype(ct, copy=False)
        s, bias = (self._broadcast(v, x).astype(ct, copy=False) for v in (scale, b))
        if self.training_mode:
            axes = (0,) + tuple(range(2, x.ndim))
            bm = xf.mean(axis=axes)
            bv = xf.var(axis=axes)
            a = s / np.sqrt(self._broadcast(bv, x) + ct.type(self.epsilon))
            y = (xf - self._broadcast(bm, x)) * a + bias
            mom = self.momentum
            rm = (np.asarray(mean, dtype=ct) * mom + bm * (1 - mom)).astype(mean.dtype)
            rv = (np.asarray(var, dtype=ct) * mom + bv * (1 - mom)).astype(var.dtype)
            return y.astype(x.dtype, copy=False), rm, rv
        m, v = (self._broadcast(p, x).astype(ct, copy=False) for p in (mean, var))
        a = s / np.sqrt(v + ct.type(self.epsilon))
        y = xf * a + (bias - m * a)
        return y.astype(x.dtype, copy=False)

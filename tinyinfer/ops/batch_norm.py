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
        if x.dtype == np.float32 and x.ndim >= 3 and all(
                getattr(p, "ndim", 0) == 1 and p.shape[0] == x.shape[1] for p in (scale, b, mean, var)):
            y = self._fast(x, scale, b, mean, var)
            if y is not None:
                return y
        m, v = (self._broadcast(p, x).astype(ct, copy=False) for p in (mean, var))
        a = s / np.sqrt(v + ct.type(self.epsilon))
        y = xf * a + (bias - m * a)
        return y.astype(x.dtype, copy=False)

    def _fast(self, x, scale, b, mean, var, mul=None, add=None, act=0):
        """The inference form via kernels/elementwise_f32.batchnorm_f32_nchw (x float32, the
        parameters (C,)), with a and c computed as run() does; mul/add (float32, one value per
        channel) and act (0 or 1 = Relu) are FusedBatchNorm's. None without kernels."""
        from .. import kernels  # noqa: PLC0415 - Numba is imported lazily, inside kernels/
        k = kernels.get("batchnorm_f32_nchw") if kernels.available() else None
        if k is None:
            return None
        f32 = np.float32
        s, bias, m, v = (np.asarray(p).astype(f32, copy=False) for p in (scale, b, mean, var))
        a = s / np.sqrt(v + f32(self.epsilon))
        c = bias - m * a
        n, ch = x.shape[0], x.shape[1]
        x3 = np.ascontiguousarray(x).reshape(n, ch, int(np.prod(x.shape[2:])))  # (N, C, D1*..*Dn)
        if not x3.flags.writeable:
            x3 = x3.copy()
        out = np.empty(x3.shape, f32)
        extra = [_NONE if p is None else np.ascontiguousarray(p, f32).reshape(-1) for p in (mul, add)]
        k(x3, np.ascontiguousarray(a), np.ascontiguousarray(c), extra[0], extra[1], act, out)
        return out.reshape(x.shape)


_NONE = np.zeros(0, np.float32)


def per_channel(p, x) -> bool:
    """p is a float32 array holding one value per channel of x that broadcasts along axis 1:
    shape (C, 1, .., 1) or (1, C, 1, .., 1), at most x.ndim axes."""
    if not isinstance(p, np.ndarray) or p.dtype != np.float32 or p.ndim > x.ndim:
        return False
    shape = list(p.shape)
    while shape and shape[0] == 1 and len(shape) > x.ndim - 1:
        shape.pop(0)
    return len(shape) == x.ndim - 1 and shape[0] == x.shape[1] and all(d == 1 for d in shape[1:])


@op("FusedBatchNorm", domain="ai.tinyinfer")
class FusedBatchNorm(BatchNormalization):
    """FusedBatchNorm — BatchNormalization (inference form) with its trailing per-channel Mul,
    Add and Relu (domain ai.tinyinfer; passes/fuse_batch_norm_activation.py creates it from
    graphs whose parameters are run-time inputs, e.g. Caffe2's BN + scale layers):

        y = act((BatchNormalization(x, scale, B, mean, var) * mul) + add)
        mul, add: optional (empty name = absent)   activation: "" | "Relu"
    The reference runs the same reference ops in the same order, so results are bit-identical
    to the unfused graph; the kernel does the same float32 steps in one pass.
    """

    def __init__(self, node, *, epsilon=1e-5, activation=""):
        super().__init__(node, epsilon=epsilon)
        act = activation.decode() if isinstance(activation, bytes) else str(activation)
        if act not in ("", "Relu"):
            raise ModelError(node, f"activation={act!r} must be empty or Relu")
        self.activation = act

    def prepare(self, x, scale, b, mean, var, mul=None, add=None):
        super().prepare(x, scale, b, mean, var)

    def run(self, x, scale, b, mean, var, mul=None, add=None):
        from ..kernels import impl_choice  # noqa: PLC0415 - stdlib/NumPy only at import time
        if (impl_choice() != "reference" and isinstance(x, np.ndarray) and x.dtype == np.float32
                and x.ndim >= 3 and all(getattr(p, "ndim", 0) == 1 and p.shape[0] == x.shape[1]
                                        for p in (scale, b, mean, var))
                and all(p is None or per_channel(p, x) for p in (mul, add))):
            y = self._fast(x, scale, b, mean, var, mul, add, 1 if self.activation else 0)
            if y is not None:
                return y
        from .activations import Relu  # noqa: PLC0415
        from .arithmetic import Add, Mul  # noqa: PLC0415
        y = BatchNormalization.run(self, x, scale, b, mean, var)
        if mul is not None:
            y = Mul(y, mul)
        if add is not None:
            y = Add(y, add)
        return Relu(y) if self.activation else y

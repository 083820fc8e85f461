"""FusedConv — Conv with its epilogue: an optional residual add, then an optional activation
(domain ai.tinyinfer; passes/fuse_conv_activation.py creates it, onnxruntime has the same op).

    y = act(Conv(x, w, b) + z) * post_scale + post_shift
        x: (N, C, D...)  w: (M, C/group, k...)  b: (M,)  z: broadcastable to y (optional)
        activation: "" | Relu | LeakyRelu(alpha) | Clip(min, max) | HardSigmoid(alpha, beta)
                    | HardSwish | Sigmoid | Swish(alpha) | Tanh
        post_scale, post_shift: optional scalars after the activation (a Mul and an Add by a
        one-element constant, PP-LCNetV3's learnable affine block; passes/fuse_conv_scale_shift.py)
The reference runs the Conv reference, then the same reference functions the unfused graph
ran, so the result is bit-identical to the unfused graph. A Numba kernel may replace run().
"""
from __future__ import annotations

import math

import numpy as np

from ..errors import ModelError
from ..registry import op
from . import activations as A
from .clip import clip
from .conv import Conv

_NUMPY_ACTS = ("Sigmoid", "Swish", "Tanh")  # libm's exp/tanh may differ from NumPy's by an ulp
ACTIVATIONS = ("", "Relu", "LeakyRelu", "Clip", "HardSigmoid", "HardSwish", "Sigmoid", "Swish",
               "Tanh")


@op("FusedConv", domain="ai.tinyinfer")
class FusedConv(Conv):
    def __init__(self, node, *, activation="", alpha=None, beta=None, min=None, max=None,  # noqa: A002
                 auto_pad="NOTSET", dilations=None, group=1, kernel_shape=None, pads=None,
                 strides=None, post_scale=None, post_shift=None):
        super().__init__(node, auto_pad=auto_pad, dilations=dilations, group=group,
                         kernel_shape=kernel_shape, pads=pads, strides=strides)
        act = activation.decode() if isinstance(activation, bytes) else str(activation)
        if act not in ACTIVATIONS:
            raise ModelError(node, f"activation={act!r} is not one of {', '.join(ACTIVATIONS[1:])}")
        self.activation = act
        defaults = {"LeakyRelu": (0.01, None), "HardSigmoid": (0.2, 0.5), "Swish": (1.0, None)}
        da, db = defaults.get(act, (None, None))
        self.alpha = da if alpha is None else float(alpha)
        self.beta = db if beta is None else float(beta)
        self.min = -math.inf if min is None else float(min)
        self.max = math.inf if max is None else float(max)
        self.post_scale = None if post_scale is None else float(post_scale)
        self.post_shift = None if post_shift is None else float(post_shift)

    def prepare(self, x, w, b=None, z=None):
        super().prepare(x, w, b)

    def run(self, x, w, b=None, z=None):
        y, affine_done = self._run_act(x, w, b, z)
        if affine_done or (self.post_scale is None and self.post_shift is None):
            return y
        return self.scale_shift(y)

    def scale_shift(self, y):
        """y * post_scale + post_shift, each step rounded in y's dtype as the Mul and Add nodes
        did (y is this op's own fresh output, so it is updated in place)."""
        s, t = self.post_scale, self.post_shift
        mode = (s is not None) + 2 * (t is not None)
        if y.dtype == np.float32 and y.flags.c_contiguous and y.flags.writeable \
                and self._fast_act is not None:
            from ..kernels import get  # noqa: PLC0415 - stdlib/NumPy only at import time
            k = get("act_f32_scale_shift")
            if k is not None:
                k(y.reshape(-1), np.float32(s or 0.0), np.float32(t or 0.0), mode)
                return y
        if s is not None:
            y = np.multiply(y, np.asarray(s, dtype=y.dtype))
        if t is not None:
            y = np.add(y, np.asarray(t, dtype=y.dtype))
        return y

    def _run_act(self, x, w, b=None, z=None):
        fast = self._fast_act
        if fast is not None and (z is None or z.dtype == np.float32):
            y = None
            win = self.geometry(x.shape, w.shape) if z is not None else None
            if z is None or tuple(z.shape) == (x.shape[0], w.shape[0], *win.out):
                y = self.run_fast(x, w, b, *fast, z=z)  # the epilogue inside the kernels
            if y is not None:
                # exp/tanh stay NumPy's, so the result stays bit-identical to the unfused graph
                y = self.epilogue(y) if self.activation in _NUMPY_ACTS else y
                return y, fast[0] == 9  # code 9 applied post_scale/post_shift too
        y = self.run_reference(x, w, b) if fast is None else super().run(x, w, b)
        if z is not None:
            y = y + z  # what the Add node computed
        return self.epilogue(y), False

    @property
    def _fast_act(self):
        """(act code, a0, a1) of kernels/elementwise_f32 for this activation."""
        from ..kernels import impl_choice  # noqa: PLC0415 - stdlib/NumPy only at import time
        if impl_choice() == "reference":
            return None
        if self.activation in _NUMPY_ACTS:
            return 0, 0.0, 0.0
        code = {"": 0, "Relu": 1, "Clip": 2, "HardSigmoid": 3, "HardSwish": 4, "Sigmoid": 5,
                "LeakyRelu": 6, "Swish": 7, "Tanh": 8}[self.activation]
        if code == 2:
            return code, self.min, self.max
        if code in (3, 6, 7):
            return code, self.alpha, 0.0 if self.beta is None else self.beta
        if code == 4 and self.post_scale is not None and self.post_shift is not None:
            return 9, self.post_scale, self.post_shift  # HardSwish, * scale, + shift in one pass
        return code, 0.0, 0.0

    def epilogue(self, y):
        act = self.activation
        if act == "":
            return y
        if act == "Relu":
            return A.Relu(y)
        if act == "LeakyRelu":
            return A.LeakyRelu(y, alpha=self.alpha)
        if act == "Clip":
            lo = None if self.min == -math.inf else np.asarray(self.min, dtype=y.dtype)
            hi = None if self.max == math.inf else np.asarray(self.max, dtype=y.dtype)
            return clip(y, lo, hi)
        if act == "HardSigmoid":
            return A.HardSigmoid(y, alpha=self.alpha, beta=self.beta)
        if act == "HardSwish":
            return A.HardSwish(y)
        if act == "Sigmoid":
            return A.Sigmoid(y)
        if act == "Swish":
            return A.Swish(y, alpha=self.alpha)
        from .unary_math import Tanh  # noqa: PLC0415 - only models with Tanh epilogues need it
        return Tanh(y)

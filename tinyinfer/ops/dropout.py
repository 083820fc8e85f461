"""Dropout — identity at inference; in training mode zero each element with probability ratio.

    Dropout(x, ratio=0.5, training_mode=False, seed) -> (y, mask)
        inference: y = x, mask = all true
        training:  mask = uniform(0, 1) >= ratio, y = x * mask / (1 - ratio)
    The random draw is NumPy's RandomState(seed).uniform, the generator the ONNX reference tests
    use, so a seeded model reproduces them; without seed each run draws fresh.
    Opset < 12: ratio is an attribute and there is no training mode; mask has x's type before 10.
"""
from __future__ import annotations

import numpy as np

from ..errors import RuntimeFailure
from ..registry import Op, op


@op("Dropout", since=1)
class Dropout(Op):
    def __init__(self, node, *, ratio=0.5, seed=None, is_test=None):
        self.node, self.ratio_attr, self.seed = node, float(ratio), seed

    def run(self, x, ratio=None, training_mode=None):
        mask_dtype = np.bool_ if self.opset >= 10 else x.dtype
        training = training_mode is not None and bool(np.asarray(training_mode).reshape(-1)[0])
        r = self.ratio_attr if ratio is None else float(np.asarray(ratio).reshape(-1)[0])
        if not training or r == 0:
            return x, np.ones(x.shape, dtype=mask_dtype)
        if not 0 <= r < 1:
            raise RuntimeFailure(self.node, f"ratio must be in [0, 1), found {r}")
        rng = np.random.RandomState(int(self.seed)) if self.seed is not None else np.random.RandomState()
        mask = rng.uniform(0.0, 1.0, x.shape) >= r
        y = (mask * x * (1.0 / (1.0 - r))).astype(x.dtype)
        return y, mask.astype(mask_dtype)

"""HannWindow, HammingWindow, BlackmanWindow — window functions for STFT.

    size: int scalar  ->  w: (size,) of output_datatype (default float)
    N = size if periodic else size - 1,  n = 0 .. size-1
    Hann      w[n] = 0.5 - 0.5 cos(2 pi n / N)
    Hamming   w[n] = 25/46 - 21/46 cos(2 pi n / N)
    Blackman  w[n] = 0.42 - 0.5 cos(2 pi n / N) + 0.08 cos(4 pi n / N)
"""
from __future__ import annotations

import numpy as np

from .. import dtypes
from ..errors import ModelError, RuntimeFailure
from ..registry import Op, op

_MAX_WINDOW = 1 << 28


class _Window(Op):
    coefficients: tuple = ()   # (a_0, a_1, a_2): w = a_0 - a_1 cos(2 pi n/N) + a_2 cos(4 pi n/N)

    def __init__(self, node, *, output_datatype: int = dtypes.FLOAT, periodic: int = 1):
        self.node, self.periodic = node, periodic
        if output_datatype not in dtypes.ONNX_TO_NUMPY or dtypes.is_tagged(dtypes.to_numpy(output_datatype)):
            raise ModelError(node, f"output_datatype={output_datatype} is not a supported element type")
        self.dtype = dtypes.to_numpy(output_datatype)

    def run(self, size):
        n = int(np.asarray(size).reshape(-1)[0])
        if not 0 <= n <= _MAX_WINDOW:
            raise RuntimeFailure(self.node, f"size={n} must be in [0, {_MAX_WINDOW}]")
        N = n if self.periodic else n - 1
        if N <= 0:              # a symmetric window of one point is [1], as torch gives
            return np.ones(n, dtype=self.dtype)
        a0, a1, a2 = self.coefficients
        k = np.arange(n, dtype=np.float64)
        w = a0 - a1 * np.cos(2 * np.pi * k / N) + a2 * np.cos(4 * np.pi * k / N)
        return w.astype(self.dtype)


@op("HannWindow", since=17)
class HannWindow(_Window):
    coefficients = (0.5, 0.5, 0.0)


@op("HammingWindow", since=17)
class HammingWindow(_Window):
    coefficients = (25 / 46, 21 / 46, 0.0)


@op("BlackmanWindow", since=17)
class BlackmanWindow(_Window):
    coefficients = (0.42, 0.5, 0.08)

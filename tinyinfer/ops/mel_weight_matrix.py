"""MelWeightMatrix — triangular filters mapping a one-sided spectrum onto the mel scale.

    -> W: (dft_length // 2 + 1, num_mel_bins),  spectrogram (…, bins) @ W = mel spectrogram (…, mels)
    mel(f) = 2595 log10(1 + f / 700);  num_mel_bins + 2 points from mel(lower) in steps of
    (mel(upper) - mel(lower)) / (num_mel_bins + 2), mapped back to hertz and to spectrum bins
    b = floor((dft_length + 1) * f / sample_rate); filter i rises from b[i] to b[i+1] and falls
    to b[i+2]. (The step divides by num_mel_bins + 2, as the ONNX reference and its test data do.)
"""
from __future__ import annotations

import numpy as np

from .. import dtypes
from ..errors import ModelError, RuntimeFailure
from ..registry import Op, op

_MAX_CELLS = 1 << 26


@op("MelWeightMatrix", since=17)
class MelWeightMatrix(Op):
    def __init__(self, node, *, output_datatype: int = dtypes.FLOAT):
        self.node = node
        if output_datatype not in dtypes.ONNX_TO_NUMPY or dtypes.is_tagged(dtypes.to_numpy(output_datatype)):
            raise ModelError(node, f"output_datatype={output_datatype} is not a supported element type")
        self.dtype = dtypes.to_numpy(output_datatype)

    def run(self, num_mel_bins, dft_length, sample_rate, lower_edge_hertz, upper_edge_hertz):
        mels, n_fft, rate = (int(np.asarray(v).reshape(-1)[0]) for v in (num_mel_bins, dft_length, sample_rate))
        lo, hi = (float(np.asarray(v).reshape(-1)[0]) for v in (lower_edge_hertz, upper_edge_hertz))
        bins = n_fft // 2 + 1
        if mels <= 0 or n_fft <= 0 or rate <= 0 or not 0 <= lo < hi:
            raise RuntimeFailure(self.node, f"need num_mel_bins, dft_length, sample_rate > 0 and "
                                            f"0 <= lower_edge_hertz < upper_edge_hertz; got {mels}, "
                                            f"{n_fft}, {rate}, {lo}, {hi}")
        if bins * mels > _MAX_CELLS:
            raise RuntimeFailure(self.node, f"a {bins} x {mels} matrix is too large")
        lo_mel = 2595 * np.log10(1 + lo / 700)
        hi_mel = 2595 * np.log10(1 + hi / 700)
        points = np.arange(mels + 2) * ((hi_mel - lo_mel) / (mels + 2)) + lo_mel
        hz = 700 * (10 ** (points / 2595) - 1)
        b = (((n_fft + 1) * hz) // rate).astype(np.int64)
        if b.max() >= bins or b.min() < 0:
            raise RuntimeFailure(self.node, f"upper_edge_hertz={hi} lies above the Nyquist bin for "
                                            f"sample_rate={rate}")
        w = np.zeros((bins, mels))
        for i in range(mels):
            left, center, right = b[i], b[i + 1], b[i + 2]
            if center == left:
                w[center, i] = 1
            else:
                j = np.arange(left, center + 1)
                w[j, i] = (j - left) / (center - left)
            if right > center:
                j = np.arange(center, right)
                w[j, i] = (right - j) / (right - center)
        return w.astype(self.dtype)

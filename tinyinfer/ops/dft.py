"""DFT and STFT — discrete Fourier transforms on tensors whose last axis holds (re) or (re, im).

    DFT(x, dft_length?, axis?)   x: (..., n, ..., 1 or 2)  ->  y: (..., m, ..., 2)
        y[k] = sum_j x[j] exp(-2 pi i j k / L)           L = dft_length (x padded/cut to L)
        inverse=1:  y[j] = 1/L sum_k x[k] exp(+2 pi i j k / L)
        onesided=1: forward keeps bins 0 .. L//2 (m = L//2 + 1); inverse takes those bins of a
                    real signal's spectrum and returns the real signal (last axis 1)
        opset 17: axis is an attribute (default 1); opset 20: an input (default -2). The
        last axis (re/im) can never be the DFT axis.

    STFT(signal, frame_step, window?, frame_length?)
        signal: (B, L, 1 or 2) -> (B, F, bins, 2),  F = 1 + (L - frame_length) // frame_step
        frame f = signal[:, f*frame_step : f*frame_step + frame_length] * window, then DFT;
        bins = frame_length // 2 + 1 when onesided else frame_length
"""
from __future__ import annotations

import numpy as np

from ..errors import ModelError, RuntimeFailure
from ..registry import Op, op


def _as_int(node, v, what):
    a = np.asarray(v)
    if a.size != 1 or a.dtype.kind not in "iu":
        raise RuntimeFailure(node, f"{what} must be one integer, got {a.dtype} shape {list(a.shape)}")
    return int(a.reshape(-1)[0])


def _complex(node, x):
    """(..., 1) real or (..., 2) re/im -> complex array without the last axis.

    Single precision (complex64) for float16/float32 inputs, as onnxruntime computes; double for
    double."""
    if x.ndim < 2 or x.shape[-1] not in (1, 2):
        raise RuntimeFailure(node, f"the input's last axis must have size 1 (real) or 2 (complex); "
                                   f"got shape {list(x.shape)}")
    if x.dtype.kind != "f":
        raise RuntimeFailure(node, f"the input must be float16, float or double; got {x.dtype}")
    x = x.astype(np.float64 if x.dtype == np.float64 else np.float32)
    return x[..., 0] if x.shape[-1] == 1 else x[..., 0] + 1j * x[..., 1]


def _split(c) -> np.ndarray:
    """complex (...) -> (..., 2) re/im."""
    return np.stack([c.real, c.imag], axis=-1)


def dft(node, x, length, axis: int, inverse: bool, onesided: bool, out_dtype):
    rank = x.ndim
    if not (-rank <= axis <= -2 or 0 <= axis <= rank - 2):
        raise RuntimeFailure(node, f"axis={axis} is out of range for an input of rank {rank} (the "
                                   f"last axis holds re/im)")
    ax = axis % rank
    n = x.shape[ax]
    if length is None:
        length = 2 * (n - 1) if inverse and onesided else n
    if length <= 0:
        raise RuntimeFailure(node, f"dft_length={length} must be positive")
    c = _complex(node, x)
    if inverse and onesided:
        return np.fft.irfft(c, n=length, axis=ax)[..., None].astype(out_dtype)
    y = np.fft.ifft(c, n=length, axis=ax) if inverse else np.fft.fft(c, n=length, axis=ax)
    if onesided:
        y = np.take(y, np.arange(length // 2 + 1), axis=ax)
    return _split(y).astype(out_dtype)


@op("DFT", since=17)
class DFT_17(Op):
    """DFT(input, dft_length?) with axis as an attribute (default 1)."""

    def __init__(self, node, *, axis: int = 1, inverse: int = 0, onesided: int = 0):
        self.node, self.axis, self.inverse, self.onesided = node, axis, inverse, onesided

    def run(self, x, dft_length=None):
        length = None if dft_length is None else _as_int(self.node, dft_length, "dft_length")
        return dft(self.node, x, length, self.axis, bool(self.inverse), bool(self.onesided), x.dtype)


@op("DFT", since=20)
class DFT(Op):
    """DFT(input, dft_length?, axis?) with axis as an input (default -2)."""

    def __init__(self, node, *, inverse: int = 0, onesided: int = 0):
        self.node, self.inverse, self.onesided = node, inverse, onesided

    def run(self, x, dft_length=None, axis=None):
        length = None if dft_length is None else _as_int(self.node, dft_length, "dft_length")
        ax = -2 if axis is None else _as_int(self.node, axis, "axis")
        return dft(self.node, x, length, ax, bool(self.inverse), bool(self.onesided), x.dtype)


@op("STFT", since=17)
class STFT(Op):
    """STFT(signal, frame_step, window?, frame_length?) -> (B, frames, bins, 2)."""

    def __init__(self, node, *, onesided: int = 1):
        self.node, self.onesided = node, onesided

    def run(self, signal, frame_step, window=None, frame_length=None):
        node = self.node
        if signal.ndim != 3:
            raise RuntimeFailure(node, f"signal must be (batch, length, 1 or 2); got shape "
                                       f"{list(signal.shape)}")
        step = _as_int(node, frame_step, "frame_step")
        L = signal.shape[1]
        if frame_length is not None:
            flen = _as_int(node, frame_length, "frame_length")
        else:
            flen = L if window is None else int(np.asarray(window).shape[0])
        if window is None:
            window = np.ones(flen)
        window = np.asarray(window).reshape(-1)
        if window.shape[0] != flen:
            raise RuntimeFailure(node, f"window has {window.shape[0]} values but frame_length is {flen}")
        if step <= 0 or not 0 < flen <= L:
            raise RuntimeFailure(node, f"frame_step={step} must be positive and frame_length={flen} "
                                       f"in [1, {L}]")
        frames = 1 + (L - flen) // step
        c = _complex(node, signal)                                  # (B, L)
        idx = np.arange(frames)[:, None] * step + np.arange(flen)   # (F, flen)
        y = np.fft.fft(c[:, idx] * window, axis=-1)                 # (B, F, flen)
        if self.onesided:
            y = y[..., : flen // 2 + 1]
        return _split(y).astype(signal.dtype)

"""Sliding-window geometry shared by Conv, ConvTranspose, DeformConv and the pooling ops.

For one spatial axis of size `i`, kernel `k`, stride `s`, dilation `d` and pads (b, e):

    ek  = (k - 1) * d + 1                       effective (dilated) kernel extent
    out = floor((i + b + e - ek) / s) + 1       (ceil instead of floor with ceil_mode=1, but the
                                                last window must start inside input or left pad)
    auto_pad SAME_*: out = ceil(i / s), total pad = max(0, (out - 1) * s + ek - i),
                     SAME_UPPER puts the odd extra pad at the end, SAME_LOWER at the beginning
                     (the spec's dilated kernel; onnxruntime's pools use the undilated one)
    auto_pad VALID:  b = e = 0

Pads are spelled as in ONNX: [b_1, ..., b_n, e_1, ..., e_n].
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import List, Optional, Sequence

import numpy as np

from ..errors import ModelError, RuntimeFailure
from ._common import check_output_size

AUTO_PADS = ("NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID")


def auto_pad_name(node, auto_pad) -> str:
    """The auto_pad attribute as a str, checked against the four values ONNX allows."""
    name = auto_pad.decode() if isinstance(auto_pad, bytes) else str(auto_pad)
    if name == "":
        name = "NOTSET"
    if name not in AUTO_PADS:
        raise ModelError(node, f"auto_pad={name!r} is not one of {', '.join(AUTO_PADS)}")
    return name


def spatial_list(node, name: str, value, n: int, default: int, minimum: int = 1) -> List[int]:
    """An attribute with one int per spatial axis (strides, dilations ...), checked."""
    if value is None or len(value) == 0:
        return [default] * n
    vals = [int(v) for v in value]
    if len(vals) != n:
        raise ModelError(node, f"{name}={vals} has {len(vals)} values but the input has {n} "
                               f"spatial axes")
    if any(v < minimum for v in vals):
        raise ModelError(node, f"{name}={vals} must all be at least {minimum}")
    return vals


def pads_list(node, pads, n: int) -> List[int]:
    """The pads attribute ([b_1..b_n, e_1..e_n]) defaulted to zeros and checked."""
    if pads is None or len(pads) == 0:
        return [0] * (2 * n)
    vals = [int(v) for v in pads]
    if len(vals) != 2 * n:
        raise ModelError(node, f"pads={vals} has {len(vals)} values; expected {2 * n} "
                               f"(a begin and an end for each of {n} spatial axes)")
    if any(v < 0 for v in vals):
        raise ModelError(node, f"pads={vals} must not be negative")
    return vals


@dataclass
class Window:
    """Resolved geometry of one windowed op over the spatial axes."""

    kernel: List[int]
    strides: List[int]
    dilations: List[int]
    begin: List[int]         # padding before each spatial axis
    end: List[int]           # padding after (may include ceil_mode's extra, see `extra_end`)
    out: List[int]           # output spatial shape
    extra_end: List[int]     # padding added beyond the model's pads so every window fits

    @property
    def extent(self) -> List[int]:
        return [(k - 1) * d + 1 for k, d in zip(self.kernel, self.dilations)]


def resolve(node, auto_pad: str, in_sp: Sequence[int], kernel: Sequence[int],
            strides: Sequence[int], dilations: Sequence[int], pads: Sequence[int],
            ceil_mode: bool = False) -> Window:
    """Output shape and paddings for a convolution/pooling window (see the module docstring)."""
    n = len(in_sp)
    begin, end, out, extra = [], [], [], []
    for i in range(n):
        size, k, s, d = int(in_sp[i]), int(kernel[i]), int(strides[i]), int(dilations[i])
        ek = (k - 1) * d + 1
        if auto_pad in ("SAME_UPPER", "SAME_LOWER"):
            o = -(-size // s)
            total = max(0, (o - 1) * s + ek - size)
            small = total // 2
            b, e = (small, total - small) if auto_pad == "SAME_UPPER" else (total - small, small)
        elif auto_pad == "VALID":
            b = e = 0
            o = (size - ek) // s + 1 if size >= ek else 0
        else:
            b, e = int(pads[i]), int(pads[n + i])
            span = size + b + e - ek
            if span < 0:
                o = 0
            elif ceil_mode:
                o = -(-span // s) + 1
                if (o - 1) * s >= size + b:  # the last window must start inside input or left pad
                    o -= 1
            else:
                o = span // s + 1
        if o <= 0:
            raise RuntimeFailure(node, f"the kernel (extent {ek} with dilation {d}) is larger than "
                                       f"the padded input ({size} + pads {b}+{e}) on spatial axis "
                                       f"{i}")
        need = (o - 1) * s + ek - (size + b + e)
        begin.append(b)
        end.append(e)
        out.append(o)
        extra.append(max(0, need))
    return Window(list(kernel), list(strides), list(dilations), begin, end, out, extra)


def check_budget(node, x_shape: Sequence[int], win: Window, out_channels: int) -> None:
    """Refuse, before allocating, a padded input or an output past the element budget."""
    padded = [d + b + e + t for d, b, e, t in zip(x_shape[2:], win.begin, win.end, win.extra_end)]
    check_output_size(list(x_shape[:2]) + padded, node, "padded input")
    check_output_size([x_shape[0], out_channels] + list(win.out), node)


def pad_spatial(x: np.ndarray, begin: Sequence[int], end: Sequence[int], value=0) -> np.ndarray:
    """Pad the trailing len(begin) axes of x with a constant; returns x itself when no pad."""
    if not any(begin) and not any(end):
        return x
    lead = x.ndim - len(begin)
    width = [(0, 0)] * lead + [(int(b), int(e)) for b, e in zip(begin, end)]
    return np.pad(x, width, mode="constant", constant_values=value)


def kernel_offsets(w: Window):
    """Per kernel tap: (tap index tuple, slices of the padded input it reads for all outputs)."""
    for kk in itertools.product(*(range(k) for k in w.kernel)):
        yield kk, tuple(slice(ki * d, ki * d + (o - 1) * s + 1, s)
                        for ki, d, o, s in zip(kk, w.dilations, w.out, w.strides))


def col2im_add(cols: np.ndarray, kernel: Sequence[int], strides: Sequence[int],
               dilations: Sequence[int], grid: Sequence[int], full: Sequence[int]) -> np.ndarray:
    """Scatter-add columns back into an image (the adjoint of `windows`).

    cols: (N, C, *kernel, *grid) -> (N, C, *full) where tap kk of block position p lands at
    p * stride + kk * dilation. `full` must hold (grid - 1) * stride + (kernel - 1) * dilation + 1.
    """
    n = len(kernel)
    lead = cols.shape[: cols.ndim - 2 * n]
    y = np.zeros(lead + tuple(full), dtype=cols.dtype)
    pre = (slice(None),) * len(lead)
    for kk in itertools.product(*(range(k) for k in kernel)):
        dst = tuple(slice(ki * d, ki * d + (g - 1) * s + 1, s)
                    for ki, d, g, s in zip(kk, dilations, grid, strides))
        y[pre + dst] += cols[pre + kk]
    return y


def crop_or_pad(y: np.ndarray, begin: Sequence[int], size: Sequence[int]) -> np.ndarray:
    """y[..., b:b+size] on the trailing axes; positions outside y (negative pads) become zero."""
    n = len(begin)
    full = y.shape[y.ndim - n:]
    lo = [max(0, -b) for b in begin]
    hi = [max(0, b + s - f) for b, s, f in zip(begin, size, full)]
    if any(lo) or any(hi):
        y = pad_spatial(y, lo, hi)
        begin = [b + l for b, l in zip(begin, lo)]
    idx = (slice(None),) * (y.ndim - n) + tuple(slice(b, b + s) for b, s in zip(begin, size))
    return y[idx]


def compute_dtype(dtype: np.dtype) -> np.dtype:
    """The dtype arithmetic runs in: float16 widens to float32, other floats stay as they are."""
    return np.dtype(np.float32) if dtype == np.float16 else np.dtype(dtype)


def check_spatial_input(node, shape: Optional[Sequence], what: str = "X",
                        min_rank: int = 3) -> None:
    """A clear error when an input known before running has too few axes for (N, C, *spatial)."""
    if shape is not None and len(shape) < min_rank:
        raise ModelError(node, f"input {what} has shape {list(shape)}; expected (N, C, D1, ...) "
                               f"with at least {min_rank - 2} spatial axes")

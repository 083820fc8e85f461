"""Pad, CenterCropPad, Tile — grow (or crop) a tensor at its borders, or repeat it.

    Pad(x, pads: (2k,) = [b_0.., e_0..], constant_value=0, axes=all, mode=constant)
        -> y.shape[a] = x.shape[a] + b_a + e_a; negative pads crop.
        mode: constant (fill), reflect (mirror without the edge), edge (repeat the edge),
        wrap (periodic). Opset 1/2: pads ('paddings' in 1) and value are attributes.
    CenterCropPad(x, shape: (k,), axes=all) -> on each axis crop or zero-pad symmetrically to
        shape, the extra element of an odd difference going to the end
    Tile(x, repeats: (r,)) -> y.shape[i] = x.shape[i] * repeats[i]
"""
from __future__ import annotations

import numpy as np

from .. import dtypes
from ..errors import ModelError, RuntimeFailure
from ..registry import Op, op
from ._common import as_int_list, check_output_size, normalize_axes

_PAD_MODES = {"constant": "constant", "reflect": "reflect", "edge": "edge", "wrap": "wrap"}


@op("Pad", since=1)
class Pad(Op):
    def __init__(self, node, *, mode="constant", pads=None, paddings=None, value=0.0):
        self.node = node
        if mode not in _PAD_MODES:
            raise ModelError(node, f"mode must be constant, reflect, edge or wrap, found {mode!r}")
        self.mode, self.value = mode, value
        self.pads_attr = pads if pads is not None else paddings

    def run(self, x, pads=None, constant_value=None, axes=None):
        if pads is None:
            if self.pads_attr is None:
                raise ModelError(self.node, "pads is missing (an attribute before opset 11, an input from 11)")
            pads, value = [int(p) for p in self.pads_attr], self.value
        else:
            pads, value = as_int_list(pads), constant_value
        r = x.ndim
        axes = list(range(r)) if axes is None else normalize_axes(as_int_list(axes), r, self.node)
        if len(pads) != 2 * len(axes):
            raise RuntimeFailure(self.node, f"pads has {len(pads)} values; expected 2 x {len(axes)} axes")
        width = [[0, 0] for _ in range(r)]
        for i, a in enumerate(axes):
            width[a] = [pads[i], pads[len(axes) + i]]
        out = [x.shape[a] + b + e for a, (b, e) in enumerate(width)]
        if any(o < 0 for o in out):
            raise RuntimeFailure(self.node, f"pads {pads} crop more than the input shape {list(x.shape)}")
        check_output_size(out, self.node)
        # negative pads crop first; what remains is padded
        x = x[tuple(slice(max(-b, 0), x.shape[a] - max(-e, 0)) for a, (b, e) in enumerate(width))]
        width = [(max(b, 0), max(e, 0)) for b, e in width]
        if self.mode != "constant":
            for a, (b, e) in enumerate(width):
                if (b or e) and x.shape[a] == 0:
                    raise RuntimeFailure(self.node, f"{self.mode} padding needs a non-empty axis {a}")
            return np.pad(x, width, mode=self.mode)
        return constant_pad(x, width, value)


def constant_pad(x, width, value):
    """np.pad in constant mode for every dtype, tagged ones included (value in x's dtype)."""
    out = np.zeros([n + b + e for n, (b, e) in zip(x.shape, width)], dtype=x.dtype)
    v = None if value is None else np.asarray(value).reshape(-1)
    if v is not None and v.size and (not dtypes.is_tagged(x.dtype) or v.dtype == x.dtype):
        out[...] = v[0]
    out[tuple(slice(b, b + n) for n, (b, e) in zip(x.shape, width))] = x
    return out


@op("CenterCropPad", since=18)
class CenterCropPad(Op):
    def __init__(self, node, *, axes=None):
        self.node, self.axes = node, axes

    def run(self, x, shape):
        sizes = as_int_list(shape)
        axes = list(range(x.ndim)) if self.axes is None else normalize_axes(self.axes, x.ndim, self.node)
        if len(sizes) != len(axes):
            raise RuntimeFailure(self.node, f"shape has {len(sizes)} values for {len(axes)} axes")
        out_shape = list(x.shape)
        src = [slice(None)] * x.ndim
        dst = [slice(None)] * x.ndim
        for a, s in zip(axes, sizes):
            d = x.shape[a]
            if s < 0:
                raise RuntimeFailure(self.node, f"shape {sizes} has a negative size")
            out_shape[a] = s
            if s < d:   # crop: keep [ (d-s)//2, (d-s)//2 + s )
                src[a] = slice((d - s) // 2, (d - s) // 2 + s)
            elif s > d:  # pad: place at (s-d)//2
                dst[a] = slice((s - d) // 2, (s - d) // 2 + d)
        check_output_size(out_shape, self.node)
        out = np.zeros(out_shape, dtype=x.dtype)
        out[tuple(dst)] = x[tuple(src)]
        return out


@op("Tile", since=6)
class Tile(Op):
    def run(self, x, repeats):
        reps = as_int_list(repeats)
        if len(reps) != x.ndim or any(r < 0 for r in reps):
            raise RuntimeFailure(self.node, f"repeats {reps} must have {x.ndim} non-negative values")
        out_shape = [d * r for d, r in zip(x.shape, reps)]
        check_output_size(out_shape, self.node)
        if 0 in out_shape:  # np.tile repeats axis by axis: a huge repeat before a 0 would allocate
            return np.empty(out_shape, dtype=x.dtype)
        return np.tile(x, reps)

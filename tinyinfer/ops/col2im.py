"""Col2Im — the inverse of im2col: add sliding blocks back into an image.

    Col2Im(x: (N, C * prod(block), L), image_shape: (k,), block_shape: (k,),
           dilations=1, pads=0, strides=1) -> (N, C, *image_shape)
    with L = prod over axes of (image + pad_begin + pad_end - (dilation * (block - 1) + 1)) // stride + 1;
    every block position adds its column into the (padded) image, then the pads are cut off.
"""
from __future__ import annotations

import itertools

import numpy as np

from ..errors import RuntimeFailure
from ..registry import Op, op
from ._common import as_int_list, check_output_size


@op("Col2Im", since=18)
class Col2Im(Op):
    def __init__(self, node, *, dilations=None, pads=None, strides=None):
        self.node, self.dil, self.pads, self.strides = node, dilations, pads, strides

    def run(self, x, image_shape, block_shape):
        img, blk = as_int_list(image_shape), as_int_list(block_shape)
        k = len(img)
        dil = list(self.dil) if self.dil is not None else [1] * k
        st = list(self.strides) if self.strides is not None else [1] * k
        pads = list(self.pads) if self.pads is not None else [0] * (2 * k)
        if len(blk) != k or len(dil) != k or len(st) != k or len(pads) != 2 * k or x.ndim != 3:
            raise RuntimeFailure(self.node, "image_shape, block_shape, dilations, strides and pads "
                                            "must describe the same number of axes")
        if min(blk + dil + st) < 1 or min(pads) < 0:
            raise RuntimeFailure(self.node, "block sizes, dilations and strides must be positive, pads >= 0")
        n, cb, L = x.shape
        nb = int(np.prod(blk))
        if cb % nb:
            raise RuntimeFailure(self.node, f"input dim 1 ({cb}) is not a multiple of prod(block_shape) = {nb}")
        c = cb // nb
        padded = [img[i] + pads[i] + pads[k + i] for i in range(k)]
        counts = [(padded[i] - (dil[i] * (blk[i] - 1) + 1)) // st[i] + 1 for i in range(k)]
        if min(counts) < 1 or int(np.prod(counts)) != L:
            raise RuntimeFailure(self.node, f"input has {L} blocks but the shapes give {counts} "
                                            f"= {int(np.prod([max(v, 0) for v in counts]))}")
        check_output_size([n, c, *padded], self.node)
        out = np.zeros([n, c, *padded], dtype=x.dtype)
        cols = x.reshape([n, c, *blk, *counts])      # (N, C, k1..kk, L1..Lk)
        for off in itertools.product(*[range(b) for b in blk]):
            dst = tuple(slice(o * d, o * d + s * (m - 1) + 1, s)
                        for o, d, s, m in zip(off, dil, st, counts))
            out[(slice(None), slice(None)) + dst] += cols[(slice(None), slice(None)) + off]
        return out[(slice(None), slice(None)) + tuple(slice(pads[i], pads[i] + img[i]) for i in range(k))]

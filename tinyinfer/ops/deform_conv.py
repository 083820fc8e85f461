"""DeformConv — convolution whose taps sample the input at learned fractional offsets.

    x: (N, C, D1..Dn)   w: (M, C/group, k1..kn)   offset: (N, G_off * K * n, O1..On)
    b: (M,)   mask: (N, G_off * K, O1..On)   (K = k1 * ... * kn)   ->   y: (N, M, O1..On)
    p[n, g, t, o] = o * stride - pad_begin + t * dilation + offset[n, g, t, :, o]
    cols[n, c, t, o] = mask[n, g(c), t, o] * interp(x[n, c], p[n, g(c), t, o])
    y[n, m, o] = b[m] + sum_{c in group(m), t} w[m, c', t] * cols[n, c, t, o]

interp is (multi)linear interpolation; samples outside the input read zero (onnxruntime and the
ONNX reference's GridSample with align_corners=1). Offsets are laid out (G_off, k1..kn, n).
Vectorised: 2^n corner gathers with take_along_axis, then one batched matmul per group.
"""
from __future__ import annotations

import itertools

import numpy as np

from ..errors import ModelError, RuntimeFailure
from ..registry import Op, op
from . import _window as W


@op("DeformConv", since=19)
class DeformConv(Op):
    """DeformConv — y = b + sum over taps of w * mask * x sampled at offset positions.

        x: (N, C, D..)  w: (M, C/group, k..)  offset: (N, G_off*K*n, O..)  ->  y: (N, M, O..)
    """

    def __init__(self, node, *, dilations=None, group=1, kernel_shape=None, offset_group=1,
                 pads=None, strides=None):
        self.node = node
        self.group, self.offset_group = int(group), int(offset_group)
        if self.group < 1 or self.offset_group < 1:
            raise ModelError(node, f"group={group} and offset_group={offset_group} must be at "
                                   "least 1")
        self.dilations_attr, self.kernel_attr = dilations, kernel_shape
        self.pads_attr, self.strides_attr = pads, strides

    def prepare(self, x, w, offset, b=None, mask=None):
        W.check_spatial_input(self.node, x.shape)
        if w.shape is not None and self.kernel_attr and \
                [int(k) for k in self.kernel_attr] != list(w.shape[2:]):
            raise ModelError(self.node, f"kernel_shape={list(self.kernel_attr)} does not match "
                                        f"the weight's spatial shape {list(w.shape[2:])}")

    def run(self, x, w, offset, b=None, mask=None):
        node = self.node
        n, c = x.shape[:2]
        m, cg = w.shape[:2]
        g, go = self.group, self.offset_group
        nsp = x.ndim - 2
        if w.ndim != x.ndim or c != cg * g or m % g or c % go:
            raise RuntimeFailure(node, f"X of shape {list(x.shape)}, W of shape {list(w.shape)}, "
                                       f"group={g} and offset_group={go} are inconsistent")
        kernel = list(w.shape[2:])
        K = int(np.prod(kernel))
        strides = W.spatial_list(node, "strides", self.strides_attr, nsp, 1)
        dil = W.spatial_list(node, "dilations", self.dilations_attr, nsp, 1)
        pads = W.pads_list(node, self.pads_attr, nsp)
        win = W.resolve(node, "NOTSET", x.shape[2:], kernel, strides, dil, pads)
        W.check_budget(node, x.shape, win, m)
        out = tuple(win.out)
        L = int(np.prod(out))
        if offset.shape != (n, go * K * nsp) + out:
            raise RuntimeFailure(node, f"offset has shape {list(offset.shape)}; expected "
                                       f"{[n, go * K * nsp, *out]}")
        ct = np.dtype(np.float64) if x.dtype == np.float64 else np.dtype(np.float32)
        off = offset.astype(ct, copy=False).reshape(n, go, K, nsp, L)
        if mask is None:
            mk = np.ones((n, go, K, L), dtype=ct)
        else:
            if mask.shape != (n, go * K) + out:
                raise RuntimeFailure(node, f"mask has shape {list(mask.shape)}; expected "
                                           f"{[n, go * K, *out]}")
            mk = mask.astype(ct, copy=False).reshape(n, go, K, L)
        # base sampling position of tap t at output o, per spatial axis: (nsp, K, L)
        taps = np.array(list(itertools.product(*(range(k) for k in kernel))), dtype=ct)  # (K, n)
        grids = np.meshgrid(*(np.arange(o, dtype=ct) for o in out), indexing="ij")
        base = np.stack([
            grids[i].reshape(1, L) * strides[i] - pads[i] + taps[:, i:i + 1] * dil[i]
            for i in range(nsp)])
        pos = base[None, None].transpose(0, 1, 3, 2, 4) + off  # (N, G_off, K, nsp, L)
        sizes = x.shape[2:]
        mult = [int(np.prod(sizes[i + 1:])) for i in range(nsp)]
        xg = x.astype(ct, copy=False).reshape(n, go, c // go, -1)  # (N, G_off, C/G_off, S)
        lo = np.floor(pos)
        frac = pos - lo
        lo = lo.astype(np.int64)
        cols = np.zeros((n, go, c // go, K * L), dtype=ct)
        for corner in itertools.product((0, 1), repeat=nsp):
            weight = mk.copy()
            flat = np.zeros((n, go, K, L), dtype=np.int64)
            for i, ci in enumerate(corner):
                idx = lo[:, :, :, i] + ci
                weight *= frac[:, :, :, i] if ci else 1 - frac[:, :, :, i]
                weight *= (idx >= 0) & (idx < sizes[i])
                flat += np.clip(idx, 0, sizes[i] - 1) * mult[i]
            vals = np.take_along_axis(xg, flat.reshape(n, go, 1, K * L), axis=3)
            cols += vals * weight.reshape(n, go, 1, K * L)
        # (N, C, K, L) -> (N, g, C/g * K, L), then (g, M/g, C/g * K) @ it
        cols = cols.reshape(n, g, cg * K, L)
        y = np.matmul(w.astype(ct, copy=False).reshape(g, m // g, cg * K), cols)
        y = y.reshape((n, m) + out)
        if b is not None:
            y += b.astype(ct, copy=False).reshape((1, m) + (1,) * nsp)
        return y.astype(x.dtype, copy=False)

"""Conv and ConvInteger — N-dimensional cross-correlation with groups, strides, dilations, pads.

    x: (N, C, D1..Dn)   w: (M, C/group, k1..kn)   b: (M,)   ->   y: (N, M, O1..On)
    y[n, m, o] = b[m] + sum_{c in group(m), t} x_pad[n, c, o * stride + t * dilation] * w[m, c', t]

Output sizes and paddings follow _window.resolve (auto_pad NOTSET/SAME_UPPER/SAME_LOWER/VALID).
Vectorised as K matmuls over contiguous slices, without a K-times-larger column buffer: the
padded input is split once into its stride phases and flattened, so each kernel tap reads one
contiguous slice (see phase_flat) and accumulates (g, M/g, C/g) @ (N, g, C/g, span) through BLAS;
depthwise groups (C/g = 1) multiply-accumulate instead, and with few channels per group (the
first layer's RGB) the K slices are stacked into (N, g, C/g * K, span) for one deeper matmul.
ConvInteger subtracts zero points and accumulates exactly in int32 (through float64, which is
exact for these sums).
Taught in notebooks/03_convolution.ipynb (loops -> im2col + GEMM -> these ops and kernels/conv2d.py).
"""
from __future__ import annotations

import itertools

import numpy as np

from ..errors import ModelError, RuntimeFailure
from ..registry import Op, op
from . import _window as W

def fast_conv2d():
    """kernels/conv2d.py (imported on first use: it is where the Numba variants are chosen)."""
    from ..kernels import conv2d
    return conv2d


STACK_CHANNELS = 16  # up to this many input channels per group, stack the taps into one matmul


def phase_flat(xp: np.ndarray, win: "W.Window"):
    """Split a padded input into its stride phases, each flattened over the spatial axes.

    (N, C, *P) -> flat (N, C, S, F + extra) with S = prod(strides), plus, for every kernel tap,
    (phase index, flat start). Tap t of output o reads xp[o * s + t * d] = phase[(t*d) % s]
    at position o + (t*d) // s, so every tap becomes ONE contiguous slice
    flat[:, :, phase, start : start + span] over a grid of the phase shape Q (the trailing
    Q_i - O_i columns of each row are computed and then dropped).
    Returns (flat, taps, Q, span) where span = O_0 * prod(Q_1..).
    """
    n, c = xp.shape[:2]
    nsp = len(win.kernel)
    s = win.strides
    q_shape = [-(-p // si) for p, si in zip(xp.shape[2:], s)]
    xp = W.pad_spatial(xp, [0] * nsp, [q * si - p for q, si, p in zip(q_shape, s, xp.shape[2:])])
    inter = [v for q, si in zip(q_shape, s) for v in (q, si)]
    order = [3 + 2 * i for i in range(nsp)] + [2 + 2 * i for i in range(nsp)]
    phases = xp.reshape([n, c] + inter).transpose([0, 1] + order)  # (N, C, *s, *Q)
    mult = [int(np.prod(q_shape[i + 1:])) for i in range(nsp)]
    pmult = [int(np.prod(s[i + 1:])) for i in range(nsp)]
    taps = []
    for kk in itertools.product(*(range(k) for k in win.kernel)):
        off = [t * d for t, d in zip(kk, win.dilations)]
        phase = sum((o % si) * pm for o, si, pm in zip(off, s, pmult))
        start = sum((o // si) * m for o, si, m in zip(off, s, mult))
        taps.append((phase, start))
    span = win.out[0] * mult[0]
    extra = max(st for _, st in taps) + span - int(np.prod(q_shape))
    flat = phases.reshape(n, c, int(np.prod(s)), -1)
    if extra > 0:
        flat = np.pad(flat, ((0, 0), (0, 0), (0, 0), (0, extra)))
    return flat, taps, q_shape, span


def conv_nd(xp: np.ndarray, w: np.ndarray, win: "W.Window", group: int) -> np.ndarray:
    """The convolution proper on an already padded x: (N, C, *P), (M, C/g, *k) -> (N, M, *out)."""
    n, c = xp.shape[:2]
    m, cg = w.shape[:2]
    mg = m // group
    K = int(np.prod(win.kernel))
    flat, taps, q_shape, span = phase_flat(xp, win)
    wt = np.ascontiguousarray(w.reshape(group, mg, cg, K).transpose(3, 0, 1, 2))  # (K, g, M/g, C/g)
    if 1 < cg <= STACK_CHANNELS:  # few channels: gather the K taps, then one deep matmul
        cols = np.empty((n, c, K, span), dtype=xp.dtype)  # (N, C, K, span)
        for t, (phase, start) in enumerate(taps):
            cols[:, :, t] = flat[:, :, phase, start:start + span]
        y = np.matmul(w.reshape(group, mg, cg * K), cols.reshape(n, group, cg * K, span))
        return _crop(y, n, m, win, q_shape)
    y = np.zeros((n, group, mg, span), dtype=xp.dtype)
    for t, (phase, start) in enumerate(taps):
        src = flat[:, :, phase, start:start + span].reshape(n, group, cg, span)
        if cg == 1:  # depthwise (maybe with a channel multiplier): multiply-accumulate
            y += wt[t] * src  # (g, M/g, 1) * (N, g, 1, span)
        else:
            y += np.matmul(wt[t], src)  # (g, M/g, C/g) @ (N, g, C/g, span)
    return _crop(y, n, m, win, q_shape)


def _crop(y, n, m, win, q_shape):
    """(N, g, M/g, O_0 * prod(Q_1..)) -> (N, M, *O): drop the columns past each row's end."""
    y = y.reshape([n, m, win.out[0]] + q_shape[1:])
    if list(q_shape[1:]) != list(win.out[1:]):
        y = np.ascontiguousarray(y[(slice(None),) * 3 + tuple(slice(0, o) for o in win.out[1:])])
    return y


class _ConvBase(Op):
    """Attribute handling and validation shared by Conv and ConvInteger."""

    def __init__(self, node, *, auto_pad="NOTSET", dilations=None, group=1, kernel_shape=None,
                 pads=None, strides=None):
        self.node = node
        self.auto_pad = W.auto_pad_name(node, auto_pad)
        self.group = int(group)
        if self.group < 1:
            raise ModelError(node, f"group={group} must be at least 1")
        self.dilations_attr, self.kernel_attr = dilations, kernel_shape
        self.pads_attr, self.strides_attr = pads, strides
        self._geometry = {}
        self._variants = {}  # (x shape, w shape) -> fast kernel variant, "" for the reference
        self._packed = {}  # variant -> (w, w packed for it)

    def check_weights(self, x_shape, w_shape):
        """Check ranks, kernel_shape and group against W (and X when its shape is known)."""
        node = self.node
        if w_shape is None:
            return
        if len(w_shape) < 3:
            raise ModelError(node, f"weight W has shape {list(w_shape)}; expected (M, C/group, "
                                   "k1, ...) with at least one spatial axis")
        if self.kernel_attr and [int(k) for k in self.kernel_attr] != list(w_shape[2:]):
            raise ModelError(node, f"kernel_shape={list(self.kernel_attr)} does not match the "
                                   f"weight's spatial shape {list(w_shape[2:])}")
        if isinstance(w_shape[0], int) and w_shape[0] % self.group:
            raise ModelError(node, f"group={self.group} does not divide the {w_shape[0]} output "
                                   "channels of W")
        if x_shape is not None:
            if len(x_shape) != len(w_shape):
                raise ModelError(node, f"input X has rank {len(x_shape)} but W has rank "
                                       f"{len(w_shape)}; they must match")
            c = x_shape[1]
            if isinstance(c, int) and isinstance(w_shape[1], int) and c != w_shape[1] * self.group:
                raise ModelError(node, f"input X has {c} channels but W expects "
                                       f"{w_shape[1]} x group {self.group} = "
                                       f"{w_shape[1] * self.group}")

    def prepare(self, x, w, *rest):
        W.check_spatial_input(self.node, x.shape)
        self.check_weights(x.shape, w.shape)
        rank = next((len(s) for s in (w.shape, x.shape) if s is not None), None)
        if rank is None and self.kernel_attr:
            rank = len(self.kernel_attr) + 2
        if rank is not None:  # per-axis attributes can be checked before any data flows
            W.spatial_list(self.node, "strides", self.strides_attr, rank - 2, 1)
            W.spatial_list(self.node, "dilations", self.dilations_attr, rank - 2, 1)
            W.pads_list(self.node, self.pads_attr, rank - 2)

    def geometry(self, x_shape, w_shape) -> "W.Window":
        key = (x_shape, w_shape)
        win = self._geometry.get(key)
        if win is None:
            node, nsp = self.node, len(x_shape) - 2
            if len(x_shape) < 3 or len(w_shape) != len(x_shape):
                raise RuntimeFailure(node, f"X has shape {list(x_shape)} and W has shape "
                                           f"{list(w_shape)}; expected (N, C, D1, ...) and "
                                           "(M, C/group, k1, ...) of the same rank")
            if x_shape[1] != w_shape[1] * self.group:
                raise RuntimeFailure(node, f"input X has {x_shape[1]} channels, which is not "
                                           f"W's {w_shape[1]} channels x group {self.group}")
            if w_shape[0] % self.group:
                raise RuntimeFailure(node, f"group={self.group} does not divide the "
                                           f"{w_shape[0]} output channels of W")
            strides = W.spatial_list(node, "strides", self.strides_attr, nsp, 1)
            dilations = W.spatial_list(node, "dilations", self.dilations_attr, nsp, 1)
            pads = W.pads_list(node, self.pads_attr, nsp)
            win = W.resolve(node, self.auto_pad, x_shape[2:], w_shape[2:], strides, dilations,
                            pads)
            if self.kernel_attr and [int(k) for k in self.kernel_attr] != list(w_shape[2:]):
                raise RuntimeFailure(node, f"kernel_shape={list(self.kernel_attr)} does not "
                                           f"match the weight's spatial shape {list(w_shape[2:])}")
            W.check_budget(node, x_shape, win, w_shape[0])
            self._geometry[key] = win
        return win


@op("Conv", since=1)
class Conv(_ConvBase):
    """Conv — y = b + cross-correlation(pad(x), w), per group.

        x: (N, C, D1..Dn)   w: (M, C/group, k1..kn)   b: (M,)   ->   y: (N, M, O1..On)
    """

    def prepare(self, x, w, b=None):
        super().prepare(x, w)
        if b is not None and b.shape is not None and w.shape is not None:
            if len(b.shape) != 1 or b.shape[0] != w.shape[0]:
                raise ModelError(self.node, f"bias B has shape {list(b.shape)}; expected "
                                            f"({w.shape[0]},), one value per output channel")

    def run(self, x, w, b=None):
        y = self.run_fast(x, w, b)
        return self.run_reference(x, w, b) if y is None else y

    def run_fast(self, x, w, b=None, act=0, a0=0.0, a1=0.0, z=None):
        """kernels/conv2d.py's variant for this shape with epilogue act(y + b + z), or None."""
        if not (x.dtype == np.float32 and w.dtype == np.float32 and x.ndim == 4):
            return None
        win = self.geometry(x.shape, w.shape)
        key = (x.shape, w.shape)
        variant = self._variants.get(key)
        if variant is None:  # chosen once per shape; "" = the reference
            variant = fast_conv2d().choose(x.shape, w.shape, self.group, win) or ""
            self._variants[key] = variant
        if not variant:
            return None
        packed = self._packed.get(variant)
        if packed is None or packed[0] is not w:  # weights packed once (w itself is never written)
            packed = (w, fast_conv2d().pack(variant, w, self.group))
            self._packed[variant] = packed
        return fast_conv2d().run(variant, x, packed[1], b, win, act, a0, a1, z)

    def run_reference(self, x, w, b=None):
        win = self.geometry(x.shape, w.shape)
        ct = W.compute_dtype(x.dtype)
        xp = W.pad_spatial(x.astype(ct, copy=False), win.begin, win.end)
        y = conv_nd(xp, w.astype(ct, copy=False), win, self.group)
        if b is not None:
            y += b.astype(ct, copy=False).reshape((1, -1) + (1,) * (y.ndim - 2))
        return y.astype(x.dtype, copy=False)


@op("ConvInteger", since=10)
class ConvInteger(_ConvBase):
    """ConvInteger — Conv on (u)int8 with zero points, exact int32 result.

        y = Conv(x - x_zero_point, w - w_zero_point)      (int32)
        x: (N, C, D...) uint8/int8   w: (M, C/g, k...)   x_zero_point: scalar
        w_zero_point: scalar or (M,)                     ->   y: (N, M, O...) int32
    Padding is with x_zero_point, i.e. zero after subtraction.
    """

    def prepare(self, x, w, x_zero_point=None, w_zero_point=None):
        super().prepare(x, w)

    def run(self, x, w, x_zero_point=None, w_zero_point=None):
        win = self.geometry(x.shape, w.shape)
        xf = x.astype(np.float64)
        if x_zero_point is not None:
            if np.size(x_zero_point) != 1:
                raise RuntimeFailure(self.node, "x_zero_point must be a scalar (per-tensor); "
                                                f"found shape {list(np.shape(x_zero_point))}")
            xf -= float(np.asarray(x_zero_point).reshape(-1)[0])
        wf = w.astype(np.float64)
        if w_zero_point is not None:
            zp = np.asarray(w_zero_point, dtype=np.float64).reshape(-1)
            if zp.size not in (1, w.shape[0]):
                raise RuntimeFailure(self.node, f"w_zero_point has {zp.size} values; expected 1 "
                                                f"or one per output channel ({w.shape[0]})")
            wf -= zp.reshape((-1,) + (1,) * (w.ndim - 1))
        xp = W.pad_spatial(xf, win.begin, win.end)
        y = conv_nd(xp, wf, win, self.group)
        return np.rint(y).astype(np.int32)

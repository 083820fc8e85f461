"""GridSample, AffineGrid — sample an image at normalised coordinates, and build such grids.

    GridSample(X: (N, C, D1..Dk), grid: (N, O1..Om, k)) -> (N, C, O1..Om)
        grid[..., j] in [-1, 1] addresses spatial axis k-1-j (x = width first), denormalised as
            align_corners=1: (g + 1) / 2 * (L - 1)     align_corners=0: ((g + 1) * L - 1) / 2
        mode: nearest (round half to even), linear (2 taps per axis), cubic (4 taps, a = -0.75)
        padding_mode for samples outside the image: zeros, border (clamp), reflection
    AffineGrid(theta: (N, 2, 3) | (N, 3, 4), size: (N, C, H, W) | (N, C, D, H, W))
        -> (N, H, W, 2) | (N, D, H, W, 3):  grid[n, ..] = theta[n] @ [x, y, (z), 1]
        with x, y, z the pixel centres (align_corners=0) or corners (=1) in [-1, 1]
"""
from __future__ import annotations

import itertools

import numpy as np

from ..errors import ModelError, RuntimeFailure
from ..registry import Op, op
from ._common import as_int_list, check_output_size

_MODES = {"nearest": "nearest", "linear": "linear", "bilinear": "linear", "cubic": "cubic",
          "bicubic": "cubic"}


def _reflect(x, lo, hi):
    """Reflect x by the nearer border until it lies in [lo, hi] (vectorised _gs_reflect)."""
    rng = hi - lo
    if rng <= 0:
        return np.full_like(x, lo)
    below, above = x < lo, x > hi
    dx = np.where(below, lo - x, x - hi)
    n = np.floor(dx / rng)
    r = dx - n * rng
    even = (n % 2) == 0
    return np.where(below, np.where(even, lo + r, hi - r),
                    np.where(above, np.where(even, hi - r, lo + r), x))


def _cubic(t, a=-0.75):
    """(..., 4) weights for taps at floor(x) - 1 .. floor(x) + 2, t = x - floor(x)."""
    t = t[..., None] + np.array([1.0, 0.0, -1.0, -2.0])
    t = np.abs(t)
    return np.where(t <= 1, ((a + 2) * t - (a + 3)) * t * t + 1,
                    np.where(t < 2, ((a * t - 5 * a) * t + 8 * a) * t - 4 * a, 0.0))


@op("GridSample", since=16)
class GridSample(Op):
    def __init__(self, node, *, align_corners=0, mode="linear", padding_mode="zeros"):
        self.node, self.align = node, bool(align_corners)
        if mode not in _MODES:
            raise ModelError(node, f"mode must be nearest, linear or cubic, found {mode!r}")
        if padding_mode not in ("zeros", "border", "reflection"):
            raise ModelError(node, f"padding_mode must be zeros, border or reflection, found {padding_mode!r}")
        self.mode, self.padding = _MODES[mode], padding_mode

    def run(self, x, grid):
        k = x.ndim - 2
        if k < 1 or grid.ndim != k + 2 or grid.shape[-1] != k or grid.shape[0] != x.shape[0]:
            raise RuntimeFailure(self.node, f"grid shape {list(grid.shape)} does not match input "
                                            f"shape {list(x.shape)}: expected (N, ..., {k})")
        n, c, dims = x.shape[0], x.shape[1], x.shape[2:]
        out_sp = grid.shape[1:-1]
        if x.size == 0 or grid.size == 0:
            return np.zeros((n, c) + out_sp, dtype=x.dtype)
        g = grid.reshape(n, -1, k).astype(np.float64)                     # (N, P, k)
        bidx = np.repeat(np.arange(n), g.shape[1])                         # (N*P,)
        taps, weights = [], []
        for i, L in enumerate(dims):
            v = g[..., k - 1 - i].reshape(-1)
            xi = (v + 1) / 2 * (L - 1) if self.align else ((v + 1) * L - 1) / 2
            lo, hi = (0.0, L - 1.0) if self.align else (-0.5, L - 0.5)
            if self.mode == "nearest":
                xi = np.rint(xi)
            if self.padding == "border":
                xi = np.where((xi < lo) | (xi > hi), np.clip(xi, 0, L - 1), xi)
            elif self.padding == "reflection":
                xi = _reflect(xi, lo, hi)
            if self.mode == "nearest":
                t_idx, w = np.trunc(xi)[:, None], np.ones((xi.size, 1))
            else:
                f = np.floor(xi)
                if self.mode == "linear":
                    t_idx = f[:, None] + np.array([0.0, 1.0])
                    w = np.stack([1 - (xi - f), xi - f], axis=1)
                else:
                    t_idx = f[:, None] + np.array([-1.0, 0.0, 1.0, 2.0])
                    w = _cubic(xi - f)
            # pixel lookup under the padding mode: zeros -> weight 0 outside, else clamp/reflect
            if self.padding == "zeros":
                w = np.where((t_idx >= 0) & (t_idx <= L - 1), w, 0.0)
            elif self.padding == "reflection":
                t_idx = np.trunc(_reflect(t_idx, lo, hi))
            taps.append(np.clip(t_idx, 0, L - 1).astype(np.intp))
            weights.append(w)
        xf = x.astype(np.float64)
        acc = np.zeros((bidx.size, c))
        for combo in itertools.product(*[range(t.shape[1]) for t in taps]):
            w = np.ones(bidx.size)
            idx = []
            for i, j in enumerate(combo):
                w = w * weights[i][:, j]
                idx.append(taps[i][:, j])
            acc += xf[(bidx, slice(None), *idx)] * w[:, None]               # (N*P, C)
        y = acc.reshape((n,) + out_sp + (c,))
        y = np.moveaxis(y, -1, 1)                                           # (N, C, O..)
        return y.astype(x.dtype)


@op("AffineGrid", since=20)
class AffineGrid(Op):
    def __init__(self, node, *, align_corners=0):
        self.node, self.align = node, bool(align_corners)

    def run(self, theta, size):
        sz = as_int_list(size)
        k = len(sz) - 2
        if k not in (2, 3) or theta.shape[1:] != (k, k + 1):
            raise RuntimeFailure(self.node, f"theta shape {list(theta.shape)} and size {sz} must be "
                                            "(N, 2, 3) with (N, C, H, W) or (N, 3, 4) with (N, C, D, H, W)")
        sp = sz[2:]
        check_output_size([theta.shape[0], *sp, k], self.node)

        def base(L):
            if self.align:
                return np.linspace(-1.0, 1.0, L) if L > 1 else np.full(L, -1.0)
            return (np.arange(L) * 2.0 + 1.0) / L - 1.0

        axes = [base(L) for L in sp]                       # spatial order (D,) H, W
        mesh = np.meshgrid(*axes, indexing="ij")
        homo = np.stack([*mesh[::-1], np.ones(sp)], axis=-1).reshape(-1, k + 1)  # (P, [x, y, (z), 1])
        g = np.einsum("nij,pj->npi", theta.astype(np.float64), homo)             # (N, P, k)
        return g.reshape([theta.shape[0], *sp, k]).astype(theta.dtype)

"""Transpose, DepthToSpace, SpaceToDepth — permutations of axes.

    Transpose(x, perm=reversed) -> y.shape[i] = x.shape[perm[i]]
    DepthToSpace(x: (N, C, H, W), blocksize=b, mode=DCR|CRD) -> (N, C/b², H*b, W*b)
        DCR: (N, b, b, C/b², H, W) -> (N, C/b², H, b, W, b)
        CRD: (N, C/b², b, b, H, W) -> (N, C/b², H, b, W, b)
    SpaceToDepth(x: (N, C, H, W), blocksize=b, mode=DCR|CRD) -> (N, C*b², H/b, W/b), the inverse
"""
from __future__ import annotations

from ..errors import ModelError, RuntimeFailure
from ..registry import Op, op


@op("Transpose", since=1)
class Transpose(Op):
    def __init__(self, node, *, perm=None):
        self.node, self.perm = node, None if perm is None else [int(p) for p in perm]

    def run(self, x):
        perm = self.perm if self.perm is not None else list(range(x.ndim))[::-1]
        if sorted(perm) != list(range(x.ndim)):
            raise RuntimeFailure(self.node, f"perm={perm} is not a permutation of the "
                                            f"{x.ndim} axes of a tensor of shape {list(x.shape)}")
        return x.transpose(perm)


def _blocks(node, x, b, what):
    if x.ndim != 4:
        raise RuntimeFailure(node, f"the input must be 4-D (N, C, H, W), found shape {list(x.shape)}")
    if b <= 0:
        raise ModelError(node, f"blocksize must be positive, found {b}")
    return x.shape


@op("DepthToSpace", since=1)
class DepthToSpace(Op):
    def __init__(self, node, *, blocksize, mode="DCR"):
        self.node, self.b, self.mode = node, int(blocksize), mode
        if mode not in ("DCR", "CRD"):
            raise ModelError(node, f"mode must be DCR or CRD, found {mode!r}")

    def run(self, x):
        n, c, h, w = _blocks(self.node, x, self.b, "DepthToSpace")
        b = self.b
        if c % (b * b):
            raise RuntimeFailure(self.node, f"channels {c} are not divisible by blocksize² = {b * b}")
        if self.mode == "DCR":
            t = x.reshape(n, b, b, c // (b * b), h, w).transpose(0, 3, 4, 1, 5, 2)
        else:
            t = x.reshape(n, c // (b * b), b, b, h, w).transpose(0, 1, 4, 2, 5, 3)
        return t.reshape(n, c // (b * b), h * b, w * b)


@op("SpaceToDepth", since=1)
class SpaceToDepth(Op):
    def __init__(self, node, *, blocksize, mode="DCR"):
        self.node, self.b, self.mode = node, int(blocksize), mode
        if mode not in ("DCR", "CRD"):
            raise ModelError(node, f"mode must be DCR or CRD, found {mode!r}")

    def run(self, x):
        n, c, h, w = _blocks(self.node, x, self.b, "SpaceToDepth")
        b = self.b
        if h % b or w % b:
            raise RuntimeFailure(self.node, f"H={h} and W={w} must be divisible by blocksize {b}")
        t = x.reshape(n, c, h // b, b, w // b, b)
        if self.mode == "DCR":  # (N, C, H/b, b, W/b, b) -> (N, b, b, C, H/b, W/b)
            t = t.transpose(0, 3, 5, 1, 2, 4)
        else:                   # (N, C, H/b, b, W/b, b) -> (N, C, b, b, H/b, W/b)
            t = t.transpose(0, 1, 3, 5, 2, 4)
        return t.reshape(n, c * b * b, h // b, w // b)

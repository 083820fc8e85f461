"""lowrank: SVD factorisation of fully connected weights and 1x1 convolutions.

    lowrank(model, out, rank=R)       keep R singular values per layer
    lowrank(model, out, energy=0.9)   keep the fewest that hold 90 % of sum(s^2) (the default)

    W (out, in) ~ U_r S_r V_r^T  ->  two layers:  x -> (sqrt(S_r) V_r^T) x -> (U_r sqrt(S_r)) . + b
A layer is split only when r * (out + in) < out * in, i.e. when it saves parameters.
"""
from __future__ import annotations

from typing import Optional

import numpy as np
import onnx
from onnx import helper, numpy_helper

from ._common import ConvertError, fresh_namer, inits, save
from .optimize import optimize


def _attr(n, name, default=None):
    for a in n.attribute:
        if a.name == name:
            return helper.get_attribute_value(a)
    return default


def _factor(W: np.ndarray, rank: Optional[int], energy: float):
    """W (out, in) -> (A (r, in), B (out, r)) with B @ A ~ W, or None when it would not save."""
    u, s, vt = np.linalg.svd(W.astype(np.float64), full_matrices=False)
    if rank:
        r = min(rank, len(s))
    else:
        c = np.cumsum(s ** 2) / max(np.sum(s ** 2), 1e-30)
        r = int(np.searchsorted(c, energy) + 1)
    if r * sum(W.shape) >= W.size:
        return None
    root = np.sqrt(s[:r])
    return (root[:, None] * vt[:r]).astype(np.float32), (u[:, :r] * root).astype(np.float32)


def lowrank(model, out=None, rank: Optional[int] = None, energy: Optional[float] = None) -> onnx.ModelProto:
    if rank is not None and rank < 1:
        raise ConvertError(f"--rank must be at least 1, got {rank}")
    if energy is None:
        energy = 0.9
    if not 0.0 < energy <= 1.0:
        raise ConvertError(f"--energy must be in (0, 1], got {energy}")
    m = optimize(model)
    w = inits(m)
    fresh = fresh_namer(m)
    users = {}
    for n in m.graph.node:
        for x in n.input:
            users[x] = users.get(x, 0) + 1
    nodes, new = [], {}
    for n in m.graph.node:
        W = w.get(n.input[1]) if len(n.input) > 1 else None
        if W is None or W.dtype != np.float32 or users.get(n.input[1], 0) > 1:
            nodes.append(n)
            continue
        y, mid = n.output[0], fresh(f"{n.output[0]}_lowrank")
        if n.op_type == "Gemm" and W.ndim == 2 and not _attr(n, "transA", 0) and _attr(n, "alpha", 1.0) == 1.0:
            Wm = W if _attr(n, "transB", 0) else W.T                          # (N, K)
            f = _factor(Wm, rank, energy)
            if f is None:
                nodes.append(n)
                continue
            a, b = f
            an, bn = fresh(f"{n.input[1]}_a"), fresh(f"{n.input[1]}_b")
            new[an], new[bn] = a, b
            nodes.append(helper.make_node("Gemm", [n.input[0], an], [mid], transB=1))
            rest = list(n.input[2:3])
            nodes.append(helper.make_node("Gemm", [mid, bn] + rest, [y], name=n.name, transB=1,
                                          beta=float(_attr(n, "beta", 1.0))))
        elif n.op_type == "MatMul" and W.ndim == 2:
            f = _factor(W.T, rank, energy)                                   # (N, K)
            if f is None:
                nodes.append(n)
                continue
            a, b = f
            an, bn = fresh(f"{n.input[1]}_a"), fresh(f"{n.input[1]}_b")
            new[an], new[bn] = np.ascontiguousarray(a.T), np.ascontiguousarray(b.T)   # (K, r), (r, N)
            nodes.append(helper.make_node("MatMul", [n.input[0], an], [mid]))
            nodes.append(helper.make_node("MatMul", [mid, bn], [y], name=n.name))
        elif n.op_type == "Conv" and W.ndim == 4 and W.shape[2:] == (1, 1) and _attr(n, "group", 1) == 1:
            f = _factor(W[:, :, 0, 0], rank, energy)                          # (M, C)
            if f is None:
                nodes.append(n)
                continue
            a, b = f
            an, bn = fresh(f"{n.input[1]}_a"), fresh(f"{n.input[1]}_b")
            new[an], new[bn] = a[:, :, None, None], b[:, :, None, None]
            first = helper.make_node("Conv", [n.input[0], an], [mid])
            first.attribute.extend(a for a in n.attribute if a.name != "kernel_shape")
            nodes.append(first)
            nodes.append(helper.make_node("Conv", [mid, bn] + list(n.input[2:3]), [y], name=n.name))
        else:
            nodes.append(n)
            continue
        w.pop(n.input[1])
    w.update(new)
    del m.graph.node[:]
    m.graph.node.extend(nodes)
    del m.graph.initializer[:]
    m.graph.initializer.extend(numpy_helper.from_array(np.array(a, order="C"), k) for k, a in w.items())  # keeps 0-d scalars 0-d
    del m.graph.value_info[:]
    if out is not None:
        save(m, out)
    return m

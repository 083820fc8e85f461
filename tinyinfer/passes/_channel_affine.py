"""Fold a per-output-channel affine map into the weights of the layer that produced the channels.

    # Conv(x, w, b) * a + c            ->  Conv(x, w * a[m], b * a + c)
    # ConvTranspose(x, w, b) * a + c   ->  ConvTranspose(x, w * a[g, :, m'], b * a + c)
    # Gemm(A, B, C) * a + c            ->  Gemm(A, B * a[n], beta * C * a + c)  with beta = 1
The arithmetic is done in float64 and cast back to the weight's dtype. Used by
fold_batch_norm.py and fold_conv_affine.py.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Optional, Tuple

import numpy as np

from .. import ir
from ._graph import STANDARD, View, is_float

LAYERS = ("Conv", "ConvTranspose", "Gemm")


def layer_channels(v: View, node: ir.Node) -> Optional[Tuple[int, int]]:
    """(number of output channels M, rank of the output) of a foldable layer, else None."""
    if node.domain not in STANDARD or node.op_type not in LAYERS or len(node.inputs) < 2:
        return None
    if len([o for o in node.outputs if o]) != 1:
        return None
    w = v.const(node.inputs[1])
    if not is_float(w) or w.ndim < 2:
        return None
    b = node.inputs[2] if len(node.inputs) > 2 else ""
    if b and not (is_float(v.const(b)) and v.const(b).dtype == w.dtype):
        return None
    if node.op_type == "Conv":
        if w.ndim < 3 or (b and v.const(b).shape != (w.shape[0],)):
            return None
        return w.shape[0], w.ndim
    if node.op_type == "ConvTranspose":
        g = int(node.attributes.get("group", 1))
        m = w.shape[1] * g
        if w.ndim < 3 or g < 1 or w.shape[0] % g or (b and v.const(b).shape != (m,)):
            return None
        return m, w.ndim
    # Gemm
    if w.ndim != 2:
        return None
    n = w.shape[0] if int(node.attributes.get("transB", 0)) else w.shape[1]
    if b and v.const(b).ndim > 2:
        return None
    return n, 2


def channel_vector(k: np.ndarray, m: int, rank: int) -> Optional[np.ndarray]:
    """k as (M,) float64 when it broadcasts along axis 1 of a rank-`rank` output only, else None."""
    if k.ndim > rank:
        return None
    shape = (1,) * (rank - k.ndim) + k.shape
    if any(d != 1 for i, d in enumerate(shape) if i != 1) or shape[1] not in (1, m):
        return None
    return np.broadcast_to(k.astype(np.float64).reshape(-1), (m,)).copy() if k.size in (1, m) else None


def fold_into(v: View, node: ir.Node, a: np.ndarray, c: np.ndarray, out_name: str):
    """(new layer node writing `out_name`, new initializers) for layer(x) * a + c, a, c: (M,)."""
    w = v.const(node.inputs[1])
    wf = w.astype(np.float64)
    b_name = node.inputs[2] if len(node.inputs) > 2 else ""
    attrs = dict(node.attributes)
    if node.op_type == "Conv":
        w2 = wf * a.reshape((-1,) + (1,) * (w.ndim - 1))
    elif node.op_type == "ConvTranspose":
        g = int(attrs.get("group", 1))
        cin, mg = w.shape[0], w.shape[1]
        # (C, M/g, k..) -> (g, C/g, M/g, k..): output channel gi * M/g + j is scaled by a[gi, j]
        w2 = (wf.reshape((g, cin // g, mg) + w.shape[2:])
              * a.reshape((g, 1, mg) + (1,) * (w.ndim - 2))).reshape(w.shape)
    else:  # Gemm: columns of op(B)
        w2 = wf * (a.reshape(-1, 1) if int(attrs.get("transB", 0)) else a.reshape(1, -1))
    if node.op_type == "Gemm":
        beta = float(attrs.get("beta", 1.0))
        b = v.const(b_name).astype(np.float64) * beta if b_name else np.zeros_like(a)
        b2 = b * a + c  # the last axis of (M, N) is the channel axis; C (M, 1) becomes (M, N)
        attrs["beta"] = 1.0
    else:
        b = v.const(b_name).astype(np.float64) if b_name else np.zeros_like(a)
        b2 = b * a + c
    w_name, b_new = v.fresh(node.inputs[1]), v.fresh(b_name or out_name + "_bias")
    new = replace(node, inputs=(node.inputs[0], w_name, b_new), outputs=(out_name,),
                  attributes=attrs)
    return new, {w_name: w2.astype(w.dtype), b_new: np.asarray(b2).astype(w.dtype)}

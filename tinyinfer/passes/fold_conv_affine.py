"""A constant per-channel Mul / Add / Sub / Div after a Conv, ConvTranspose or Gemm is folded
into its weights and bias (PaddleOCR exports write its 'learnable affine blocks' this way, and
biases of ConvTranspose as a separate Add).

    # Conv(x, w, b) * k  ->  Conv(x, w * k, b * k)        # Conv(x, w, b) + k  ->  Conv(x, w, b + k)
    # Conv - k, k - Conv, Conv / k likewise (as * -1 + k, * 1/k)
k must broadcast along the channel axis only (shape (), (1,), (M, 1, 1), (1, M, 1, 1), ...) and
have the layer's dtype, and the layer's output must be read by this node alone.
"""
from __future__ import annotations

import numpy as np

from .. import ir
from ._channel_affine import channel_vector, fold_into, layer_channels
from ._graph import STANDARD, View, rebuild

MAX_ROUNDS = 8


def _affine(v: View, node: ir.Node, y: str, m: int, rank: int, dtype):
    """(a, c) with node(y) = y * a + c, or None."""
    if node.domain not in STANDARD or node.op_type not in ("Mul", "Add", "Sub", "Div") \
            or len(node.inputs) != 2 or len([o for o in node.outputs if o]) != 1:
        return None
    k_name = node.inputs[1] if node.inputs[0] == y else node.inputs[0]
    if k_name == y:
        return None
    k = v.const(k_name)
    if k is None or k.dtype != dtype:
        return None
    kv = channel_vector(k, m, rank)
    if kv is None:
        return None
    one, zero = np.ones(m), np.zeros(m)
    first = node.inputs[0] == y
    if node.op_type == "Mul":
        return kv, zero
    if node.op_type == "Add":
        return one, kv
    if node.op_type == "Sub":
        return (one, -kv) if first else (-one, kv)
    if first and np.all(kv != 0):  # Div(y, k)
        return 1.0 / kv, zero
    return None


def fold_conv_affine(graph: ir.Graph) -> ir.Graph:
    for _ in range(MAX_ROUNDS):
        v = View(graph)
        drop, put, inits = [], {}, {}
        for layer in graph.nodes:
            mc = layer_channels(v, layer)
            if mc is None:
                continue
            y = layer.outputs[0]
            nxt = v.only_consumer(y)
            if nxt is None:
                continue
            ac = _affine(v, nxt, y, mc[0], mc[1], v.const(layer.inputs[1]).dtype)
            if ac is None:
                continue
            folded = fold_into(v, layer, ac[0], ac[1], nxt.outputs[0])
            if folded is None:
                continue
            put[id(layer)] = folded[0]
            inits.update(folded[1])
            drop.append(nxt)
        if not drop:
            break
        graph = rebuild(graph, drop=drop, put=put, new_inits=inits)
    return graph

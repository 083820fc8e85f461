"""Chains of byte-wise integer ops on one (u)int8 tensor become one 256-entry table lookup.

    # f_k(...f_1(x)...) of one byte x   ->   QLinearLookup(x, table)   table[b] = chain(value of b)

A node joins when its only non-constant data inputs are x or earlier members of x's chain:
com.microsoft QLinearAdd / QLinearMul (other operand x, a chain member or a one-value constant),
QLinearSigmoid, QLinearLeakyRelu, and a per-tensor DequantizeLinear of a chain member (then the
table holds floats). Each member's own reference runs on all 256 values of x at load time, so
the lookup equals running the chain, bit for bit. A QOperator HardSwish (QLinearAdd, QLinearMul,
QLinearMul) is one lookup instead of three passes over the tensor. Called at the end of
fuse_qdq (passes/fuse_qdq.py), so "tinyinfer.qdq" = "float" leaves graphs alone.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from .. import ir
from ._graph import OWN_DOMAIN, STANDARD, View, prune, rebuild

MS = "com.microsoft"
_BYTES = (np.dtype(np.uint8), np.dtype(np.int8))
# op -> (data input index, its zero point index) pairs
_DATA = {"QLinearAdd": ((0, 2), (3, 5)), "QLinearMul": ((0, 2), (3, 5)),
         "QLinearSigmoid": ((0, 2),), "QLinearLeakyRelu": ((0, 2),), "DequantizeLinear": ((0, 2),)}


def _op_class(node: ir.Node):
    from ..ops import qlinear_ms as M
    from ..ops.quantize_linear import DequantizeLinear
    if node.op_type == "DequantizeLinear":
        return DequantizeLinear if node.domain in STANDARD else None
    if node.domain != MS:
        return None
    return {"QLinearAdd": M.QLinearAdd, "QLinearMul": M.QLinearMul,
            "QLinearSigmoid": M.QLinearSigmoid, "QLinearLeakyRelu": M.QLinearLeakyRelu}.get(
        node.op_type)


def _member(v: View, node: ir.Node, chains: dict):
    """(root, table, min_rank) when `node` is a byte function of one tensor, else None."""
    cls = _op_class(node)
    if cls is None or len(node.outputs) != 1 or not node.outputs[0]:
        return None
    pairs = _DATA[node.op_type]
    data_idx = {i for i, _ in pairs}
    args, root, rank, chained = [], None, 0, False
    for i, name in enumerate(node.inputs):
        c = v.const(name) if name else None
        if i not in data_idx:
            if name and c is None:
                return None  # a scale or zero point computed at run time
            args.append(c)
            continue
        if c is not None:  # a one-value constant operand
            if c.size != 1 or c.ndim > 1 or c.dtype not in _BYTES or node.op_type not in (
                    "QLinearAdd", "QLinearMul"):
                return None
            rank = max(rank, c.ndim)
            args.append(c)
            continue
        if name in chains:
            r, t, k = chains[name]
            rank, chained = max(rank, k), True
        else:
            zi = dict(pairs)[i]
            zp = v.const(node.inputs[zi]) if len(node.inputs) > zi and node.inputs[zi] else None
            dt = zp.dtype if zp is not None else np.dtype(np.uint8)
            if dt not in _BYTES:
                return None
            r, t = name, np.arange(256, dtype=np.uint8).view(dt)  # every byte of x, in order
        if root is not None and r != root:
            return None
        root = r
        args.append(t)
    if root is None:
        return None
    if node.op_type == "DequantizeLinear":
        if not chained or node.attributes.get("block_size", 0) or args[1].size != 1 or (
                len(args) > 2 and args[2] is not None and args[2].size != 1):
            return None
    attrs = {k: val for k, val in node.attributes.items()}
    try:
        with np.errstate(all="ignore"):
            y = np.asarray(cls(node, **attrs).run(*args))
    except Exception:  # whatever the op rejects stays in the graph and reports at run time
        return None
    if y.size != 256:
        return None
    return root, y.reshape(256), rank


def fuse_qlut(model: ir.Model) -> ir.Model:
    g = model.graph
    v = View(g)
    chains, put, new_inits = {}, {}, {}
    for node in g.nodes:
        m = _member(v, node, chains)
        if m is None:
            continue
        root, table, rank = m
        chains[node.outputs[0]] = m
        tname = v.fresh(node.outputs[0] + "_table")
        new_inits[tname] = table
        put[id(node)] = ir.Node("QLinearLookup", (root, tname), node.outputs,
                                {"min_rank": rank} if rank else {}, node.name + "_lut",
                                OWN_DOMAIN)
    if not put:
        return model
    graph = prune(rebuild(g, put=put, new_inits=new_inits))
    opsets = dict(model.opset_import)
    opsets.setdefault(OWN_DOMAIN, 1)
    return replace(model, graph=graph, opset_import=opsets)

"""Chains of byte-wise integer ops on one (u)int8 tensor become one 256-entry table lookup.

    # f_k(...f_1(x)...) of one byte x   ->   QLinearLookup(x, table)   table[b] = chain(value of b)

A node joins when its only non-constant data inputs are x or earlier members of x's chain:
com.microsoft QLinearAdd / QLinearMul (other operand x, a chain member or a one-value constant),
QLinearSigmoid, QLinearLeakyRelu, and a per-tensor DequantizeLinear of a chain member (then the
table holds floats). Each member's own reference runs on all 256 values of x at load time, so
the lookup equals running the chain, bit for bit. A QOperator HardSwish (QLinearAdd, QLinearMul,
QLinearMul) is one lookup instead of three passes over the tensor. A chain goes on through float
arithmetic with a one-value constant (Add/Sub/Mul/Div), float Relu / LeakyRelu / HardSwish /
HardSigmoid / Clip (constant bounds) and a per-tensor QuantizeLinear back to bytes, so PP-OCRv4's  QLinearConv -> affine -> HardSwish -> DQ -> Div(6) -> Q -> affine ->
QLinearConv  keeps one lookup between the convolutions instead of four nodes, and a lookup that is
a QLinearConv's only reader goes into the conv (ai.tinyinfer QLinearConvLookup, ops/qlinear.py:
its kernels index the table as they store). Called at the end of
fuse_qdq (passes/fuse_qdq.py), so "tinyinfer.qdq" = "float" leaves graphs alone.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from .. import dtypes, ir
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


_FLOAT_BINARY = ("Add", "Sub", "Mul", "Div")
_FLOAT_UNARY = ("Relu", "Clip", "LeakyRelu", "HardSwish", "HardSigmoid")  # Clip: constant bounds


def _float_member(v: View, node: ir.Node, chains: dict, opset: int):
    """A standard Add/Sub/Mul/Div of a chain member (either side) and a one-value constant, or a
    per-tensor QuantizeLinear of a chain member: the op's own reference on the 256 values."""
    from ..registry import instantiate, lookup
    if len(node.outputs) != 1 or not node.outputs[0] or not node.inputs or not node.inputs[0]:
        return None
    if node.op_type == "QuantizeLinear":
        if node.inputs[0] not in chains or node.attributes.get("block_size", 0) or any(
                not i or v.const(i) is None or v.const(i).size != 1 for i in node.inputs[1:]):
            return None
        data = (0,)
    elif node.op_type in _FLOAT_UNARY:
        if node.inputs[0] not in chains or any(
                i and (v.const(i) is None or v.const(i).size != 1) for i in node.inputs[1:]):
            return None
        data = (0,)
    elif len(node.inputs) == 2 and all(node.inputs):
        data = tuple(i for i, n in enumerate(node.inputs) if n in chains)
        other = v.const(node.inputs[1 - data[0]]) if len(data) == 1 else None
        if other is None or other.size != 1 or other.ndim > 1:
            return None
    else:
        return None
    root, t, rank = chains[node.inputs[data[0]]]
    if t.dtype in _BYTES and node.op_type != "QuantizeLinear":
        return None  # integer arithmetic on bytes: not what a quantised graph means here
    args = [t if i in data else v.const(n) for i, n in enumerate(node.inputs)]
    if node.op_type != "QuantizeLinear":  # a (1,) constant broadcasts a 0-d x to rank 1
        rank = max([rank] + [a.ndim for i, a in enumerate(args) if i not in data])
    try:
        op = instantiate(lookup(node.op_type, "", opset, node), node, dict(node.attributes))
        with np.errstate(all="ignore"):
            y = np.asarray(op.run(*args))
    except Exception:
        return None
    if y.size != 256:
        return None
    return root, y.reshape(256), rank


def _member(v: View, node: ir.Node, chains: dict, opset: int = 0):
    """(root, table, min_rank) when `node` is a byte function of one tensor, else None."""
    if node.domain in STANDARD and (node.op_type in _FLOAT_BINARY + _FLOAT_UNARY or
                                    node.op_type == "QuantizeLinear"):
        return _float_member(v, node, chains, opset) if opset else None
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
            # the table's inputs take x's declared type where known, so the op's own checks see
            # the real types (an int8 x with a uint8 zero point raises below and stays unfused)
            declared = v.types.get(name)
            if declared is not None and getattr(declared, "elem_type", 0):
                dt = dtypes.to_numpy(declared.elem_type)
            else:
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
        # of the root itself (not chained): a weight, or only worth it when float ops follow
        # (fuse_qlut keeps the DequantizeLinear unless chain members read all of it)
        if (not chained and v.const(root) is not None) or node.attributes.get("block_size", 0) \
                or args[1].size != 1 or (
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
    opset = dict(model.opset_import).get("", 0) or dict(model.opset_import).get("ai.onnx", 0)
    for node in g.nodes:
        m = _member(v, node, chains, opset)
        if m is None:
            continue
        root, table, rank = m
        chains[node.outputs[0]] = m
        tname = v.fresh(node.outputs[0] + "_table")
        new_inits[tname] = table
        put[id(node)] = ir.Node("QLinearLookup", (root, tname), node.outputs,
                                {"min_rank": rank} if rank else {}, node.name + "_lut",
                                OWN_DOMAIN)
    # a DequantizeLinear of the root stays as it is unless chain members read all of it
    readers = {}
    for node in g.nodes:
        for i in node.inputs:
            readers.setdefault(i, []).append(node)
    for node in g.nodes:
        if (id(node) in put and node.op_type == "DequantizeLinear"
                and put[id(node)].inputs[0] == node.inputs[0]
                and not all(id(r) in put for r in readers.get(node.outputs[0], []))):
            del put[id(node)]
    if not put:
        return model
    graph = _into_conv(prune(rebuild(g, put=put, new_inits=new_inits)))
    opsets = dict(model.opset_import)
    opsets.setdefault(OWN_DOMAIN, 1)
    return replace(model, graph=graph, opset_import=opsets)


def _into_conv(g: ir.Graph) -> ir.Graph:
    """# QLinearLookup(QLinearConv(...), table)  ->  QLinearConvLookup(..., table)
    where the lookup (bytes to bytes, no rank change: y has w's rank) is the conv's only reader."""
    v = View(g)
    put, drop = {}, []
    for node in g.nodes:
        if node.op_type != "QLinearLookup" or node.domain != OWN_DOMAIN:
            continue
        t = v.const(node.inputs[1])
        conv = v.made_by(node.inputs[0], "QLinearConv")
        w = v.const(conv.inputs[3]) if conv is not None and len(conv.inputs) > 3 else None
        if t is None or t.dtype not in _BYTES or w is None or id(conv) in put \
                or node.attributes.get("min_rank", 0) > w.ndim \
                or v.only_consumer(node.inputs[0]) is not node:
            continue
        ins = tuple(conv.inputs) + ("",) * (9 - len(conv.inputs)) + (node.inputs[1],)
        put[id(conv)] = ir.Node("QLinearConvLookup", ins, node.outputs, dict(conv.attributes),
                                conv.name + "_lut", OWN_DOMAIN)
        drop.append(node)
    return prune(rebuild(g, drop=drop, put=put)) if put else g

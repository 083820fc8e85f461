"""QDQ models run as integer kernels: DequantizeLinear -> op -> QuantizeLinear becomes a QLinear op,
as onnxruntime's QDQ transformer does, so the integer kernels (and onnxruntime's results) apply.

    # Q(Conv(DQ(x), DQ(w), b), ys, yz)      ->  QLinearConv(x, xs, xz, w, ws, wz, ys, yz, b_q)
    # Q(MatMul(DQ(a), DQ(b)), ys, yz)       ->  QLinearMatMul(a, as, az, b, bs, bz, ys, yz)
    # Q(Add(DQ(a), DQ(b)), cs, cz)          ->  com.microsoft QLinearAdd(a, as, az, b, bs, bz, cs, cz)
    # Q(Mul(DQ(a), DQ(b)), cs, cz)          ->  com.microsoft QLinearMul(...)

A Shape of a DequantizeLinear reads the bytes instead (PP-OCRv4 rec dequantised its 40 x 6625
logits only for a Shape). b_q: the bias as DequantizeLinear(int32, xs * ws) gives its integers directly; a float bias is
quantised as onnxruntime's quantizer does, rint(b / (xs * ws)) in float32 (per channel).
Only (u)int8 tensors with per-tensor activation parameters match (per-channel weights allowed),
and only when the op's float output is read by that one QuantizeLinear. The DequantizeLinear
nodes stay for any other reader and are pruned otherwise.
The result is the integer pipeline, not the float reference the QDQ graph spells: results may
move by an output quantisation step (tests/int8 compare with onnxruntime, which fuses the same
way). SessionOptions config "tinyinfer.qdq" = "float" skips this pass.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Optional

import numpy as np

from .. import ir
from ._graph import View, prune, rebuild

_BYTES = (np.dtype(np.uint8), np.dtype(np.int8))
MS = "com.microsoft"


def _dq(v: View, name: str, const: bool = False) -> Optional[ir.Node]:
    """The DequantizeLinear producing `name` from (u)int8 with a known scale (None otherwise)."""
    n = v.made_by(name, "DequantizeLinear")
    if n is None or len(n.inputs) < 2 or v.const(n.inputs[1]) is None:
        return None
    if n.attributes.get("block_size", 0):
        return None
    q = v.const(n.inputs[0])
    if const and q is None:
        return None
    zp = v.const(n.inputs[2]) if len(n.inputs) > 2 and n.inputs[2] else None
    if len(n.inputs) > 2 and n.inputs[2] and zp is None:
        return None
    dt = q.dtype if q is not None else (zp.dtype if zp is not None else None)
    if dt not in _BYTES:
        return None
    return n


def _per_tensor(v: View, n: ir.Node) -> bool:
    return all(v.const(i) is None or v.const(i).size == 1 for i in n.inputs[1:3] if i)


def _q_after(v: View, name: str) -> Optional[ir.Node]:
    """The single QuantizeLinear reading `name`, per tensor, (u)int8 zero point given."""
    q = v.only_consumer(name)
    if q is None or q.domain not in ("", "ai.onnx") or q.op_type != "QuantizeLinear":
        return None
    if len(q.inputs) < 3 or q.inputs[0] != name:
        return None
    s, z = v.const(q.inputs[1]), v.const(q.inputs[2])
    if s is None or z is None or s.size != 1 or z.size != 1 or z.dtype not in _BYTES:
        return None
    return q


def _bias(v: View, name: str, xs, ws, new_inits, fresh):
    """The int32 bias input for QLinearConv, or None when it cannot be made exactly."""
    d = v.made_by(name, "DequantizeLinear")
    if d is not None:
        q = v.const(d.inputs[0])
        if q is not None and q.dtype == np.int32:
            return d.inputs[0]
        return None
    b = v.const(name)
    if b is None or b.dtype != np.float32:
        return None
    scale = (np.float32(xs) * np.asarray(ws, np.float32)).reshape(-1)
    qb = np.rint(b.reshape(-1) / scale).astype(np.int64)
    if np.any(np.abs(qb) >= 2 ** 31):
        return None
    out = fresh(name + "_int32")
    new_inits[out] = qb.astype(np.int32)
    return out


_UNARY = ("AveragePool", "GlobalAveragePool", "LeakyRelu", "Sigmoid", "Softmax")


def _dq_parts(v: View, name: str):
    """(x, scale, zero point) names of the per-tensor 8-bit DequantizeLinear making `name`."""
    d = _dq(v, name)
    if d is None or not _per_tensor(v, d) or len(d.inputs) < 3 or not d.inputs[2]:
        return None
    return tuple(d.inputs[:3])


def _fuse_unary(v: View, node: ir.Node, put: dict, drop: list, opset: int) -> None:
    """# Q(op(DQ(x)), ys, yz)  ->  com.microsoft QLinear<op>(x, xs, xz, ys, yz)  (op in _UNARY)
    # Q(Concat(DQ(a), DQ(b), ...), ys, yz)  ->  QLinearConcat(ys, yz, a, as, az, b, bs, bz, ...)
    as onnxruntime's UnaryOpQDQRules / VariadicOpQDQRules do (its QLinear kernels then run)."""
    q = _q_after(v, node.outputs[0])
    if q is None or id(q) in put or not node.inputs or not all(node.inputs):
        return
    parts = [_dq_parts(v, i) for i in (node.inputs if node.op_type == "Concat"
                                       else node.inputs[:1])]
    if any(p is None for p in parts) or (node.op_type != "Concat" and len(node.inputs) != 1):
        return
    dts = {v.const(p[2]).dtype for p in parts} | {v.const(q.inputs[2]).dtype}
    if len(dts) != 1:
        return
    attrs = dict(node.attributes)
    if node.op_type == "Concat":
        ins = (q.inputs[1], q.inputs[2]) + tuple(n for p in parts for n in p)
    else:
        ins = parts[0] + (q.inputs[1], q.inputs[2])
        if node.op_type == "Softmax":
            attrs.setdefault("axis", -1 if opset >= 13 else 1)
            attrs["opset"] = opset
    put[id(node)] = ir.Node("QLinear" + node.op_type, ins, (q.outputs[0],), attrs,
                            node.name + "_quant", MS)
    drop.append(q)


def fuse_qdq(model: ir.Model) -> ir.Model:
    g = model.graph
    v = View(g)
    opset = dict(model.opset_import).get("", 0) or dict(model.opset_import).get("ai.onnx", 0)
    drop, put, new_inits = [], {}, {}
    for node in g.nodes:
        if node.domain not in ("", "ai.onnx") or not node.outputs:
            continue
        op = node.op_type
        if op in _UNARY or op == "Concat":
            _fuse_unary(v, node, put, drop, opset)
            continue
        if op not in ("Conv", "MatMul", "Add", "Mul") or len(node.inputs) < 2:
            continue
        q = _q_after(v, node.outputs[0])
        if q is None or id(q) in put:
            continue
        a = _dq(v, node.inputs[0])
        b = _dq(v, node.inputs[1], const=(op == "Conv"))
        if a is None or b is None or not _per_tensor(v, a):
            continue
        ai = list(a.inputs[:3]) + [""] * (3 - len(a.inputs[:3]))
        bi = list(b.inputs[:3]) + [""] * (3 - len(b.inputs[:3]))
        if not ai[2] or not bi[2]:
            continue
        qi = [q.inputs[1], q.inputs[2]]
        if op == "Conv":
            w = v.const(bi[0])
            ws = v.const(bi[1])
            if w.ndim < 3 or ws.size not in (1, w.shape[0]) or b.attributes.get("axis", 1) != 0 \
                    and ws.size != 1:
                continue
            ins = ai + bi + qi
            if len(node.inputs) > 2 and node.inputs[2]:
                bq = _bias(v, node.inputs[2], v.scalar(ai[1]), ws, new_inits, v.fresh)
                if bq is None:
                    continue
                ins.append(bq)
            new = ir.Node("QLinearConv", tuple(ins), (q.outputs[0],), dict(node.attributes),
                          node.name + "_quant", "")
        elif op == "MatMul":
            bs = v.const(bi[1])
            if bs is None or (bs.size != 1 and b.attributes.get("axis", 1) not in (1, -1)):
                continue
            new = ir.Node("QLinearMatMul", tuple(ai + bi + qi), (q.outputs[0],), {},
                          node.name + "_quant", "")
        else:
            if not _per_tensor(v, b):
                continue
            new = ir.Node("QLinear" + op, tuple(ai + bi + qi), (q.outputs[0],), {},
                          node.name + "_quant", MS)
        put[id(node)] = new
        drop.append(q)
    from .fuse_qlut import fuse_qlut  # byte-wise chains -> one table lookup
    if put:
        graph = prune(rebuild(g, drop=drop, put=put, new_inits=new_inits))
        opsets = dict(model.opset_import)
        if any(n.domain == MS for n in graph.nodes):
            opsets.setdefault(MS, 1)
        model = replace(model, graph=graph, opset_import=opsets)
    from .quantize_before_move import quantize_before_move  # Q(Reshape(x)) -> Reshape(Q(x))
    model = _shape_of_bytes(model)
    return fuse_qlut(replace(model, graph=quantize_before_move(model.graph)))


def _shape_of_bytes(model: ir.Model) -> ir.Model:
    """# Shape(DequantizeLinear(x)) -> Shape(x)   (the same shape; the DQ is pruned if unread)"""
    g = model.graph
    v = View(g)
    put = {}
    for node in g.nodes:
        if node.op_type != "Shape" or node.domain not in ("", "ai.onnx") or not node.inputs:
            continue
        dq = v.made_by(node.inputs[0], "DequantizeLinear", "QuantizeLinear")
        if dq is None or not dq.inputs or not dq.inputs[0]:
            continue
        put[id(node)] = ir.Node("Shape", (dq.inputs[0],), node.outputs, dict(node.attributes),
                                node.name, node.domain)
    if not put:
        return model
    return replace(model, graph=prune(rebuild(g, put=put)))

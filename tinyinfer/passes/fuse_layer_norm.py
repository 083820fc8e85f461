"""LayerNormalization written out (as PP-OCRv4's recognizer and many exports do) becomes one
LayerNormalization node (ai.tinyinfer below opset 17).

    # m = ReduceMean(x, axes=A);  d = x - m;  v = ReduceMean(d ** 2, axes=A)   (or d * d)
    # y = d / Sqrt(v + eps) * scale + bias    ->   LayerNormalization(x, scale, bias, axis, eps)
A must be the last k axes (given as negatives, or positives when x's rank is declared), both
ReduceMeans keep dims, scale and bias are constants broadcasting over those k axes only. The
chain without scale gets scale = 1 when bias tells the normalised shape.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from .. import ir
from ._graph import STANDARD, View, is_float, other_input, rebuild, scalar_shift, standard_or_own


def _axes(v: View, node: ir.Node):
    if int(node.attributes.get("keepdims", 1)) != 1:
        return None
    axes = node.attributes.get("axes")
    if axes is None and len(node.inputs) > 1 and node.inputs[1]:
        a = v.const(node.inputs[1])
        axes = None if a is None else [int(i) for i in a.reshape(-1)]
    if not axes:
        return None
    return sorted(int(a) for a in axes)


def _trailing(axes, x_type) -> int:
    """axis (negative) if `axes` are the last k axes, else 0."""
    k = len(axes)
    if axes == list(range(-k, 0)):
        return -k
    rank = len(x_type.shape) if x_type is not None and x_type.shape is not None else None
    if rank is not None and axes == list(range(rank - k, rank)):
        return -k
    return 0


def _match(v: View, mean1: ir.Node, model: ir.Model):
    x = mean1.inputs[0]
    ax = _axes(v, mean1)
    if ax is None or not v.single_use(mean1.outputs[0]):
        return None
    axis = _trailing(ax, v.types.get(x))
    if not axis:
        return None
    sub = v.only_consumer(mean1.outputs[0])
    if sub is None or sub.op_type != "Sub" or sub.domain not in STANDARD or sub.inputs != (x, mean1.outputs[0]):
        return None
    d = sub.outputs[0]
    users = list({id(u): u for u in v.consumers.get(d, [])}.values())  # Mul(d, d) reads d twice
    if len(users) != 2 or d in v.outputs or d in v.captured:
        return None
    sq = next((u for u in users if (u.op_type == "Pow" and u.inputs[0] == d and v.scalar(u.inputs[1]) == 2.0)
               or (u.op_type == "Mul" and u.inputs == (d, d))), None)
    div = next((u for u in users if u.op_type == "Div" and u.inputs[0] == d), None)
    if sq is None or div is None or sq.domain not in STANDARD or div.domain not in STANDARD:
        return None
    mean2 = v.only_consumer(sq.outputs[0])
    if mean2 is None or mean2.op_type != "ReduceMean" or _axes(v, mean2) != ax:
        return None
    add = v.only_consumer(mean2.outputs[0])
    sh = scalar_shift(v, add.outputs[0]) if add is not None else None
    if sh is None or sh[0] is not add or sh[1] != mean2.outputs[0] or sh[2] <= 0:
        return None
    sqrt = v.only_consumer(add.outputs[0])
    if sqrt is None or sqrt.op_type != "Sqrt" or div.inputs[1] != sqrt.outputs[0] \
            or not v.single_use(sqrt.outputs[0]):
        return None
    nodes = [mean1, sub, sq, mean2, add, sqrt, div]
    last, scale, bias = div, None, None
    k = -axis

    def param(node, name):
        p = v.const(other_input(node, name))
        if not is_float(p) or p.ndim > k:
            return None
        return p

    nxt = v.only_consumer(last.outputs[0])
    if nxt is not None and nxt.op_type == "Mul" and nxt.domain in STANDARD:
        scale = param(nxt, last.outputs[0])
        if scale is not None:
            nodes.append(nxt)
            last = nxt
            nxt = v.only_consumer(last.outputs[0])
    if nxt is not None and nxt.op_type == "Add" and nxt.domain in STANDARD:
        bias = param(nxt, last.outputs[0])
        if bias is not None:
            nodes.append(nxt)
            last = nxt
    if scale is None:
        if bias is None or bias.ndim != k:
            return None
        scale = np.ones(bias.shape, bias.dtype)
    return nodes, last, x, axis, float(sh[2]), scale, bias


def fuse_layer_norm(model: ir.Model) -> ir.Model:
    graph = model.graph
    v = View(graph)
    domain = standard_or_own(model, 17)
    drop, put, inits, used = [], {}, {}, set()
    for node in graph.nodes:
        if node.op_type != "ReduceMean" or node.domain not in STANDARD or not node.inputs:
            continue
        m = _match(v, node, model)
        if m is None or any(id(n) in used for n in m[0]):
            continue
        nodes, last, x, axis, eps, scale, bias = m
        used.update(id(n) for n in nodes)
        s_name = v.fresh(last.outputs[0] + "_scale")
        inputs = [x, s_name]
        inits[s_name] = scale
        if bias is not None:
            b_name = v.fresh(last.outputs[0] + "_bias")
            inits[b_name] = bias
            inputs.append(b_name)
        put[id(last)] = ir.Node("LayerNormalization", tuple(inputs), (last.outputs[0],),
                                {"axis": axis, "epsilon": eps},
                                name=last.name or last.outputs[0], domain=domain)
        drop.extend(n for n in nodes if n is not last)
    if not put:
        return model
    return replace(model, graph=rebuild(graph, drop=drop, put=put, new_inits=inits))

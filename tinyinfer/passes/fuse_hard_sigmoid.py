"""HardSigmoid written out as arithmetic becomes one HardSigmoid node.

    # Clip(x * a + b, 0, 1)            ->  HardSigmoid(x, alpha=a, beta=b)    (x / d: a = 1/d)
    # Clip(x + 3, 0, 6) / 6            ->  HardSigmoid(x, alpha=1/6, beta=1/2)   (or * (1/6))
The intermediate values must be read by the chain alone.
"""
from __future__ import annotations

from dataclasses import replace

from .. import ir
from ._graph import STANDARD, View, clip_bounds, close, rebuild, scalar_factor, scalar_shift


def _clip(v: View, name: str):
    n = v.made_by(name, "Clip")
    if n is None or not n.inputs or not v.single_use(n.inputs[0]):
        return None
    b = clip_bounds(v, n)
    return None if b is None else (n, n.inputs[0], b)


def _match(v: View, node: ir.Node):
    """(nodes to remove, x, alpha, beta) when `node` ends a HardSigmoid chain."""
    out = node.outputs[0] if node.outputs else ""
    if node.op_type == "Clip":
        c = _clip(v, out)
        if c is None or not (close(c[2][0], 0.0) and close(c[2][1], 1.0)):
            return None
        sh = scalar_shift(v, c[1])
        if sh is None:
            return None
        f = scalar_factor(v, sh[1]) if v.single_use(sh[1]) else None
        if f is None:
            return [c[0], sh[0]], sh[1], 1.0, sh[2]
        return [c[0], sh[0], f[0]], f[1], f[2], sh[2]
    if node.op_type in ("Div", "Mul"):
        f = scalar_factor(v, out)
        if f is None or not close(f[2], 1 / 6) or not v.single_use(f[1]):
            return None
        c = _clip(v, f[1])
        if c is None or not (close(c[2][0], 0.0) and close(c[2][1], 6.0)):
            return None
        sh = scalar_shift(v, c[1])
        if sh is None or not close(sh[2], 3.0):
            return None
        return [f[0], c[0], sh[0]], sh[1], 1 / 6, 0.5
    return None


def fuse_hard_sigmoid(model: ir.Model) -> ir.Model:
    graph = model.graph
    v = View(graph)
    drop, put, used = [], {}, set()
    for node in graph.nodes:
        if node.domain not in STANDARD or node.op_type not in ("Clip", "Div", "Mul"):
            continue
        m = _match(v, node)
        if m is None or any(id(n) in used for n in m[0]):
            continue
        nodes, x, alpha, beta = m
        used.update(id(n) for n in nodes)
        put[id(node)] = ir.Node("HardSigmoid", (x,), (node.outputs[0],),
                                {"alpha": float(alpha), "beta": float(beta)},
                                name=node.name or node.outputs[0])
        drop.extend(n for n in nodes if n is not node)
    if not put:
        return model
    return replace(model, graph=rebuild(graph, drop=drop, put=put))

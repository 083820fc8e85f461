"""HardSwish written out becomes one HardSwish node (ai.tinyinfer below opset 14).

    # x * HardSigmoid(x, 1/6, 1/2)             ->  HardSwish(x)
    # x * Clip(x + 3, 0, 6) / 6                ->  HardSwish(x)      (or * (1/6) at the end)
Run after fuse_hard_sigmoid, which turns x * (Clip(x + 3, 0, 6) / 6) into the first form.
"""
from __future__ import annotations

from dataclasses import replace

from .. import ir
from ._graph import (STANDARD, View, clip_bounds, close, other_input, rebuild, scalar_factor,
                     scalar_shift, standard_or_own)


def _gate_of(v: View, mul: ir.Node):
    """For Mul(x, g): (x, nodes making g) when g is a HardSwish gate of x."""
    if len(mul.inputs) != 2:
        return None
    for x, g in ((mul.inputs[0], mul.inputs[1]), (mul.inputs[1], mul.inputs[0])):
        if x == g or not v.single_use(g):
            continue
        hs = v.made_by(g, "HardSigmoid")
        if hs is not None and hs.inputs[0] == x and close(hs.attributes.get("alpha", 0.2), 1 / 6) \
                and close(hs.attributes.get("beta", 0.5), 0.5):
            return x, [hs], "exact"
        c = v.made_by(g, "Clip")
        if c is not None and v.single_use(c.inputs[0]):
            b = clip_bounds(v, c)
            sh = scalar_shift(v, c.inputs[0])
            if b and close(b[0], 0.0) and close(b[1], 6.0) and sh and sh[1] == x \
                    and close(sh[2], 3.0):
                return x, [c, sh[0]], "times6"
    return None


def fuse_hard_swish(model: ir.Model) -> ir.Model:
    graph = model.graph
    v = View(graph)
    domain = standard_or_own(model, 14)
    drop, put, used = [], {}, set()
    for node in graph.nodes:
        if node.domain not in STANDARD or node.op_type not in ("Mul", "Div"):
            continue
        chain = None
        if node.op_type == "Mul":
            g = _gate_of(v, node)
            if g is not None and g[2] == "exact":
                chain = (g[0], [node] + g[1])
        if chain is None:
            f = scalar_factor(v, node.outputs[0])
            if f is not None and close(f[2], 1 / 6) and v.single_use(f[1]):
                inner = v.made_by(f[1], "Mul")
                g = _gate_of(v, inner) if inner is not None else None
                if g is not None and g[2] == "times6":
                    chain = (g[0], [node, inner] + g[1])
        if chain is None or any(id(n) in used for n in chain[1]):
            continue
        x, nodes = chain
        used.update(id(n) for n in nodes)
        put[id(node)] = ir.Node("HardSwish", (x,), (node.outputs[0],), {},
                                name=node.name or node.outputs[0], domain=domain)
        drop.extend(n for n in nodes if n is not node)
    if not put:
        return model
    return replace(model, graph=rebuild(graph, drop=drop, put=put))

"""Swish (SiLU) written out becomes one Swish node (ai.tinyinfer below opset 24).

    # x * Sigmoid(x)          ->  Swish(x, alpha=1)
    # x * Sigmoid(x * a)      ->  Swish(x, alpha=a)      (PaddlePaddle exports write a = 1.0)
"""
from __future__ import annotations

from dataclasses import replace

from .. import ir
from ._graph import STANDARD, View, rebuild, scalar_factor, standard_or_own


def fuse_swish(model: ir.Model) -> ir.Model:
    graph = model.graph
    v = View(graph)
    domain = standard_or_own(model, 24)
    drop, put, used = [], {}, set()
    for node in graph.nodes:
        if node.domain not in STANDARD or node.op_type != "Mul" or len(node.inputs) != 2:
            continue
        for x, g in ((node.inputs[0], node.inputs[1]), (node.inputs[1], node.inputs[0])):
            s = v.made_by(g, "Sigmoid")
            if x == g or s is None or not v.single_use(g) or id(s) in used:
                continue
            nodes, alpha = [s], 1.0
            if s.inputs[0] != x:
                f = scalar_factor(v, s.inputs[0])
                if f is None or f[1] != x or not v.single_use(s.inputs[0]) or id(f[0]) in used:
                    continue
                nodes.append(f[0])
                alpha = f[2]
            used.update(id(n) for n in nodes + [node])
            put[id(node)] = ir.Node("Swish", (x,), (node.outputs[0],), {"alpha": float(alpha)},
                                    name=node.name or node.outputs[0], domain=domain)
            drop.extend(nodes)
            break
    if not put:
        return model
    return replace(model, graph=rebuild(graph, drop=drop, put=put))

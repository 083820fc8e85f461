"""Constant nodes become initializers, so every later pass sees one kind of constant.

    # y = Constant(value=v)  ->  initializer y = v      (same name, same value)
"""
from __future__ import annotations

from .. import ir, registry
from ._graph import STANDARD, rebuild


def constants_to_initializers(graph: ir.Graph) -> ir.Graph:
    from ..ops.constant import Constant  # the reference decides what each attribute means

    fed = {v.name for v in graph.inputs}
    drop, inits = [], {}
    for node in graph.nodes:
        if node.op_type != "Constant" or node.domain not in STANDARD or len(node.outputs) != 1:
            continue
        name = node.outputs[0]
        if not name or name in fed or name in graph.initializers or name in inits:
            continue
        try:
            value = registry.instantiate(Constant, node, dict(node.attributes)).value
        except Exception:  # a malformed Constant is reported by the plan, with its sentence
            continue
        drop.append(node)
        inits[name] = value
    if not drop:
        return graph
    return rebuild(graph, drop=drop, new_inits=inits)

"""Identity, and Dropout in inference mode, are removed; their readers read the input instead.

    # y = Identity(x);  z = f(y)   ->   z = f(x)
    # y = Dropout(x) (no training_mode, mask unread)   ->   y is x
When y is a graph output its name must survive: then x is renamed to y at its producer (if x
is a node output read only here), otherwise the node stays.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from .. import ir
from ._graph import STANDARD, View, rebuild


def _passthrough(v: View, node: ir.Node) -> bool:
    if node.domain not in STANDARD or not node.inputs or not node.inputs[0]:
        return False
    if node.op_type == "Identity":
        return len(node.outputs) == 1
    if node.op_type != "Dropout":
        return False
    if len(node.outputs) > 1 and node.outputs[1] and (
            node.outputs[1] in v.consumers or node.outputs[1] in v.outputs
            or node.outputs[1] in v.captured):
        return False  # the mask is read
    if len(node.inputs) > 2 and node.inputs[2]:
        t = v.const(node.inputs[2])
        if t is None or t.size != 1 or bool(np.asarray(t).reshape(-1)[0]):
            return False  # training mode, or not known to be off
    return True


def remove_identity(graph: ir.Graph) -> ir.Graph:
    # 1. pass-throughs whose output is not a graph output: readers take the input (transitively)
    v = View(graph)
    alias, drop = {}, []
    for node in graph.nodes:
        if _passthrough(v, node) and node.outputs[0] and node.outputs[0] not in v.captured \
                and node.outputs[0] not in v.outputs:
            alias[node.outputs[0]] = node.inputs[0]
            drop.append(node)
    if drop:
        def source(name):
            seen = 0
            while name in alias and seen <= len(alias):
                name, seen = alias[name], seen + 1
            return name
        dropped = {id(n) for n in drop}
        put = {id(n): replace(n, inputs=tuple(source(i) if i else i for i in n.inputs))
               for n in graph.nodes if id(n) not in dropped and any(i in alias for i in n.inputs)}
        graph = rebuild(graph, drop=drop, put=put)
    # 2. pass-throughs onto a graph output: the producer of x writes y directly
    v = View(graph)
    drop, put = [], {}
    for node in graph.nodes:
        if not _passthrough(v, node):
            continue
        x, y = node.inputs[0], node.outputs[0]
        p = v.producer.get(x)
        if (y in v.outputs and y not in v.captured and p is not None and p is not node
                and v.single_use(x) and id(p) not in put):
            put[id(p)] = replace(p, outputs=tuple(y if o == x else o for o in p.outputs))
            drop.append(node)
    return rebuild(graph, drop=drop, put=put) if drop else graph

"""Expand calls to model-local functions (FunctionProto) into plain nodes, at load time.

    call:  y = f(a, b) {alpha=2}        body of f(x1, x2) -> (r):  t = Mul(x1, x2); r = Add(t, c)
    after: f__1__t = Mul(a, b); y = Add(f__1__t, f__1__c)   (internal names get a unique prefix,
                                                             attribute references take the call's
                                                             value, else the function's default)
"""
from __future__ import annotations

import itertools
from dataclasses import replace
from typing import Dict, Optional, Tuple

from .. import ir
from ..errors import GraphSizeLimitError, ModelError, NestingLimitError

MAX_EXPANSION_DEPTH = 32


def expand_functions(model: ir.Model, max_nodes: Optional[int] = None) -> ir.Model:
    """Inline every call; ``max_nodes`` bounds the result (functions calling functions twice
    each, 30 levels deep, would otherwise ask for 2**30 nodes)."""
    if not model.functions:
        return model
    table: Dict[Tuple[str, str], ir.Function] = {}
    for f in model.functions:
        table[(f.domain, f.name)] = f
    if max_nodes is not None:  # count first: a call tree can be exponentially large
        sizes: Dict[Tuple[str, str], int] = {}
        total = sum(_size(n, table, sizes, 0) for n in model.graph.nodes)
        if total > max_nodes:
            raise GraphSizeLimitError(f"expanding the model's functions would make {total:,} "
                                      f"nodes, over the budget max_nodes={max_nodes:,} "
                                      "(SessionOptions.max_nodes)")
    counter = _Counter(max_nodes)
    graph = _expand_graph(model.graph, table, counter, 0)
    return replace(model, graph=graph)


def _size(node: ir.Node, table, sizes, depth) -> int:
    """Nodes that ``node`` becomes once every function call inside it is inlined."""
    key = (node.domain, node.op_type)
    fn = table.get(key)
    if fn is None:
        return 1
    if key not in sizes:
        if depth >= MAX_EXPANSION_DEPTH:
            raise NestingLimitError(f"{node.describe()}: functions call each other deeper than "
                                    f"{MAX_EXPANSION_DEPTH} levels (recursive function?)")
        sizes[key] = sum(_size(n, table, sizes, depth + 1) for n in fn.nodes)
    return sizes[key]


class _Counter:
    """Numbers each expanded call; refuses to inline more than ``max_nodes`` nodes in all."""

    def __init__(self, max_nodes):
        self.calls = itertools.count(1)
        self.nodes = 0
        self.max_nodes = max_nodes

    def __next__(self):
        return next(self.calls)

    def add(self, n: int, node) -> None:
        self.nodes += n
        if self.max_nodes is not None and self.nodes > self.max_nodes:
            raise GraphSizeLimitError(f"{node.describe()}: expanding model functions would make "
                                      f"more than {self.max_nodes:,} nodes, over the budget "
                                      "max_nodes (SessionOptions.max_nodes)")


def _expand_graph(graph: ir.Graph, table, counter, depth) -> ir.Graph:
    nodes = []
    for node in graph.nodes:
        nodes.extend(_expand_node(node, table, counter, depth))
    return replace(graph, nodes=tuple(nodes), initializers=dict(graph.initializers))


def _sub_graphs(node: ir.Node, table, counter, depth) -> ir.Node:
    attrs = {}
    changed = False
    for k, v in node.attributes.items():
        if isinstance(v, ir.Graph):
            v = _expand_graph(v, table, counter, depth)
            changed = True
        elif isinstance(v, list) and v and isinstance(v[0], ir.Graph):
            v = [_expand_graph(g, table, counter, depth) for g in v]
            changed = True
        attrs[k] = v
    return replace(node, attributes=attrs) if changed else node


def _expand_node(node: ir.Node, table, counter, depth):
    fn = table.get((node.domain, node.op_type))
    if fn is None:
        return [_sub_graphs(node, table, counter, depth)]
    if depth >= MAX_EXPANSION_DEPTH:
        raise NestingLimitError(f"{node.describe()}: functions call each other deeper than "
                                f"{MAX_EXPANSION_DEPTH} levels (recursive function?)")
    if len(node.inputs) > len(fn.inputs) or len(node.outputs) > len(fn.outputs):
        raise ModelError(node, f"calls function {fn.name} with {len(node.inputs)} inputs and "
                               f"{len(node.outputs)} outputs; it declares {len(fn.inputs)} and "
                               f"{len(fn.outputs)}")
    counter.add(len(fn.nodes), node)
    prefix = f"{fn.name}__{next(counter)}__"
    rename = {}
    for i, name in enumerate(fn.inputs):
        rename[name] = node.inputs[i] if i < len(node.inputs) else ""
    for i, name in enumerate(fn.outputs):
        rename[name] = node.outputs[i] if i < len(node.outputs) else prefix + name

    def new_name(n):
        if n == "":
            return ""
        if n not in rename:
            rename[n] = prefix + n
        return rename[n]

    out = []
    for body in fn.nodes:
        attrs = {}
        for k, v in body.attributes.items():
            if isinstance(v, ir.RefAttr):
                if v.name in node.attributes:
                    attrs[k] = node.attributes[v.name]
                elif v.name in fn.attribute_defaults:
                    attrs[k] = fn.attribute_defaults[v.name]
                continue  # unset: the op's own default applies
            if isinstance(v, ir.Graph):
                v = _rename_outer(v, rename)
            attrs[k] = v
        inner = replace(body, inputs=tuple(new_name(n) for n in body.inputs),
                        outputs=tuple(new_name(n) for n in body.outputs),
                        name=prefix + (body.name or body.op_type), attributes=attrs)
        out.extend(_expand_node(inner, table, counter, depth + 1))
    return out


def _rename_outer(g: ir.Graph, rename) -> ir.Graph:
    """Rename references a function-body sub-graph makes to the function's own values."""
    local = {v.name for v in g.inputs} | set(g.initializers)
    for n in g.nodes:
        local.update(n.outputs)
    nodes = tuple(replace(n, inputs=tuple(rename.get(i, i) if i not in local else i for i in n.inputs))
                  for n in g.nodes)
    outputs = tuple(replace(v, name=rename.get(v.name, v.name)) if v.name not in local else v
                    for v in g.outputs)
    return replace(g, nodes=nodes, outputs=outputs, initializers=dict(g.initializers))

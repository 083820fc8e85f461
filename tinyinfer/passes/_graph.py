"""What every pass needs to read a graph and to write a new one.

    v = View(graph)               producer / consumers of every name, constants, graph outputs
    v.const(name)                 the value when `name` is a true constant (an initializer that
                                  is not also a graph input a user may feed), else None
    v.single_use(name)            read by exactly one node, not a graph output, not captured by
                                  a sub-graph: the rewrite may swallow it
    rebuild(graph, drop, put, new_inits)   the new Graph: nodes in `drop` removed, `put`
                                  {id(old node): new node} substituted, initializers added
    prune(graph)                  drop nodes whose outputs nobody reads, and unused initializers

Passes never mutate: a Graph is frozen, every rewrite returns a new one.
"""
from __future__ import annotations

import itertools
from dataclasses import replace
from typing import Dict, Iterable, List, Optional

import numpy as np

from .. import ir
from ..plan import implicit_inputs

OWN_DOMAIN = "ai.tinyinfer"
STANDARD = ("", "ai.onnx")


class View:
    def __init__(self, graph: ir.Graph):
        self.graph = graph
        self.producer: Dict[str, ir.Node] = {}
        self.consumers: Dict[str, List[ir.Node]] = {}
        self.captured = set()
        for node in graph.nodes:
            for o in node.outputs:
                if o:
                    self.producer[o] = node
            for i in node.inputs:
                if i:
                    self.consumers.setdefault(i, []).append(node)
            self.captured.update(implicit_inputs(node))
        self.outputs = {v.name for v in graph.outputs}
        fed = {v.name for v in graph.inputs}
        self.consts = {k: v for k, v in graph.initializers.items() if k not in fed}
        self.types = graph.value_types()
        self._names = None

    def const(self, name: str) -> Optional[np.ndarray]:
        v = self.consts.get(name) if name else None
        return v if isinstance(v, np.ndarray) else None

    def scalar(self, name: str) -> Optional[float]:
        """A one-element float/int constant as a Python float, else None."""
        v = self.const(name)
        if v is None or v.size != 1 or v.dtype.kind not in "fiu":
            return None
        return float(v.reshape(-1)[0])

    def single_use(self, name: str) -> bool:
        return (len(self.consumers.get(name, ())) == 1 and name not in self.outputs
                and name not in self.captured)

    def only_consumer(self, name: str) -> Optional[ir.Node]:
        return self.consumers[name][0] if self.single_use(name) else None

    def made_by(self, name: str, *op_types: str) -> Optional[ir.Node]:
        """The standard-domain node producing `name` if its op is one of op_types."""
        n = self.producer.get(name)
        if n is not None and n.domain in STANDARD and n.op_type in op_types:
            return n
        return None

    def fresh(self, base: str) -> str:
        """A value name not used anywhere in the graph."""
        if self._names is None:
            self._names = set(self.graph.initializers) | {v.name for v in self.graph.inputs}
            for n in self.graph.nodes:
                self._names.update(n.inputs)
                self._names.update(n.outputs)
        for k in itertools.count(1):
            name = f"{base}__ti{k}"
            if name not in self._names:
                self._names.add(name)
                return name
        raise AssertionError  # pragma: no cover


def other_input(node: ir.Node, name: str) -> Optional[str]:
    """For a two-input node reading `name`, the other input (None if both are `name`)."""
    a, b = node.inputs[0], node.inputs[1]
    if a == name and b != name:
        return b
    if b == name and a != name:
        return a
    return None


def is_float(a) -> bool:
    return isinstance(a, np.ndarray) and a.dtype.kind == "f" and not a.dtype.names


def close(value: Optional[float], want: float, tol: float = 1e-6) -> bool:
    return value is not None and abs(value - want) <= tol * max(1.0, abs(want))


def clip_bounds(v: View, node: ir.Node):
    """(lo, hi) of a Clip whose bounds are constants (None = unbounded), or None if not constant."""
    if node.inputs[1:] and any(node.inputs[1:]):
        lo = hi = None
        if len(node.inputs) > 1 and node.inputs[1]:
            lo = v.scalar(node.inputs[1])
            if lo is None:
                return None
        if len(node.inputs) > 2 and node.inputs[2]:
            hi = v.scalar(node.inputs[2])
            if hi is None:
                return None
        return lo, hi
    a = node.attributes
    big = float(np.finfo(np.float32).max)  # Clip-1's defaults are the float range, not infinity
    return float(a.get("min", -big)), float(a.get("max", big))


def binary(v: View, name: str, op_type: str):
    """If `name` is made by a two-input standard `op_type` node with one constant scalar
    operand: (node, the other input, the scalar, constant-is-first). Else None."""
    n = v.made_by(name, op_type)
    if n is None or len(n.inputs) != 2:
        return None
    for k, (c, x) in enumerate(((n.inputs[1], n.inputs[0]), (n.inputs[0], n.inputs[1]))):
        s = v.scalar(c)
        if s is not None and v.const(x) is None:
            return n, x, s, k == 1
    return None


def scalar_factor(v: View, name: str):
    """`name` = x * a written as Mul(x, a), Mul(a, x) or Div(x, 1/a): (node, x, a) or None."""
    m = binary(v, name, "Mul")
    if m is not None:
        return m[0], m[1], m[2]
    d = binary(v, name, "Div")
    if d is not None and not d[3] and d[2] != 0:
        return d[0], d[1], 1.0 / d[2]
    return None


def scalar_shift(v: View, name: str):
    """`name` = x + b written as Add(x, b), Add(b, x) or Sub(x, -b): (node, x, b) or None."""
    a = binary(v, name, "Add")
    if a is not None:
        return a[0], a[1], a[2]
    s = binary(v, name, "Sub")
    if s is not None and not s[3]:
        return s[0], s[1], -s[2]
    return None


def standard_or_own(model: ir.Model, since: int) -> str:
    """The domain for a standard op introduced in opset `since`: '' if the model's opset has it,
    else our own domain, which carries the same reference implementation (ops/newer_ops.py)."""
    return "" if model.opset("") >= since else OWN_DOMAIN


def rebuild(graph: ir.Graph, drop: Iterable[ir.Node] = (), put: Optional[dict] = None,
            new_inits: Optional[dict] = None, remove_inits: Iterable[str] = ()) -> ir.Graph:
    dropped = {id(n) for n in drop}
    put = put or {}
    nodes = []
    for n in graph.nodes:
        if id(n) in put:
            nodes.append(put[id(n)])
        elif id(n) not in dropped:
            nodes.append(n)
    inits = dict(graph.initializers)
    for k in remove_inits:
        inits.pop(k, None)
    inits.update(new_inits or {})
    return replace(graph, nodes=tuple(nodes), initializers=inits)


def with_domain(model: ir.Model, graph: ir.Graph) -> ir.Model:
    """The model with its new graph; our domain is declared once any node uses it."""
    opsets = dict(model.opset_import)
    if OWN_DOMAIN not in opsets and any(n.domain == OWN_DOMAIN for n in graph.nodes):
        opsets[OWN_DOMAIN] = 1
    return replace(model, graph=graph, opset_import=opsets)


def prune(graph: ir.Graph) -> ir.Graph:
    """Remove nodes none of whose outputs is read (by a node, a sub-graph or the graph outputs),
    then initializers nothing reads (initializers that are also graph inputs stay). Nodes with
    no outputs at all stay, so that the plan still validates them."""
    nodes = list(graph.nodes)
    needed = {v.name for v in graph.outputs}
    keep = [False] * len(nodes)
    # walk backwards until nothing changes: a node is kept if one of its outputs is needed
    changed = True
    while changed:
        changed = False
        for i in range(len(nodes) - 1, -1, -1):
            if keep[i]:
                continue
            n = nodes[i]
            # a node without outputs does nothing, but stays for the plan to validate and report
            if any(o and o in needed for o in n.outputs) or not any(n.outputs):
                keep[i] = changed = True
                needed.update(x for x in n.inputs if x)
                needed.update(implicit_inputs(n))
    kept = tuple(n for n, k in zip(nodes, keep) if k)
    fed = {v.name for v in graph.inputs}
    inits = {k: v for k, v in graph.initializers.items() if k in needed or k in fed}
    if len(kept) == len(nodes) and len(inits) == len(graph.initializers):
        return graph
    return replace(graph, nodes=kept, initializers=inits)

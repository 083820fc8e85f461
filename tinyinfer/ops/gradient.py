"""Gradient (ai.onnx.preview.training) — dy/dx_i of the sub-graph that computes y from xs.

    Gradient(x_1..x_n, z_1..z_m; xs, y, zs) -> (dy/dx_1, ..., dy/dx_n)      each shaped like x_i

y is a value of the enclosing graph. The nodes between xs/zs and y are re-run on the inputs given
to Gradient, then differentiated in reverse (reverse-mode, seed dy/dy = 1 of y's shape). For
y with several elements the result is the gradient of sum(y). zs are fed but not differentiated.
Differentiable ops: Add, Sub, Mul, Div, Neg, Identity, MatMul (rank 2), Relu, Sigmoid, Tanh,
Exp, Log, Sqrt; anything else between xs and y is a ModelError naming both nodes.
"""
from __future__ import annotations

import numpy as np

from .. import ir
from ..errors import ModelError
from ..registry import Op, op
from .optimizers import DOMAIN


def _unbroadcast(g, shape):
    """Sum a broadcast gradient back to ``shape``: (2, 3) -> (3,) sums axis 0."""
    g = np.asarray(g)
    while g.ndim > len(shape):
        g = g.sum(axis=0)
    for ax, n in enumerate(shape):
        if n == 1 and g.shape[ax] != 1:
            g = g.sum(axis=ax, keepdims=True)
    return g


def _backward(op_type, ins, out, g):
    """Gradients of one node's inputs given the gradient g of its (single) output."""
    if op_type == "Add":
        return [g, g]
    if op_type == "Sub":
        return [g, -g]
    if op_type == "Mul":
        return [g * ins[1], g * ins[0]]
    if op_type == "Div":
        return [g / ins[1], -g * ins[0] / (ins[1] * ins[1])]
    if op_type == "Neg":
        return [-g]
    if op_type == "Identity":
        return [g]
    if op_type == "MatMul":
        return [g @ np.swapaxes(ins[1], -1, -2), np.swapaxes(ins[0], -1, -2) @ g]
    if op_type == "Relu":
        return [g * (ins[0] > 0)]
    if op_type == "Sigmoid":
        return [g * out * (1 - out)]
    if op_type == "Tanh":
        return [g * (1 - out * out)]
    if op_type == "Exp":
        return [g * out]
    if op_type == "Log":
        return [g / ins[0]]
    if op_type == "Sqrt":
        return [g * 0.5 / out]
    return None


DIFFERENTIABLE = ("Add", "Sub", "Mul", "Div", "Neg", "Identity", "MatMul", "Relu", "Sigmoid",
                  "Tanh", "Exp", "Log", "Sqrt")


@op("Gradient", since=1, domain=DOMAIN)
class Gradient(Op):
    uses_scope = True

    def __init__(self, node, *, xs, y, zs=None):
        self.node, self.xs, self.y, self.zs = node, list(xs), y, list(zs or [])

    def prepare(self, *inputs):
        node, graph = self.node, getattr(self, "graph", None)
        if graph is None:
            raise ModelError(node, "Gradient needs the enclosing graph, which the planner did not give")
        if len(node.inputs) != len(self.xs) + len(self.zs):
            raise ModelError(node, f"has {len(node.inputs)} inputs; expected one per name in xs "
                                   f"and zs ({len(self.xs) + len(self.zs)})")
        producer = {o: n for n in graph.nodes for o in n.outputs if o}
        stop = set(self.xs) | set(self.zs)
        chosen, todo, seen = [], [self.y], set()
        while todo:                       # the nodes between xs/zs and y
            name = todo.pop()
            if name in stop or name in seen or name not in producer:
                continue
            seen.add(name)
            n = producer[name]
            if n is node:
                raise ModelError(node, f"y={self.y!r} depends on this Gradient node itself")
            if n not in chosen:
                chosen.append(n)
                todo.extend(i for i in n.inputs if i)
        if self.y not in producer and self.y not in stop:
            raise ModelError(node, f"y={self.y!r} is not computed by any node of the graph")
        for n in chosen:
            if n.op_type not in DIFFERENTIABLE or n.domain not in ("", "ai.onnx"):
                raise ModelError(node, f"cannot differentiate through {n.describe()}; supported: "
                                       f"{', '.join(DIFFERENTIABLE)}")
        order = [n for n in graph.nodes if n in chosen]
        used = {i for n in order for i in n.inputs}
        inits = {k: v for k, v in graph.initializers.items() if k in used and k not in stop}
        sub = ir.Graph(nodes=tuple(order), inputs=tuple(ir.Value(x) for x in self.xs + self.zs),
                       outputs=(ir.Value(self.y),), initializers=inits)
        outer = set(self.visible_names) | {v.name for v in graph.inputs}
        self.plan = self.ctx.compile(sub, outer)

    def run(self, *values, scope=None):
        feeds = dict(zip(self.xs + self.zs, values))
        env = {}
        capture = {"*": True}
        (y,) = self.plan.run(feeds, outer=scope, capture=capture)
        env.update(capture)
        env.pop("*", None)

        def value(name):
            if name in env:
                return env[name]
            if name in feeds:
                return feeds[name]
            if name in self.plan.initializers:
                return self.plan.initializers[name]
            return scope[name]

        grads = {self.y: np.ones_like(y)}
        for step in reversed(self.plan.steps):
            n = step.node
            g = grads.get(n.outputs[0])
            if g is None:
                continue
            ins = [value(i) for i in n.inputs]
            for name, x, gi in zip(n.inputs, ins, _backward(n.op_type, ins, value(n.outputs[0]), g)):
                gi = _unbroadcast(gi, np.shape(x))
                grads[name] = grads[name] + gi if name in grads else gi
        out = []
        for x, v in zip(self.xs, values):
            gx = grads.get(x)
            out.append(np.zeros_like(v) if gx is None else np.asarray(gx, dtype=v.dtype).reshape(v.shape))
        return tuple(out)

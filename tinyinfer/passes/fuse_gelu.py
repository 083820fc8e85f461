"""Gelu written out becomes one Gelu node (ai.tinyinfer below opset 20).

    # x * 0.5 * (1 + Erf(x / √2))                               ->  Gelu(x)
    # x * 0.5 * (1 + Tanh(√(2/π) * (x + 0.044715 * x³)))       ->  Gelu(x, approximate="tanh")
The tail x * 0.5 * (1 + t) is matched in the orders exporters write it: (x * (1+t)) * 0.5,
x * ((1+t) * 0.5), (x * 0.5) * (1+t); x / √2 may be x * (1/√2); x³ may be Pow(x, 3) or x * x * x.
"""
from __future__ import annotations

import math
from dataclasses import replace

from .. import ir
from ._graph import (STANDARD, View, close, other_input, rebuild, scalar_factor, scalar_shift,
                     standard_or_own)


def _cube(v: View, name: str):
    """(nodes, x) when `name` = x³."""
    p = v.made_by(name, "Pow")
    if p is not None and v.scalar(p.inputs[1]) == 3.0:
        return [p], p.inputs[0]
    m = v.made_by(name, "Mul")
    if m is None:
        return None
    for a, b in ((m.inputs[0], m.inputs[1]), (m.inputs[1], m.inputs[0])):
        sq = v.made_by(b, "Mul")
        if sq is not None and sq.inputs[0] == sq.inputs[1] == a and v.single_use(b):
            return [m, sq], a
    return None


def _inner(v: View, t: ir.Node):
    """For Erf/Tanh node t: (nodes, x, approximate) when its input is the Gelu argument of x."""
    f = scalar_factor(v, t.inputs[0])
    if f is None or not v.single_use(t.inputs[0]):
        return None
    if t.op_type == "Erf":
        return ([f[0]], f[1], "none") if close(f[2], 1 / math.sqrt(2), 1e-5) else None
    if not close(f[2], math.sqrt(2 / math.pi), 1e-5):
        return None
    s = v.made_by(f[1], "Add")
    if s is None or not v.single_use(f[1]):
        return None
    for x, k in ((s.inputs[0], s.inputs[1]), (s.inputs[1], s.inputs[0])):
        kf = scalar_factor(v, k)
        if kf is None or not close(kf[2], 0.044715, 1e-4) or not v.single_use(k):
            continue
        c = _cube(v, kf[1])
        if c is not None and c[1] == x and v.single_use(kf[1]):
            return [f[0], s, kf[0]] + c[0], x, "tanh"
    return None


def _tail(v: View, one_plus: str, x: str):
    """(nodes, final node) for x * 0.5 * one_plus in the exporters' orders."""
    m1 = v.only_consumer(one_plus)
    if m1 is None or m1.op_type != "Mul" or m1.domain not in STANDARD:
        return None
    other = other_input(m1, one_plus)
    if other == x:  # (x * (1+t)) * 0.5
        m2 = v.only_consumer(m1.outputs[0])
        if m2 is not None and m2.domain in STANDARD:
            f = scalar_factor(v, m2.outputs[0])
            if f is not None and f[0] is m2 and close(f[2], 0.5):
                return [m1, m2], m2
        return None
    if other is None:
        return None
    if v.scalar(other) is not None and close(v.scalar(other), 0.5):  # x * ((1+t) * 0.5)
        m2 = v.only_consumer(m1.outputs[0])
        if m2 is not None and m2.op_type == "Mul" and other_input(m2, m1.outputs[0]) == x:
            return [m1, m2], m2
        return None
    h = scalar_factor(v, other)  # (x * 0.5) * (1+t)
    if h is not None and h[1] == x and close(h[2], 0.5) and v.single_use(other):
        return [h[0], m1], m1
    return None


def fuse_gelu(model: ir.Model) -> ir.Model:
    graph = model.graph
    v = View(graph)
    domain = standard_or_own(model, 20)
    drop, put, used = [], {}, set()
    for t in graph.nodes:
        if t.domain not in STANDARD or t.op_type not in ("Erf", "Tanh") or not v.single_use(t.outputs[0]):
            continue
        inner = _inner(v, t)
        if inner is None:
            continue
        nodes, x, approx = inner
        add = v.only_consumer(t.outputs[0])
        sh = scalar_shift(v, add.outputs[0]) if add is not None else None
        if sh is None or sh[0] is not add or not close(sh[2], 1.0):
            continue
        tail = _tail(v, add.outputs[0], x)
        if tail is None:
            continue
        chain = nodes + [t, add] + tail[0]
        if any(id(n) in used for n in chain):
            continue
        used.update(id(n) for n in chain)
        last = tail[1]
        attrs = {"approximate": "tanh"} if approx == "tanh" else {}
        put[id(last)] = ir.Node("Gelu", (x,), (last.outputs[0],), attrs,
                                name=last.name or last.outputs[0], domain=domain)
        drop.extend(n for n in chain if n is not last)
    if not put:
        return model
    return replace(model, graph=rebuild(graph, drop=drop, put=put))

"""Reshape → Transpose → Reshape that permutes channels across groups becomes ChannelShuffle.

    # Reshape(x, (N, g, k, H, W)) → Transpose(0, 2, 1, 3, 4) → Reshape(·, (N, C, H, W))
    #     ->  ChannelShuffle(x, group=g)                       (domain ai.tinyinfer)
The shapes must be constants that only split and re-merge axis 1: N is 0, -1 or the same number
in both, H and W are the same in both (0 copies a dim only in the first; a declared static x
shape is checked against them when there is one).
"""
from __future__ import annotations

from dataclasses import replace

from .. import ir
from ._graph import OWN_DOMAIN, STANDARD, View, rebuild


def _shape(v: View, node: ir.Node):
    if node.domain not in STANDARD or len(node.inputs) != 2 or int(node.attributes.get("allowzero", 0)):
        return None
    s = v.const(node.inputs[1])
    return None if s is None or s.dtype.kind not in "iu" else [int(d) for d in s.reshape(-1)]


def _match(v: View, r1: ir.Node):
    s1 = _shape(v, r1)
    if s1 is None or len(s1) != 5 or s1[1] <= 0 or not v.single_use(r1.outputs[0]):
        return None
    t = v.only_consumer(r1.outputs[0])
    if t is None or t.op_type != "Transpose" or t.domain not in STANDARD \
            or list(t.attributes.get("perm", ())) != [0, 2, 1, 3, 4] or not v.single_use(t.outputs[0]):
        return None
    r2 = v.only_consumer(t.outputs[0])
    s2 = _shape(v, r2) if r2 is not None and r2.op_type == "Reshape" else None
    if s2 is None or len(s2) != 4:
        return None
    g, k = s1[1], s1[2]
    n_ok = s1[0] == s2[0] or (s1[0] in (0, -1) and s2[0] in (0, -1))
    if not n_ok or s1[3] != s2[2] or s1[4] != s2[3] or min(s1[3], s1[4]) <= 0:
        return None
    if k > 0 and s2[1] not in (-1, g * k):
        return None
    if k <= 0 and k != -1:
        return None
    t_x = v.types.get(r1.inputs[0])
    if t_x is not None and t_x.shape is not None:
        shp = t_x.shape
        if len(shp) != 4:
            return None
        if isinstance(shp[2], int) and shp[2] != s1[3] or isinstance(shp[3], int) and shp[3] != s1[4]:
            return None
        if isinstance(shp[1], int) and (shp[1] % g or (k > 0 and shp[1] != g * k)):
            return None
    return [r1, t, r2], r2, r1.inputs[0], g


def fuse_channel_shuffle(model: ir.Model) -> ir.Model:
    graph = model.graph
    v = View(graph)
    drop, put = [], {}
    for node in graph.nodes:
        if node.op_type != "Reshape":
            continue
        m = _match(v, node)
        if m is None or any(id(n) in put for n in m[0]):
            continue
        nodes, last, x, g = m
        put[id(last)] = ir.Node("ChannelShuffle", (x,), (last.outputs[0],), {"group": g},
                                name=last.name or last.outputs[0], domain=OWN_DOMAIN)
        drop.extend(n for n in nodes if n is not last)
    if not put:
        return model
    return replace(model, graph=rebuild(graph, drop=drop, put=put))

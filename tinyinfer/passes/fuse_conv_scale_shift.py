"""A scalar Mul and/or Add after a FusedConv's activation move into the FusedConv.

    # FusedConv(...) * s + t   ->  FusedConv(..., post_scale=s, post_shift=t)   (s, t scalars)
    # FusedConv(...) * s       ->  FusedConv(..., post_scale=s)
    # FusedConv(...) + t       ->  FusedConv(..., post_shift=t)      (only after an activation)
PP-LCNetV3 (PP-OCRv4 det and rec) follows each activation with a learnable affine block, a Mul
and an Add by one-element constants: two more passes over every feature map. s and t must be
one-element constants of the weights' dtype; every intermediate must be read by the chain alone.
The fused op multiplies, then adds, each step rounded in float32 as the two nodes did, so
outputs are bit-identical. Runs after fuse_conv_activation (a plain Conv + Add is a residual
there, and an Add without an activation before it stays one).
"""
from __future__ import annotations

from dataclasses import replace

from .. import ir
from ._graph import OWN_DOMAIN, STANDARD, View, other_input, rebuild


def _scalar_operand(v: View, node: ir.Node, y: str, w):
    """The one-element constant `node` combines with y, as a float, or None."""
    if node.domain not in STANDARD or len(node.inputs) != 2 or len(node.outputs) != 1:
        return None
    c = other_input(node, y)
    k = v.const(c) if c else None
    if k is None or k.size != 1 or k.dtype != w.dtype or k.ndim > w.ndim:  # no dtype/rank change
        return None
    return float(k.reshape(-1)[0])


def fuse_conv_scale_shift(model: ir.Model) -> ir.Model:
    graph = model.graph
    v = View(graph)
    drop, put = [], {}
    for conv in graph.nodes:
        if conv.op_type != "FusedConv" or conv.domain != OWN_DOMAIN or len(conv.outputs) != 1:
            continue
        a = conv.attributes
        if "post_scale" in a or "post_shift" in a:
            continue
        w = v.const(conv.inputs[1]) if len(conv.inputs) > 1 else None
        if w is None:
            continue
        out, chain, attrs = conv.outputs[0], [], {}
        nxt = v.only_consumer(out)
        if nxt is not None and nxt.op_type == "Mul":
            s = _scalar_operand(v, nxt, out, w)
            if s is not None:
                chain.append(nxt)
                attrs["post_scale"] = s
                out = nxt.outputs[0]
                nxt = v.only_consumer(out)
        if nxt is not None and nxt.op_type == "Add" and (chain or a.get("activation")):
            t = _scalar_operand(v, nxt, out, w)
            if t is not None:
                chain.append(nxt)
                attrs["post_shift"] = t
                out = nxt.outputs[0]
        if not chain or any(id(n) in put for n in chain):
            continue
        put[id(chain[-1])] = ir.Node("FusedConv", conv.inputs, (out,), {**a, **attrs},
                                     name=conv.name, domain=OWN_DOMAIN)
        drop.append(conv)
        drop.extend(chain[:-1])
    if not put:
        return model
    return replace(model, graph=rebuild(graph, drop=drop, put=put))

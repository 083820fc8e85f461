"""A Conv's epilogue — a residual Add and/or an activation — moves into one FusedConv node.

    # act(Conv(x, w, b) + z)   ->  FusedConv(x, w, b, z, activation=act, ...)  (ai.tinyinfer)
    # act(Conv(x, w, b))       ->  FusedConv(x, w, b, activation=act, ...)
    # Conv(x, w, b) + z        ->  FusedConv(x, w, b, z)
    # Sum(Conv(x, w, b), z)    ->  the same: a two-input Sum is an Add (old ShuffleNet exports)
act is Relu, LeakyRelu, Clip (constant bounds), HardSigmoid, HardSwish, Sigmoid, Swish or Tanh.
Every intermediate must be read by the chain alone. The fused op runs the same reference
functions in the same order, so outputs are bit-identical.
"""
from __future__ import annotations

from dataclasses import replace

from .. import ir
from ._graph import OWN_DOMAIN, STANDARD, View, clip_bounds, other_input, rebuild

SIMPLE = ("Relu", "HardSwish", "Sigmoid", "Tanh")
CONV_ATTRS = ("auto_pad", "dilations", "group", "kernel_shape", "pads", "strides")


def _activation(v: View, node: ir.Node):
    """FusedConv attributes for an activation node, or None if it cannot be fused."""
    if node.domain not in STANDARD + (OWN_DOMAIN,) or not node.inputs:
        return None
    op, a = node.op_type, node.attributes
    if node.domain == OWN_DOMAIN and op not in ("HardSwish", "Swish"):
        return None
    if op in SIMPLE:
        return {"activation": op}
    if op == "LeakyRelu":
        return {"activation": op, "alpha": float(a.get("alpha", 0.01))}
    if op == "HardSigmoid":
        return {"activation": op, "alpha": float(a.get("alpha", 0.2)), "beta": float(a.get("beta", 0.5))}
    if op == "Swish":
        return {"activation": op, "alpha": float(a.get("alpha", 1.0))}
    if op == "Clip":
        b = clip_bounds(v, node)
        if b is None:
            return None
        out = {"activation": "Clip"}
        if b[0] is not None:
            out["min"] = b[0]
        if b[1] is not None:
            out["max"] = b[1]
        return out
    return None


def fuse_conv_activation(model: ir.Model) -> ir.Model:
    graph = model.graph
    v = View(graph)
    drop, put = [], {}
    for conv in graph.nodes:
        if conv.op_type != "Conv" or conv.domain not in STANDARD or not 2 <= len(conv.inputs) <= 3 \
                or len(conv.outputs) != 1:
            continue
        y = conv.outputs[0]
        nxt = v.only_consumer(y)
        if nxt is None:
            continue
        inputs = list(conv.inputs) + [""] * (3 - len(conv.inputs))
        chain, out, attrs = [], y, {}
        if nxt.op_type in ("Add", "Sum") and nxt.domain in STANDARD and len(nxt.inputs) == 2:
            z = other_input(nxt, y)
            if not z:
                continue
            if v.const(z) is not None and v.const(z).dtype != getattr(v.const(conv.inputs[1]), "dtype", None):
                continue
            chain.append(nxt)
            inputs.append(z)
            out = nxt.outputs[0]
            nxt = v.only_consumer(out)
        if nxt is not None and len(nxt.outputs) == 1 and nxt.inputs and nxt.inputs[0] == out:
            act = _activation(v, nxt)
            if act is not None:
                chain.append(nxt)
                attrs.update(act)
                out = nxt.outputs[0]
        if not chain or any(id(n) in put for n in chain) or id(conv) in put:
            continue
        attrs.update({k: conv.attributes[k] for k in CONV_ATTRS if k in conv.attributes})
        while inputs and inputs[-1] == "":
            inputs.pop()
        put[id(chain[-1])] = ir.Node("FusedConv", tuple(inputs), (out,), attrs,
                                     name=conv.name or out, domain=OWN_DOMAIN)
        drop.append(conv)
        drop.extend(chain[:-1])
    if not put:
        return model
    return replace(model, graph=rebuild(graph, drop=drop, put=put))

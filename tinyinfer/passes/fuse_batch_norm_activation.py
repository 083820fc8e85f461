"""A BatchNormalization that stays at run time (its parameters are graph inputs, as in old
Caffe2 exports) takes its trailing per-channel Mul, Add and Relu into one FusedBatchNorm node.

    # Relu((BatchNormalization(x, s, b, m, v) * k) + d)  ->  FusedBatchNorm(x, s, b, m, v, k, d,
    #                                                          activation=Relu)  (ai.tinyinfer)
Mul, Add and Relu are each optional (at least one must be there); the order is fixed. This fuses
ops, not values: the parameters still arrive at run time, so overriding them keeps working, and
ops/batch_norm.FusedBatchNorm runs the same reference ops in the same order (bit-identical) or
one kernel pass when k and d hold one float32 value per channel. Every intermediate must be
read by the chain alone. BatchNormalization with constant parameters is folded earlier
(fold_batch_norm.py) and never reaches this pass.
"""
from __future__ import annotations

from dataclasses import replace

from .. import ir
from ._graph import OWN_DOMAIN, STANDARD, View, other_input, rebuild


def _plain(node, op_type, n_inputs) -> bool:
    return (node is not None and node.op_type == op_type and node.domain in STANDARD
            and len(node.inputs) == n_inputs and len(node.outputs) == 1 and not node.attributes)


def fuse_batch_norm_activation(model: ir.Model) -> ir.Model:
    graph = model.graph
    v = View(graph)
    drop, put = [], {}
    for bn in graph.nodes:
        a = bn.attributes
        if (bn.op_type != "BatchNormalization" or bn.domain not in STANDARD
                or len(bn.inputs) != 5 or "" in bn.inputs or len([o for o in bn.outputs if o]) != 1
                or bn.outputs[0] == "" or int(a.get("training_mode", 0))
                or int(a.get("spatial", 1)) != 1):
            continue
        out, chain, extra, act = bn.outputs[0], [], ["", ""], ""
        nxt = v.only_consumer(out)
        for slot, op_type in enumerate(("Mul", "Add")):
            if _plain(nxt, op_type, 2):
                other = other_input(nxt, out)
                if not other:
                    break
                extra[slot] = other
                chain.append(nxt)
                out = nxt.outputs[0]
                nxt = v.only_consumer(out)
        if _plain(nxt, "Relu", 1):
            chain.append(nxt)
            act = "Relu"
            out = nxt.outputs[0]
        if not chain or any(id(n) in put for n in chain):
            continue
        attrs = {"epsilon": float(a.get("epsilon", 1e-5))}
        if act:
            attrs["activation"] = act
        inputs = list(bn.inputs) + extra
        while inputs[-1] == "":
            inputs.pop()
        put[id(chain[-1])] = ir.Node("FusedBatchNorm", tuple(inputs), (out,), attrs,
                                     name=bn.name or out, domain=OWN_DOMAIN)
        drop.append(bn)
        drop.extend(chain[:-1])
    if not put:
        return model
    return replace(model, graph=rebuild(graph, drop=drop, put=put))

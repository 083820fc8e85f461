"""BatchNormalization (inference form) folded into the Conv / ConvTranspose / Gemm before it.

    # BN(Conv(x, w, b)) = Conv(x, w, b) * a + c,  a = scale / sqrt(var + eps),  c = B - mean * a
    #                   ->  Conv(x, w * a[m], b * a + c)
Only when the layer's output is read by the BatchNormalization alone, all BN parameters are
constants of one channel each, and the BN is not in training mode. Float64 arithmetic.
"""
from __future__ import annotations

import numpy as np

from .. import ir
from ._channel_affine import channel_vector, fold_into, layer_channels
from ._graph import STANDARD, View, is_float, rebuild


def fold_batch_norm(graph: ir.Graph) -> ir.Graph:
    v = View(graph)
    drop, put, inits = [], {}, {}
    for bn in graph.nodes:
        if bn.op_type != "BatchNormalization" or bn.domain not in STANDARD or len(bn.inputs) != 5:
            continue
        a_ = bn.attributes
        if int(a_.get("training_mode", 0)) or not int(a_.get("spatial", 1)):
            continue
        if len([o for o in bn.outputs if o]) != 1 or not bn.outputs[0]:
            continue
        layer = v.producer.get(bn.inputs[0])
        if layer is None or id(layer) in put or not v.single_use(bn.inputs[0]):
            continue
        mc = layer_channels(v, layer)
        if mc is None:
            continue
        m, rank = mc
        params = [v.const(n) for n in bn.inputs[1:]]
        if not all(is_float(p) and p.shape == (m,) for p in params):
            continue
        scale, bias, mean, var = (p.astype(np.float64) for p in params)
        a = scale / np.sqrt(var + float(a_.get("epsilon", 1e-5)))
        c = bias - mean * a
        folded = fold_into(v, layer, a, c, bn.outputs[0])
        if folded is None:
            continue
        new, new_inits = folded
        put[id(layer)] = new
        inits.update(new_inits)
        drop.append(bn)
    return rebuild(graph, drop=drop, put=put, new_inits=inits) if drop else graph

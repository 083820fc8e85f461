"""optimize: the runtime's graph passes, written back as a standard ONNX model.

    optimize(model_or_path, out=None, level=2) -> onnx.ModelProto

The model goes through tinyinfer's own reader and tinyinfer.passes (the same code the runtime
runs at load time), then back to ONNX with ir_to_onnx. Level 1 runs the basic passes (Constant
nodes to initializers, Identity/Dropout removal, constant folding, BatchNormalization and
constant Mul/Add folded into Conv/Gemm). Level 2 adds each pattern-recognition pass whose result
is standard ONNX at the model's opset (HardSigmoid, HardSwish, Swish, Gelu, LayerNormalization);
a pass whose rewrite needs tinyinfer's own domain (a newer op than the opset, FusedConv,
ChannelShuffle) is skipped, so the file runs in any ONNX runtime.
"""
from __future__ import annotations

from dataclasses import replace

import onnx

from tinyinfer import passes
from tinyinfer.errors import TinyInferError
from tinyinfer.onnx import load_model

from . import ir_to_onnx
from ._common import ConvertError, load, save

OWN = "ai.tinyinfer"


def _standard_only(model) -> bool:
    return all(n.domain != OWN for n in model.graph.nodes)


def _topological(nodes, graph_inputs):
    """Nodes in an order where every input is produced before it is read (stable)."""
    ready = set(graph_inputs) | {""}
    pending, out = list(nodes), []
    while pending:
        rest = []
        for n in pending:
            if all(i in ready for i in n.inputs):
                out.append(n)
                ready.update(n.outputs)
            else:
                rest.append(n)
        if len(rest) == len(pending):  # a cycle or an outer-scope name: keep file order
            out.extend(rest)
            break
        pending = rest
    return tuple(out)


def optimize_ir(model, level: int = 2):
    """tinyinfer IR -> IR, standard ONNX ops only."""
    for p in passes.basic_passes():
        model = p(model)
    if level >= 2:
        for p in passes.extended_passes():
            trial = p(model)
            if _standard_only(trial):
                model = trial
    g = model.graph
    names = [v.name for v in g.inputs] + list(g.initializers)
    nodes = _topological(g.nodes, names)
    opsets = {d: v for d, v in model.opset_import.items()
              if d != OWN or any(n.domain == OWN for n in nodes)}
    return replace(model, graph=replace(g, nodes=nodes), opset_import=opsets)


def optimize(model, out=None, level: int = 2) -> onnx.ModelProto:
    src = load(model)
    try:
        m = load_model(src.SerializeToString())
        m = optimize_ir(m, level)
    except TinyInferError as e:
        raise ConvertError(f"cannot optimise the model: {e}") from None
    proto = ir_to_onnx.to_model(m)
    proto.ir_version = max(src.ir_version, 3)
    if out is not None:
        save(proto, out)
    return proto

"""Load-time graph rewrites: pure functions Graph -> Graph (or Model -> Model), one per file.

    optimize(model, level)     level mirrors onnxruntime's GraphOptimizationLevel:
        0        off: the graph runs exactly as written (plain spec semantics)
        1        basic: Constant nodes -> initializers, Identity/Dropout removal, constant
                 folding, BatchNormalization and constant Mul/Add folded into Conv/Gemm weights
        2, 99    extended/all: also pattern recognition (HardSigmoid, HardSwish, Swish, Gelu,
                 LayerNormalization, ChannelShuffle) and activation/Add fusion into FusedConv
                 (with a scalar Mul/Add after the activation),
                 run-time BatchNormalization + Mul/Add/Relu into FusedBatchNorm

Every pass keeps graph input and output names and changes results only within float rounding
(tests/passes/ runs each graph before and after). Nodes the passes create that are newer than
the model's opset, or are our own, use the domain "ai.tinyinfer" (ops/newer_ops.py,
ops/fused_conv.py, ops/channel_shuffle.py).
"""
from __future__ import annotations

from dataclasses import replace
from typing import Callable, List

from .. import ir
from ._graph import prune, with_domain
from .constants_to_initializers import constants_to_initializers
from .fold_batch_norm import fold_batch_norm
from .fold_constants import fold_constants
from .fold_conv_affine import fold_conv_affine
from .remove_identity import remove_identity


def _on_graph(fn: Callable) -> Callable:
    def run(model: ir.Model) -> ir.Model:
        return replace(model, graph=fn(model.graph))
    run.__name__ = fn.__name__
    return run


def basic_passes() -> List[Callable]:
    return [_on_graph(constants_to_initializers), _on_graph(remove_identity), fold_constants,
            _on_graph(fold_conv_affine), _on_graph(fold_batch_norm), _on_graph(fold_conv_affine),
            _on_graph(prune)]


def extended_passes() -> List[Callable]:
    from .fuse_batch_norm_activation import fuse_batch_norm_activation
    from .fuse_channel_shuffle import fuse_channel_shuffle
    from .fuse_conv_activation import fuse_conv_activation
    from .fuse_conv_scale_shift import fuse_conv_scale_shift
    from .fuse_gelu import fuse_gelu
    from .fuse_hard_sigmoid import fuse_hard_sigmoid
    from .fuse_hard_swish import fuse_hard_swish
    from .fuse_layer_norm import fuse_layer_norm
    from .fuse_swish import fuse_swish

    return [fuse_hard_sigmoid, fuse_hard_swish, fuse_swish, fuse_gelu, fuse_layer_norm,
            fuse_channel_shuffle, fuse_conv_activation, fuse_conv_scale_shift,
            fuse_batch_norm_activation,
            _on_graph(prune)]


def optimize(model: ir.Model, level: int = 99, qdq: str = "integer") -> ir.Model:
    """The model after the passes of `level` (0: unchanged). qdq="integer" (any level > 0) runs
    DequantizeLinear -> op -> QuantizeLinear as QLinear integer ops (fuse_qdq.py); "float" keeps
    the float reference the QDQ graph spells."""
    level = int(level)
    if level <= 0:
        return model
    passes = basic_passes() + (extended_passes() if level >= 2 else [])
    if qdq != "float":  # before constant folding turns DQ(weight) into a float weight
        from .fuse_qdq import fuse_qdq
        passes.insert(1, fuse_qdq)
    for p in passes:
        model = p(model)
    return with_domain(model, model.graph)

"""Whole-model checks made when a session loads a model, before any op is built.

    opsets     every imported opset is one tinyinfer knows (not newer than NEWEST_OPSET)
    size       at most ``max_nodes`` nodes, sub-graphs included (functions already expanded)
    inputs     every node lists at least the inputs its implementation requires (the
               positional parameters of its ``run`` without a default)

Cycles, undefined inputs, duplicate producers, unproduced outputs, unknown ops and missing
attributes are reported when the plan is built (plan.py, registry.py); the wire format and
tensor data are checked by the reader (reader.py, tensor.py, external.py).
"""
from __future__ import annotations

import inspect
from typing import Dict, Iterator, Tuple

from .. import ir, registry
from ..errors import GraphSizeLimitError, ModelError, UnsupportedOpError

# The newest opset of each domain that tinyinfer implements (ONNX 1.23: opset 28, ML opset 5).
NEWEST_OPSET = {"": 28, "ai.onnx.ml": 5, "ai.onnx.preview.training": 1, "ai.onnx.preview": 1,
                "ai.tinyinfer": 1}


def check_model(model: ir.Model, budgets=None) -> None:
    for domain, version in model.opset_import.items():
        d = registry.canonical_domain(domain)
        shown = d or "ai.onnx"
        if not isinstance(version, int) or version < 1:
            raise ModelError(f"the model imports opset {version} of domain '{shown}'; "
                             "opset versions start at 1")
        newest = NEWEST_OPSET.get(d)
        if newest is not None and version > newest:
            raise UnsupportedOpError(f"the model needs opset {version} of domain '{shown}', newer "
                                     f"than the newest tinyinfer supports ({newest}); re-export "
                                     f"the model for opset {newest} or upgrade tinyinfer")
    limit = getattr(budgets, "max_nodes", None)
    count = 0
    for node, depth in walk(model.graph):
        count += 1
        if limit is not None and count > limit:
            raise GraphSizeLimitError(f"the model has more than {limit:,} nodes (sub-graphs "
                                      f"included), over the budget max_nodes "
                                      "(SessionOptions.max_nodes)")
        _check_inputs(node, model)


def walk(graph: ir.Graph, depth: int = 0) -> Iterator[Tuple[ir.Node, int]]:
    """Every node of a graph and of its sub-graphs, without recursion."""
    stack = [(graph, depth)]
    while stack:
        g, d = stack.pop()
        for node in g.nodes:
            yield node, d
            for value in node.attributes.values():
                for sub in (value if isinstance(value, (list, tuple)) else (value,)):
                    if isinstance(sub, ir.Graph):
                        stack.append((sub, d + 1))


_REQUIRED: Dict[type, int] = {}


def required_inputs(cls: type) -> int:
    """How many leading inputs ``run`` cannot do without (positional parameters with no default)."""
    if cls not in _REQUIRED:
        fn = getattr(cls, "signature_source", None) or cls.run
        params = list(inspect.signature(fn).parameters.values())
        if fn is getattr(cls, "run", None):
            params = params[1:]  # self
        n = 0
        for p in params:
            if p.kind not in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) or p.default is not p.empty:
                break
            n += 1
        _REQUIRED[cls] = n
    return _REQUIRED[cls]


def _check_inputs(node: ir.Node, model: ir.Model) -> None:
    domain = registry.canonical_domain(node.domain)
    opset = model.opset_import.get(domain, model.opset_import.get("ai.onnx", 0) if domain == ""
                                   else 10 ** 6)
    try:
        cls = registry.lookup(node.op_type, node.domain, opset, node)
    except UnsupportedOpError:
        return  # reported, with what exists, when the plan is built
    need = required_inputs(cls)
    if len(node.inputs) < need:  # (an empty name is an omitted optional input: run gets None)
        raise ModelError(node, f"has {len(node.inputs)} inputs {list(node.inputs)}; this op needs "
                               f"at least {need}")

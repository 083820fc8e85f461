"""What is in a model, for `tinyinfer info` and notebooks: I/O, opsets, ops, parameters.

Parameters are counted over initializers and Constant-node tensors (exporters such as Paddle2ONNX
store every weight as a Constant node).
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Dict, List

import numpy as np

from . import ir
from .session import _node_arg


@dataclass
class Summary:
    inputs: list
    outputs: list
    opsets: Dict[str, int]
    op_counts: Counter
    parameters: int
    parameter_bytes: int
    tensors: int
    nodes: int
    metadata: Dict[str, str]


def _walk(graph: ir.Graph):
    for node in graph.nodes:
        yield node
        for v in node.attributes.values():
            for g in (v if isinstance(v, list) else [v]):
                if isinstance(g, ir.Graph):
                    yield from _walk(g)


def _graphs(graph: ir.Graph):
    yield graph
    for node in graph.nodes:
        for v in node.attributes.values():
            for g in (v if isinstance(v, list) else [v]):
                if isinstance(g, ir.Graph):
                    yield from _graphs(g)


def summarize(model: ir.Model) -> Summary:
    ops = Counter()
    arrays: List[np.ndarray] = []
    for g in _graphs(model.graph):
        arrays.extend(g.initializers.values())
    for node in _walk(model.graph):
        ops[node.op_type if node.domain in ("", "ai.onnx") else f"{node.domain}.{node.op_type}"] += 1
        if node.op_type == "Constant":
            arrays.extend(v for v in node.attributes.values() if isinstance(v, np.ndarray))
    return Summary(
        inputs=[_node_arg(v) for v in model.graph.real_inputs],
        outputs=[_node_arg(v) for v in model.graph.outputs],
        opsets={(d or "ai.onnx"): v for d, v in model.opset_import.items()},
        op_counts=ops,
        parameters=int(sum(a.size for a in arrays)),
        parameter_bytes=int(sum(a.nbytes for a in arrays if a.dtype != object)),
        tensors=len(arrays),
        nodes=sum(ops.values()),
        metadata=dict(model.metadata_props),
    )


def human_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"


def format_summary(model: ir.Model, path: str = "") -> str:
    s = summarize(model)
    lines = []
    if path:
        lines.append(f"model      {path}")
    lines.append(f"producer   {model.producer_name} {model.producer_version}".rstrip()
                 + f"   (ir_version {model.ir_version})")
    lines.append("opsets     " + ", ".join(f"{d} {v}" for d, v in s.opsets.items()))
    for label, args in (("inputs", s.inputs), ("outputs", s.outputs)):
        for i, a in enumerate(args):
            shape = "?" if a.shape is None else "[" + ", ".join(
                "?" if d is None else str(d) for d in a.shape) + "]"
            lines.append(f"{label if i == 0 else '':10s} {a.name}  {a.type}  {shape}")
    lines.append(f"parameters {s.parameters:,} in {s.tensors} tensors ({human_bytes(s.parameter_bytes)})")
    lines.append(f"nodes      {s.nodes}")
    width = max((len(k) for k in s.op_counts), default=0)
    for op_type, n in s.op_counts.most_common():
        lines.append(f"  {op_type:{width}s} {n:5d}")
    for k, v in s.metadata.items():
        shown = v if len(v) <= 60 else f"{v[:40]!r}... ({len(v)} chars)"
        lines.append(f"metadata   {k} = {shown}")
    return "\n".join(lines)

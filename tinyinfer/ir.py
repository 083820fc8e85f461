"""The in-memory model: frozen dataclasses with no behaviour beyond small checks and lookups.

    Model ── graph: Graph ── nodes: (Node, ...)      in file order (need not be topological)
                        ├── inputs / outputs / value_info: (Value, ...)
                        └── initializers: {name: np.ndarray}
          ── opset_import: {domain: version}, metadata_props: {key: value}, functions

Attribute values are plain Python: int, float, str, np.ndarray (TENSOR and SPARSE_TENSOR,
densified), Graph, TypeInfo, or lists of those. Inside a FunctionProto body an attribute may be a
``RefAttr`` that is replaced by the caller's attribute when the function is expanded.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Mapping, Optional, Tuple, Union

import numpy as np

from . import dtypes

Dim = Union[int, str, None]  # static size, symbolic name, or unknown


@dataclass(frozen=True)
class TypeInfo:
    """A TypeProto. kind: 'tensor', 'sparse_tensor', 'sequence', 'optional', 'map' or None."""

    kind: Optional[str] = None
    elem_type: int = 0                      # ONNX element type code (tensor kinds; map key)
    shape: Optional[Tuple[Dim, ...]] = None  # None = rank unknown
    elem: Optional["TypeInfo"] = None        # sequence/optional element; map value
    denotation: str = ""

    def describe(self) -> str:
        if self.kind in ("tensor", "sparse_tensor"):
            return dtypes.type_string(self.elem_type).replace("tensor", self.kind)
        if self.kind == "map":
            return f"map({dtypes.ONNX_NAMES.get(self.elem_type, '?')}, {self.elem.describe() if self.elem else '?'})"
        if self.kind in ("sequence", "optional"):
            return f"{self.kind}({self.elem.describe() if self.elem else '?'})"
        return "unknown"


@dataclass(frozen=True)
class Value:
    """A ValueInfoProto: a named graph input, output or intermediate with its declared type."""

    name: str
    type: Optional[TypeInfo] = None
    doc_string: str = ""


@dataclass(frozen=True)
class RefAttr:
    """Inside a function body: 'take the caller's attribute ``name``'."""

    name: str
    type: int = 0


@dataclass(frozen=True)
class Node:
    op_type: str
    inputs: Tuple[str, ...] = ()
    outputs: Tuple[str, ...] = ()
    attributes: Mapping[str, Any] = field(default_factory=dict)
    name: str = ""
    domain: str = ""
    doc_string: str = ""
    overload: str = ""

    def describe(self) -> str:
        """'node "conv1" (Conv)' — how every error message names a node."""
        op = self.op_type if self.domain in ("", "ai.onnx") else f"{self.domain}.{self.op_type}"
        label = self.name or (self.outputs[0] if self.outputs else "")
        return f'node "{label}" ({op})' if label else f"node ({op})"


@dataclass(frozen=True)
class Graph:
    nodes: Tuple[Node, ...] = ()
    inputs: Tuple[Value, ...] = ()
    outputs: Tuple[Value, ...] = ()
    initializers: Mapping[str, np.ndarray] = field(default_factory=dict)
    value_info: Tuple[Value, ...] = ()
    name: str = ""
    doc_string: str = ""

    def __post_init__(self):
        object.__setattr__(self, "initializers", MappingProxyType(dict(self.initializers)))

    @property
    def real_inputs(self) -> Tuple[Value, ...]:
        """Inputs the user must (or may) feed: graph inputs that are not initializers.

        Inputs that also have an initializer are optional feeds that override the default."""
        return tuple(v for v in self.inputs if v.name not in self.initializers)

    def value_types(self) -> dict:
        """Every declared type by value name (inputs, outputs, value_info)."""
        out = {}
        for v in (*self.value_info, *self.inputs, *self.outputs):
            if v.type is not None:
                out[v.name] = v.type
        return out


@dataclass(frozen=True)
class Function:
    """A FunctionProto: a named sub-graph that nodes can call like an op; expanded at load."""

    name: str
    domain: str = ""
    inputs: Tuple[str, ...] = ()
    outputs: Tuple[str, ...] = ()
    attributes: Tuple[str, ...] = ()
    attribute_defaults: Mapping[str, Any] = field(default_factory=dict)
    nodes: Tuple[Node, ...] = ()
    opset_import: Mapping[str, int] = field(default_factory=dict)
    overload: str = ""
    doc_string: str = ""


@dataclass(frozen=True)
class Model:
    graph: Graph
    opset_import: Mapping[str, int] = field(default_factory=dict)
    ir_version: int = 0
    producer_name: str = ""
    producer_version: str = ""
    domain: str = ""
    model_version: int = 0
    doc_string: str = ""
    metadata_props: Mapping[str, str] = field(default_factory=dict)
    functions: Tuple[Function, ...] = ()
    path: Optional[str] = None  # where it was read from, for messages and external data

    def opset(self, domain: str = "") -> int:
        """The model's opset version for a domain ('' and 'ai.onnx' are the same)."""
        if domain in ("", "ai.onnx"):
            return self.opset_import.get("", self.opset_import.get("ai.onnx", 0))
        return self.opset_import.get(domain, 0)

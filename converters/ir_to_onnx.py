"""tinyinfer's IR back to an onnx.ModelProto, so runtime passes can be written out as a file.

    to_model(ir_model, template=None) -> onnx.ModelProto

Attributes are plain Python in the IR (int, float, str, ndarray, Graph, lists): their ONNX type is
read off the value, or off the op's schema for an empty list. Tensors of tagged types (bfloat16,
float8, int4 ...) are written from their raw bits.
"""
from __future__ import annotations

import numpy as np
import onnx
from onnx import helper, numpy_helper

from tinyinfer import dtypes, ir

from ._common import ConvertError


def tensor(name: str, a: np.ndarray) -> onnx.TensorProto:
    a = np.asarray(a)
    if dtypes.is_tagged(a.dtype):
        code = dtypes.to_onnx(a.dtype)
        vals = dtypes.bits(a).reshape(-1)
        if dtypes.is_tagged_int(a.dtype) or a.dtype.names[0] == "float4e2m1":
            return helper.make_tensor(name, code, a.shape, vals.astype(np.int64).tolist())
        return helper.make_tensor(name, code, a.shape, vals.tobytes(), raw=True)
    if a.dtype == object:
        a = np.array([s.encode() if isinstance(s, str) else s for s in a.reshape(-1)],
                     dtype=object).reshape(a.shape)
    return numpy_helper.from_array(a, name)


def type_proto(t: ir.TypeInfo) -> onnx.TypeProto:
    if t is None or t.kind is None:
        return onnx.TypeProto()
    if t.kind in ("tensor", "sparse_tensor"):
        shape = None if t.shape is None else [d if isinstance(d, (int, str)) else None for d in t.shape]
        if t.kind == "tensor":
            return helper.make_tensor_type_proto(t.elem_type, shape)
        return helper.make_sparse_tensor_type_proto(t.elem_type, shape)
    if t.kind == "sequence":
        return helper.make_sequence_type_proto(type_proto(t.elem))
    if t.kind == "optional":
        return helper.make_optional_type_proto(type_proto(t.elem))
    if t.kind == "map":
        return helper.make_map_type_proto(t.elem_type, type_proto(t.elem))
    return onnx.TypeProto()


def value_info(v: ir.Value) -> onnx.ValueInfoProto:
    vi = onnx.ValueInfoProto(name=v.name, doc_string=v.doc_string)
    if v.type is not None and v.type.kind is not None:
        vi.type.CopyFrom(type_proto(v.type))
    return vi


def _schema_attr_type(node: ir.Node, name: str, opset: int):
    try:
        s = onnx.defs.get_schema(node.op_type, opset, node.domain or "")
        return s.attributes[name].type
    except Exception:
        return onnx.AttributeProto.INTS


def attribute(node: ir.Node, name: str, value, opset: int) -> onnx.AttributeProto:
    if isinstance(value, ir.Graph):
        return helper.make_attribute(name, graph(value, opset))
    if isinstance(value, ir.TypeInfo):
        return helper.make_attribute(name, type_proto(value))
    if isinstance(value, np.ndarray):
        return helper.make_attribute(name, tensor("", value))
    if isinstance(value, (list, tuple)):
        if not value:
            return helper.make_attribute(name, [], attr_type=_schema_attr_type(node, name, opset))
        first = value[0]
        if isinstance(first, ir.Graph):
            return helper.make_attribute(name, [graph(g, opset) for g in value])
        if isinstance(first, np.ndarray):
            return helper.make_attribute(name, [tensor("", t) for t in value])
        if isinstance(first, ir.TypeInfo):
            return helper.make_attribute(name, [type_proto(t) for t in value])
        if isinstance(first, float):
            return helper.make_attribute(name, [float(x) for x in value], attr_type=onnx.AttributeProto.FLOATS)
        return helper.make_attribute(name, list(value))
    if isinstance(value, bool):
        value = int(value)
    if isinstance(value, float):
        return helper.make_attribute(name, value, attr_type=onnx.AttributeProto.FLOAT)
    return helper.make_attribute(name, value)


def node(n: ir.Node, opset: int) -> onnx.NodeProto:
    out = helper.make_node(n.op_type, list(n.inputs), list(n.outputs), name=n.name or None,
                           domain=n.domain or None, doc_string=n.doc_string or None)
    for k, v in n.attributes.items():
        if isinstance(v, ir.RefAttr):
            raise ConvertError(f"{n.describe()}: attribute {k!r} refers to a function attribute")
        out.attribute.append(attribute(n, k, v, opset))
    return out


def graph(g: ir.Graph, opset: int) -> onnx.GraphProto:
    return helper.make_graph(
        [node(n, opset) for n in g.nodes], g.name or "graph",
        [value_info(v) for v in g.inputs], [value_info(v) for v in g.outputs],
        initializer=[tensor(k, a) for k, a in g.initializers.items()],
        doc_string=g.doc_string or None, value_info=[value_info(v) for v in g.value_info])


def to_model(m: ir.Model) -> onnx.ModelProto:
    opset = m.opset()
    out = helper.make_model(
        graph(m.graph, opset),
        opset_imports=[helper.make_opsetid(d, v) for d, v in m.opset_import.items()],
        producer_name=m.producer_name or "tinyinfer-convert",
        producer_version=m.producer_version or "", domain=m.domain or "",
        model_version=m.model_version, doc_string=m.doc_string or "")
    out.ir_version = max(m.ir_version, 3)
    for k, v in m.metadata_props.items():
        out.metadata_props.append(onnx.StringStringEntryProto(key=k, value=v))
    return out

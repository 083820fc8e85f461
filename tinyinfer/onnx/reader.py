"""ModelProto bytes → ir.Model, message by message (field numbers from onnx.proto).

    ModelProto      1 ir_version  2 producer_name  3 producer_version  4 domain  5 model_version
                    6 doc_string  7 graph  8 opset_import  14 metadata_props  25 functions
    GraphProto      1 node  2 name  5 initializer  10 doc_string  11 input  12 output
                    13 value_info  15 sparse_initializer
    NodeProto       1 input  2 output  3 name  4 op_type  5 attribute  6 doc_string  7 domain
                    8 overload
    AttributeProto  1 name  2 f  3 i  4 s  5 t  6 g  7 floats  8 ints  9 strings  10 tensors
                    11 graphs  13 doc_string  14 tp  15 type_protos  20 type  21 ref_attr_name
                    22 sparse_tensor  23 sparse_tensors
    ValueInfoProto  1 name  2 type  3 doc_string
    TypeProto       1 tensor_type  4 sequence_type  5 map_type  6 denotation
                    8 sparse_tensor_type  9 optional_type
    FunctionProto   1 name  4 input  5 output  6 attribute  7 node  8 doc_string  9 opset_import
                    10 domain  11 attribute_proto  13 overload
    SparseTensorProto  1 values  2 indices  3 dims

Sub-graphs nest (If/Loop/Scan bodies); the depth is bounded so a hostile file cannot exhaust
Python's stack.
"""
from __future__ import annotations

from typing import Optional

import numpy as np

from .. import ir
from ..errors import DecodeError, GraphSizeLimitError, ModelError, NestingLimitError
from . import tensor as tz
from . import wire
from .external import ExternalDataReader

MAX_NESTING = 64

# AttributeProto.AttributeType
A_FLOAT, A_INT, A_STRING, A_TENSOR, A_GRAPH, A_FLOATS, A_INTS, A_STRINGS = 1, 2, 3, 4, 5, 6, 7, 8
A_TENSORS, A_GRAPHS, A_SPARSE, A_SPARSES, A_TYPE, A_TYPES = 9, 10, 11, 12, 13, 14


class Reader:
    """Decodes one model. Budgets (see budgets.py) bound what a hostile file can make it do:
    sub-graph depth, TypeProto depth, bytes per tensor and the number of nodes."""

    def __init__(self, buf: bytes, base_dir: Optional[str], max_nesting: int = MAX_NESTING,
                 max_type_nesting: int = MAX_NESTING, max_tensor_bytes=None, max_nodes=None):
        self.buf = buf
        self.external = ExternalDataReader(base_dir)
        self.max_nesting = max_nesting
        self.max_type_nesting = max_type_nesting
        self.max_tensor_bytes = max_tensor_bytes
        self.max_nodes = max_nodes
        self.nodes_read = 0

    # -- helpers -----------------------------------------------------------------------------
    def _str(self, span) -> str:
        return wire.string(self.buf, span)

    def _bytes_or_str(self, span):
        raw = bytes(self.buf[span[0]:span[1]])
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return raw

    def _entry(self, span):
        key = value = ""
        for n, w, v in wire.fields(self.buf, *span):
            if n == 1 and w == 2:
                key = self._str(v)
            elif n == 2 and w == 2:
                value = self._str(v)
        return key, value

    def _opset(self, span):
        domain, version = "", 0
        for n, w, v in wire.fields(self.buf, *span):
            if n == 1 and w == 2:
                domain = self._str(v)
            elif n == 2 and w == 0:
                version = wire.signed64(v)
        return ("" if domain == "ai.onnx" else domain), version

    # -- messages ----------------------------------------------------------------------------
    def model(self) -> ir.Model:
        kw = dict(opset_import={}, metadata_props={}, functions=[])
        graph_span = None
        buf = self.buf
        for n, w, v in wire.fields(buf, 0, len(buf)):
            if n == 1 and w == 0:
                kw["ir_version"] = wire.signed64(v)
            elif n == 2 and w == 2:
                kw["producer_name"] = self._str(v)
            elif n == 3 and w == 2:
                kw["producer_version"] = self._str(v)
            elif n == 4 and w == 2:
                kw["domain"] = self._str(v)
            elif n == 5 and w == 0:
                kw["model_version"] = wire.signed64(v)
            elif n == 6 and w == 2:
                kw["doc_string"] = self._str(v)
            elif n == 7 and w == 2:
                graph_span = v
            elif n == 8 and w == 2:
                d, ver = self._opset(v)
                kw["opset_import"][d] = ver
            elif n == 14 and w == 2:
                k, val = self._entry(v)
                kw["metadata_props"][k] = val
            elif n == 25 and w == 2:
                kw["functions"].append(self.function(v))
        if graph_span is None:
            raise ModelError("not an ONNX model: no graph found (is this an .onnx file?)")
        if "ir_version" not in kw and not kw["opset_import"]:
            raise ModelError("not an ONNX model: no ir_version and no opset_import")
        kw["graph"] = self.graph(graph_span, depth=0)
        kw["functions"] = tuple(kw["functions"])
        return ir.Model(**kw)

    def graph(self, span, depth: int) -> ir.Graph:
        if depth > self.max_nesting:
            raise NestingLimitError(f"sub-graphs nest deeper than {self.max_nesting} levels, over "
                                    "the budget max_subgraph_depth (SessionOptions.max_subgraph_depth)")
        nodes, inputs, outputs, value_info, inits = [], [], [], [], {}
        name = doc = ""
        for n, w, v in wire.fields(self.buf, *span):
            if w != 2:
                continue
            if n == 1:
                nodes.append(self.node(v, depth))
            elif n == 2:
                name = self._str(v)
            elif n == 5:
                t = tz.parse(self.buf, *v)
                inits[t.name] = tz.to_array(self.buf, t, "initializer", self.external,
                                            self.max_tensor_bytes)
            elif n == 15:
                tname, arr = self.sparse_tensor(v, "sparse initializer")
                inits[tname] = arr
            elif n == 10:
                doc = self._str(v)
            elif n == 11:
                inputs.append(self.value_info(v))
            elif n == 12:
                outputs.append(self.value_info(v))
            elif n == 13:
                value_info.append(self.value_info(v))
        return ir.Graph(nodes=tuple(nodes), inputs=tuple(inputs), outputs=tuple(outputs),
                        initializers=inits, value_info=tuple(value_info), name=name, doc_string=doc)

    def node(self, span, depth: int) -> ir.Node:
        self.nodes_read += 1
        if self.max_nodes is not None and self.nodes_read > self.max_nodes:
            raise GraphSizeLimitError(f"the model has more than {self.max_nodes:,} nodes, over the "
                                      "budget max_nodes (SessionOptions.max_nodes)")
        inputs, outputs, attrs = [], [], {}
        kw = {}
        for n, w, v in wire.fields(self.buf, *span):
            if w != 2:
                continue
            if n == 1:
                inputs.append(self._str(v))
            elif n == 2:
                outputs.append(self._str(v))
            elif n == 3:
                kw["name"] = self._str(v)
            elif n == 4:
                kw["op_type"] = self._str(v)
            elif n == 7:
                d = self._str(v)
                kw["domain"] = "" if d == "ai.onnx" else d
            elif n == 8:
                kw["overload"] = self._str(v)
            elif n == 6:
                kw["doc_string"] = self._str(v)
            elif n == 5:
                aname, value = self.attribute(v, depth, kw.get("name", ""))
                attrs[aname] = value
        if "op_type" not in kw:
            raise ModelError(f"node {kw.get('name', '')!r} has no op_type")
        return ir.Node(inputs=tuple(inputs), outputs=tuple(outputs), attributes=attrs, **kw)

    def attribute(self, span, depth: int, node_name: str = ""):
        name = ref = ""
        atype = 0
        f = i = s = t = g = sp = tp = None
        floats = wire.Repeated("f32")
        ints = wire.Repeated("varint")
        strings, tensors, graphs, sparses, types = [], [], [], [], []
        buf = self.buf
        for n, w, v in wire.fields(buf, *span):
            if n == 1 and w == 2:
                name = self._str(v)
            elif n == 20 and w == 0:
                atype = v
            elif n == 21 and w == 2:
                ref = self._str(v)
            elif n == 2 and w == 5:
                f = wire.float32(v)
            elif n == 3 and w == 0:
                i = wire.signed64(v)
            elif n == 4 and w == 2:
                s = self._bytes_or_str(v)
            elif n == 5 and w == 2:
                t = v
            elif n == 6 and w == 2:
                g = v
            elif n == 22 and w == 2:
                sp = v
            elif n == 14 and w == 2:
                tp = v
            elif n == 7:
                floats.add(buf, w, v)
            elif n == 8:
                ints.add(buf, w, v)
            elif n == 9 and w == 2:
                strings.append(self._bytes_or_str(v))
            elif n == 10 and w == 2:
                tensors.append(v)
            elif n == 11 and w == 2:
                graphs.append(v)
            elif n == 23 and w == 2:
                sparses.append(v)
            elif n == 15 and w == 2:
                types.append(v)
        what = f"attribute {name!r} of node {node_name!r}"
        if ref:
            return name, ir.RefAttr(ref, atype)
        if atype == 0:  # very old files omit the type: infer it from the field present
            atype = (A_FLOAT if f is not None else A_INT if i is not None else
                     A_STRING if s is not None else A_TENSOR if t is not None else
                     A_GRAPH if g is not None else A_FLOATS if len(floats) else
                     A_INTS if len(ints) else A_STRINGS if strings else
                     A_TENSORS if tensors else A_GRAPHS if graphs else 0)
        if atype == A_FLOAT:
            return name, float(f if f is not None else 0.0)
        if atype == A_INT:
            return name, int(i if i is not None else 0)
        if atype == A_STRING:
            return name, s if s is not None else ""
        if atype == A_TENSOR:
            if t is None:
                raise ModelError(f"{what}: declared TENSOR but holds none")
            return name, self.tensor(t, what)
        if atype == A_GRAPH:
            if g is None:
                raise ModelError(f"{what}: declared GRAPH but holds none")
            return name, self.graph(g, depth + 1)
        if atype == A_SPARSE:
            if sp is None:
                raise ModelError(f"{what}: declared SPARSE_TENSOR but holds none")
            return name, self.sparse_tensor(sp, what)[1]
        if atype == A_TYPE:
            return name, self.type_proto(tp, 0) if tp is not None else ir.TypeInfo()
        if atype == A_FLOATS:
            return name, [float(x) for x in floats.float32()]
        if atype == A_INTS:
            return name, [int(x) for x in ints.int64()]
        if atype == A_STRINGS:
            return name, strings
        if atype == A_TENSORS:
            return name, [self.tensor(x, what) for x in tensors]
        if atype == A_GRAPHS:
            return name, [self.graph(x, depth + 1) for x in graphs]
        if atype == A_SPARSES:
            return name, [self.sparse_tensor(x, what)[1] for x in sparses]
        if atype == A_TYPES:
            return name, [self.type_proto(x, 0) for x in types]
        raise ModelError(f"{what}: unknown attribute type {atype}")

    def tensor(self, span, what: str) -> np.ndarray:
        t = tz.parse(self.buf, *span)
        return tz.to_array(self.buf, t, what, self.external, self.max_tensor_bytes)

    def sparse_tensor(self, span, what: str):
        values = indices = None
        dims = wire.Repeated("varint")
        for n, w, v in wire.fields(self.buf, *span):
            if n == 1 and w == 2:
                values = tz.parse(self.buf, *v)
            elif n == 2 and w == 2:
                indices = tz.parse(self.buf, *v)
            elif n == 3:
                dims.add(self.buf, w, v)
        if values is None:
            raise ModelError(f"{what}: sparse tensor has no values")
        if len(dims) > tz.MAX_RANK:
            raise ModelError(f"{what}: sparse tensor declares {len(dims)} dimensions; at most "
                             f"{tz.MAX_RANK} are supported")
        shape = [int(d) for d in dims.int64()]
        vals = tz.to_array(self.buf, values, what, self.external, self.max_tensor_bytes).reshape(-1)
        idx = (tz.to_array(self.buf, indices, what, self.external, self.max_tensor_bytes)
               if indices is not None else np.zeros((0,), np.int64))
        # the dense result is checked like any tensor before it is allocated
        tz.element_count(tz.RawTensor(dims=shape, data_type=values.data_type), what,
                         self.max_tensor_bytes)
        from .sparse import densify
        return values.name, densify(vals, idx, shape, what)

    def value_info(self, span) -> ir.Value:
        name = doc = ""
        typ = None
        for n, w, v in wire.fields(self.buf, *span):
            if n == 1 and w == 2:
                name = self._str(v)
            elif n == 2 and w == 2:
                typ = self.type_proto(v, 0)
            elif n == 3 and w == 2:
                doc = self._str(v)
        return ir.Value(name=name, type=typ, doc_string=doc)

    def type_proto(self, span, depth: int) -> ir.TypeInfo:
        if depth > self.max_type_nesting:
            raise NestingLimitError(f"type declarations nest deeper than {self.max_type_nesting} "
                                    "levels, over the budget max_protobuf_nesting "
                                    "(SessionOptions.max_protobuf_nesting)")
        denotation = ""
        result = ir.TypeInfo()
        for n, w, v in wire.fields(self.buf, *span):
            if w != 2:
                continue
            if n in (1, 8):  # tensor_type, sparse_tensor_type
                elem, shape = 0, None
                for n2, w2, v2 in wire.fields(self.buf, *v):
                    if n2 == 1 and w2 == 0:
                        elem = v2
                    elif n2 == 2 and w2 == 2:
                        shape = self.shape(v2)
                result = ir.TypeInfo("tensor" if n == 1 else "sparse_tensor", elem, shape)
            elif n in (4, 9):  # sequence_type, optional_type
                elem = None
                for n2, w2, v2 in wire.fields(self.buf, *v):
                    if n2 == 1 and w2 == 2:
                        elem = self.type_proto(v2, depth + 1)
                result = ir.TypeInfo("sequence" if n == 4 else "optional", elem=elem)
            elif n == 5:  # map_type
                key, val = 0, None
                for n2, w2, v2 in wire.fields(self.buf, *v):
                    if n2 == 1 and w2 == 0:
                        key = v2
                    elif n2 == 2 and w2 == 2:
                        val = self.type_proto(v2, depth + 1)
                result = ir.TypeInfo("map", key, elem=val)
            elif n == 6:
                denotation = self._str(v)
        if denotation:
            result = ir.TypeInfo(result.kind, result.elem_type, result.shape, result.elem, denotation)
        return result

    def shape(self, span):
        dims = []
        for n, w, v in wire.fields(self.buf, *span):
            if n == 1 and w == 2:
                dim = None
                for n2, w2, v2 in wire.fields(self.buf, *v):
                    if n2 == 1 and w2 == 0:
                        dim = wire.signed64(v2)
                    elif n2 == 2 and w2 == 2:
                        dim = self._str(v2)
                dims.append(dim)
                if len(dims) > tz.MAX_RANK:
                    raise ModelError(f"a declared shape has more than {tz.MAX_RANK} dimensions")
        return tuple(dims)

    def function(self, span) -> ir.Function:
        kw = dict(inputs=[], outputs=[], attributes=[], attribute_defaults={}, nodes=[],
                  opset_import={})
        for n, w, v in wire.fields(self.buf, *span):
            if w != 2:
                continue
            if n == 1:
                kw["name"] = self._str(v)
            elif n == 4:
                kw["inputs"].append(self._str(v))
            elif n == 5:
                kw["outputs"].append(self._str(v))
            elif n == 6:
                kw["attributes"].append(self._str(v))
            elif n == 11:
                aname, value = self.attribute(v, 1)
                kw["attributes"].append(aname)
                kw["attribute_defaults"][aname] = value
            elif n == 7:
                kw["nodes"].append(self.node(v, 1))
            elif n == 8:
                kw["doc_string"] = self._str(v)
            elif n == 9:
                d, ver = self._opset(v)
                kw["opset_import"][d] = ver
            elif n == 10:
                kw["domain"] = self._str(v)
            elif n == 13:
                kw["overload"] = self._str(v)
        if "name" not in kw:
            raise ModelError("a FunctionProto in the model has no name")
        for k in ("inputs", "outputs", "attributes", "nodes"):
            kw[k] = tuple(kw[k])
        return ir.Function(**kw)


def read_tensor_bytes(data: bytes, base_dir: Optional[str] = None) -> np.ndarray:
    """Decode a serialized TensorProto (e.g. a test_data_set input_0.pb)."""
    r = Reader(data, base_dir)
    return r.tensor((0, len(data)), "tensor")

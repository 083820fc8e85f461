"""The ONNX backend interface (onnx.backend.base.Backend), so onnx's own conformance suite can
drive tinyinfer. This module needs the `onnx` package (dev/convert extras); the runtime never
imports it.

Test data arrives as NumPy arrays, with ml_dtypes arrays for bfloat16, float8, float4, float6,
int4/uint4 and int2/uint2; those are converted to and from tinyinfer's tagged dtypes here.
"""
from __future__ import annotations

import importlib

import numpy as np

from . import dtypes
from .session import InferenceSession, SessionOptions

_base = importlib.import_module("onnx.backend.base")  # only for onnx's test harness

_ML_NAMES = {  # ml_dtypes name -> tinyinfer tagged dtype
    "bfloat16": dtypes.bfloat16, "float8_e4m3fn": dtypes.float8e4m3fn,
    "float8_e4m3fnuz": dtypes.float8e4m3fnuz, "float8_e5m2": dtypes.float8e5m2,
    "float8_e5m2fnuz": dtypes.float8e5m2fnuz, "float8_e8m0fnu": dtypes.float8e8m0,
    "float4_e2m1fn": dtypes.float4e2m1, "float6_e2m3fn": dtypes.float6e2m3,
    "float6_e3m2fn": dtypes.float6e3m2, "int4": dtypes.int4, "uint4": dtypes.uint4,
    "int2": dtypes.int2, "uint2": dtypes.uint2,
}
_SIGNED_BITS = {"int4": 4, "int2": 2}


def from_test_value(v):
    """onnx test value (ml_dtypes, lists, None) -> tinyinfer value."""
    if isinstance(v, list):
        return [from_test_value(x) for x in v]
    if isinstance(v, dict):
        return {k: from_test_value(x) for k, x in v.items()}
    if isinstance(v, np.ndarray) and v.dtype.name in _ML_NAMES:
        tag = _ML_NAMES[v.dtype.name]
        storage = np.uint16 if v.dtype.itemsize == 2 else np.uint8
        bits = v.view(storage).copy()
        if v.dtype.name in _SIGNED_BITS:
            b = _SIGNED_BITS[v.dtype.name]
            s = (bits & ((1 << b) - 1)).astype(np.int8)
            s[s >= (1 << (b - 1))] -= 1 << b
            return s.view(tag)
        return bits.view(tag)
    return v


def to_test_value(v):
    """tinyinfer value -> what onnx's test comparison expects (ml_dtypes for tagged dtypes)."""
    if isinstance(v, list):
        return [to_test_value(x) for x in v]
    if isinstance(v, np.ndarray) and dtypes.is_tagged(v.dtype):
        import ml_dtypes

        field = v.dtype.names[0]
        ml_name = next(k for k, t in _ML_NAMES.items() if t.names[0] == field)
        storage = np.uint16 if v.dtype.itemsize == 2 else np.uint8
        bits = v.view(np.int8 if field in _SIGNED_BITS else storage)
        if field in _SIGNED_BITS:
            bits = (bits.astype(np.int16) & ((1 << _SIGNED_BITS[field]) - 1)).astype(np.uint8)
        return bits.view(getattr(ml_dtypes, ml_name))
    return v


class TinyInferRep(_base.BackendRep):
    def __init__(self, session: InferenceSession):
        self.session = session

    def run(self, inputs, **kwargs):
        if isinstance(inputs, dict):
            feeds = {k: from_test_value(v) for k, v in inputs.items()}
        else:
            if not isinstance(inputs, (list, tuple)):
                inputs = [inputs]
            names = [i.name for i in self.session.get_inputs()]
            if len(inputs) > len(names):  # tests may also feed initializers that are inputs
                names = [v.name for v in self.session.model.graph.inputs]
            feeds = {n: from_test_value(x) for n, x in zip(names, inputs)}
        outs = self.session.run(None, feeds)
        return tuple(to_test_value(o) for o in outs)


class TinyInferBackend(_base.Backend):
    @classmethod
    def is_compatible(cls, model, device="CPU", **kwargs):
        return True

    @classmethod
    def supports_device(cls, device: str) -> bool:
        return device.upper().startswith("CPU")

    @classmethod
    def prepare(cls, model, device="CPU", **kwargs):
        super().prepare(model, device, **kwargs)
        opts = SessionOptions()
        if "graph_optimization_level" in kwargs:
            opts.graph_optimization_level = kwargs["graph_optimization_level"]
        data = model if isinstance(model, (bytes, bytearray)) else model.SerializeToString()
        return TinyInferRep(InferenceSession(data, opts))

    @classmethod
    def run_model(cls, model, inputs, device="CPU", **kwargs):
        return cls.prepare(model, device, **kwargs).run(inputs)

    @classmethod
    def run_node(cls, node, inputs, device="CPU", outputs_info=None, **kwargs):
        import onnx
        from onnx import helper

        ins = [helper.make_tensor_value_info(n, onnx.helper.np_dtype_to_tensor_dtype(x.dtype), x.shape)
               for n, x in zip(node.input, inputs) if n]
        outs = [helper.make_empty_tensor_value_info(n) for n in node.output if n]
        graph = helper.make_graph([node], "run_node", ins, outs)
        opset = kwargs.get("opset_version", onnx.defs.onnx_opset_version())
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid(node.domain or "", opset)])
        return cls.run_model(model, [x for n, x in zip(node.input, inputs) if n], device)


prepare = TinyInferBackend.prepare
run_model = TinyInferBackend.run_model
run_node = TinyInferBackend.run_node
supports_device = TinyInferBackend.supports_device

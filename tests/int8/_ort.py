"""Helpers for the int8 tests: build single-node models with onnx.helper, run them in both runtimes."""
from __future__ import annotations

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

import tinyinfer  # noqa: E402

NP2ONNX = {np.dtype(np.uint8): TensorProto.UINT8, np.dtype(np.int8): TensorProto.INT8,
           np.dtype(np.int32): TensorProto.INT32, np.dtype(np.float32): TensorProto.FLOAT}


def single_node(op, inputs, consts, outputs, attrs=None, domain="", opset=13):
    """inputs: {name: array} fed at run time; consts: {name: array} initializers (None = absent);
    outputs: {name: numpy dtype}. Input order is the order of `inputs | consts` as listed."""
    names, inits, vis = [], [], []
    for k, v in list(inputs.items()) + list(consts.items()):
        if v is None:
            names.append("")
            continue
        names.append(k)
        if k in consts:
            inits.append(numpy_helper.from_array(np.asarray(v), k))
        else:
            vis.append(helper.make_tensor_value_info(k, NP2ONNX[v.dtype], list(v.shape)))
    outs = [helper.make_tensor_value_info(k, NP2ONNX[np.dtype(t)], None) for k, t in outputs.items()]
    node = helper.make_node(op, names, list(outputs), domain=domain, **(attrs or {}))
    ops = [helper.make_opsetid("", opset)]
    if domain:
        ops.append(helper.make_opsetid(domain, 1))
    g = helper.make_graph([node], "g", vis, outs, inits)
    return helper.make_model(g, opset_imports=ops, ir_version=8).SerializeToString()


def run_both(model_bytes, feeds):
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    a = ort.InferenceSession(model_bytes, so, providers=["CPUExecutionProvider"]).run(None, feeds)
    b = tinyinfer.InferenceSession(model_bytes).run(None, feeds)
    return a, b

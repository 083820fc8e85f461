"""Shared by the pass tests: build a small model with onnx.helper, run it before and after."""
from collections import Counter

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

import tinyinfer  # noqa: E402
from tinyinfer.onnx import load_model  # noqa: E402

F = TensorProto.FLOAT


def vi(name, shape=None, t=F):
    return helper.make_tensor_value_info(name, t, shape)


def init(name, array):
    return numpy_helper.from_array(np.asarray(array), name)


def model(nodes, inputs, outputs, inits=(), opset=13):
    g = helper.make_graph(nodes, "g", inputs, outputs, list(inits))
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 8
    return load_model(m.SerializeToString())


def run(m, feeds):
    so = tinyinfer.SessionOptions()
    so.graph_optimization_level = 0  # run exactly the graph given
    return tinyinfer.InferenceSession(m, so).run(None, feeds)


def ops(m):
    return Counter(n.op_type for n in m.graph.nodes)


def same_outputs(before, after, feeds, tol=1e-5):
    """Max abs difference of all outputs, asserting it is within tol (relative to scale)."""
    a, b = run(before, feeds), run(after, feeds)
    worst = 0.0
    for x, y in zip(a, b):
        assert x.shape == y.shape and x.dtype == y.dtype
        d = float(np.max(np.abs(x.astype(np.float64) - y.astype(np.float64)))) if x.size else 0.0
        scale = max(1.0, float(np.max(np.abs(x)))) if x.size else 1.0
        assert d <= tol * scale, f"outputs differ by {d}"
        worst = max(worst, d)
    return worst


def rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)

"""Quantisation ops against onnxruntime on random shapes and values (hypothesis).

Integer outputs must equal onnxruntime's bit for bit.
"""
import os
import sys

import numpy as np
import pytest

ort = pytest.importorskip("onnxruntime")
hyp = pytest.importorskip("hypothesis")
from hypothesis import given, settings, strategies as st  # noqa: E402
from onnx import helper  # noqa: E402

import tinyinfer  # noqa: E402
from tinyinfer import dtypes  # noqa: E402

SETTINGS = settings(max_examples=25, deadline=None)


def _both(op_type, inputs, n_outputs=1, opset=21, **attrs):
    names = [n for n, _ in inputs]
    node = helper.make_node(op_type, names, [f"y{i}" for i in range(n_outputs)], **attrs)
    graph = helper.make_graph(
        [node], "t",
        [helper.make_tensor_value_info(n, dtypes.to_onnx(a.dtype), a.shape) for n, a in inputs],
        [helper.make_empty_tensor_value_info(f"y{i}") for i in range(n_outputs)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 9
    data = model.SerializeToString()
    feeds = dict(inputs)
    ours = tinyinfer.InferenceSession(data).run(None, feeds)
    theirs = ort.InferenceSession(data, providers=["CPUExecutionProvider"]).run(None, feeds)
    return ours, theirs


def _arr(draw, shape, lo, hi, dtype):
    seed = draw(st.integers(0, 2 ** 32 - 1))
    rng = np.random.default_rng(seed)
    if np.dtype(dtype).kind == "f":
        return (rng.uniform(lo, hi, shape)).astype(dtype)
    return rng.integers(lo, hi + 1, shape).astype(dtype)


int8_types = st.sampled_from([np.uint8, np.int8])


@st.composite
def quantize_case(draw):
    shape = tuple(draw(st.lists(st.integers(1, 5), min_size=1, max_size=4)))
    t = draw(int8_types)
    axis = draw(st.integers(-len(shape), len(shape) - 1))
    per_axis = draw(st.booleans())
    n = shape[axis] if per_axis else 1
    scale = _arr(draw, (n,) if per_axis else (), 0.01, 2.0, np.float32)
    info = np.iinfo(t)
    zp = _arr(draw, (n,) if per_axis else (), info.min, info.max, t)
    x = _arr(draw, shape, -300, 300, np.float32)
    # land some values exactly on .5 ties
    x.reshape(-1)[::3] = (np.round(x.reshape(-1)[::3]) + 0.5) * np.float32(1.0)
    return x, scale, zp, axis


@SETTINGS
@given(quantize_case())
def test_quantize_and_dequantize_match_onnxruntime(case):
    x, scale, zp, axis = case
    ours, theirs = _both("QuantizeLinear", [("x", x), ("s", scale), ("z", zp)], axis=axis)
    np.testing.assert_array_equal(ours[0], theirs[0])
    ours, theirs = _both("DequantizeLinear", [("q", theirs[0]), ("s", scale), ("z", zp)], axis=axis)
    np.testing.assert_array_equal(ours[0], theirs[0])


@SETTINGS
@given(st.integers(0, 2 ** 32 - 1), st.integers(1, 6), st.integers(1, 6), st.integers(1, 6),
       int8_types, int8_types)
def test_qlinear_matmul_and_matmul_integer_match_onnxruntime(seed, m, k, n, ta, tb):
    rng = np.random.default_rng(seed)
    ia, ib = np.iinfo(ta), np.iinfo(tb)
    a = rng.integers(ia.min, ia.max + 1, (m, k)).astype(ta)
    b = rng.integers(ib.min, ib.max + 1, (k, n)).astype(tb)
    az = np.array(rng.integers(ia.min, ia.max + 1), ta)
    bz = np.array(rng.integers(ib.min, ib.max + 1), tb)
    ours, theirs = _both("MatMulInteger", [("a", a), ("b", b), ("az", az), ("bz", bz)])
    np.testing.assert_array_equal(ours[0], theirs[0])
    s = lambda: np.array(rng.uniform(0.001, 0.1), np.float32)  # noqa: E731
    yz = np.array(rng.integers(ia.min, ia.max + 1), ta)
    if ta == tb:
        ours, theirs = _both("QLinearMatMul", [("a", a), ("as", s()), ("az", az), ("b", b),
                                               ("bs", s()), ("bz", bz), ("ys", s()), ("yz", yz)])
        np.testing.assert_array_equal(ours[0], theirs[0])


@SETTINGS
@given(st.integers(0, 2 ** 32 - 1), st.integers(1, 3), st.integers(1, 4), st.integers(3, 7),
       st.integers(1, 3), st.booleans())
def test_qlinear_conv_and_dynamic_quantize_match_onnxruntime(seed, c, m, size, k, per_channel):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 256, (1, c, size, size)).astype(np.uint8)
    w = rng.integers(-127, 128, (m, c, k, k)).astype(np.int8)
    ws = rng.uniform(0.001, 0.05, m if per_channel else ()).astype(np.float32)
    wz = np.zeros(m if per_channel else (), np.int8)
    b = rng.integers(-1000, 1000, m).astype(np.int32)
    f = lambda v: np.array(v, np.float32)  # noqa: E731
    ours, theirs = _both("QLinearConv", [
        ("x", x), ("xs", f(rng.uniform(0.01, 0.1))), ("xz", np.array(rng.integers(0, 256), np.uint8)),
        ("w", w), ("ws", ws), ("wz", wz), ("ys", f(rng.uniform(0.05, 1.0))),
        ("yz", np.array(rng.integers(0, 256), np.uint8)), ("b", b)], pads=[1, 1, 1, 1])
    np.testing.assert_array_equal(ours[0], theirs[0])
    xf = rng.normal(0, 3, (2, size)).astype(np.float32)
    ours, theirs = _both("DynamicQuantizeLinear", [("x", xf)], n_outputs=3)
    for o, t in zip(ours, theirs):
        np.testing.assert_array_equal(o, t)

"""passes/fuse_qlut.py: byte-wise chains (QLinearAdd/Mul with a scalar or the same tensor,
QLinearSigmoid/LeakyRelu, DequantizeLinear) become one QLinearLookup, with identical results."""
import numpy as np
import pytest

from ._ort import helper, numpy_helper, ort  # noqa: F401

import tinyinfer  # noqa: E402
from tinyinfer.onnx import load_model  # noqa: E402
from tinyinfer.passes import optimize  # noqa: E402

from onnx import TensorProto  # noqa: E402

MS = "com.microsoft"


def _hardswish_model(dt, seed):
    """QOperator HardSwish as quantize_static writes it, plus a Sigmoid branch and a DQ tail."""
    rng = np.random.default_rng(seed)
    z = (lambda v: np.asarray(v, dt))
    zp = 0 if dt is np.int8 else 128
    c = {"s1": np.float32(0.05), "z1": z(zp + 3), "three": z(rng.integers(40, 90)),
         "s3": np.float32(0.06), "z3": z(zp - 5), "s2": np.float32(0.04), "z2": z(zp),
         "s4": np.float32(0.03), "z4": z(zp + 1), "sixth": z(rng.integers(20, 60)),
         "s6": np.float32(0.005), "s5": np.float32(0.02), "z5": z(zp - 2)}
    n = [helper.make_node("QuantizeLinear", ["x", "s1", "z1"], ["q"]),
         helper.make_node("QLinearAdd", ["q", "s1", "z1", "three", "s3", "z3", "s2", "z2"], ["a"],
                          domain=MS),
         helper.make_node("QLinearMul", ["q", "s1", "z1", "a", "s2", "z2", "s4", "z4"], ["m"],
                          domain=MS),
         helper.make_node("QLinearMul", ["m", "s4", "z4", "sixth", "s6", "z2", "s5", "z5"], ["h"],
                          domain=MS),
         helper.make_node("QLinearSigmoid", ["h", "s5", "z5", "s2", "z2"], ["g"], domain=MS),
         helper.make_node("DequantizeLinear", ["h", "s5", "z5"], ["y"]),
         helper.make_node("DequantizeLinear", ["g", "s2", "z2"], ["y2"])]
    g = helper.make_graph(n, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT,
                                                                 [2, 3, 40, 50])],
                          [helper.make_tensor_value_info(k, TensorProto.FLOAT, None)
                           for k in ("y", "y2")],
                          [numpy_helper.from_array(np.asarray(v), k) for k, v in c.items()])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 13),
                                               helper.make_opsetid(MS, 1)],
                             ir_version=8).SerializeToString()


@pytest.mark.parametrize("dt", [np.uint8, np.int8])
@pytest.mark.parametrize("seed", range(3))
def test_chain_becomes_one_lookup_with_identical_results(dt, seed):
    b = _hardswish_model(dt, seed)
    ops = [n.op_type for n in optimize(load_model(b), 99).graph.nodes]
    assert ops == ["QuantizeLinear", "QLinearLookup", "QLinearLookup"], ops
    x = np.random.default_rng(seed).uniform(-6, 6, (2, 3, 40, 50)).astype(np.float32)
    fused = tinyinfer.InferenceSession(b).run(None, {"x": x})
    plain = tinyinfer.InferenceSession(b, tinyinfer.SessionOptions(graph_optimization_level=0)
                                       ).run(None, {"x": x})
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    theirs = ort.InferenceSession(b, so, providers=["CPUExecutionProvider"]).run(None, {"x": x})
    for f, p, t in zip(fused, plain, theirs):
        assert f.dtype == p.dtype == np.float32 and f.shape == p.shape
        np.testing.assert_array_equal(f, p)
        np.testing.assert_array_equal(f, t)


def _float_tail_model(dt, seed):
    """PP-OCRv4's tail between two convolutions: bytes -> DQ -> Div(6) -> Sub(c, .) -> Mul((1,))
    -> Q -> QLinearMul(w) -> DQ; one lookup from the first bytes to the last floats."""
    rng = np.random.default_rng(seed)
    z = (lambda v: np.asarray(v, dt))
    zp = 0 if dt is np.int8 else 128
    c = {"s1": np.float32(0.05), "z1": z(zp + 3), "six": np.float32(6.0),
         "cst": np.float32(rng.uniform(-1, 1)), "one": np.array([1.5], np.float32),
         "s2": np.float32(0.01), "z2": z(zp - 7), "w": z(rng.integers(-40, 40) + zp),
         "sw": np.float32(0.02), "zw": z(zp), "s3": np.float32(0.004), "z3": z(zp + 1)}
    n = [helper.make_node("QuantizeLinear", ["x", "s1", "z1"], ["q"]),
         helper.make_node("DequantizeLinear", ["q", "s1", "z1"], ["f"]),
         helper.make_node("Div", ["f", "six"], ["d"]),
         helper.make_node("Sub", ["cst", "d"], ["e"]),
         helper.make_node("Mul", ["e", "one"], ["g"]),
         helper.make_node("QuantizeLinear", ["g", "s2", "z2"], ["h"]),
         helper.make_node("QLinearMul", ["h", "s2", "z2", "w", "sw", "zw", "s3", "z3"], ["k"],
                          domain=MS),
         helper.make_node("DequantizeLinear", ["k", "s3", "z3"], ["y"])]
    g = helper.make_graph(n, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT,
                                                                 [2, 3, 40, 50])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
                          [numpy_helper.from_array(np.asarray(v), k) for k, v in c.items()])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 13),
                                               helper.make_opsetid(MS, 1)],
                             ir_version=8).SerializeToString()


@pytest.mark.parametrize("dt", [np.uint8, np.int8])
@pytest.mark.parametrize("seed", range(3))
def test_chain_through_float_arithmetic_and_quantize(dt, seed):
    b = _float_tail_model(dt, seed)
    ops = [n.op_type for n in optimize(load_model(b), 99).graph.nodes]
    assert ops == ["QuantizeLinear", "QLinearLookup"], ops
    x = np.random.default_rng(seed).uniform(-8, 8, (2, 3, 40, 50)).astype(np.float32)
    fused = tinyinfer.InferenceSession(b).run(None, {"x": x})[0]
    plain = tinyinfer.InferenceSession(b, tinyinfer.SessionOptions(graph_optimization_level=0)
                                       ).run(None, {"x": x})[0]
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    theirs = ort.InferenceSession(b, so, providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]
    assert fused.shape == plain.shape == theirs.shape
    np.testing.assert_array_equal(fused, plain)
    np.testing.assert_array_equal(fused, theirs)


def _shuffle_block_model(dt, act, seed):
    """A QDQ ShuffleNet block as the zoo's int8 files spell it: QLinearConv (group 4, 1x1) ->
    DQ -> Relu/HardSwish -> Reshape -> Transpose -> Reshape (channel shuffle) -> Q (bytes out)."""
    rng = np.random.default_rng(seed)
    z = (lambda v: np.asarray(v, dt))
    zp = 0 if dt is np.int8 else 128
    wi = np.iinfo(np.int8)
    c = {"s1": np.float32(0.05), "z1": z(zp + 3),
         "w": rng.integers(wi.min, wi.max + 1, (16, 2, 1, 1)).astype(np.int8),
         "sw": rng.uniform(0.005, 0.02, 16).astype(np.float32), "zw": np.zeros(16, np.int8),
         "s2": np.float32(0.09), "z2": z(zp - 9), "s3": np.float32(0.04), "z3": z(zp - 100),
         "sh1": np.array([1, 4, 4, 5, 6], np.int64), "sh2": np.array([1, 16, 5, 6], np.int64)}
    n = [helper.make_node("QuantizeLinear", ["x", "s1", "z1"], ["q"]),
         helper.make_node("QLinearConv", ["q", "s1", "z1", "w", "sw", "zw", "s2", "z2"], ["c"],
                          group=4),
         helper.make_node("DequantizeLinear", ["c", "s2", "z2"], ["f"]),
         helper.make_node(act, ["f"], ["r"]),
         helper.make_node("Reshape", ["r", "sh1"], ["r1"]),
         helper.make_node("Transpose", ["r1"], ["r2"], perm=[0, 2, 1, 3, 4]),
         helper.make_node("Reshape", ["r2", "sh2"], ["r3"]),
         helper.make_node("QuantizeLinear", ["r3", "s3", "z3"], ["y"])]
    g = helper.make_graph(n, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT,
                                                                 [1, 8, 5, 6])],
                          [helper.make_tensor_value_info("y", TensorProto.UINT8 if dt is np.uint8
                                                         else TensorProto.INT8, None)],
                          [numpy_helper.from_array(np.asarray(v), k) for k, v in c.items()])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 14)],
                             ir_version=8).SerializeToString()


@pytest.mark.parametrize("dt", [np.uint8, np.int8])
@pytest.mark.parametrize("act", ["Relu", "HardSwish"])
@pytest.mark.parametrize("seed", range(2))
def test_float_activation_and_shuffle_go_into_the_conv(dt, act, seed):
    """passes/quantize_before_move puts the Q before the shuffle's Reshape/Transpose/Reshape;
    DQ -> Relu/HardSwish -> Q is then a lookup inside the conv: bytes equal onnxruntime's."""
    b = _shuffle_block_model(dt, act, seed)
    ops = [n.op_type for n in optimize(load_model(b), 99).graph.nodes]
    assert "QLinearConvLookup" in ops and "DequantizeLinear" not in ops and act not in ops, ops
    x = np.random.default_rng(seed).uniform(-6, 6, (1, 8, 5, 6)).astype(np.float32)
    fused = tinyinfer.InferenceSession(b).run(None, {"x": x})[0]
    plain = tinyinfer.InferenceSession(b, tinyinfer.SessionOptions(graph_optimization_level=0)
                                       ).run(None, {"x": x})[0]
    theirs = ort.InferenceSession(b, providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]
    assert fused.dtype == plain.dtype == dt and fused.shape == (1, 16, 5, 6)
    np.testing.assert_array_equal(fused, plain)
    np.testing.assert_array_equal(fused, theirs)

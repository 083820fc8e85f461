"""passes/fuse_qdq.py: DQ -> Conv/MatMul/Add/Mul -> Q runs as QLinear ops (equal to onnxruntime,
which fuses the same way); config "tinyinfer.qdq" = "float" keeps the float reference."""
import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

import tinyinfer  # noqa: E402
from tinyinfer.onnx import load_model  # noqa: E402
from tinyinfer.passes import optimize  # noqa: E402


def _model(rng):
    w = rng.integers(-127, 128, (8, 4, 3, 3)).astype(np.int8)
    inits = [numpy_helper.from_array(a, n) for n, a in [
        ("xs", np.float32(0.02)), ("xz", np.uint8(128)), ("w", w),
        ("ws", rng.uniform(0.001, 0.01, 8).astype(np.float32)), ("wz", np.zeros(8, np.int8)),
        ("b", rng.standard_normal(8).astype(np.float32)),
        ("ys", np.float32(0.05)), ("yz", np.uint8(120)), ("zs", np.float32(0.07)),
        ("zz", np.uint8(100))]]
    nodes = [helper.make_node("QuantizeLinear", ["x", "xs", "xz"], ["xq"]),
             helper.make_node("DequantizeLinear", ["xq", "xs", "xz"], ["xd"]),
             helper.make_node("DequantizeLinear", ["w", "ws", "wz"], ["wd"], axis=0),
             helper.make_node("Conv", ["xd", "wd", "b"], ["c"], pads=[1, 1, 1, 1]),
             helper.make_node("QuantizeLinear", ["c", "ys", "yz"], ["cq"]),
             helper.make_node("DequantizeLinear", ["cq", "ys", "yz"], ["cd"]),
             helper.make_node("Add", ["cd", "cd"], ["s"]),
             helper.make_node("QuantizeLinear", ["s", "zs", "zz"], ["sq"]),
             helper.make_node("DequantizeLinear", ["sq", "zs", "zz"], ["y"])]
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT,
                                                                     [1, 4, 9, 10])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)],
                             ir_version=8).SerializeToString()


def test_fused_ops_and_results():
    rng = np.random.default_rng(0)
    b = _model(rng)
    ops = [n.op_type for n in optimize(load_model(b), 99).graph.nodes]
    # Add(c, c) is a byte function of c: QLinearAdd, then DequantizeLinear, fold into one table
    assert "QLinearConv" in ops and "QLinearLookup" in ops and "Conv" not in ops
    floats = [n.op_type for n in optimize(load_model(b), 99, qdq="float").graph.nodes]
    assert "Conv" in floats
    x = rng.uniform(-2, 2, (1, 4, 9, 10)).astype(np.float32)
    a = ort.InferenceSession(b, providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]
    y = tinyinfer.InferenceSession(b).run(None, {"x": x})[0]
    assert np.abs(a - y).max() <= 0.07 * 1.001  # within one output step (QLinearAdd ties)
    so = tinyinfer.SessionOptions()
    so.add_session_config_entry("tinyinfer.qdq", "float")
    yf = tinyinfer.InferenceSession(b, so).run(None, {"x": x})[0]
    ref = tinyinfer.InferenceSession(b, tinyinfer.SessionOptions(graph_optimization_level=0))
    np.testing.assert_array_equal(yf, ref.run(None, {"x": x})[0])


def test_shape_of_dequantized_bytes_reads_the_bytes():
    """Shape(DequantizeLinear(q)) -> Shape(q): the DequantizeLinear read only by it is gone."""
    inits = [numpy_helper.from_array(np.float32(0.02), "s"),
             numpy_helper.from_array(np.uint8(128), "z")]
    nodes = [helper.make_node("QuantizeLinear", ["x", "s", "z"], ["q"]),
             helper.make_node("DequantizeLinear", ["q", "s", "z"], ["d"]),
             helper.make_node("Shape", ["d"], ["shp"], start=1),
             helper.make_node("Reshape", ["q", "shp"], ["y"])]
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT,
                                                                     [1, 6, 5])],
                          [helper.make_tensor_value_info("y", TensorProto.UINT8, None)], inits)
    b = helper.make_model(g, opset_imports=[helper.make_opsetid("", 15)],
                          ir_version=8).SerializeToString()
    ops = [n.op_type for n in optimize(load_model(b), 99).graph.nodes]
    assert "DequantizeLinear" not in ops, ops
    x = np.random.default_rng(0).uniform(-2, 2, (1, 6, 5)).astype(np.float32)
    y = tinyinfer.InferenceSession(b).run(None, {"x": x})[0]
    want = ort.InferenceSession(b, providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]
    assert y.dtype == want.dtype and y.shape == want.shape == (6, 5)
    np.testing.assert_array_equal(y, want)

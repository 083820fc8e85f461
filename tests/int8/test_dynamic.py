"""Dynamic quantisation paths vs onnxruntime: DynamicQuantizeLinear, MatMulInteger,
MatMulIntegerToFloat, DynamicQuantizeMatMul (bit for bit), and quantize_dynamic's output for a
small LSTM + MatMul model (DynamicQuantizeLSTM; float tolerance, see ops/dynamic_lstm.py)."""
import numpy as np
import pytest

from ._ort import helper, numpy_helper, onnx, ort, run_both, single_node  # noqa: F401

import tinyinfer  # noqa: E402

T = onnx.TensorProto
MS = "com.microsoft"


def _x(rng, t, shape):
    x = (rng.standard_normal(shape) * rng.uniform(0.05, 20)).astype(np.float32)
    if t % 5 == 0:
        x = np.abs(x)  # all positive: zero point 0
    if t % 5 == 1:
        x = -np.abs(x)  # all negative: zero point 255
    if t % 11 == 3:
        x[:] = 0  # constant input: scale 1
    return x


@pytest.mark.parametrize("t", range(12))
def test_dynamic_quantize_linear_then_matmulinteger(t):
    rng = np.random.default_rng(t)
    x = _x(rng, t, (2, 3, 19))
    m = single_node("DynamicQuantizeLinear", {"x": x}, {}, {"y": np.uint8, "s": np.float32,
                                                             "z": np.uint8})
    a, b = run_both(m, {"x": x})
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    q, _, z = b
    bt = (np.int8, np.uint8)[t % 2]
    B = rng.integers(np.iinfo(bt).min, np.iinfo(bt).max + 1, (19, 7)).astype(bt)
    bz = rng.integers(0, 5, (7,) if t % 3 else ()).astype(bt)
    m = single_node("MatMulInteger", {"A": q}, {"B": B, "a_zero_point": z, "b_zero_point": bz},
                    {"y": np.int32})
    a, b = run_both(m, {"A": q})
    np.testing.assert_array_equal(a[0], b[0])


@pytest.mark.parametrize("t", range(12))
def test_matmulintegertofloat_and_dynamicquantizematmul(t):
    rng = np.random.default_rng(100 + t)
    x = _x(rng, t, (3, 5, 17))
    bt = (np.int8, np.uint8)[t % 2]
    B = rng.integers(np.iinfo(bt).min, np.iinfo(bt).max + 1, (17, 9)).astype(bt)
    per_col = t % 3 != 0
    shape = (9,) if per_col else ()
    bs = rng.uniform(0.001, 0.05, shape).astype(np.float32)
    bz = (np.zeros(shape, bt) if bt is np.int8 else rng.integers(100, 150, shape).astype(bt))
    bias = rng.standard_normal(9).astype(np.float32) if t % 4 else None
    m = single_node("DynamicQuantizeMatMul", {"A": x}, {"B": B, "b_scale": bs, "b_zero_point": bz,
                                                       "bias": bias}, {"y": np.float32}, domain=MS)
    a, b = run_both(m, {"A": x})
    np.testing.assert_array_equal(a[0], b[0])
    q, s, z = tinyinfer.InferenceSession(single_node(
        "DynamicQuantizeLinear", {"x": x}, {}, {"y": np.uint8, "s": np.float32, "z": np.uint8})
    ).run(None, {"x": x})
    m = single_node("MatMulIntegerToFloat", {"A": q}, {"B": B, "a_scale": s, "b_scale": bs,
                                                      "a_zero_point": z, "b_zero_point": bz,
                                                      "bias": bias}, {"y": np.float32}, domain=MS)
    a, b = run_both(m, {"A": q})
    np.testing.assert_array_equal(a[0], b[0])


def _lstm_model(direction, H=8, I=6, S=5, N=3, seed=0):
    rng = np.random.default_rng(seed)
    D = 2 if direction == "bidirectional" else 1
    W = (rng.standard_normal((D, 4 * H, I)) * 0.5).astype(np.float32)
    R = (rng.standard_normal((D, 4 * H, H)) * 0.5).astype(np.float32)
    B = (rng.standard_normal((D, 8 * H)) * 0.1).astype(np.float32)
    Wm = rng.standard_normal((D * H, 7)).astype(np.float32)
    nodes = [helper.make_node("LSTM", ["x", "W", "R", "B"], ["Y", "Yh", "Yc"], hidden_size=H,
                              direction=direction),
             helper.make_node("Transpose", ["Yh"], ["ht"], perm=[1, 0, 2]),
             helper.make_node("Reshape", ["ht", "shp"], ["h"]),
             helper.make_node("MatMul", ["h", "Wm"], ["y"])]
    g = helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info("x", T.FLOAT, [S, N, I])],
        [helper.make_tensor_value_info(n, T.FLOAT, None) for n in ("y", "Y", "Yc")],
        [numpy_helper.from_array(a, n) for n, a in
         [("W", W), ("R", R), ("B", B), ("Wm", Wm), ("shp", np.array([N, D * H], np.int64))]])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 14)], ir_version=8)


@pytest.mark.parametrize("direction", ["forward", "reverse", "bidirectional"])
@pytest.mark.parametrize("per_channel", [False, True])
@pytest.mark.parametrize("wtype", ["QInt8", "QUInt8"])
def test_quantize_dynamic_lstm_matches_onnxruntime(tmp_path, direction, per_channel, wtype):
    q = pytest.importorskip("onnxruntime.quantization")
    src, dst = tmp_path / "f.onnx", tmp_path / "q.onnx"
    onnx.save(_lstm_model(direction), str(src))
    q.quantize_dynamic(str(src), str(dst), per_channel=per_channel,
                       weight_type=getattr(q.QuantType, wtype))
    ops = {n.op_type for n in onnx.load(str(dst)).graph.node}
    assert {"DynamicQuantizeLSTM", "DynamicQuantizeLinear", "MatMulInteger"} <= ops
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1  # one batch block: onnxruntime quantises H_{t-1} per block
    sess = ort.InferenceSession(str(dst), so, providers=["CPUExecutionProvider"])
    mine = tinyinfer.InferenceSession(str(dst))
    for seed in range(3):
        x = np.random.default_rng(seed).standard_normal((5, 3, 6)).astype(np.float32)
        a, b = sess.run(None, {"x": x}), mine.run(None, {"x": x})
        for u, v in zip(a, b):
            assert u.shape == v.shape
            np.testing.assert_allclose(v, u, rtol=0, atol=2e-6)  # measured: <= 5e-7

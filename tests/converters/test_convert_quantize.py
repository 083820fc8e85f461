import os

import numpy as np
import onnx
import pytest

import tinyinfer
from converters import ConvertError, quantize
from converters.qparams import activation_params, bias_int32, weight_params

from convert_fixtures import CLS, DIGITS, ppocr

ort = pytest.importorskip("onnxruntime")


def test_params_follow_onnxruntime_conventions():
    s, z = activation_params(0.5, 2.0)            # range widened to include 0
    assert s == np.float32(2.0 / 255) and z == 0 and z.dtype == np.uint8
    s, z = activation_params(-1.0, 1.0)
    assert z == 127                                # 1 / float32(2/255) = 127.49999 in float32, as onnxruntime
    q, s = weight_params(np.array([[1.0, -2.0], [0.5, 0.25]], np.float32), axis=0)
    np.testing.assert_allclose(s, [2 / 127, 0.5 / 127], rtol=1e-6)
    assert q.dtype == np.int8 and q[0, 1] == -127 and q[1, 0] == 127
    bq, bs = bias_int32(np.array([1.0, 1.0]), np.float32(0.1), s)
    assert bq.dtype == np.int32 and np.allclose(bs, 0.1 * s)


def _last_scale(m):
    """Scale of the DequantizeLinear behind the first graph output (through Flatten/Reshape)."""
    inits = {t.name: onnx.numpy_helper.to_array(t) for t in m.graph.initializer}
    made = {o: n for n in m.graph.node for o in n.output}
    n = made.get(m.graph.output[0].name)
    while n is not None and n.op_type in ("Flatten", "Reshape"):
        n = made.get(n.input[0])
    if n is not None and n.op_type == "DequantizeLinear":
        return float(inits[n.input[1]])
    if n is not None and n.op_type == "QLinearConv":
        return float(inits[n.input[6]])
    return None


def _ort(path, feeds):
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, feeds)[0]


@pytest.mark.parametrize("fmt", ["qdq", "qoperator"])
def test_digits_static_both_runtimes(tmp_path, digits_cal, digits_data, fmt):
    out = tmp_path / "q.onnx"
    m = quantize(DIGITS, out, digits_cal, format=fmt, quiet=True)
    x, y = digits_data
    a = _ort(out, {"image": x})                            # onnxruntime fuses DQ -> Conv -> Q ...
    b = tinyinfer.InferenceSession(str(out)).run(None, {"image": x})[0]  # ... and so does fuse_qdq
    step = _last_scale(m)
    assert step, "the classifier's output should be quantised"
    steps = np.abs(a.astype(np.float64) - b) / step
    assert steps.max() <= 1.001                            # within one step, on all 355 samples
    assert (steps > 0.5).mean() <= 0.01                    # and nearly always bit-equal: not borderline
    f = _ort(DIGITS, {"image": x})
    acc_f, acc_q = (f.argmax(1) == y).mean(), (b.argmax(1) == y).mean()
    assert acc_q >= acc_f - 0.01
    ratio = os.path.getsize(out) / os.path.getsize(DIGITS)
    # QOperator <= 30 %. QDQ: 12,136 bytes of int8 weights and int32 biases are 24.2 % of this
    # 11k-parameter file; 48 Q/DQ nodes and their scalars are another ~5.5 %; the rest is the
    # model's metadata (labels, preprocessing), kept: 30.7 %
    assert ratio <= (0.30 if fmt == "qoperator" else 0.31)


@pytest.mark.parametrize("kw", [dict(weights_only=True), dict(bits=4), dict(dynamic=True),
                                dict(per_channel=False), dict(method="percentile"), dict(method="entropy")])
def test_digits_variants_run(tmp_path, digits_cal, digits_data, kw):
    out = tmp_path / "q.onnx"
    quantize(DIGITS, out, digits_cal, quiet=True, **kw)
    x, y = digits_data
    a = ort.InferenceSession(str(out)).run(None, {"image": x})[0]
    b = tinyinfer.InferenceSession(str(out)).run(None, {"image": x})[0]
    np.testing.assert_allclose(a, b, atol=1e-4 if "method" not in kw and "per_channel" not in kw else 1.0)
    assert (b.argmax(1) == y).mean() > 0.9


def test_exclude_and_auto_exclude(digits_cal):
    m = quantize(DIGITS, None, digits_cal, exclude=["Gemm"], auto_exclude=2, quiet=True)
    ops = [n.op_type for n in m.graph.node]
    assert ops.count("QuantizeLinear") > 0
    gemm = next(n for n in m.graph.node if n.op_type == "Gemm")
    assert all(n.output[0] not in gemm.input for n in m.graph.node if n.op_type == "DequantizeLinear")


@pytest.mark.parametrize("fmt", ["qdq", "qoperator"])
def test_ppocr_cls_quantize(tmp_path, fmt):
    src = ppocr(CLS)
    x = np.random.default_rng(0).uniform(-1, 1, (4, 3, 48, 192)).astype(np.float32)
    cal = tmp_path / "cal.npz"
    np.savez(cal, x=x)
    out = tmp_path / "q.onnx"
    _no_waste(quantize(src, out, str(cal), format=fmt, quiet=True))
    x2 = np.concatenate([x, np.random.default_rng(1).uniform(-1, 1, (8, 3, 48, 192)).astype(np.float32)])
    a = _ort(out, {"x": x2})
    b = tinyinfer.InferenceSession(str(out)).run(None, {"x": x2})[0]
    # softmax probabilities after 53 integer convolutions: the same integer kernels on both sides
    # leave float rounding only (one step of the last quantised tensor would move them ~1e-2)
    assert np.abs(a - b).max() <= 1e-4
    f = _ort(src, {"x": x})       # noise sits near 0.5 / 0.5: compare classes on the calibration set
    assert (a[:4].argmax(1) == f.argmax(1)).all()
    ratio = os.path.getsize(out) / os.path.getsize(src)
    assert ratio <= 0.30


def test_bad_calibration_shape(tmp_path):
    cal = tmp_path / "bad.npz"
    np.savez(cal, image=np.zeros((2, 3, 8, 8), np.float32))
    with pytest.raises(ConvertError, match="calibration data"):
        quantize(DIGITS, None, str(cal), quiet=True)


def _no_waste(m):
    """No initializer twice, none unused, none listed as a graph input, every Conv/Gemm/MatMul
    weight quantised."""
    seen, reads = set(), {x for n in m.graph.node for x in n.input}
    for t in m.graph.initializer:
        key = (t.data_type, tuple(t.dims), t.raw_data or t.SerializeToString())
        assert key not in seen, f"duplicate initializer {t.name}"
        seen.add(key)
        assert t.name in reads, f"unused initializer {t.name}"
    inits = {t.name: t for t in m.graph.initializer}
    assert not any(v.name in inits for v in m.graph.input)
    for n in m.graph.node:
        if n.op_type in ("Conv", "Gemm", "MatMul") and n.input[1] in inits:
            assert inits[n.input[1]].data_type != onnx.TensorProto.FLOAT, f"{n.op_type} weight left in float"


@pytest.mark.parametrize("fmt", ["qdq", "qoperator"])
def test_chars_small_and_accurate(tmp_path, fmt):
    src = os.path.join(os.path.dirname(DIGITS), "..", "..", "models", "chars_shufflenet", "chars_shufflenet.onnx")
    z = np.load(os.path.join(os.path.dirname(src), "heldout.npz"))
    x, y = (z["x"].astype(np.float32) / 255)[:, None], z["y"]
    cal = tmp_path / "cal.npz"
    np.savez(cal, image=x[::8])
    out = tmp_path / "q.onnx"
    m = quantize(src, out, str(cal), format=fmt, quiet=True)
    _no_waste(m)
    assert not any(n.op_type in ("Shape", "Gather", "Unsqueeze") for n in m.graph.node)  # frozen Reshapes
    assert os.path.getsize(out) <= 0.30 * os.path.getsize(src)
    a, b = _ort(out, {"image": x}), tinyinfer.InferenceSession(str(out)).run(None, {"image": x})[0]
    assert np.abs(a - b).max() <= 1.001 * _last_scale(m)
    f = _ort(src, {"image": x})
    # noise-free held-out renders: 98.09 % fp32, 98.35 % int8 (qdq and qoperator); issue 6 asks
    # for int8 within 1 point of fp32
    assert (b.argmax(1) == y).mean() >= (f.argmax(1) == y).mean() - 0.01


@pytest.mark.parametrize("fmt", ["qdq", "qoperator"])
def test_no_waste_digits(digits_cal, fmt):
    _no_waste(quantize(DIGITS, None, digits_cal, format=fmt, quiet=True))


def _conv_act_model(act):
    """x -> Conv 3x3 (8 ch) -> act -> Conv 1x1 (4 ch) -> y"""
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    inits = [numpy_helper.from_array(rng.standard_normal((8, 3, 3, 3)).astype(np.float32), "w1"),
             numpy_helper.from_array(rng.standard_normal(8).astype(np.float32), "b1"),
             numpy_helper.from_array(rng.standard_normal((4, 8, 1, 1)).astype(np.float32), "w2")]
    if act == "Relu":
        a = helper.make_node("Relu", ["c"], ["r"])
    else:
        lo, hi = act
        inits += [numpy_helper.from_array(np.array(lo, np.float32), "lo"),
                  numpy_helper.from_array(np.array(hi, np.float32), "hi")]
        a = helper.make_node("Clip", ["c", "lo", "hi"], ["r"])
    nodes = [helper.make_node("Conv", ["x", "w1", "b1"], ["c"], pads=[1, 1, 1, 1]), a,
             helper.make_node("Conv", ["r", "w2"], ["y"])]
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, 6, 6])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 4, 6, 6])], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    return m


@pytest.mark.parametrize("act,folded", [("Relu", True), ((0.0, 6.0), True), ((-1.0, 1.0), False)])
@pytest.mark.parametrize("fmt", ["qdq", "qoperator"])
def test_relu_and_clip_from_zero_fold_into_the_conv(tmp_path, act, folded, fmt):
    """Relu / Clip(0, hi) after a quantised conv go: the conv's output quantisation (the
    activation's range, zero point 0) clamps the same way. Clip(-1, 1) stays."""
    src, cal, out = tmp_path / "m.onnx", tmp_path / "cal.npz", tmp_path / "q.onnx"
    onnx.save(_conv_act_model(act), src)
    x = np.random.default_rng(1).standard_normal((16, 3, 6, 6)).astype(np.float32) * 2
    np.savez(cal, x=x)
    m = quantize(str(src), str(out), str(cal), format=fmt, quiet=True)
    ops = [n.op_type for n in m.graph.node]
    assert (("Relu" not in ops and "Clip" not in ops) if folded else ("Relu" in ops or "Clip" in ops)), ops
    a = _ort(out, {"x": x})
    b = tinyinfer.InferenceSession(str(out)).run(None, {"x": x})[0]
    np.testing.assert_allclose(a, b, atol=1e-4)
    if folded:                                                       # still the float model's function
        f = _ort(src, {"x": x})
        assert np.abs(a - f).max() <= 0.05 * np.abs(f).max()


def test_auto_excluded_conv_keeps_its_relu(tmp_path):
    src, cal = tmp_path / "m.onnx", tmp_path / "cal.npz"
    onnx.save(_conv_act_model("Relu"), src)
    x = np.random.default_rng(1).standard_normal((16, 3, 6, 6)).astype(np.float32)
    np.savez(cal, x=x)
    m = quantize(str(src), None, str(cal), auto_exclude=2, quiet=True)   # both convs kept in float
    assert [n.op_type for n in m.graph.node].count("Relu") == 1
    np.testing.assert_allclose(tinyinfer.InferenceSession(m.SerializeToString()).run(None, {"x": x})[0],
                               _ort(src, {"x": x}), atol=1e-4)

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
    """Scale of the last QuantizeLinear/DequantizeLinear feeding a graph output, if any."""
    inits = {t.name: onnx.numpy_helper.to_array(t) for t in m.graph.initializer}
    out = m.graph.output[0].name
    for n in m.graph.node:
        if out in n.output and n.op_type == "DequantizeLinear":
            return float(inits[n.input[1]])
    return None


@pytest.mark.parametrize("fmt", ["qdq", "qoperator"])
def test_digits_static_both_runtimes(tmp_path, digits_cal, digits_data, fmt):
    out = tmp_path / "q.onnx"
    m = quantize(DIGITS, out, digits_cal, format=fmt, quiet=True)
    x, y = digits_data
    a = ort.InferenceSession(str(out)).run(None, {"image": x})[0]
    b = tinyinfer.InferenceSession(str(out)).run(None, {"image": x})[0]
    step = _last_scale(m)
    if step:  # outputs on the quantisation grid: equal within one step
        assert np.abs(a - b).max() <= step * 1.001
    f = ort.InferenceSession(DIGITS).run(None, {"image": x})[0]
    acc_f, acc_q = (f.argmax(1) == y).mean(), (b.argmax(1) == y).mean()
    assert acc_q >= acc_f - 0.01
    assert os.path.getsize(out) < 0.45 * os.path.getsize(DIGITS)


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
    quantize(src, out, str(cal), format=fmt, quiet=True)
    a = ort.InferenceSession(str(out)).run(None, {"x": x[:2]})[0]
    b = tinyinfer.InferenceSession(str(out)).run(None, {"x": x[:2]})[0]
    f = ort.InferenceSession(src).run(None, {"x": x[:2]})[0]
    assert np.abs(a - b).max() <= 0.02            # softmax probabilities
    assert (a.argmax(1) == f.argmax(1)).all()
    ratio = os.path.getsize(out) / os.path.getsize(src)
    assert ratio <= (0.30 if fmt == "qoperator" else 0.40)


def test_bad_calibration_shape(tmp_path):
    cal = tmp_path / "bad.npz"
    np.savez(cal, image=np.zeros((2, 3, 8, 8), np.float32))
    with pytest.raises(ConvertError, match="calibration data"):
        quantize(DIGITS, None, str(cal), quiet=True)

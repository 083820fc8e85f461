"""PP-OCR cls and rec, quantised with onnxruntime's quantize_static (per-channel, QOperator and
QDQ): outputs within one output quantisation step of onnxruntime's (in fact equal) and every
integer intermediate (each QLinear*/QuantizeLinear output, exposed as graph outputs in both
runtimes) equal."""
import os

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
quant = pytest.importorskip("onnxruntime.quantization")
rapidocr = pytest.importorskip("rapidocr_onnxruntime")

import tinyinfer  # noqa: E402

from .make_quantized import MODELS, prepare as _prepare  # noqa: E402  (one set-up for tests and benchmarks)


class _Reader(quant.CalibrationDataReader):
    def __init__(self, name, shape):
        rng = np.random.default_rng(0)
        self.it = iter([{name: rng.uniform(-1, 1, shape).astype(np.float32)} for _ in range(8)])

    def get_next(self):
        return next(self.it, None)


@pytest.fixture(scope="session")
def quantized(tmp_path_factory):
    d = tmp_path_factory.mktemp("ppocr_int8")
    src = os.path.join(os.path.dirname(rapidocr.__file__), "models")
    out = {}
    for tag, (fname, shape) in MODELS.items():
        fp32 = str(d / f"{tag}_fp32.onnx")
        _prepare(os.path.join(src, fname), fp32)
        name = onnx.load(fp32).graph.input[0].name
        for fmt in ("QOperator", "QDQ"):
            path = str(d / f"{tag}_{fmt}.onnx")
            quant.quantize_static(fp32, path, _Reader(name, shape), per_channel=True,
                                  quant_format=getattr(quant.QuantFormat, fmt),
                                  activation_type=quant.QuantType.QUInt8,
                                  weight_type=quant.QuantType.QInt8)
            out[tag, fmt] = path
        out[tag, "fp32"] = fp32
    return out


def expose_integers(path):
    """The model with every QLinear*/QuantizeLinear output also a graph output (uint8)."""
    m = onnx.load(path)
    have = {o.name for o in m.graph.output}
    for n in m.graph.node:
        if (n.op_type.startswith("QLinear") or n.op_type == "QuantizeLinear") and n.output[0] not in have:
            m.graph.output.append(onnx.helper.make_tensor_value_info(n.output[0], onnx.TensorProto.UINT8, None))
    return m.SerializeToString()


def compare(path, shape, seed=0):
    b = expose_integers(path)
    x = np.random.default_rng(seed).uniform(-1, 1, shape).astype(np.float32)
    so = ort.InferenceSession(b, providers=["CPUExecutionProvider"])
    name = so.get_inputs()[0].name
    a = so.run(None, {name: x})
    c = tinyinfer.InferenceSession(b).run(None, {name: x})
    ints = [(o.name, u, v) for o, u, v in zip(so.get_outputs(), a, c) if u.dtype.kind in "ui"]
    equal = sum(np.array_equal(u, v) for _, u, v in ints)
    return a[0], c[0], equal, len(ints), [(n, int(np.abs(u.astype(int) - v).max())) for n, u, v in ints
                                           if not np.array_equal(u, v)]


@pytest.mark.parametrize("tag", ["cls", "rec"])
@pytest.mark.parametrize("fmt", ["QOperator", "QDQ"])
def test_quantized_ppocr_matches_onnxruntime(quantized, tag, fmt):
    ya, yb, equal, total, diff = compare(quantized[tag, fmt], MODELS[tag][1])
    # the outputs are DequantizeLinear(softmax_q) (then float ops); one step = the softmax scale
    step = 1.0 / 255  # the softmax output scale quantize_static picks for [0, 1]
    assert np.abs(ya - yb).max() <= step * 1.001, (np.abs(ya - yb).max(), diff[:5])
    print(f"{tag} {fmt}: output max diff {np.abs(ya - yb).max() / step:.2f} steps; "
          f"integer intermediates equal {equal}/{total}; differing {diff[:5]}")
    # both formats run the same QLinear kernels (passes/fuse_qdq.py fuses as onnxruntime's QDQ
    # transformer does) and each equals onnxruntime's x86 kernel: every integer equal
    assert equal == total, diff[:10]

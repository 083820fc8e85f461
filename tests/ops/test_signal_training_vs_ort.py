"""DFT, STFT and the losses against onnxruntime on random inputs (skipped without onnxruntime)."""
import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
from onnx import TensorProto, helper  # noqa: E402

import tinyinfer  # noqa: E402


def both(op_type, inputs, n_out=1, opset=18, **attrs):
    names = [n if v is not None else "" for n, v in inputs]
    node = helper.make_node(op_type, names, [f"y{i}" for i in range(n_out)], **attrs)
    ins = [helper.make_tensor_value_info(n, helper.np_dtype_to_tensor_dtype(v.dtype), v.shape)
           for n, v in inputs if v is not None]
    outs = [helper.make_empty_tensor_value_info(f"y{i}") for i in range(n_out)]
    model = helper.make_model(helper.make_graph([node], "g", ins, outs),
                              opset_imports=[helper.make_opsetid("", opset)], ir_version=8)
    data = model.SerializeToString()
    feeds = {n: v for n, v in inputs if v is not None}
    ours = tinyinfer.InferenceSession(data).run(None, feeds)
    theirs = ort.InferenceSession(data, providers=["CPUExecutionProvider"]).run(None, feeds)
    return ours, theirs


@pytest.mark.parametrize("seed", range(4))
def test_dft_matches_onnxruntime(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 9))
    x = rng.standard_normal((2, n, 3, int(rng.integers(1, 3)))).astype(np.float32)
    for axis in (1, 2):
        for inverse in (0, 1):
            onesided = int(x.shape[-1] == 1 and not inverse and rng.integers(2))
            ours, theirs = both("DFT", [("x", x)], opset=17, axis=axis, inverse=inverse, onesided=onesided)
            np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-4, atol=1e-4)


def test_stft_with_hann_window_matches_onnxruntime():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 40, 1)).astype(np.float32)
    w = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(8) / 8)).astype(np.float32)
    ours, theirs = both("STFT", [("x", x), ("s", np.array(3, np.int64)), ("w", w),
                                 ("l", np.array(8, np.int64))], opset=17)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
def test_softmax_cross_entropy_matches_onnxruntime(reduction):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3, 5, 2)).astype(np.float32)
    labels = rng.integers(0, 5, (3, 2)).astype(np.int64)
    labels[0, 0] = -1
    w = rng.random(5).astype(np.float32)
    ours, theirs = both("SoftmaxCrossEntropyLoss", [("x", x), ("t", labels), ("w", w)], n_out=2,
                        reduction=reduction, ignore_index=-1)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)

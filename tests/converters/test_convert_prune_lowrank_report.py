import numpy as np
import onnx
import pytest

import tinyinfer
from converters import lowrank, prune, report

from convert_fixtures import DIGITS, HELDOUT

ort = pytest.importorskip("onnxruntime")


def _both(path, x):
    a = ort.InferenceSession(str(path)).run(None, {"image": x})[0]
    b = tinyinfer.InferenceSession(str(path)).run(None, {"image": x})[0]
    np.testing.assert_allclose(a, b, atol=1e-4)
    return a


def _params(path):
    return sum(int(np.prod(t.dims)) for t in onnx.load(str(path)).graph.initializer)


def test_structured_prune_shrinks_and_runs(tmp_path, digits_data):
    out = tmp_path / "p.onnx"
    prune(DIGITS, out, sparsity=0.25, structured=True)
    _both(out, digits_data[0][:16])
    assert _params(out) < 0.8 * _params(DIGITS)


def test_unstructured_prune_zeroes(tmp_path, digits_data):
    out = tmp_path / "p.onnx"
    m = prune(DIGITS, out, sparsity=0.3)
    _both(out, digits_data[0][:16])
    w = [onnx.numpy_helper.to_array(t) for t in m.graph.initializer if len(t.dims) >= 2]
    assert sum((a == 0).sum() for a in w) >= 0.29 * sum(a.size for a in w)


def test_lowrank_factorises_and_keeps_accuracy(tmp_path, digits_data):
    out = tmp_path / "l.onnx"
    lowrank(DIGITS, out, energy=0.95)
    x, y = digits_data
    f = _both(DIGITS, x)
    a = _both(out, x)
    assert (a.argmax(1) == y).mean() >= (f.argmax(1) == y).mean() - 0.01
    assert _params(out) < _params(DIGITS)


def test_report_two_models(tmp_path):
    out = tmp_path / "l.onnx"
    lowrank(DIGITS, out, rank=16)
    text = report(DIGITS, str(out), data=HELDOUT, limit=64)
    assert "accuracy" in text and "MACs" in text and "e-" in text


def test_report_line_accuracy_of_a_ctc_recogniser(tmp_path):
    """`texts` labels: exact-match line accuracy with greedy CTC, checked against onnxruntime's
    probabilities decoded here (arg-max per frame, merge repeats, drop blanks)."""
    from convert_fixtures import REC, ppocr

    src = ppocr(REC)
    rng = np.random.default_rng(0)
    x = np.full((4, 3, 48, 160), 1.0, np.float32)             # white lines with dark bars
    for i in range(4):
        for k in range(int(rng.integers(2, 6))):
            x[i, :, 12:36, 10 + 25 * k:22 + 25 * k] = -1.0
    probs = ort.InferenceSession(src).run(None, {"x": x})[0]
    chars = ["blank"] + onnx.load(src).metadata_props[0].value.splitlines() + [" "]
    read = []
    for p in probs.argmax(-1):
        read.append("".join(chars[k] for j, k in enumerate(p) if k and (j == 0 or p[j - 1] != k)))
    texts = np.array(read[:2] + ["not this", "nor this"])      # two right, two wrong
    data = tmp_path / "lines.npz"
    np.savez(data, x=x, texts=texts)
    assert "accuracy 50.00 % on 4 samples" in report(src, data=str(data)).splitlines()[0]
    assert read[2] != "not this" and read[3] != "nor this"


def _redundant_model():
    """Conv 3x3 (8 channels) -> Relu -> GlobalAveragePool -> Flatten -> Gemm(transB) where channels
    4..7 are exactly 2 x channels 0..3 and read with small Gemm weights: the four least important
    channels, and removing them loses nothing a refit of the Gemm cannot restore exactly."""
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    w = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
    W = np.concatenate([w, 2 * w])
    g = rng.standard_normal((5, 8)).astype(np.float32)
    g[:, 4:] *= 0.1
    nodes = [helper.make_node("Conv", ["x", "W"], ["c"], pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["c"], ["r"]),
             helper.make_node("GlobalAveragePool", ["r"], ["p"]),
             helper.make_node("Flatten", ["p"], ["f"]),
             helper.make_node("Gemm", ["f", "G", "b"], ["y"], transB=1)]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, 8, 8])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 5])],
                              [numpy_helper.from_array(W, "W"), numpy_helper.from_array(g, "G"),
                               numpy_helper.from_array(rng.standard_normal(5).astype(np.float32), "b")])
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    return m


def test_structured_prune_refit_restores_redundant_channels(tmp_path):
    src, cal = tmp_path / "m.onnx", tmp_path / "cal.npz"
    onnx.save(_redundant_model(), src)
    x = np.random.default_rng(1).standard_normal((64, 3, 8, 8)).astype(np.float32)
    np.savez(cal, x=x[:32])
    ref = ort.InferenceSession(str(src)).run(None, {"x": x})[0]
    for refit, tol in ((False, None), (True, 1e-3)):
        out = tmp_path / f"p{refit}.onnx"
        prune(src, out, sparsity=0.5, structured=True, calibrate=str(cal) if refit else None)
        m = onnx.load(str(out))
        conv_w = next(t for t in m.graph.initializer if t.name == next(n for n in m.graph.node if n.op_type == "Conv").input[1])
        assert list(conv_w.dims) == [4, 3, 3, 3]                                 # 8 -> 4 conv channels
        assert _params(out) < _params(src)
        got = ort.InferenceSession(str(out)).run(None, {"x": x})[0]
        np.testing.assert_allclose(tinyinfer.InferenceSession(str(out)).run(None, {"x": x})[0], got, atol=1e-4)
        err = np.abs(got - ref).max() / np.abs(ref).max()
        if refit:   # on samples the refit never saw, too
            assert err < tol, err
        else:
            assert err > 0.05, err


def test_structured_prune_refit_on_digits(tmp_path, digits_data):
    """With calibration data (training images), 25 % structured pruning keeps most of the accuracy
    that plain magnitude pruning loses (models/COMPRESSION.md has the figures)."""
    import os

    cal = os.path.join(os.path.dirname(HELDOUT), "calib.npz")
    x, y = digits_data
    accs = []
    for c in (None, cal):
        out = tmp_path / "p.onnx"
        prune(DIGITS, out, sparsity=0.25, structured=True, calibrate=c)
        accs.append((_both(out, x).argmax(1) == y).mean())
    assert accs[1] >= 0.95 and accs[1] > accs[0] + 0.2, accs


def test_prune_calibrate_needs_structured(tmp_path):
    from converters._common import ConvertError

    with pytest.raises(ConvertError, match="needs --structured"):
        prune(DIGITS, None, sparsity=0.25, calibrate="x.npz")

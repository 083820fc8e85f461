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

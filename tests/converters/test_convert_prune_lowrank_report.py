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

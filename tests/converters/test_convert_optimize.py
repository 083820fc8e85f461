import numpy as np
import onnx
import pytest

from converters import optimize

from convert_fixtures import CLS, DET, DIGITS, REC, ppocr

ort = pytest.importorskip("onnxruntime")


@pytest.mark.parametrize("name,shape", [(CLS, (1, 3, 48, 192)), (REC, (1, 3, 48, 96)), (DET, (1, 3, 64, 64))])
def test_optimize_ppocr_fewer_nodes_same_outputs(tmp_path, name, shape):
    src = ppocr(name)
    out = tmp_path / "opt.onnx"
    m = optimize(src, out)
    onnx.checker.check_model(str(out))
    before = onnx.load(src)
    assert len(m.graph.node) < len(before.graph.node)
    assert all(n.domain in ("", "ai.onnx") for n in m.graph.node)
    x = np.random.default_rng(0).uniform(-1, 1, shape).astype(np.float32)
    a = ort.InferenceSession(src).run(None, {"x": x})[0]
    b = ort.InferenceSession(str(out)).run(None, {"x": x})[0]
    np.testing.assert_allclose(b, a, atol=1e-5, rtol=0)


def test_optimize_digits_same_outputs(tmp_path, digits_data):
    out = tmp_path / "opt.onnx"
    optimize(DIGITS, out)
    import tinyinfer
    x = digits_data[0][:8]
    a = ort.InferenceSession(DIGITS).run(None, {"image": x})[0]
    b = tinyinfer.InferenceSession(str(out)).run(None, {"image": x})[0]
    np.testing.assert_allclose(b, a, atol=1e-5, rtol=0)

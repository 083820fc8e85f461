"""PP-OCR models from the rapidocr_onnxruntime wheel: tinyinfer against onnxruntime."""
import os

import numpy as np
import pytest

ort = pytest.importorskip("onnxruntime")

import tinyinfer  # noqa: E402


def ort_session(path):
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    return ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])


@pytest.mark.parametrize("name, shape", [
    ("ch_ppocr_mobile_v2.0_cls_infer.onnx", (3, 3, 48, 192)),
    ("ch_PP-OCRv4_rec_infer.onnx", (1, 3, 48, 320)),
])
def test_matches_onnxruntime(ppocr_dir, name, shape):
    path = os.path.join(ppocr_dir, name)
    x = np.random.default_rng(1).uniform(-1, 1, shape).astype(np.float32)
    (ref,) = ort_session(path).run(None, {"x": x})
    (got,) = tinyinfer.InferenceSession(path).run(None, {"x": x})
    assert got.shape == ref.shape and got.dtype == ref.dtype
    err = float(np.max(np.abs(got - ref)))
    print(f"{name}: max abs error vs onnxruntime = {err:.3g}")
    assert err <= 1e-4


def test_rec_metadata_carries_the_character_list(ppocr_dir):
    sess = tinyinfer.InferenceSession(os.path.join(ppocr_dir, "ch_PP-OCRv4_rec_infer.onnx"))
    chars = sess.get_modelmeta().custom_metadata_map["character"].splitlines()
    assert len(chars) > 6000 and "0" in chars
    ref = ort_session(os.path.join(ppocr_dir, "ch_PP-OCRv4_rec_infer.onnx")).get_modelmeta()
    assert ref.custom_metadata_map["character"].splitlines() == chars


def test_session_api_matches_onnxruntime(ppocr_dir):
    path = os.path.join(ppocr_dir, "ch_PP-OCRv4_rec_infer.onnx")
    ours, ref = tinyinfer.InferenceSession(path), ort_session(path)
    for a, b in zip(ours.get_inputs() + ours.get_outputs(), ref.get_inputs() + ref.get_outputs()):
        assert (a.name, a.type) == (b.name, b.type)
        assert len(a.shape) == len(b.shape)
        for d1, d2 in zip(a.shape, b.shape):
            assert d1 == d2 or (isinstance(d2, str) and (isinstance(d1, str) or d1 is None))

import os

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DIGITS = os.path.join(ROOT, "tinyinfer", "data", "digits_mobilenet.onnx")
HELDOUT = os.path.join(ROOT, "models", "digits_mobilenet", "heldout.npz")


def ppocr(name):
    ro = pytest.importorskip("rapidocr_onnxruntime")
    path = os.path.join(os.path.dirname(ro.__file__), "models", name)
    if not os.path.exists(path):
        pytest.skip(f"{name} not in the rapidocr_onnxruntime wheel")
    return path


CLS = "ch_ppocr_mobile_v2.0_cls_infer.onnx"
REC = "ch_PP-OCRv4_rec_infer.onnx"
DET = "ch_PP-OCRv4_det_infer.onnx"


@pytest.fixture(scope="session")
def digits_data():
    d = np.load(HELDOUT)
    return d["x"], d["y"]


@pytest.fixture(scope="session")
def digits_cal(tmp_path_factory, digits_data):
    path = tmp_path_factory.mktemp("cal") / "cal.npz"
    np.savez(path, image=digits_data[0][:48])
    return str(path)

"""models/db_det: the project's own text detector finds the three digit lines of a committed
sample page (drawn as models/demo_data.py draws the demo page: 384×256, 26 px, held-out fonts),
through tinyinfer.ocr.det and through `tinyinfer ocr` with a recogniser."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DET = os.path.join(ROOT, "models", "db_det")
SAMPLE = os.path.join(DET, "sample_page.png")
CRNN_INT8 = os.path.join(ROOT, "models", "crnn_digits", "crnn_digits.int8.onnx")

# ink boxes (x0, y0, x1, y1) of the lines as Pillow drew them (build.py sample_page), and their text
INK = [(24, 36, 321, 55), (24, 110, 109, 128), (24, 176, 165, 195)]
TEXTS = ["5521 0098 7734 1206", "00731.6", "2026 0315"]


def iou(a, b):
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def _aabb(box):
    b = np.asarray(box, np.float64)
    return (b[:, 0].min(), b[:, 1].min(), b[:, 0].max(), b[:, 1].max())


def _line(ink, pad=0.35):
    """The box the detector is trained to return: ink grown by 0.35 × its height (card.line_box)."""
    p = pad * (ink[3] - ink[1])
    return (ink[0] - p, ink[1] - p, ink[2] + p, ink[3] + p)


def _check_boxes(boxes):
    """One box per line, in reading order, each overlapping the line's box by IoU >= 0.5 (the
    held-out criterion) and holding its ink (a pixel of slack)."""
    got = [_aabb(b) for b in boxes]
    assert len(got) == len(INK), f"found {len(got)} boxes: {got}"
    for g, ink in zip(got, INK):
        assert iou(g, _line(ink)) >= 0.5, f"box {g} against the line's box {_line(ink)}"
        assert g[0] <= ink[0] + 1 and g[1] <= ink[1] + 1 and g[2] >= ink[2] - 1 and g[3] >= ink[3] - 1, \
            f"box {g} cuts the line's ink {ink}"


@pytest.mark.parametrize("name", ["db_det.onnx", "db_det.int8.onnx"])
def test_det_finds_the_sample_lines(name):
    from tinyinfer import InferenceSession
    from tinyinfer.ocr import det as D
    from tinyinfer.ocr.pipeline import load_image

    img = load_image(SAMPLE)
    assert img.shape == (256, 384, 3)
    sess = InferenceSession(os.path.join(DET, name))
    x = D.det_input(img)
    assert x.shape == (1, 3, 736, 1088)
    (prob,) = sess.run(None, {"x": x})
    assert prob.shape == (1, 1, 736, 1088)
    boxes, scores = D.db_boxes(prob, img.shape[0], img.shape[1])
    assert min(scores) > 0.6, scores
    _check_boxes(D.sort_boxes(D.filter_boxes(boxes, img.shape[0], img.shape[1])))


def _ocr(rec):
    r = subprocess.run([sys.executable, "-m", "tinyinfer", "ocr", SAMPLE, "--det",
                        os.path.join(DET, "db_det.int8.onnx"), "--cls", "none", "--rec", rec, "--json"],
                       cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)["lines"]


@pytest.mark.skipif(not os.path.isfile(CRNN_INT8), reason="models/crnn_digits not built")
def test_ocr_command_reads_the_sample_page_with_the_projects_models():
    """The project's own OCR stack: db_det int8 + crnn_digits int8."""
    lines = _ocr(CRNN_INT8)
    assert [ln["text"] for ln in lines] == TEXTS
    _check_boxes([ln["box"] for ln in lines])


def _ppocr_rec():
    from tinyinfer.ocr.pipeline import default_models

    return default_models()["rec"]


@pytest.mark.skipif(_ppocr_rec() is None, reason="no PP-OCR rec model (pip install rapidocr_onnxruntime)")
def test_ocr_command_reads_the_sample_page_with_ppocr_rec():
    """db_det's crops read by PP-OCRv4 rec (which drops the wide gaps of the monospace font)."""
    lines = _ocr(_ppocr_rec())
    assert [ln["text"].replace(" ", "") for ln in lines] == [t.replace(" ", "") for t in TEXTS]
    _check_boxes([ln["box"] for ln in lines])

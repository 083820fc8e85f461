"""OCR building blocks against the libraries RapidOCR uses (OpenCV, pyclipper) and against
RapidOCR's own pre- and post-processing; CTC decoders on hand-made probabilities."""
import os
import random

import numpy as np
import pytest

from tinyinfer.ocr import ctc, det as D, geometry as G
from tinyinfer.ocr.resize import perspective_transform, resize_linear, warp_perspective_cubic

cv2 = pytest.importorskip("cv2")


def test_resize_linear_is_bit_exact_with_opencv():
    rng = np.random.default_rng(0)
    for _ in range(60):
        H, W = rng.integers(2, 120, 2)
        h, w = rng.integers(1, 160, 2)
        img = rng.integers(0, 256, (H, W, 3), dtype=np.uint8)
        assert np.array_equal(resize_linear(img, int(w), int(h)), cv2.resize(img, (int(w), int(h))))


def test_warp_perspective_cubic_matches_opencv():
    rng = np.random.default_rng(1)
    for _ in range(20):
        H, W = rng.integers(20, 120, 2)
        img = rng.integers(0, 256, (H, W, 3), dtype=np.uint8)
        src = (np.array([[5, 7], [W - 9, 4], [W - 3, H - 6], [3, H - 2]])
               + rng.normal(0, 2, (4, 2))).astype(np.float32)
        w, h = int(rng.integers(10, 100)), int(rng.integers(5, 40))
        dst = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
        M = perspective_transform(src, dst)
        assert np.allclose(M, cv2.getPerspectiveTransform(src, dst))
        ref = cv2.warpPerspective(img, M, (w, h), borderMode=cv2.BORDER_REPLICATE, flags=cv2.INTER_CUBIC)
        d = np.abs(ref.astype(int) - warp_perspective_cubic(img, M, w, h))
        assert d.max() <= 1 and (d > 0).mean() < 0.01


def test_fill_mask_matches_fillpoly():
    rng = np.random.default_rng(2)
    for _ in range(100):
        poly = cv2.convexHull(rng.integers(0, 40, (4, 2)).astype(np.int32)).reshape(-1, 2)
        ref = np.zeros((45, 45), np.uint8)
        cv2.fillPoly(ref, poly.reshape(1, -1, 2), 1)
        assert np.array_equal(G.fill_mask(poly, 45, 45), ref)


def _blobs(rng, h=120, w=200):
    m = np.zeros((h, w), np.uint8)
    for _ in range(6):
        c = (int(rng.integers(10, w - 10)), int(rng.integers(10, h - 10)))
        ax = (int(rng.integers(3, 40)), int(rng.integers(2, 10)))
        cv2.ellipse(m, c, ax, float(rng.uniform(-10, 10)), 0, 360, 1, -1)
    return m.astype(bool)


def test_regions_and_min_area_rect_match_opencv():
    rng = np.random.default_rng(3)
    for _ in range(15):
        m = G.dilate2x2(_blobs(rng))
        cs, _ = cv2.findContours(m.astype(np.uint8) * 255, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        ours = [G.min_area_rect(r) for r in G.regions(m)]
        assert len(ours) == len(cs)
        for c in cs:
            r = cv2.minAreaRect(c)
            ref = G._order(np.array(sorted(list(cv2.boxPoints(r)), key=lambda x: x[0])))
            best = min(ours, key=lambda b: np.abs(b[0] - ref).max())
            assert np.abs(best[0] - ref).max() < 1e-3 and abs(best[1] - min(r[1])) < 1e-3


def test_dilate_matches_opencv():
    m = _blobs(np.random.default_rng(4))
    ref = cv2.dilate(m.astype(np.uint8), np.array([[1, 1], [1, 1]], np.uint8)).astype(bool)
    assert np.array_equal(G.dilate2x2(m), ref)


def test_unclip_matches_pyclipper():
    pyclipper = pytest.importorskip("pyclipper")
    rng = np.random.default_rng(5)
    for _ in range(50):
        pts = rng.uniform(0, 200, (12, 2))
        box, _ = G.min_area_rect(pts)
        area, per = G.polygon_area_perimeter(box)
        if per == 0 or area == 0:
            continue
        dist = area * 1.6 / per
        o = pyclipper.PyclipperOffset()
        o.AddPath(box, pyclipper.JT_ROUND, pyclipper.ET_CLOSEDPOLYGON)
        ref = np.array(o.Execute(dist)).reshape(-1, 2)
        assert np.abs(G.min_area_rect(ref)[0] - G.min_area_rect(G.unclip(box, dist))[0]).max() < 1e-4


def test_det_input_and_db_boxes_match_rapidocr():
    pytest.importorskip("rapidocr_onnxruntime")
    from rapidocr_onnxruntime.ch_ppocr_det.utils import DBPostProcess, DetPreProcess
    rng = np.random.default_rng(6)
    img = rng.integers(0, 256, (90, 130, 3), dtype=np.uint8)
    ref = DetPreProcess(736, "min", [0.5] * 3, [0.5] * 3)(img)
    assert np.array_equal(D.det_input(img), ref)
    # a synthetic probability map: soft blobs
    prob = np.zeros((1, 1, 160, 256), np.float32)
    for k in range(8):
        m = _blobs(np.random.default_rng(10 + k), 160, 256)
        prob[0, 0] = np.maximum(prob[0, 0], m * rng.uniform(0.35, 0.95))
    post = DBPostProcess(0.3, 0.5, 1000, 1.6, "fast", True)
    rb, rs = post(prob, (300, 480))
    mb, ms = D.db_boxes(prob, 300, 480)
    key = lambda b: (b[0][1], b[0][0], b[2][1], b[2][0])  # noqa: E731
    assert sorted(map(key, rb.tolist())) == sorted(map(key, mb.tolist()))
    # boxes poking out of the map are rasterised slightly differently (OpenCV clips the edge
    # lines first), so their mean score may differ in the third decimal
    assert np.allclose(sorted(rs), sorted(ms), atol=0.005)


def test_sort_boxes_matches_rapidocr():
    pytest.importorskip("rapidocr_onnxruntime")
    from rapidocr_onnxruntime import RapidOCR
    rng = np.random.default_rng(7)
    boxes = rng.integers(0, 400, (20, 4, 2)).astype(np.float32)
    ref = RapidOCR.sorted_boxes(boxes.copy())
    assert all(np.array_equal(a, b) for a, b in zip(ref, D.sort_boxes(list(boxes.copy()))))


# ---------------------------------------------------------------- CTC

CHARS = ["blank"] + list("0123456789") + [" "]


def _probs(path, conf=0.9, C=len(CHARS)):
    """One frame per class id in path; the rest of the mass spread evenly."""
    p = np.full((len(path), C), (1 - conf) / (C - 1), np.float32)
    p[np.arange(len(path)), path] = conf
    return p


def test_greedy_merges_repeats_and_drops_blanks():
    p = _probs([0, 2, 2, 0, 2, 3, 3, 0])
    d = ctc.greedy(p, CHARS)
    assert d.text == "112" and [f for _, _, f in d.chars] == [1, 4, 5]
    assert d.score == pytest.approx(0.9)
    ids, ps, fr = ctc.greedy_numpy(p)
    ids2, ps2, fr2 = ctc.greedy_ids(p)
    assert np.array_equal(ids, ids2) and np.array_equal(fr, fr2) and np.allclose(ps, ps2)


def test_greedy_agrees_with_rapidocr_decoder():
    pytest.importorskip("rapidocr_onnxruntime")
    from rapidocr_onnxruntime.ch_ppocr_rec.utils import CTCLabelDecode
    dec = CTCLabelDecode(character=list("0123456789"))
    rng = np.random.default_rng(8)
    logits = rng.random((4, 40, 12)).astype(np.float32) ** 6
    probs = logits / logits.sum(-1, keepdims=True)
    for p, (text, score) in zip(probs, dec(probs)):
        d = ctc.greedy(p, CHARS)
        assert d.text == text and d.score == pytest.approx(score, rel=1e-6)


def test_prefix_beam_beats_greedy_when_mass_is_split():
    # '1' is spread over two frames below the blank's per-frame maximum, but its total is higher
    p = np.zeros((2, len(CHARS)), np.float32)
    p[:, 0] = 0.4
    p[:, 2] = 0.35
    p[:, 3] = 0.25
    assert ctc.greedy(p, CHARS).text == ""
    assert ctc.prefix_beam(p, CHARS).text == "1"
    assert ctc.beam_search(p, CHARS).text == ""        # best single path is blank, blank


def test_constraints_lexicon_allowed_regex():
    # frames read '1 2 3 4' with '7' a close second for the third digit
    p = _probs([2, 0, 3, 0, 4, 0, 5], conf=0.7)
    p[4, 8] = 0.25
    p[4] /= p[4].sum()
    assert ctc.prefix_beam(p, CHARS).text == "1234"
    assert ctc.prefix_beam(p, CHARS, lexicon=["1274", "9999"]).text == "1274"
    assert ctc.prefix_beam(p, CHARS, allowed="1247").text == "1274"
    assert ctc.prefix_beam(p, CHARS, regex=r"12[7-9]4").text == "1274"
    assert ctc.prefix_beam(p, CHARS, lexicon=["5555"]).text == "5555"   # forced, however unlikely
    assert ctc.prefix_beam(p, CHARS, lexicon=["99999999"]).text == ""   # cannot fit in 7 frames


def test_character_list_from_metadata_and_file(tmp_path):
    assert ctc.load_characters({"character": "a\nb"}) == ["blank", "a", "b", " "]
    f = tmp_path / "keys.txt"
    f.write_bytes("x\r\ny\n".encode())
    assert ctc.load_characters(path=str(f)) == ["blank", "x", "y", " "]
    with pytest.raises(ValueError):
        ctc.load_characters({})

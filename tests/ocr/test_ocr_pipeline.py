"""The OCR pipeline end to end against RapidOCR (onnxruntime), the Python API's image types, the
`tinyinfer ocr` command and its one-line errors for bad images."""
import json
import os
import random
import struct
import sys
import zlib

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import synth  # noqa: E402

PIL = pytest.importorskip("PIL")
rapidocr = pytest.importorskip("rapidocr_onnxruntime")

from tinyinfer.ocr import OCR, default_models  # noqa: E402

pytestmark = pytest.mark.skipif(default_models()["rec"] is None, reason="no PP-OCR models")


@pytest.fixture(scope="module")
def ocr():
    return OCR()


@pytest.fixture(scope="module")
def page():
    return synth.page(random.Random(11), n_lines=3)


def test_page_matches_rapidocr_and_ground_truth(ocr, page, tmp_path):
    im, truth = page
    path = str(tmp_path / "page.png")
    im.save(path)
    ref, _ = rapidocr.RapidOCR()(path)
    res = ocr(path)
    assert [ln["text"] for ln in res["lines"]] == [r[1] for r in ref]
    for ln, r in zip(res["lines"], ref):
        assert synth.iou(ln["box"], r[0]) >= 0.9
        assert abs(ln["score"] - r[2]) < 1e-3
        assert len(ln["chars"]) == len(ln["text"])
    got = "".join(ln["text"] for ln in res["lines"]).replace(" ", "")
    assert synth.cer("".join(truth).replace(" ", ""), got) < 0.05
    assert set(res["timings"]) >= {"det", "rec", "total"}


def test_image_types_agree(ocr):
    im, text = synth.line(random.Random(5), "meter")
    a = OCR(det="none", cls="none")
    r1 = a(im)
    r2 = a(np.asarray(im)[..., ::-1])           # arrays are BGR, like OpenCV's
    assert r1["lines"] == r2["lines"]
    assert r1["lines"][0]["text"] == text


def test_det_none_reads_card_number_and_lexicon_fixes_it():
    rng = random.Random(2)
    im, text = synth.line(rng, "card")
    a = OCR(det="none", cls="none", decoder="beam",
            decoder_options={"lexicon": [text, synth.card_number(rng)]})
    assert a(im)["lines"][0]["text"] == text


def _cli(*args):
    from tinyinfer.cli import main
    return main(list(args))


def test_cli_json_and_draw(page, tmp_path, capsys):
    im, _ = page
    path = str(tmp_path / "p.png")
    im.crop((0, 0, im.width, 60)).save(path)
    out = str(tmp_path / "drawn.png")
    assert _cli("ocr", path, "--det", "none", "--json", "--draw", out) == 0
    doc = json.loads(capsys.readouterr().out)
    assert set(doc) == {"lines", "timings"}
    ln = doc["lines"][0]
    assert set(ln) == {"text", "score", "box", "chars"} and len(ln["box"]) == 4
    assert os.path.getsize(out) > 0


def _png(w, h, body=b""):
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + body)


@pytest.mark.parametrize("kind", ["truncated", "not_image", "huge_png", "huge_bmp"])
def test_bad_images_give_one_line_error(kind, tmp_path, capsys):
    p = tmp_path / f"{kind}.img"
    if kind == "truncated":
        full = tmp_path / "ok.png"
        PIL.Image.new("RGB", (50, 40), "white").save(full)
        p.write_bytes(full.read_bytes()[:60])
    elif kind == "not_image":
        p.write_text("hello, I am not an image\n")
    elif kind == "huge_png":
        p.write_bytes(_png(100_000, 100_000))
    else:   # BMP header declaring 9000 x 9000 (81 M pixels: between our limit and Pillow's)
        hdr = struct.pack("<2sIHHI", b"BM", 54, 0, 0, 54)
        hdr += struct.pack("<IiiHHIIiiII", 40, 9000, 9000, 1, 24, 0, 0, 2835, 2835, 0, 0)
        p.write_bytes(hdr + b"\0" * 64)
    assert _cli("ocr", str(p), "--det", "none", "--cls", "none") != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("tinyinfer: error:"), err


def test_compare_rapidocr_names_no_difference(page, tmp_path, capsys):
    im, _ = page
    path = str(tmp_path / "page.png")
    im.save(path)
    assert _cli("ocr", path, "--compare", "rapidocr") == 0
    out = capsys.readouterr().out
    for stage in ("input tensor", "probability map", "boxes", "crops", "logits", "text"):
        assert stage in out
    assert "all stages agree" in out

"""models/crnn_digits: `tinyinfer ocr --det none --cls none --rec` reads a card-number line rendered
in a held-out font (models/crnn_digits/sample_line.png, written by build.py) with the int8 and the
fp32 CRNN; the character list comes from the model's `character` metadata."""
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
D = os.path.join(ROOT, "models", "crnn_digits")
pytestmark = pytest.mark.skipif(not os.path.isfile(os.path.join(D, "crnn_digits.int8.onnx")),
                                reason="models/crnn_digits not built")
SAMPLE = "4539 1488 0343 6467"


def test_character_metadata_is_pp_ocr_style():
    import tinyinfer
    from tinyinfer.ocr import ctc

    for f in ("crnn_digits.onnx", "crnn_digits.int8.onnx"):
        meta = tinyinfer.InferenceSession(os.path.join(D, f)).get_modelmeta().custom_metadata_map
        assert meta["character"].splitlines() == list("0123456789.")
        assert ctc.load_characters(meta) == ["blank"] + list("0123456789.") + [" "]


@pytest.mark.parametrize("model", ["crnn_digits.int8.onnx", "crnn_digits.onnx"])
def test_ocr_command_reads_a_card_number(model):
    r = subprocess.run([sys.executable, "-m", "tinyinfer", "ocr", os.path.join(D, "sample_line.png"),
                        "--det", "none", "--cls", "none", "--rec", os.path.join(D, model)],
                       cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[0].split(None, 1)[1] == SAMPLE

"""models/attn_rec: `tinyinfer ocr --det none --cls none --rec` reads a serial number rendered in a
held-out font (models/attn_rec/sample_line.png, written by build.py) with the int8 and the fp32
model; the character list comes from the `character` metadata; each head's attention
probabilities can be captured by name (`attn/block{b}/head{h}`, shape (N, T, T), rows summing to 1)
in both files, and the int8 file runs alike in onnxruntime."""
import os
import subprocess
import sys

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
D = os.path.join(ROOT, "models", "attn_rec")
pytestmark = pytest.mark.skipif(not os.path.isfile(os.path.join(D, "attn_rec.int8.onnx")),
                                reason="models/attn_rec not built")
SAMPLE = "SN 4F7K-2291-X09"
CHARS = list("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-./")
ATTN = [f"attn/block{b}/head{h}" for b in range(3) for h in range(4)]
FILES = ["attn_rec.int8.onnx", "attn_rec.onnx"]


def test_character_metadata_is_pp_ocr_style():
    import tinyinfer
    from tinyinfer.ocr import ctc

    for f in FILES:
        meta = tinyinfer.InferenceSession(os.path.join(D, f)).get_modelmeta().custom_metadata_map
        assert meta["character"].splitlines() == CHARS
        assert ctc.load_characters(meta) == ["blank"] + CHARS + [" "]
        assert meta["attention"].splitlines() == ATTN


@pytest.mark.parametrize("model", FILES)
def test_ocr_command_reads_a_serial_number(model):
    r = subprocess.run([sys.executable, "-m", "tinyinfer", "ocr", os.path.join(D, "sample_line.png"),
                        "--det", "none", "--cls", "none", "--rec", os.path.join(D, model)],
                       cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[0].split(None, 1)[1] == SAMPLE


@pytest.mark.parametrize("model", FILES)
@pytest.mark.parametrize("width", [320, 357])
def test_attention_maps_are_captured_by_name(model, width):
    import tinyinfer

    sess = tinyinfer.InferenceSession(os.path.join(D, model))
    x = np.random.default_rng(0).uniform(-1, 1, (2, 3, 48, width)).astype(np.float32)
    (probs,), caps = sess.run(None, {"x": x}, capture=ATTN)
    t = -(-width // 4)
    assert probs.shape == (2, t, len(CHARS) + 2)
    assert sorted(caps) == sorted(ATTN)
    for name in ATTN:
        a = caps[name]
        assert a.shape == (2, t, t), name
        assert (a >= 0).all()
        np.testing.assert_allclose(a.sum(-1), 1.0, atol=1e-4, err_msg=name)
    # the heads differ from each other (not one map copied twelve times)
    assert not np.allclose(caps[ATTN[0]], caps[ATTN[1]], atol=1e-3)


def test_int8_runs_alike_in_onnxruntime():
    ort = pytest.importorskip("onnxruntime")
    import tinyinfer

    path = os.path.join(D, "attn_rec.int8.onnx")
    g = np.load(os.path.join(D, "golden.npz"))
    x = g["x"][:4]
    (ti,) = tinyinfer.InferenceSession(path).run(None, {"x": x})
    (ref,) = ort.InferenceSession(path, providers=["CPUExecutionProvider"]).run(None, {"x": x})
    assert ti.shape == ref.shape
    np.testing.assert_allclose(ti, ref, atol=2e-2)
    assert (ti.argmax(-1) == ref.argmax(-1)).mean() > 0.99

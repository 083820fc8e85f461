"""verify names the node that causes a mismatch — on a toy graph and on PP-OCR cls and rec, with
one node's output deliberately scaled by 1.01 in the model onnxruntime runs."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("onnxruntime")

from tinyinfer.verify.core import verify  # noqa: E402

from .helpers import altered_copy, ort_bundle, toy_model  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CLS = "ch_ppocr_mobile_v2.0_cls_infer.onnx"
REC = "ch_PP-OCRv4_rec_infer.onnx"


def cli(*args):
    env = dict(os.environ, PYTHONPATH=ROOT)
    return subprocess.run([sys.executable, "-m", "tinyinfer", *args], capture_output=True,
                          text=True, env=env, timeout=600)


@pytest.mark.parametrize("node", ["dw", "pw"])
def test_toy_altered_node_is_named(tmp_path, node):
    model = toy_model(tmp_path / "toy.onnx")
    x = {"x": np.random.default_rng(2).standard_normal((1, 4, 8, 8)).astype(np.float32)}
    bundle = ort_bundle(altered_copy(model, tmp_path / "alt.onnx", node), x, tmp_path / "b.npz")
    r = verify(model, bundle)
    assert r["first_divergence"]["node"] == node and r["first_divergence"]["kind"] == "local"
    # downstream nodes only inherit the error: their local error is within tolerance
    after = [row for row in r["nodes"] if row["index"] > r["first_divergence"]["index"]]
    assert all(m["ok"] for row in after for m in row["local"].values())
    assert not all(m["ok"] for row in after for m in row["accumulated"].values())


def test_toy_agrees_with_onnxruntime_and_reference(tmp_path):
    model = toy_model(tmp_path / "toy.onnx")
    for against in ("onnxruntime", "reference"):
        r = verify(model, against)
        assert r["first_divergence"] is None and r["compared"] == 4


@pytest.mark.parametrize("name, nodes, shape", [
    (CLS, ["Conv@5", "Add@20", "HardSigmoid@3"], (1, 3, 48, 192)),
    (REC, ["p2o.Conv.20", "p2o.MatMul.6", "p2o.Softmax.1"], (1, 3, 48, 320)),
])
def test_ppocr_altered_node_is_named(tmp_path, ppocr_dir, name, nodes, shape):
    model = os.path.join(ppocr_dir, name)
    x = {"x": np.random.default_rng(3).uniform(-1, 1, shape).astype(np.float32)}
    for node in nodes:
        alt = altered_copy(model, tmp_path / f"{node}.onnx", node)
        bundle = ort_bundle(alt, x, tmp_path / f"{node}.npz")
        r = verify(model, bundle)
        first = r["first_divergence"]
        assert first is not None and first["node"] == node, (node, first)
        assert first["kind"] == "local" and r["inputs"] == "from the bundle"


def test_ppocr_cls_against_reference_names_the_first_batchnorm(ppocr_dir):
    r = cli("verify", os.path.join(ppocr_dir, CLS), "--against", "reference")
    assert r.returncode == 1, r.stderr
    assert "FIRST DIVERGENCE: node 'BatchNormalization@0' (BatchNormalization)" in r.stdout
    assert "BatchNormalization-9 specification" in r.stdout
    assert "momentum" in r.stdout and "ORT_DISABLE_ALL" in r.stdout
    r = cli("verify", os.path.join(ppocr_dir, CLS), "--against", "reference", "--json")
    d = json.loads(r.stdout)
    assert d["first_divergence"]["node"] == "BatchNormalization@0"
    assert d["first_divergence"]["op"] == "BatchNormalization"
    assert d["first_divergence"]["outputs"] == ["batch_norm_0.tmp_2"]
    assert d["first_divergence"]["max_abs"] > 0.1 and len(d["nodes"]) == 566


@pytest.mark.parametrize("name", [CLS, REC])
def test_ppocr_agrees_with_onnxruntime(ppocr_dir, name):
    r = cli("verify", os.path.join(ppocr_dir, name), "--against", "onnxruntime", "--json")
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr
    d = json.loads(r.stdout)
    assert d["first_divergence"] is None
    assert all(m["ok"] for m in d["outputs"].values())


def test_dump_then_verify_against_the_bundle_and_test_data(tmp_path, ppocr_dir):
    model = os.path.join(ppocr_dir, CLS)
    r = cli("dump", model, "--shape", "x=1x3x48x192", "--out", str(tmp_path / "b.npz"))
    assert r.returncode == 0, r.stderr
    r = cli("verify", model, "--against", str(tmp_path / "b.npz"))
    assert r.returncode == 0 and "inputs     from the bundle" in r.stdout, r.stdout + r.stderr
    assert "max_abs" in r.stdout and "cos" in r.stdout
    r = cli("dump", model, "--runtime", "onnxruntime", "--inputs", str(tmp_path / "b.npz"),
            "--out", str(tmp_path / "ort.npz"))
    assert r.returncode == 0, r.stderr
    r = cli("verify", model, "--against", str(tmp_path / "ort.npz"), "--json")
    assert r.returncode == 0 and json.loads(r.stdout)["first_divergence"] is None, r.stderr
    r = cli("dump", model, "--shape", "x=1x3x48x192", "--out", str(tmp_path / "data"))
    assert r.returncode == 0 and (tmp_path / "data" / "test_data_set_0" / "input_0.pb").exists()
    r = cli("verify", model, "--against", "onnxruntime", "--inputs", str(tmp_path / "data"))
    assert r.returncode == 0 and "inputs     given: x [1, 3, 48, 192]" in r.stdout, r.stdout


def test_explain_depthwise_conv_and_trace(tmp_path):
    model = toy_model(tmp_path / "toy.onnx")
    r = cli("explain", model, "--node", "dw", "--element", "0,2,0,5")
    assert r.returncode == 0, r.stderr
    assert "depthwise convolution: group = C = 4" in r.stdout
    assert "H_out = floor((H + pad_begin + pad_end - dilation*(k-1) - 1) / stride) + 1" \
        " = floor((8 + 1 + 1 - 1*(3-1) - 1) / 1) + 1 = 8" in r.stdout
    assert "window along axis 2: rows [-1, 0, 1]" in r.stdout
    assert "6 taps inside X, 3 in the padding" in r.stdout
    r = cli("explain", model, "--node", "nope")
    assert r.returncode == 2 and "neither a node name" in r.stderr

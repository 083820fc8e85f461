"""The `tinyinfer` command as a user runs it (subprocesses), and its one-line errors."""
import os
import subprocess
import sys

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DIGITS = os.path.join(ROOT, "tinyinfer", "data", "digits_mobilenet.onnx")


def tinyinfer(*args, cwd=None):
    env = dict(os.environ, PYTHONPATH=ROOT)
    return subprocess.run([sys.executable, "-m", "tinyinfer", *args], capture_output=True, text=True,
                          env=env, cwd=cwd, timeout=600)


def test_demo_reads_the_bundled_digits():
    r = tinyinfer("demo")
    assert r.returncode == 0, r.stderr
    for d in (0, 3, 5, 7, 9):
        assert f"digit_{d}.png  -> digit {d}" in r.stdout, r.stdout


def test_info_lists_io_ops_and_parameters():
    r = tinyinfer("info", DIGITS)
    assert r.returncode == 0, r.stderr
    assert "image  tensor(float)  [N, 1, 8, 8]" in r.stdout
    assert "Conv" in r.stdout and "parameters 11,146" in r.stdout
    assert "labels" in r.stdout


def test_info_on_ppocr(ppocr_dir):
    r = tinyinfer("info", os.path.join(ppocr_dir, "ch_ppocr_mobile_v2.0_cls_infer.onnx"))
    assert r.returncode == 0, r.stderr
    assert "BatchNormalization    35" in r.stdout and "ai.onnx 11" in r.stdout


def test_run_random_and_from_file(tmp_path):
    r = tinyinfer("run", DIGITS, "--shape", "image=2x1x8x8", "--seed", "3", "--out", str(tmp_path / "o.npz"))
    assert r.returncode == 0, r.stderr
    assert "output logits: float32 [2, 10]" in r.stdout
    x = np.random.default_rng(3).standard_normal((2, 1, 8, 8)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    r2 = tinyinfer("run", DIGITS, "--input", f"image={tmp_path / 'x.npy'}", "--out", str(tmp_path / "p.npz"))
    assert r2.returncode == 0, r2.stderr
    a, b = np.load(tmp_path / "o.npz")["logits"], np.load(tmp_path / "p.npz")["logits"]
    np.testing.assert_array_equal(a, b)  # same seed -> same random input -> same output


@pytest.mark.parametrize("args, words", [
    (["info", "missing.onnx"], "does not exist"),
    (["info", os.path.join(ROOT, "pyproject.toml")], "not a valid ONNX file"),
    (["run", DIGITS, "--shape", "image=1xAx8x8"], "not of the form"),
    (["run", DIGITS, "--shape", "nope=1x1x8x8"], "'nope' is not an input"),
    (["run", DIGITS, "--shape", "image=1x1x9x8"], "dimension 2 must be 8"),
])
def test_errors_are_one_line(args, words):
    r = tinyinfer(*args)
    assert r.returncode == 2
    assert r.stderr.startswith("tinyinfer: error:") and words in r.stderr, r.stderr
    assert "Traceback" not in r.stderr and r.stderr.count("\n") == 1

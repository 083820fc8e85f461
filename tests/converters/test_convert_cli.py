import subprocess
import sys

import pytest

from converters.cli import main

from convert_fixtures import DIGITS, ROOT


def _run(args, capsys):
    rc = main(args)
    cap = capsys.readouterr()
    return rc, cap.out, cap.err


@pytest.mark.parametrize("make", ["text", "folder", "missing"])
def test_not_an_onnx_file(tmp_path, capsys, make):
    bad = tmp_path / "bad.onnx"
    if make == "text":
        bad.write_text("hello, not a model")
    elif make == "folder":
        bad.mkdir()
    rc, out, err = _run(["optimize", str(bad), "-o", str(tmp_path / "o.onnx")], capsys)
    assert rc == 2 and err.startswith("tinyinfer-convert: error:") and err.count("\n") == 1
    assert "Traceback" not in err


def test_empty_image_folder(tmp_path, capsys):
    (tmp_path / "imgs").mkdir()
    rc, _, err = _run(["quantize", DIGITS, "-o", str(tmp_path / "q.onnx"), "--calibrate",
                       str(tmp_path / "imgs")], capsys)
    assert rc == 2 and "no images" in err and err.count("\n") == 1


def test_wrong_shape_npz(tmp_path, capsys):
    import numpy as np
    np.savez(tmp_path / "c.npz", x=np.zeros((3, 1, 9, 9), np.float32))
    rc, _, err = _run(["quantize", DIGITS, "-o", str(tmp_path / "q.onnx"), "--calibrate",
                       str(tmp_path / "c.npz")], capsys)
    assert rc == 2 and "shape" in err and err.count("\n") == 1


def test_image_folder_calibration(tmp_path, capsys):
    import shutil
    import os
    imgs = tmp_path / "imgs"
    imgs.mkdir()
    for f in os.listdir(os.path.join(ROOT, "tinyinfer", "data")):
        if f.endswith(".png"):
            shutil.copy(os.path.join(ROOT, "tinyinfer", "data", f), imgs / f)
    rc, out, err = _run(["quantize", DIGITS, "-o", str(tmp_path / "q.onnx"), "--calibrate", str(imgs),
                         "--preprocess", "scale=0.0627"], capsys)
    assert rc == 0, err
    assert "%" in out


def test_module_entry_point(tmp_path):
    r = subprocess.run([sys.executable, "-m", "converters", "optimize", DIGITS, "-o", str(tmp_path / "o.onnx")],
                       capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    assert "nodes" in r.stdout

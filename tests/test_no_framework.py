"""The runtime needs NumPy alone: in a virtualenv holding only NumPy, tinyinfer loads and runs
both PP-OCR models, and afterwards none of onnx, google.protobuf, onnxruntime, torch is loaded.
"""
import os
import shutil
import subprocess
import sys
import textwrap
import venv

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FORBIDDEN = ["onnx", "google.protobuf", "onnxruntime", "torch"]


@pytest.fixture(scope="module")
def numpy_only_python(tmp_path_factory):
    """A fresh virtualenv into which only the NumPy package (and its bundled libs) is placed."""
    env_dir = tmp_path_factory.mktemp("venv-numpy-only")
    venv.EnvBuilder(with_pip=False, symlinks=True).create(env_dir)
    py = env_dir / "bin" / "python"
    site = subprocess.check_output([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                   text=True).strip()
    src = os.path.dirname(os.path.dirname(np.__file__))
    for name in os.listdir(src):
        if name == "numpy" or name.startswith("numpy.libs") or name.startswith("numpy-"):
            os.symlink(os.path.join(src, name), os.path.join(site, name))
    return str(py)


def test_venv_really_has_only_numpy(numpy_only_python):
    for mod in ["onnx", "onnxruntime", "google.protobuf", "torch", "numba"]:
        r = subprocess.run([numpy_only_python, "-c", f"import {mod}"], capture_output=True)
        assert r.returncode != 0, f"{mod} is importable in the NumPy-only venv"


def test_ppocr_models_run_without_any_framework(numpy_only_python, ppocr_dir):
    code = textwrap.dedent(f"""
        import sys, numpy as np
        sys.path.insert(0, {ROOT!r})
        import tinyinfer
        rng = np.random.default_rng(0)
        cls = tinyinfer.InferenceSession({os.path.join(ppocr_dir, 'ch_ppocr_mobile_v2.0_cls_infer.onnx')!r})
        (p,) = cls.run(None, {{"x": rng.standard_normal((3, 3, 48, 192)).astype(np.float32)}})
        assert p.shape == (3, 2) and np.allclose(p.sum(1), 1, atol=1e-5), p
        rec = tinyinfer.InferenceSession({os.path.join(ppocr_dir, 'ch_PP-OCRv4_rec_infer.onnx')!r})
        (y,) = rec.run(None, {{"x": rng.standard_normal((1, 3, 48, 320)).astype(np.float32)}})
        assert y.shape[0] == 1 and y.shape[1] == 40, y.shape
        loaded = [m for m in {FORBIDDEN!r} if m in sys.modules]
        print("FORBIDDEN_LOADED", loaded)
        print("NUMBA_LOADED", "numba" in sys.modules)
    """)
    r = subprocess.run([numpy_only_python, "-c", code], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "FORBIDDEN_LOADED []" in r.stdout, r.stdout

"""Without Numba, with TINYINFER_IMPL=reference, and with NUMBA_BOUNDSCHECK=1 (subprocesses)."""
import os
import subprocess
import sys
import textwrap

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# a small depthwise + dense + 1x1 conv stack, run by the engine, compared with the reference
SCRIPT = textwrap.dedent(f"""
    import sys, numpy as np
    sys.path.insert(0, {ROOT!r})
    from tinyinfer import kernels
    from tinyinfer.kernels import conv2d
    from tinyinfer.ops import _window as W
    from tinyinfer.ops.conv import conv_nd
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1, 4, 9, 10)).astype(np.float32)
    for w, g in ((rng.standard_normal((4, 1, 3, 3)), 4), (rng.standard_normal((5, 4, 3, 3)), 1),
                 (rng.standard_normal((5, 4, 1, 1)), 1)):
        w = w.astype(np.float32)
        p = w.shape[2] // 2
        win = W.resolve(None, "NOTSET", x.shape[2:], list(w.shape[2:]), [1, 1], [1, 1], [p] * 4)
        ref = conv_nd(W.pad_spatial(x, win.begin, win.end), w, win, g)
        v = conv2d.choose(x.shape, w.shape, g, win)
        y = ref if v is None else conv2d.run(v, x, conv2d.pack(v, w, g), None, win)
        assert np.abs(y - ref).max() <= 1e-5
        print("VARIANT", v)
    print("AVAILABLE", kernels.available(), "NUMBA_LOADED", "numba" in sys.modules)
""")


def run(code, **env):
    e = dict(os.environ, **env)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=e,
                       timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    return r.stdout


def test_reference_mode_uses_no_kernel():
    out = run(SCRIPT, TINYINFER_IMPL="reference")
    assert "AVAILABLE False NUMBA_LOADED False" in out
    assert out.count("VARIANT None") == 3


def test_missing_numba_falls_back():
    code = "import sys; sys.modules['numba'] = None\n" + SCRIPT
    out = run(code)
    assert "AVAILABLE False" in out
    assert "VARIANT conv2d_f32_1x1" in out and out.count("VARIANT None") == 2


def test_unwritable_cache_dir_compiles_without_cache(tmp_path):
    pytest.importorskip("numba")
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    out = run(SCRIPT, NUMBA_CACHE_DIR=str(blocked / "sub"), TINYINFER_IMPL="")
    assert "AVAILABLE True" in out


@pytest.mark.skipif(os.environ.get("NUMBA_DISABLE_JIT") == "1",
                    reason="NUMBA_DISABLE_JIT=1 compiles nothing, so nothing is cached")
def test_corrupt_cache_files_are_survived(tmp_path):
    pytest.importorskip("numba")
    env = dict(NUMBA_CACHE_DIR=str(tmp_path), TINYINFER_IMPL="")
    run(SCRIPT, **env)
    files = [os.path.join(d, f) for d, _, fs in os.walk(tmp_path) for f in fs]
    assert files, "nothing was cached"
    for f in files:
        with open(f, "wb") as fh:
            fh.write(b"\\x00garbage")
    assert "AVAILABLE True" in run(SCRIPT, **env)


@pytest.mark.skipif(os.environ.get("NUMBA_BOUNDSCHECK") == "1", reason="already bounds-checked")
def test_kernel_suite_with_boundscheck(tmp_path):
    pytest.importorskip("numba")
    e = dict(os.environ, NUMBA_BOUNDSCHECK="1", NUMBA_CACHE_DIR=str(tmp_path), TINYINFER_IMPL="")
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                        os.path.dirname(os.path.abspath(__file__)), "-k", "not fallbacks"],
                       capture_output=True, text=True, env=e, cwd=ROOT, timeout=900)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
    assert " passed" in r.stdout

"""`tinyinfer doctor`: runs anywhere, prints every field, exits 0; warnings carry a fix."""
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIELDS = ["tinyinfer", "platform", "python", "numpy", "numba", "pillow", "kernels", "cache dir",
          "blas", "blas threads", "cpus", "cpu", "cpu features", "memory"]


def doctor(*args, env=None):
    e = dict(os.environ, **(env or {}))
    return subprocess.run([sys.executable, "-m", "tinyinfer", "doctor", *args], cwd=ROOT, env=e,
                          capture_output=True, text=True, timeout=120)


def test_doctor_prints_every_field_and_exits_0():
    r = doctor()
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    keys = [ln[:13].strip() for ln in lines if not ln.startswith(("warning:", "no warnings"))]
    assert keys == FIELDS
    assert "np.intp = int" in r.stdout
    assert lines[-1] == "no warnings" or lines[-1].startswith("warning:")


def test_doctor_json_and_reference_switch():
    r = doctor("--json", env={"TINYINFER_IMPL": "reference"})
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert d["kernels"].startswith("off (TINYINFER_IMPL=reference)")
    assert isinstance(d["warnings"], list) and not any(k.startswith("_") for k in d)


def test_unwritable_cache_is_a_warning_with_a_fix(tmp_path):
    from tinyinfer import doctor as dr

    d = {"numba": "0.56.4", "_cache_ok": False, "_cached": 0, "kernels": "Numba kernels in use",
         "blas": "/usr/lib/aarch64-linux-gnu/blas/libblas.so.3", "pillow": None,
         "_mem": {"available": 200 * 2**20, "total": 2**30, "swap": 0}}
    w = "\n".join(dr.warnings_for(d, ["asimd"]))
    assert "NUMBA_CACHE_DIR" in w and "libopenblas0-pthread" in w and "--memory" in w
    assert "python3-pil" in w


def test_hwcap_parsing_reads_this_process():
    from tinyinfer import doctor as dr

    aux = dr._auxv()
    if os.path.exists("/proc/self/auxv"):
        assert 16 in aux  # AT_HWCAP is always present on Linux
    desc, feats = dr.cpu_features()
    assert isinstance(desc, str) and isinstance(feats, list)

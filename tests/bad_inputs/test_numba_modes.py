"""The kernel tests, the session tests and the bad-input corpus under NUMBA_DISABLE_JIT=1 (kernels
run as plain Python) and NUMBA_BOUNDSCHECK=1 (every kernel index checked), in subprocesses.

Full-suite runs in both modes are a command, not a test (they take minutes):
    NUMBA_BOUNDSCHECK=1 python -m pytest -q -p no:cacheprovider
    NUMBA_DISABLE_JIT=1 python -m pytest -q -p no:cacheprovider
Cache corruption and unwritable cache folders: tests/kernels/test_fallbacks.py.
"""
import os
import subprocess
import sys

import pytest

pytest.importorskip("numba")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SUBSET = ["tests/kernels", "tests/test_session.py", "tests/bad_inputs/test_bad_inputs.py"]


@pytest.mark.parametrize("env", [{"NUMBA_DISABLE_JIT": "1"}, {"NUMBA_BOUNDSCHECK": "1"}],
                         ids=["disable_jit", "boundscheck"])
def test_subset_passes_in_numba_debug_mode(env, tmp_path):
    if any(os.environ.get(k) == v for k, v in env.items()):
        pytest.skip("this run is already in that mode")
    e = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path), TINYINFER_IMPL="", **env)
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-x", *SUBSET,
                        # (cache tests need the JIT; they live in tests/kernels/test_fallbacks.py)
                        "-k", "not test_kernel_suite_with_boundscheck and not cache"],
                       cwd=ROOT, env=e, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]

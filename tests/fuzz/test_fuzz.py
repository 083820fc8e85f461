"""Short, bounded fuzzing runs in the suite, and every input a fuzzer ever broke us with.

The long run is a command (README, "Untrusted models"):
    python -m tests.fuzz.fuzz_reader --seconds 1800
"""
import glob
import os
import subprocess
import sys

import pytest

from tinyinfer.errors import TinyInferError

from .fuzz_reader import run_mutation
from .target import Findings, run_one

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
REGRESSIONS = sorted(glob.glob(os.path.join(HERE, "regressions", "*.onnx")))


@pytest.mark.parametrize("path", REGRESSIONS, ids=[os.path.basename(p) for p in REGRESSIONS])
def test_past_finding_now_gets_a_tinyinfer_error_or_runs(path):
    """Each file once raised a non-tinyinfer exception or allocated without bound (its name says
    which and where); now it runs or gets a TinyInferError, within 100 MB."""
    import tracemalloc

    with open(path, "rb") as f:
        data = f.read()
    tracemalloc.start()
    try:
        run_one(data)  # returns quietly for success and for a TinyInferError
    except TinyInferError:  # pragma: no cover - run_one swallows these
        pass
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert peak < 100 << 20, f"{os.path.basename(path)} allocated {peak / 2**20:.0f} MB"


def test_mutation_fuzzing_finds_nothing_in_a_few_seconds(tmp_path):
    """Seeded random mutation of the seed models (deterministic inputs, bounded time)."""
    findings = Findings(str(tmp_path))
    n = run_mutation(4.0, findings, seed=1234)
    assert n > 100
    assert not findings.seen, f"findings: {findings.seen} (inputs and tracebacks in {tmp_path})"


def test_atheris_fuzzing_finds_nothing_in_a_short_run(tmp_path):
    pytest.importorskip("atheris")
    proc = subprocess.run(
        [sys.executable, "-m", "tests.fuzz.fuzz_reader", "--seconds", "8",
         "--corpus", str(tmp_path / "corpus"), "--findings", str(tmp_path / "findings")],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    assert "stat::number_of_executed_units" in out, out[-3000:]
    assert "FINDING" not in out, out[-3000:]
    assert not os.listdir(tmp_path / "findings")

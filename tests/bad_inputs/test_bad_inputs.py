"""Every case of the bad-input corpus (cases.py) gets tinyinfer's own error, fast and small.

The cases run in child processes (runner.py), so a case that crashed the interpreter would fail
its own test and not take the suite down; a child that dies is replaced and the rest go on.
"""
import json
import os
import subprocess
import sys

import pytest

pytest.importorskip("onnx")

from .cases import CASES  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MAX_SECONDS = 2.0
MAX_PEAK_BYTES = 100 << 20


def run_children(jobs, tmp):
    """Run jobs in child processes; {name: result}; a child that dies marks its job 'crashed'."""
    results, todo = {}, list(jobs)
    while todo:
        path = os.path.join(tmp, f"jobs{len(results)}.json")
        with open(path, "w") as f:
            json.dump(todo, f)
        try:
            proc = subprocess.run([sys.executable, "-m", "tests.bad_inputs.runner", path], cwd=ROOT,
                                  capture_output=True, text=True, timeout=120)
            out, rc = proc.stdout, proc.returncode
        except subprocess.TimeoutExpired as e:
            out, rc = (e.stdout or b"").decode() if isinstance(e.stdout, bytes) else (e.stdout or ""), "timeout"
        started = None
        for line in out.splitlines():
            r = json.loads(line)
            if "start" in r:
                started = r["start"]
            else:
                results[r["name"]] = r
                started = None
        if started is not None:  # the child died (or hung) inside this job
            results[started] = {"name": started, "error": f"crashed (exit {rc})", "mro": [],
                                "message": proc.stderr[-2000:] if rc != "timeout" else "hang",
                                "seconds": 0, "peak": 0}
        elif rc not in (0,):
            raise RuntimeError(f"runner failed before any job: {proc.stderr[-2000:]}")
        todo = [j for j in todo if j["name"] not in results]
    return results


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    base = tmp_path_factory.mktemp("bad_inputs")
    jobs = []
    for c in CASES:
        folder = base / c.name
        folder.mkdir()
        job = c.build(str(folder))
        job["name"] = c.name
        jobs.append(job)
    return run_children(jobs, str(base))


def test_corpus_covers_every_category_with_at_least_40_cases():
    assert len(CASES) >= 40
    assert {c.category for c in CASES} >= {"protobuf", "tensor", "external", "graph", "attributes",
                                          "indices", "quantisation", "budgets", "feeds", "images"}


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input(case, results):
    r = results[case.name]
    if case.error == "ok":
        assert r["error"] == "ok", r
    else:
        assert case.error in r["mro"], f"expected {case.error}, got {r['error']}: {r['message']}"
        assert "TinyInferError" in r["mro"]
        import re
        assert re.search(case.words, r["message"]), f"{r['error']}: {r['message']!r} lacks {case.words!r}"
    assert r["seconds"] < MAX_SECONDS, f"took {r['seconds']:.2f} s"
    assert r["peak"] < MAX_PEAK_BYTES, f"allocated {r['peak'] / 1e6:.0f} MB at peak"

"""`tinyinfer bench`, `profile` and `info --memory` as a user runs them; the profiling API; the
memory plan against a brute-force recount. No timing is asserted (DESIGN.md, principle 10)."""
import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest

import tinyinfer
from tinyinfer import feeds as fd
from tinyinfer import memory
from tinyinfer.profiling import flops

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DIGITS = os.path.join(ROOT, "tinyinfer", "data", "digits_mobilenet.onnx")
CLS = "ch_ppocr_mobile_v2.0_cls_infer.onnx"


def tinyinfer_cli(*args, cwd=None):
    env = dict(os.environ, PYTHONPATH=ROOT)
    return subprocess.run([sys.executable, "-m", "tinyinfer", *args], capture_output=True, text=True,
                          env=env, cwd=cwd, timeout=600)


def test_bench_prints_every_field():
    r = tinyinfer_cli("bench", DIGITS, "--runs", "3", "--warmup", "1")
    assert r.returncode == 0, r.stderr
    for word in ("load", "first run (cold)", "median", "min", "p90", "iqr", "peak RSS", "3 timed"):
        assert word in r.stdout, r.stdout
    assert "ratio" not in r.stdout


def test_bench_compares_with_onnxruntime(ppocr_dir):
    pytest.importorskip("onnxruntime")
    r = tinyinfer_cli("bench", os.path.join(ppocr_dir, CLS), "--shape", "x=1x3x48x192",
                      "--threads", "1", "--compare", "onnxruntime", "--runs", "3")
    assert r.returncode == 0, r.stderr
    assert re.search(r"ratio +tinyinfer/onnxruntime = \d+\.\d\d", r.stdout), r.stdout
    assert re.search(r"median +[\d.]+ ms +[\d.]+ ms +[\d.]+", r.stdout), r.stdout
    diff = float(re.search(r"max \|diff\| \S+: (\S+)", r.stdout).group(1))
    assert diff < 1e-4, r.stdout
    assert "after onnxruntime too" in r.stdout and "threads    1" in r.stdout


def test_bench_memory_each_runtime_in_its_own_process(ppocr_dir):
    pytest.importorskip("onnxruntime")
    r = tinyinfer_cli("bench", os.path.join(ppocr_dir, CLS), "--shape", "x=1x3x48x192",
                      "--threads", "1", "--compare", "onnxruntime", "--memory", "--warmup", "0")
    assert r.returncode == 0, r.stderr
    rows = {m.group(1): [float(v) for v in m.groups()[1:]] for m in re.finditer(
        r"^(tinyinfer|onnxruntime) +(\d+) MB +(\d+) MB +(-?\d+) MB +([\d.]+) ms$", r.stdout, re.M)}
    assert set(rows) == {"tinyinfer", "onnxruntime"}, r.stdout
    for imported, peak, grown, _ in rows.values():
        assert 0 < imported <= peak and abs(peak - imported - grown) <= 1
    assert re.search(r"peak RSS +tinyinfer/onnxruntime = \d+\.\d\d", r.stdout), r.stdout


def test_bench_cpu_time_needs_one_thread():
    r = tinyinfer_cli("bench", DIGITS, "--runs", "2", "--warmup", "0", "--threads", "1", "--cpu-time")
    assert r.returncode == 0, r.stderr
    assert "this thread's CPU time" in r.stdout and re.search(r"median +[\d.]+ ms", r.stdout)
    r = tinyinfer_cli("bench", DIGITS, "--runs", "2", "--cpu-time")
    assert r.returncode != 0 and "--cpu-time needs --threads 1" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_bench_reference_is_imported_lazily():
    code = ("import sys, tinyinfer.bench, tinyinfer.cli, tinyinfer.profiling, tinyinfer.memory;"
            "print([m for m in ('onnx', 'onnxruntime') if m in sys.modules])")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       env=dict(os.environ, PYTHONPATH=ROOT))
    assert r.stdout.strip() == "[]", r.stdout + r.stderr


def test_bench_compare_reference_on_digits():
    pytest.importorskip("onnx")
    r = tinyinfer_cli("bench", DIGITS, "--compare", "reference", "--runs", "1", "--warmup", "0")
    assert r.returncode == 0, r.stderr
    assert "tinyinfer/reference" in r.stdout


def test_bench_bad_input_name_is_one_line():
    r = tinyinfer_cli("bench", DIGITS, "--shape", "nope=1x1x8x8")
    assert r.returncode == 2 and r.stderr.startswith("tinyinfer: error:") and "'nope'" in r.stderr


def _check_trace(path, model_nodes):
    with open(path) as f:
        trace = json.load(f)
    assert isinstance(trace, list) and trace
    for e in trace:
        assert {"cat", "name", "ph", "ts", "dur", "pid", "tid", "args"} <= set(e), e
        assert e["ph"] == "X" and isinstance(e["ts"], int) and e["dur"] >= 0
    nodes = [e for e in trace if e["cat"] == "Node"]
    assert {n.name or n.outputs[0] for n in model_nodes} == {e["name"] for e in nodes}
    for e in nodes:
        assert {"op_name", "input_shapes", "output_shapes"} <= set(e["args"])
    return trace


def test_profiling_api_writes_a_chrome_trace(tmp_path):
    opts = tinyinfer.SessionOptions()
    opts.enable_profiling = True
    opts.profile_file_prefix = str(tmp_path / "digits")
    sess = tinyinfer.InferenceSession(DIGITS, opts)
    x = np.zeros((2, 1, 8, 8), np.float32)
    sess.run(None, {"image": x})
    sess.run(None, {"image": x})
    path = sess.end_profiling()
    assert os.path.basename(path).startswith("digits_") and path.endswith(".json")
    trace = _check_trace(path, sess.optimized_model.graph.nodes)  # the nodes that ran
    assert sum(e["name"] == "model_run" for e in trace) == 2
    assert len([e for e in trace if e["cat"] == "Node"]) == 2 * len(sess.optimized_model.graph.nodes)
    conv = next(e for e in trace if e["args"].get("op_name") in ("Conv", "FusedConv"))
    assert conv["args"]["input_shapes"][0][0] == 2 and conv["args"]["flops"] > 0
    assert sess.end_profiling() == ""  # profiling has stopped
    assert tinyinfer.InferenceSession(DIGITS).end_profiling() == ""


def test_profile_cli_tables_and_trace(tmp_path, ppocr_dir):
    model = os.path.join(ppocr_dir, CLS)
    r = tinyinfer_cli("profile", model, "--shape", "x=1x3x48x192", "--runs", "2", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "top 20 nodes" in r.stdout and "per op type" in r.stdout and "GFLOP/s" in r.stdout
    # after the load-time passes the 53 Conv nodes run as Conv or FusedConv (conv + activation)
    counts = re.findall(r"^(?:Fused)?Conv \((\d+)\) +[\d.]+ +[\d.]+% +[\d.]+ +[\d.]+$", r.stdout, re.M)
    assert sum(int(c) for c in counts) == 53, r.stdout
    path = re.search(r"trace +(\S+\.json)", r.stdout).group(1)
    _check_trace(os.path.join(tmp_path, path),
                 tinyinfer.InferenceSession(model).optimized_model.graph.nodes)


@pytest.mark.parametrize("op, attrs, ins, outs, want", [
    ("Conv", {}, [[1, 3, 8, 8], [16, 3, 3, 3]], [[1, 16, 6, 6]], 2 * 16 * 36 * 27),
    ("Conv", {"group": 4}, [[1, 8, 8, 8], [8, 2, 3, 3]], [[1, 8, 6, 6]], 2 * 8 * 36 * 18),
    ("ConvTranspose", {}, [[1, 4, 5, 5], [4, 6, 3, 3]], [[1, 6, 7, 7]], 2 * 100 * 54),
    ("MatMul", {}, [[2, 3, 4], [4, 5]], [[2, 3, 5]], 2 * 30 * 4),
    ("Gemm", {"transA": 1}, [[7, 3], [7, 5]], [[3, 5]], 2 * 15 * 7),
    ("Add", {}, [[2, 3], [3]], [[2, 3]], 6),
    ("Reshape", {}, [[2, 3], [1]], [[6]], 0),
])
def test_flop_counts(op, attrs, ins, outs, want):
    assert flops(op, attrs, ins, outs) == want


def _brute_force_peak(r):
    """Live bytes at every step, recounted from the recorded sizes: a buffer counts once if any
    value using it was produced at or before the step and is not freed before it."""
    last = len(r.nodes) - 1
    best = (-1, -1)
    for i in range(last + 1):
        bufs = {t.buffer for t in r.tensors.values() if t.buffer and t.step <= i and
                (t.freed_after is None or t.freed_after >= i)}
        best = max(best, (sum(r.buffers[b] for b in bufs), -i))
    return best[0], -best[1]


@pytest.mark.parametrize("which", ["digits", "cls"])
def test_memory_peak_equals_brute_force(which, ppocr_dir):
    if which == "digits":
        model, shape, arg = DIGITS, (3, 1, 8, 8), "image=3x1x8x8"
    else:
        model, shape, arg = os.path.join(ppocr_dir, CLS), (1, 3, 48, 192), "x=1x3x48x192"
    sess = tinyinfer.InferenceSession(model)
    name = sess.get_inputs()[0].name
    r = memory.measure(sess, fd.random_feeds(sess, {name: shape}))
    peak, step = _brute_force_peak(r)
    assert (r.peak_bytes, r.peak_step) == (peak, step)
    assert peak >= int(np.prod(shape)) * 4  # the input alone
    assert set(r.alive_at_peak) == {t.name for t in r.tensors.values() if t.buffer and t.step <= step
                                   and (t.freed_after is None or t.freed_after >= step)}
    out = tinyinfer_cli("info", model, "--memory", "--shape", arg)
    assert out.returncode == 0, out.stderr
    assert f"peak       {peak:,} bytes" in out.stdout, out.stdout
    assert "measured by a dry run" in out.stdout and "the 10 largest" in out.stdout


def test_memory_views_share_their_base():
    # Reshape returns a view: its bytes are not counted twice
    sess = tinyinfer.InferenceSession(DIGITS)
    r = memory.measure(sess, {"image": np.zeros((4, 1, 8, 8), np.float32)})
    views = [t for t in r.tensors.values() if t.buffer and t.buffer != t.name]
    for t in views:
        assert t.buffer in r.tensors and r.buffers.get(t.name) is None


def test_threads_option_is_applied():
    opts = tinyinfer.SessionOptions()
    opts.intra_op_num_threads = 1
    before = os.environ.get("NUMBA_NUM_THREADS")
    sess = tinyinfer.InferenceSession(DIGITS, opts)
    try:
        assert set(sess.threads) == {"numba", "blas"}
        if "numba" in sys.modules:
            assert sys.modules["numba"].get_num_threads() == 1
    finally:  # the pools are per process: give the rest of the suite its threads back
        if before is None:
            os.environ.pop("NUMBA_NUM_THREADS", None)
        else:
            os.environ["NUMBA_NUM_THREADS"] = before
        from tinyinfer import threads
        if threads._blas_limit is not None:
            threads._blas_limit.restore_original_limits()
        if "numba" in sys.modules:
            sys.modules["numba"].set_num_threads(sys.modules["numba"].config.NUMBA_NUM_THREADS)
    assert tinyinfer.InferenceSession(DIGITS).threads == {"numba": "default", "blas": "default"}

"""tinyinfer batch: the process pool, in-process runs, resume after a stop or a kill, bad inputs,
the `run` and `ocr` tasks, and the command line."""
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from tinyinfer import batch
from tinyinfer.batch.records import expand_inputs, read_done
from tinyinfer.cli import main
from tinyinfer.errors import InputError

from tests.batch.helpers import DATA, check_records, make_digits

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_pool_two_workers(digits, tmp_path):
    folder, good = digits
    out = str(tmp_path / "r.jsonl")
    s = batch.run("classify", [folder], out, workers=2, progress=False)
    assert (s.inputs, s.written, s.errors, s.skipped) == (25, 25, 1, 0)
    assert s.backend.startswith("pool of 2 workers")
    check_records(batch.read_records(out), good, os.path.join(folder, "corrupt.png"))


def test_in_process_without_file(digits):
    folder, good = digits
    s = batch.run("classify", os.path.join(folder, "*.png"), None, workers=0, progress=False)
    assert s.backend == "in-process" and s.written == 25
    check_records(s.records, good, os.path.join(folder, "corrupt.png"))


def test_resume_after_stop(digits, tmp_path):
    folder, good = digits
    out = str(tmp_path / "r.jsonl")
    s = batch.run("classify", [folder], out, workers=2, progress=False,
                  on_record=lambda r: len(batch.read_records(out)) < 7)
    assert s.stopped and s.written == 7 and len(batch.read_records(out)) == 7
    with pytest.raises(InputError, match="--resume"):
        batch.run("classify", [folder], out, workers=0, progress=False)
    s = batch.run("classify", [folder], out, workers=2, resume=True, progress=False)
    assert (s.skipped, s.written) == (7, 18)
    check_records(batch.read_records(out), good, os.path.join(folder, "corrupt.png"))
    s = batch.run("classify", [folder], out, workers=2, resume=True, progress=False)
    assert (s.skipped, s.written) == (25, 0)


def test_kill_then_resume_from_the_command_line(tmp_path, capsys):
    folder = str(tmp_path / "many")
    good = make_digits(folder, 300, seed=1)
    out = str(tmp_path / "r.jsonl")
    cmd = [sys.executable, "-m", "tinyinfer", "batch", "classify", folder, "--out", out,
           "--workers", "1", "--chunk-size", "1", "--quiet"]
    env = dict(os.environ, PYTHONPATH=ROOT)
    proc = subprocess.Popen(cmd, env=env, start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 60
        while time.time() < deadline and proc.poll() is None:
            if os.path.exists(out) and open(out, "rb").read().count(b"\n") >= 5:
                break
            time.sleep(0.005)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the parent and its pool worker, mid-run
        proc.wait()
    with open(out, "ab") as f:
        f.write(b'{"path": "/torn/half-writ')  # as if killed in the middle of a line
    before = len(read_done(out))
    assert 5 <= before < 301, before
    assert main(["batch", "classify", folder, "--out", out, "--workers", "2", "--resume",
                 "--quiet"]) == 0
    line = capsys.readouterr().out
    assert f"{301 - before} written" in line and "images/s" in line, line
    records = batch.read_records(out)
    assert len(records) == 301 and len({r["path"] for r in records}) == 301
    assert sum(r["error"] is not None for r in records) == 1


def test_run_task_with_npy_and_npz(tmp_path):
    from tinyinfer import InferenceSession

    model = os.path.join(DATA, "digits_mobilenet.onnx")
    rng = np.random.default_rng(0)
    xs = {}
    for i in range(4):
        xs[str(tmp_path / f"x{i}.npy")] = x = rng.random((1, 1, 8, 8), np.float32)
        np.save(tmp_path / f"x{i}.npy", x)
    np.savez(tmp_path / "both.npz", image=xs[str(tmp_path / "x0.npy")])
    np.save(tmp_path / "wrong.npy", np.zeros((1, 3, 8, 8), np.float32))
    s = batch.run("run", [str(tmp_path)], None, model=model, workers=0, progress=False)
    recs = {os.path.basename(r["path"]): r for r in s.records}
    assert set(recs) == {"x0.npy", "x1.npy", "x2.npy", "x3.npy", "both.npz", "wrong.npy"}
    assert recs["wrong.npy"]["error"] and recs["wrong.npy"]["result"] is None
    sess = InferenceSession(model)
    for p, x in xs.items():
        out = recs[os.path.basename(p)]["result"]["outputs"]["logits"]
        assert out["shape"] == [1, 10]
        np.testing.assert_allclose(out["values"], sess.run(None, {"image": x})[0], rtol=1e-6)
    assert recs["both.npz"]["result"] == recs["x0.npy"]["result"]


def test_ocr_in_a_worker_equals_single_image_runs(tmp_path, ppocr_dir):
    from PIL import Image, ImageDraw, ImageFont

    from tinyinfer.ocr import OCR

    paths = []
    for i, text in enumerate(["invoice 2026", "total 41.50"]):
        im = Image.new("RGB", (320, 64), "white")
        ImageDraw.Draw(im).text((10, 14), text, fill="black", font=ImageFont.load_default(size=30))
        paths.append(str(tmp_path / f"t{i}.png"))
        im.save(paths[-1])
    none = {"det": "none", "cls": "none"}  # recognition only: the detector is slow on 2 cores
    s = batch.run("ocr", paths, None, workers=1, progress=False, ocr_models=none)
    ocr = OCR(**none)
    got = {r["path"]: r for r in s.records}
    for p in paths:
        want = ocr(p)["lines"]
        assert got[p]["error"] is None
        assert [ln["text"] for ln in got[p]["result"]["lines"]] == [ln["text"] for ln in want]
    assert "invoice" in got[paths[0]]["result"]["text"]


def test_inputs_folders_globs_and_mistakes(digits, tmp_path):
    folder, good = digits
    exts = batch.tasks.IMAGE_EXTS
    got = expand_inputs([folder, os.path.join(folder, "d000*.png"), good[0]], exts)
    assert got == sorted(good + [os.path.join(folder, "corrupt.png")])  # no repeats, no notes.txt
    with pytest.raises(InputError, match="matches no file"):
        expand_inputs([os.path.join(folder, "*.jpg")], exts)
    with pytest.raises(InputError, match="not a file"):
        expand_inputs([os.path.join(folder, "missing.png")], exts)
    assert main(["batch", "classify", os.path.join(folder, "nope.png"), "--out",
                 str(tmp_path / "r.jsonl")]) == 2
    assert main(["batch", "run", "--out", str(tmp_path / "r.jsonl"), folder]) == 2


def test_dask_is_not_imported_without_a_scheduler(digits, tmp_path):
    folder, _ = digits
    code = (f"import sys; from tinyinfer import batch; "
            f"batch.run('classify', {folder!r}, None, workers=0, progress=False); "
            f"print(sorted(m for m in ('dask', 'distributed') if m in sys.modules))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       env=dict(os.environ, PYTHONPATH=ROOT), timeout=120)
    assert r.stdout.strip() == "[]", r.stderr[-2000:]

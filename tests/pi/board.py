"""Board side of the emulated Raspberry Pi run: NumPy (+ Numba if present) and tinyinfer only.

    python3 tests/pi/board.py GOLDENS [--sections doctor,limits,models,node] [--failures FILE]

GOLDENS is the folder tests/pi/goldens.py wrote on the host. Sections:
    doctor   `tinyinfer doctor` exits 0
    limits   int64 extremes give onnxruntime's exact outputs; sizes past 2**31 elements raise
             ResourceLimitError (a 32-bit np.intp must not wrap them to something small)
    models   digits (fp32, int8) and PP-OCR cls/rec within atol of onnxruntime's outputs, once with
             the Numba kernels (when Numba is installed) and once with TINYINFER_IMPL=reference
    node     onnx's backend node tests, NumPy reference path
Prints one line per check (node: failures only) and `SUMMARY section passed/total` lines; a failure
listed in known_differences.txt (with its reason) prints as KNOWN and does not count. Exit 0
when everything passed. --failures writes the names of failed checks, one per line.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import sys
import time
import traceback

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

import tinyinfer  # noqa: E402

RESULTS = {}   # section -> [passed, total, known]
FAILED = []
KNOWN = []     # (regex, reason) from known_differences.txt


def read_known(path=os.path.join(os.path.dirname(os.path.abspath(__file__)), "known_differences.txt")):
    import re
    out = []
    with open(path) as f:
        for line in f:
            pat, _, reason = line.partition("#")
            if pat.strip():
                out.append((re.compile(pat.strip()), reason.strip()))
    return out


def record(section, name, ok, detail="", quiet=False):
    r = RESULTS.setdefault(section, [0, 0, 0])
    r[0] += bool(ok)
    r[1] += 1
    status = "PASS" if ok else "FAIL"
    if not ok and any(p.search(f"{section}/{name}") for p, _ in KNOWN):
        status, r[2] = "KNOWN", r[2] + 1  # listed with its reason in known_differences.txt
    elif not ok:
        FAILED.append(f"{section}/{name}")
    if not ok or not quiet:
        print(f"{status:5s} {section}/{name}  {detail}".rstrip(), flush=True)


def load_case(folder):
    with open(os.path.join(folder, "meta.json")) as f:
        meta = json.load(f)
    data = np.load(os.path.join(folder, "data.npz"))
    ins = {k[3:]: data[k] for k in data.files if k.startswith("in_")}
    outs = {k[4:]: data[k] for k in data.files if k.startswith("out_")}
    return os.path.join(folder, "model.onnx"), ins, outs, meta


def run(path, ins, impl=""):
    os.environ["TINYINFER_IMPL"] = impl
    sess = tinyinfer.InferenceSession(path)
    names = [o.name for o in sess.get_outputs()]
    t0 = time.perf_counter()
    got = sess.run(None, ins)
    return dict(zip(names, got)), time.perf_counter() - t0


def compare(got, want, rtol, atol):
    """(ok, worst abs error or message)."""
    worst = 0.0
    for k, w in want.items():
        g = got.get(k)
        if not isinstance(g, np.ndarray):
            return False, f"{k}: {type(g).__name__}, expected an array"
        if g.shape != w.shape or g.dtype != w.dtype:
            return False, f"{k}: {g.dtype}{list(g.shape)}, expected {w.dtype}{list(w.shape)}"
        if w.dtype.kind in "fc":
            if not np.allclose(g, w, rtol=rtol, atol=atol, equal_nan=True):
                d = np.abs(g.astype(np.complex128) - w)
                return False, f"{k}: max abs error {np.nanmax(d):.3g} > atol {atol} + rtol {rtol}"
            fin = np.isfinite(w)
            if fin.any():
                worst = max(worst, float(np.max(np.abs(g[fin].astype(np.complex128) - w[fin]))))
        elif not np.array_equal(g, w):
            return False, f"{k}: values differ at {int(np.count_nonzero(g != w))} positions"
    return True, worst


def section_doctor(g):
    from tinyinfer.doctor import main
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        rc = main([])
    text = buf.getvalue()
    print(text.rstrip())
    ok = rc == 0 and "numpy" in text.lower()
    record("doctor", "tinyinfer doctor", ok, f"exit {rc}")


def section_limits(g):
    d = os.path.join(g, "limits")
    for name in sorted(os.listdir(d)):
        path, ins, outs, meta = load_case(os.path.join(d, name))
        try:
            got, _ = run(path, ins, "reference")
        except tinyinfer.TinyInferError as e:
            want = meta.get("expect")
            ok = bool(want) and want in [c.__name__ for c in type(e).__mro__]
            record("limits", name, ok, f"{type(e).__name__}: {str(e)[:90]}")
            continue
        except Exception as e:  # noqa: BLE001 - anything but a TinyInferError is a failure
            record("limits", name, False, f"{type(e).__name__}: {e}")
            continue
        if meta.get("expect"):
            record("limits", name, False, f"ran, expected {meta['expect']}")
            continue
        ok, info = compare(got, outs, 0, 0)
        record("limits", name, ok, "exact" if ok else info)


def section_models(g, impls):
    d = os.path.join(g, "models")
    for name in sorted(os.listdir(d)):
        path, ins, outs, meta = load_case(os.path.join(d, name))
        for impl in impls:
            label = f"{name}[{impl or 'kernels'}]"
            try:
                t0 = time.perf_counter()
                got, dt = run(path, ins, impl)
                load = time.perf_counter() - t0 - dt
            except Exception as e:  # noqa: BLE001
                record("models", label, False, f"{type(e).__name__}: {e}")
                traceback.print_exc()
                continue
            ok, info = compare(got, outs, 0, meta["atol"])
            detail = (f"max abs error {info:.2e} (<= {meta['atol']:g}) vs {meta['golden']}; "
                      f"load {load:.1f} s, first run {dt:.2f} s") if ok else info
            record("models", label, ok, detail)


def section_node(g):
    d = os.path.join(g, "node")
    for name in sorted(os.listdir(d)):
        try:
            path, ins, outs, meta = load_case(os.path.join(d, name))
            got, _ = run(path, ins, "reference")
            ok, info = compare(got, outs, meta["rtol"], meta["atol"])
        except Exception as e:  # noqa: BLE001
            ok, info = False, f"{type(e).__name__}: {str(e)[:150]}"
        record("node", name, ok, "" if ok else info, quiet=True)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("goldens")
    ap.add_argument("--sections", default="doctor,limits,models,node")
    ap.add_argument("--failures")
    a = ap.parse_args(argv)
    KNOWN[:] = read_known()
    import platform
    print(f"board   {platform.machine()} {platform.architecture()[0]}, Python {platform.python_version()}, "
          f"NumPy {np.__version__}, np.intp = {np.dtype(np.intp).name}", flush=True)
    from tinyinfer import kernels
    impls = ["", "reference"] if kernels.available() else ["reference"]
    os.environ["TINYINFER_IMPL"] = ""
    t0 = time.perf_counter()
    for s in a.sections.split(","):
        {"doctor": lambda: section_doctor(a.goldens), "limits": lambda: section_limits(a.goldens),
         "models": lambda: section_models(a.goldens, impls),
         "node": lambda: section_node(a.goldens)}[s]()
    for s, (p, t, k) in RESULTS.items():
        print(f"SUMMARY {s:7s} {p}/{t} passed" + (f", {k} known differences (known_differences.txt)"
                                                  if k else ""))
    print(f"SUMMARY time    {time.perf_counter() - t0:.0f} s")
    if a.failures:
        with open(a.failures, "w") as f:
            f.write("".join(x + "\n" for x in FAILED))
    return 0 if not FAILED else 1


if __name__ == "__main__":
    raise SystemExit(main())

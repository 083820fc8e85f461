"""Run bad-input jobs in this (child) process; one JSON line per job on stdout.

    python -m tests.bad_inputs.runner jobs.json

A job: {"name", "action": "session"|"run"|"image"|"tensor", "path", "options": {...},
"feeds": {name: [dtype, shape or nested list]}}. Each result line carries the exception class
(or "ok"), its message, the seconds taken and the peak bytes allocated (tracemalloc sees NumPy's
buffers too). The parent (test_bad_inputs.py) asserts on them; if this process dies, the parent
knows which job was running from the last "start" line.
"""
from __future__ import annotations

import json
import sys
import time
import tracemalloc
import warnings

import numpy as np


def run_job(job: dict):
    import tinyinfer
    opts = tinyinfer.SessionOptions()
    for k, v in job.get("options", {}).items():
        setattr(opts, k, v)
    action = job["action"]
    if action == "image":
        from tinyinfer.vision.image import read_image
        return read_image(job["path"])
    if action == "tensor":
        from tinyinfer.onnx import load_tensor
        return load_tensor(job["path"])
    model = open(job["path"], "rb").read() if job.get("as_bytes") else job["path"]
    sess = tinyinfer.InferenceSession(model, opts)
    if action == "run":
        feeds = {}
        for name, spec in job.get("feeds", {}).items():
            if isinstance(spec, dict) and "dtype" in spec:
                feeds[name] = np.array(spec["value"], dtype=spec["dtype"])
            else:
                feeds[name] = spec  # deliberately not an array
        ro = None
        if job.get("terminate"):
            ro = tinyinfer.RunOptions()
            ro.terminate = True
        return sess.run(None, feeds, ro)
    return sess


def main(path: str) -> None:
    warnings.simplefilter("ignore")
    import tinyinfer  # noqa: F401  (imports and op registration are not part of a job's cost)
    from tinyinfer import registry
    registry._load_ops()
    jobs = json.load(open(path))
    for job in jobs:
        print(json.dumps({"start": job["name"]}), flush=True)
        tracemalloc.start()
        t0 = time.perf_counter()
        try:
            run_job(job)
            error, message = "ok", ""
        except Exception as e:  # noqa: BLE001 - reported to the parent, which judges it
            error, message = type(e).__name__, str(e)
            mro = [c.__name__ for c in type(e).__mro__]
        else:
            mro = []
        seconds = time.perf_counter() - t0
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(json.dumps({"name": job["name"], "error": error, "mro": mro, "message": message,
                          "seconds": seconds, "peak": peak}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1])

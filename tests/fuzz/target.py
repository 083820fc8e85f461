"""What the fuzzers run on every input: bytes -> load -> check -> plan -> one run.

Any ``TinyInferError`` is a correct answer to a bad model. Anything else (another exception, a
crash, a hang, a runaway allocation) is a finding. Budgets are small so one input stays cheap.
"""
from __future__ import annotations

import hashlib
import os
import traceback

import numpy as np

import tinyinfer
from tinyinfer import dtypes
from tinyinfer.errors import TinyInferError

MAX_FEED_ELEMENTS = 4096


def options() -> tinyinfer.SessionOptions:
    o = tinyinfer.SessionOptions()
    o.graph_optimization_level = tinyinfer.GraphOptimizationLevel.ORT_DISABLE_ALL
    o.max_tensor_bytes = 16 << 20
    o.max_live_bytes = 64 << 20
    o.max_loop_iterations = 1000
    o.max_run_seconds = 2.0
    o.max_nodes = 10_000
    return o


def feeds_for(sess, seed: int) -> dict:
    """Small random feeds matching the declared inputs (unknown dims become 2); integers are
    small and may be negative, so index-taking ops see out-of-range values too."""
    rng = np.random.default_rng(seed)
    feeds = {}
    for v in sess._inputs:
        t = v.type
        if t is None or t.kind != "tensor" or t.shape is None:
            return {}
        shape = [d if isinstance(d, int) and 0 <= d <= 64 else 2 for d in t.shape]
        if int(np.prod(shape)) > MAX_FEED_ELEMENTS:
            return {}
        dt = dtypes.ONNX_TO_NUMPY.get(t.elem_type)
        if dt is None:
            return {}
        if t.elem_type == dtypes.STRING:
            a = np.array(["a", "bc", ""] * MAX_FEED_ELEMENTS, dtype=object)[:int(np.prod(shape))]
        elif dt.names is not None or dt.kind == "V":
            a = np.zeros(shape, dtype=dt)  # tagged sub-byte and 8-bit float types
        elif dt.kind in "iu":
            lo = 0 if dt.kind == "u" else -5
            a = rng.integers(lo, 6, size=shape).astype(dt)
        elif dt.kind == "b":
            a = rng.integers(0, 2, size=shape).astype(bool)
        elif dt.kind == "c":
            a = (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(dt)
        else:
            a = rng.standard_normal(shape).astype(dt)
            if a.size and rng.random() < 0.2:
                a.reshape(-1)[0] = rng.choice([np.nan, np.inf, -np.inf, 0.0])
        feeds[v.name] = np.asarray(a).reshape(shape)
    return feeds


def run_one(data: bytes) -> None:
    """Raise only for a finding; return quietly for success or a TinyInferError."""
    try:
        sess = tinyinfer.InferenceSession(data, options())
        feeds = feeds_for(sess, int.from_bytes(hashlib.blake2b(data, digest_size=4).digest(), "little"))
        if feeds or not sess._inputs:
            sess.run(None, feeds)
    except TinyInferError:
        pass


def signature(exc: BaseException) -> str:
    """Type and innermost tinyinfer frame: findings with the same signature are one bug."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if "tinyinfer" in f.filename]
    where = f"{os.path.basename(frames[-1].filename)}:{frames[-1].lineno}" if frames else "?"
    return f"{type(exc).__name__}@{where}"


class Findings:
    """Saves each distinct finding once (input + traceback) under ``folder``."""

    def __init__(self, folder: str):
        self.folder = folder
        self.seen = {}
        os.makedirs(folder, exist_ok=True)

    def record(self, data: bytes, exc: BaseException) -> bool:
        sig = signature(exc)
        self.seen[sig] = self.seen.get(sig, 0) + 1
        if self.seen[sig] > 1:
            return False
        name = sig.replace("@", "_at_").replace(":", "_")
        with open(os.path.join(self.folder, name + ".onnx"), "wb") as f:
            f.write(data)
        with open(os.path.join(self.folder, name + ".txt"), "w") as f:
            f.write("".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))
        return True

"""What one input becomes: the three batch tasks, built once per worker from a picklable spec.

    spec = make_spec("classify")                     # in the parent: model bytes + options
    runner = get_runner(spec)                        # in a worker: sessions built once, cached
    process_chunk(spec, ["a.png", "b.png"]) -> [{"path", "result", "timings", "error", "worker"}]

The spec carries the model *bytes*, not paths, so a Dask worker on another machine needs no copy of
the model files; `token` (a hash of bytes and options) keys the per-worker cache. Every exception
raised for one input becomes that input's error record; nothing an input does stops the batch.
"""
from __future__ import annotations

import hashlib
import json
import os
import socket
import tempfile
import threading
import time
from dataclasses import dataclass, field
from typing import Dict, List, Optional

import numpy as np

from ..errors import InputError

TASKS = ("classify", "ocr", "run")
IMAGE_EXTS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".pgm", ".ppm", ".pnm")
ARRAY_EXTS = (".npy", ".npz")
DIGITS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data",
                      "digits_mobilenet.onnx")
INLINE_VALUES = 256  # outputs of `run` up to this many elements are written in full, else stats


@dataclass(frozen=True)
class TaskSpec:
    kind: str                               # classify | ocr | run
    models: Dict[str, Optional[bytes]]      # role -> ONNX bytes (ocr: det/cls/rec; else: model)
    names: Dict[str, Optional[str]]         # role -> the path it came from (for messages)
    options: Dict[str, object] = field(default_factory=dict)   # threads, top
    token: str = ""

    def __repr__(self):  # never print megabytes of model bytes
        return f"TaskSpec({self.kind!r}, {self.names}, {self.options}, token={self.token[:12]})"


def _read(path: str, role: str) -> bytes:
    if not os.path.isfile(path):
        raise InputError(f"{role} model {path!r} not found")
    with open(path, "rb") as f:
        return f.read()


def make_spec(kind: str, model: Optional[str] = None, threads: int = 1, top: int = 5,
              ocr_models: Optional[Dict[str, Optional[str]]] = None) -> TaskSpec:
    """Read the model files once in the parent and check them by building the sessions there
    (a bad model is one error before the run, not one error per input)."""
    if kind not in TASKS:
        raise InputError(f"unknown batch task {kind!r}; tasks are {', '.join(TASKS)}")
    if kind == "ocr":
        from ..ocr.pipeline import default_models

        paths = dict(default_models())
        paths.update({k: v for k, v in (ocr_models or {}).items() if v is not None})
        for k in ("det", "cls", "rec"):
            if paths.get(k) is None and k == "rec":
                raise InputError("no recognition model found; `pip install rapidocr_onnxruntime` "
                                 "or pass one")
            if isinstance(paths.get(k), str) and paths[k].lower() == "none":
                paths[k] = None
        models = {k: (_read(p, k) if p else None) for k, p in paths.items()}
        names = paths
    else:
        if kind == "run" and not model:
            raise InputError("`batch run` needs a model: tinyinfer batch run MODEL INPUTS...")
        path = model or DIGITS
        models, names = {"model": _read(path, "the")}, {"model": path}
    h = hashlib.sha256(kind.encode())
    for k in sorted(models):
        h.update(k.encode() + b"\0" + (models[k] or b""))
    opts = {"threads": int(threads), "top": int(top)}
    h.update(json.dumps(opts, sort_keys=True).encode())
    spec = TaskSpec(kind, models, names, opts, h.hexdigest())
    if kind != "ocr":  # OCR sessions are heavy: its workers report a bad model on their first input
        _build(spec)
    return spec


# ---------------------------------------------------------------- worker side

_cache = threading.local()  # one runner per (thread, spec): Dask workers may run several threads


def get_runner(spec: TaskSpec):
    runners = getattr(_cache, "runners", None)
    if runners is None:
        runners = _cache.runners = {}
    if spec.token not in runners:
        runners.clear()  # one model set per worker thread at a time
        from ..threads import set_threads

        set_threads(int(spec.options.get("threads", 1)))
        runner = runners[spec.token] = _build(spec)
        getattr(runner, "warmup", lambda: None)()  # first-call costs (Numba) before the first input
    return runners[spec.token]


def _build(spec: TaskSpec):
    return {"classify": Classify, "run": RunModel, "ocr": ReadText}[spec.kind](spec)


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


class Classify:
    """Image -> (1, C, H, W) float32 in [0, 1] -> class scores. C = 1: grayscale (ITU-R 601);
    C = 3: RGB. Area resize to the model's H x W (the digits model: 8 x 8). Labels from the
    model's `labels` metadata (a JSON list), else the class index."""

    def __init__(self, spec: TaskSpec):
        from ..session import InferenceSession

        self.sess = InferenceSession(spec.models["model"])
        self.top = int(spec.options.get("top", 5))
        inp = self.sess.get_inputs()[0]
        shape = inp.shape or []
        if len(shape) != 4 or not all(isinstance(d, int) for d in shape[1:]) or shape[1] not in (1, 3):
            raise InputError(f"classify: model {spec.names['model']!r} input {inp.name!r} has shape "
                             f"{shape}; expected (N, 1 or 3, H, W) with fixed C, H, W")
        self.name, (self.c, self.h, self.w) = inp.name, shape[1:]
        try:
            self.labels = json.loads(self.sess.get_modelmeta().custom_metadata_map.get("labels", "[]"))
        except ValueError:
            self.labels = []

    def warmup(self) -> None:
        self.sess.run(None, {self.name: np.zeros((1, self.c, self.h, self.w), np.float32)})

    def preprocess(self, img: np.ndarray) -> np.ndarray:
        from ..vision.image import resize_area, to_gray

        if self.c == 1:
            x = resize_area(to_gray(img), self.h, self.w)[None]                  # (1, H, W)
        else:
            rgb = img if img.ndim == 3 else np.repeat(img[..., None], 3, axis=2)
            x = np.stack([resize_area(rgb[..., k].astype(np.float32), self.h, self.w)
                          for k in range(3)])                                    # (3, H, W)
        return (x / 255.0).astype(np.float32)[None]                              # (1, C, H, W)

    def __call__(self, path: str, timings: dict) -> dict:
        from ..vision.image import read_image

        t0 = time.perf_counter()
        x = self.preprocess(read_image(path))
        t1 = time.perf_counter()
        (logits,) = self.sess.run(None, {self.name: x})[:1]
        timings.update(read=t1 - t0, infer=time.perf_counter() - t1)
        p = softmax(np.asarray(logits, np.float64).reshape(-1))
        order = np.argsort(-p, kind="stable")[: self.top]
        lab = [self.labels[k] if k < len(self.labels) else str(k) for k in order]
        return {"label": lab[0], "index": int(order[0]), "score": float(p[order[0]]),
                "top": [[lb, float(p[k])] for lb, k in zip(lab, order)]}


class RunModel:
    """A .npy (one-input models) or .npz (keys = input names) file -> the model's outputs:
    values in full up to INLINE_VALUES elements, else shape, dtype and min/max/mean."""

    def __init__(self, spec: TaskSpec):
        from ..session import InferenceSession

        self.sess = InferenceSession(spec.models["model"])

    def __call__(self, path: str, timings: dict) -> dict:
        from ..feeds import load_feeds

        t0 = time.perf_counter()
        feeds = load_feeds([path], self.sess)
        t1 = time.perf_counter()
        outs = self.sess.run(None, feeds)
        timings.update(read=t1 - t0, infer=time.perf_counter() - t1)
        return {"outputs": {a.name: describe(y) for a, y in zip(self.sess.get_outputs(), outs)}}


def describe(y) -> dict:
    y = np.asarray(y)
    d = {"dtype": str(y.dtype), "shape": list(y.shape)}
    if y.size <= INLINE_VALUES:
        d["values"] = y.tolist()
    elif y.dtype.kind in "fiub":
        f = y.astype(np.float64)
        d.update(min=float(f.min()), max=float(f.max()), mean=float(f.mean()))
    return d


class ReadText:
    """tinyinfer.ocr.OCR on the shipped bytes (written once to a private temp folder)."""

    def __init__(self, spec: TaskSpec):
        from ..ocr.pipeline import OCR

        folder = tempfile.mkdtemp(prefix="tinyinfer-batch-")
        paths = {}
        for k, b in spec.models.items():
            if b is None:
                paths[k] = "none"
                continue
            paths[k] = os.path.join(folder, f"{k}-" + os.path.basename(spec.names[k] or k))
            with open(paths[k], "wb") as f:
                f.write(b)
        self.ocr = OCR(det=paths["det"], cls=paths["cls"], rec=paths["rec"])

    def __call__(self, path: str, timings: dict) -> dict:
        r = self.ocr(path)
        timings.update({k: v for k, v in r["timings"].items() if k != "total"})
        lines = [{"text": ln["text"], "score": ln["score"], "box": ln["box"]} for ln in r["lines"]]
        return {"text": "\n".join(ln["text"] for ln in lines), "lines": lines}


def process_one(spec: TaskSpec, path: str) -> dict:
    """One record; an exception becomes `error` ('InputError: image ... is damaged ...')."""
    t0 = time.perf_counter()
    timings: dict = {}
    rec = {"path": path, "result": None, "timings": timings, "error": None,
           "worker": f"{socket.gethostname()}:{os.getpid()}"}
    try:
        rec["result"] = get_runner(spec)(path, timings)
    except Exception as e:  # noqa: BLE001 — one input's failure is data, not a stopped run
        msg = str(e).strip().splitlines()[0] if str(e).strip() else ""
        rec["error"] = f"{type(e).__name__}: {msg}"[:500]
    timings["total"] = time.perf_counter() - t0
    for k in timings:
        timings[k] = round(float(timings[k]), 6)
    return rec


def process_chunk(paths: List[str], spec: TaskSpec) -> List[dict]:
    return [process_one(spec, p) for p in paths]

"""`tinyinfer classify IMAGE... --model MODEL [--top K]`: top-k labels with scores.

MODEL is an .onnx file or a models/<name> folder (its `<name>.int8.onnx`, else `<name>.onnx`).
Everything the command needs is in the model's metadata, written by the build scripts:

    labels   JSON list, one label per output class                           (required)
    ink      'bright' (light strokes on dark, e.g. the digits scans) or 'dark'; images whose
             ink is the other way round are inverted (judged by the border: background)

The image is turned grey (if the model has one input channel), area-resized to the model's
declared input H x W and scaled to [0, 1]; scores are the softmax of the model's first output.
"""
from __future__ import annotations

import json
import os
from typing import List, Tuple

import numpy as np

from .errors import InputError


def resolve(model: str) -> str:
    if os.path.isdir(model):
        name = os.path.basename(os.path.normpath(model))
        for f in (f"{name}.int8.onnx", f"{name}.onnx"):
            if os.path.isfile(os.path.join(model, f)):
                return os.path.join(model, f)
        raise InputError(f"folder {model!r} holds neither {name}.int8.onnx nor {name}.onnx")
    if not os.path.isfile(model):
        raise InputError(f"model {model!r} not found")
    return model


class Classifier:
    def __init__(self, model: str):
        from .session import InferenceSession

        self.path = resolve(model)
        self.sess = InferenceSession(self.path)
        meta = self.sess.get_modelmeta().custom_metadata_map
        try:
            self.labels = json.loads(meta["labels"])
        except (KeyError, ValueError):
            raise InputError(f"model {self.path!r} has no 'labels' metadata entry (a JSON list)") from None
        self.ink = meta.get("ink", "")
        inp = self.sess.get_inputs()[0]
        shape = list(inp.shape)
        if len(shape) != 4 or not all(isinstance(d, int) and d > 0 for d in shape[1:]):
            raise InputError(f"model {self.path!r}: input {inp.name!r} has shape {shape}; "
                             "classify needs (N, C, H, W) with fixed C, H, W")
        self.name, (self.c, self.h, self.w) = inp.name, shape[1:]

    def preprocess(self, img: np.ndarray) -> np.ndarray:
        """(H, W) or (H, W, 3) uint8 -> (1, C, h, w) float32 in [0, 1]."""
        from .vision.image import resize_area, to_gray

        planes = [to_gray(img)] if self.c == 1 or img.ndim == 2 else \
            [img[..., k].astype(np.float32) for k in range(3)]
        g = planes[0]
        border = np.concatenate([g[0], g[-1], g[:, 0], g[:, -1]]).mean()
        invert = (self.ink == "bright" and border > 127) or (self.ink == "dark" and border < 128)
        x = np.stack([resize_area(p, self.h, self.w) for p in planes]) / 255.0
        if invert:
            x = 1.0 - x
        if x.shape[0] != self.c:
            x = np.repeat(x[:1], self.c, axis=0)
        return x.astype(np.float32)[None]

    def __call__(self, img: np.ndarray, k: int = 5) -> List[Tuple[str, float]]:
        (logits,) = self.sess.run(None, {self.name: self.preprocess(img)})
        z = np.asarray(logits, np.float64).reshape(-1)
        p = np.exp(z - z.max())
        p /= p.sum()
        top = np.argsort(-p, kind="stable")[:k]
        return [(self.labels[i] if i < len(self.labels) else str(i), float(p[i])) for i in top]


def run(args) -> int:
    import time

    from .vision.image import read_image

    clf = Classifier(args.model)
    print(f"model  {clf.path}")
    for path in args.images:
        img = read_image(path)
        t0 = time.perf_counter()
        res = clf(img, args.top)
        ms = (time.perf_counter() - t0) * 1e3
        print(f"{path}  ({ms:.1f} ms)")
        for label, p in res:
            print(f"  {p:.4f}  {label}")
    return 0

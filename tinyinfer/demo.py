"""`tinyinfer demo`: the bundled default job — read images, run a model, print what it sees.

It classifies handwritten digits (PNG files in tinyinfer/data) with the MobileNet-style
classifier built by models/digits_mobilenet/build.py and printed characters with the int8
ShuffleNet-style classifier (models/chars_shufflenet), then reads digit lines and a page with the
project's own int8 OCR models (models/crnn_digits, models/db_det; copied by models/demo_data.py),
with NumPy alone; it reports per-image results and timings. When rapidocr_onnxruntime and Pillow are installed, it also runs the PP-OCR
text-direction classifier on a rendered text line and its 180° turn: a real third-party model.
"""
from __future__ import annotations

import glob
import json
import os
import time

import numpy as np

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def classify_digits(print_fn=print) -> list:
    from .session import InferenceSession
    from .vision.image import read_image, resize_area, to_gray

    path = os.path.join(DATA, "digits_mobilenet.onnx")
    t0 = time.perf_counter()
    sess = InferenceSession(path)
    load_ms = (time.perf_counter() - t0) * 1e3
    labels = json.loads(sess.get_modelmeta().custom_metadata_map.get("labels", "[]"))
    print_fn(f"model   {os.path.basename(path)}  ({os.path.getsize(path) / 1024:.0f} KB, "
             f"loaded in {load_ms:.0f} ms)")
    results = []
    for img_path in sorted(glob.glob(os.path.join(DATA, "digit_*.png"))):
        img = read_image(img_path)
        x = (resize_area(to_gray(img), 8, 8) / 255.0).astype(np.float32)[None, None]  # (1, 1, 8, 8)
        t0 = time.perf_counter()
        (logits,) = sess.run(None, {"image": x})
        ms = (time.perf_counter() - t0) * 1e3
        p = softmax(logits[0])
        k = int(p.argmax())
        label = labels[k] if k < len(labels) else str(k)
        results.append((os.path.basename(img_path), label, float(p[k]), ms))
        print_fn(f"  {os.path.basename(img_path):12s} -> digit {label}  (p = {p[k]:.3f})  {ms:6.2f} ms")
    return results


def classify_chars(print_fn=print) -> list:
    """Printed characters (fonts the model never saw in training) with the project's own int8
    ShuffleNet-style classifier (models/chars_shufflenet), as `tinyinfer classify` does."""
    from .classify import Classifier
    from .vision.image import read_image

    path = os.path.join(DATA, "chars_shufflenet.int8.onnx")
    images = sorted(glob.glob(os.path.join(DATA, "char_*.png")))
    if not os.path.isfile(path) or not images:
        return []
    t0 = time.perf_counter()
    clf = Classifier(path)
    print_fn(f"model   {os.path.basename(path)}  ({os.path.getsize(path) / 1024:.0f} KB, "
             f"loaded in {(time.perf_counter() - t0) * 1e3:.0f} ms)")
    results = []
    for img_path in images:
        img = read_image(img_path)
        t0 = time.perf_counter()
        (label, p), = clf(img, 1)
        ms = (time.perf_counter() - t0) * 1e3
        results.append((os.path.basename(img_path), label, p, ms))
        print_fn(f"  {os.path.basename(img_path):12s} -> '{label}'  (p = {p:.3f})  {ms:6.2f} ms")
    return results


def read_lines(print_fn=print) -> list:
    """Read bundled digit lines (fonts the model never saw in training) with the project's own
    int8 CRNN (models/crnn_digits), and a bundled page with its own detector (models/db_det)."""
    from .ocr.pipeline import OCR

    rec, det = os.path.join(DATA, "crnn_digits.int8.onnx"), os.path.join(DATA, "db_det.int8.onnx")
    if not os.path.isfile(rec):
        return []
    results = []
    jobs = [("line", rec, None, sorted(glob.glob(os.path.join(DATA, "line_*.png"))))]
    if os.path.isfile(det):
        jobs.append(("page", rec, det, sorted(glob.glob(os.path.join(DATA, "page_*.png")))))
    for kind, rec_path, det_path, images in jobs:
        if not images:
            continue
        t0 = time.perf_counter()
        ocr = OCR(det=det_path or "none", cls="none", rec=rec_path)
        load_ms = (time.perf_counter() - t0) * 1e3
        names = os.path.basename(rec_path) + (f" + {os.path.basename(det_path)}" if det_path else "")
        print_fn(f"model   {names}  (loaded in {load_ms:.0f} ms)")
        for img_path in images:
            t0 = time.perf_counter()
            res = ocr(img_path)
            ms = (time.perf_counter() - t0) * 1e3
            texts = [ln["text"] for ln in res["lines"]]
            results.append((os.path.basename(img_path), texts, ms))
            shown = " | ".join(f"'{t}'" for t in texts) or "(nothing read)"
            print_fn(f"  {os.path.basename(img_path):12s} -> {shown}  {ms:6.1f} ms")
    return results


def run_demo() -> int:
    print("tinyinfer demo: reading bundled images with the project's own models (NumPy only)")
    classify_digits()
    classify_chars()
    read_lines()
    try:
        import rapidocr_onnxruntime  # noqa: F401  (only to locate its model files)
    except ImportError:
        print("(install rapidocr_onnxruntime to also run the PP-OCR models it ships)")
        return 0
    try:
        from PIL import Image, ImageDraw, ImageFont
    except ImportError:
        return 0
    from .session import InferenceSession

    models = os.path.join(os.path.dirname(rapidocr_onnxruntime.__file__), "models")
    path = os.path.join(models, "ch_ppocr_mobile_v2.0_cls_infer.onnx")
    if not os.path.exists(path):
        return 0
    sess = InferenceSession(path)
    # render a text line, then the same line turned by 180 degrees; PP-OCR normalises to [-1, 1]
    im = Image.new("RGB", (192, 48), "white")
    ImageDraw.Draw(im).text((4, 8), "Hello 2026", fill="black", font=ImageFont.load_default(size=28))
    x = ((np.asarray(im, np.float32) / 255 - 0.5) / 0.5).transpose(2, 0, 1)[None]  # (1, 3, 48, 192)
    x = np.ascontiguousarray(np.concatenate([x, x[:, :, ::-1, ::-1]]))
    t0 = time.perf_counter()
    (p,) = sess.run(None, {"x": x})
    ms = (time.perf_counter() - t0) * 1e3
    print(f"model   PP-OCR text-direction classifier (from rapidocr_onnxruntime): 2 lines in {ms:.0f} ms")
    for name, row in zip(("'Hello 2026'", "same, turned"), p):
        print(f"  {name:12s} -> {'0' if row[0] >= row[1] else '180'} degrees  (p = {row.max():.3f})")
    return 0

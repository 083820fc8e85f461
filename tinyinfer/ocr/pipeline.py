"""The OCR pipeline: detect text boxes, crop each line, turn upside-down lines, recognise.

    ocr = OCR()                              # PP-OCRv4 det + rec, mobile cls (see default_models)
    result = ocr("page.png")                 # path, PIL image, or (H, W, 3) BGR / (H, W) array
    result["lines"] -> [{"text", "score", "box": [[x, y] x4], "chars": [{"char", "score", "frame"}]}]
    result["timings"] -> seconds per stage

Every step mirrors RapidOCR 1.4 (the reference we compare against stage by stage):
image -> limit sides (<= 2000, >= 30) -> letterbox short/wide images -> det_input -> DB boxes ->
reading order -> perspective crops (bicubic) -> cls in batches of 6 (turn if '180' with p > 0.9)
-> rec in batches of 6 sorted by aspect ratio, height 48, width 48 * max ratio of the batch ->
CTC decoding -> drop lines scoring under 0.5.
"""
from __future__ import annotations

import math
import os
import time
from typing import Any, Dict, List, Optional, Sequence

import numpy as np

from ..errors import InputError
from . import ctc
from . import det as D
from .resize import perspective_transform, resize_linear, warp_perspective_cubic

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_MODELS = os.path.join(os.path.dirname(os.path.dirname(HERE)), "models")


def default_models() -> Dict[str, Optional[str]]:
    """det/cls/rec paths: from an installed rapidocr_onnxruntime (pip install rapidocr_onnxruntime),
    else models/ppocr/ in this repository, else None."""
    try:
        import importlib.util
        spec = importlib.util.find_spec("rapidocr_onnxruntime")
        base = os.path.join(os.path.dirname(spec.origin), "models") if spec and spec.origin else None
    except (ImportError, ValueError):
        base = None
    names = {"det": "ch_PP-OCRv4_det_infer.onnx", "cls": "ch_ppocr_mobile_v2.0_cls_infer.onnx",
             "rec": "ch_PP-OCRv4_rec_infer.onnx"}
    out = {}
    for k, n in names.items():
        cands = [os.path.join(b, n) for b in (base, os.path.join(REPO_MODELS, "ppocr")) if b]
        out[k] = next((c for c in cands if os.path.isfile(c)), None)
    return out


def load_image(src: Any) -> np.ndarray:
    """Path, PIL image or array -> (H, W, 3) uint8 in BGR order (what PP-OCR models were trained
    on). Arrays are taken as BGR already (the OpenCV/RapidOCR convention); (H, W) is grey."""
    if isinstance(src, (str, os.PathLike)):
        img = _read(os.fspath(src))
        img = img if img.ndim == 3 else np.repeat(img[..., None], 3, axis=2)
        return np.ascontiguousarray(img[..., ::-1])
    if hasattr(src, "convert") and hasattr(src, "mode"):          # a PIL image
        img = np.asarray(src.convert("RGB"))
        return np.ascontiguousarray(img[..., ::-1])
    img = np.asarray(src)
    if img.dtype != np.uint8:
        raise InputError(f"OCR takes uint8 images; got {img.dtype}")
    if img.ndim == 2:
        return np.repeat(img[..., None], 3, axis=2)
    if img.ndim == 3 and img.shape[2] in (3, 4):
        return np.ascontiguousarray(img[..., :3])
    raise InputError(f"OCR takes (H, W) or (H, W, 3) images; got shape {img.shape}")


def _read(path: str) -> np.ndarray:
    """read_image, with Pillow's decompression-bomb warning (between its limit and twice it)
    turned into the same one-line error as the hard limit."""
    import warnings

    from ..vision.image import MAX_PIXELS, read_image
    with warnings.catch_warnings():
        try:
            from PIL import Image
            warnings.simplefilter("error", Image.DecompressionBombWarning)
        except ImportError:
            pass
        try:
            return read_image(path)
        except Warning:
            raise InputError(f"image {path!r} declares more than {MAX_PIXELS:,} pixels; refused") from None


def crop_line(img: np.ndarray, box: np.ndarray) -> np.ndarray:
    """Warp the quadrilateral box (tl, tr, br, bl) to an upright rectangle; tall ones are turned
    90 degrees (height / width >= 1.5)."""
    pts = box.astype(np.float32)
    w = int(max(np.linalg.norm(pts[0] - pts[1]), np.linalg.norm(pts[2] - pts[3])))
    h = int(max(np.linalg.norm(pts[0] - pts[3]), np.linalg.norm(pts[1] - pts[2])))
    dst = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    out = warp_perspective_cubic(img, perspective_transform(pts, dst), w, h)
    return np.rot90(out) if out.shape[0] / out.shape[1] >= 1.5 else out


def norm_line(img: np.ndarray, height: int, width: int) -> np.ndarray:
    """(h, w, 3) uint8 -> (3, height, width) float32 in [-1, 1]: resized to the height keeping the
    aspect ratio (at most `width` wide), zero-padded on the right."""
    h, w = img.shape[:2]
    rw = width if math.ceil(height * (w / float(h))) > width else int(math.ceil(height * (w / float(h))))
    x = resize_linear(img, rw, height).astype(np.float32).transpose(2, 0, 1) / 255
    x -= 0.5
    x /= 0.5
    out = np.zeros((3, height, width), np.float32)
    out[:, :, :rw] = x
    return out


class OCR:
    """Detection + direction classification + recognition with tinyinfer sessions.

    det/cls/rec: model paths; None picks default_models(); "none" (or False) skips the stage —
    without det the whole image is one line. decoder: 'greedy' or 'beam' (CTC prefix beam
    search); decoder_options go to ctc.prefix_beam (width, allowed, lexicon, regex).
    """

    def __init__(self, det: Any = None, cls: Any = None, rec: Any = None, decoder: str = "greedy",
                 decoder_options: Optional[dict] = None, characters: Optional[str] = None,
                 text_score: float = 0.5, box_thresh: float = 0.5, unclip_ratio: float = 1.6,
                 rec_batch: int = 6, session_factory=None):
        from ..session import InferenceSession

        make = session_factory or InferenceSession
        defaults = default_models()
        paths = {}
        for k, v in (("det", det), ("cls", cls), ("rec", rec)):
            if v is None:
                v = defaults[k]
                if v is None:
                    raise InputError(f"no {k} model given and none found; install one with "
                                     "`pip install rapidocr_onnxruntime` or pass a path")
            paths[k] = None if v is False or str(v).lower() == "none" else os.fspath(v)
        if paths["rec"] is None:
            raise InputError("a recognition model is required (--rec MODEL)")
        for k, p in paths.items():
            if p is not None and not os.path.isfile(p):
                raise InputError(f"{k} model {p!r} not found")
        self.paths = paths
        self.det = make(paths["det"]) if paths["det"] else None
        self.cls = make(paths["cls"]) if paths["cls"] else None
        self.rec = make(paths["rec"])
        meta = self.rec.get_modelmeta().custom_metadata_map
        try:
            self.characters = ctc.load_characters(meta, characters)
        except (ValueError, OSError) as e:
            raise InputError(f"recognition model {paths['rec']!r}: {e}") from None
        self.decoder, self.decoder_options = decoder, dict(decoder_options or {})
        self.text_score, self.box_thresh, self.unclip_ratio = text_score, box_thresh, unclip_ratio
        self.rec_batch = rec_batch

    # ------------------------------------------------------------ stages
    def detect(self, img: np.ndarray, trace: Optional[dict] = None) -> List[np.ndarray]:
        """(H, W, 3) BGR -> boxes (tl, tr, br, bl) float32 in img's pixels, in reading order."""
        x = D.det_input(img)
        (prob,) = self.det.run(None, {self.det.get_inputs()[0].name: x})
        boxes, _ = D.db_boxes(prob, img.shape[0], img.shape[1], box_thresh=self.box_thresh,
                              unclip_ratio=self.unclip_ratio)
        boxes = D.sort_boxes(D.filter_boxes(boxes, img.shape[0], img.shape[1]))
        if trace is not None:
            trace.update(det_input=x, prob=prob, boxes=boxes)
        return boxes

    def classify(self, crops: List[np.ndarray], batch: int = 6, thresh: float = 0.9):
        """Turn crops the cls model reads as upside down (label '180' with p > thresh)."""
        crops = list(crops)
        order = np.argsort(np.array([c.shape[1] / float(c.shape[0]) for c in crops]))
        res = [("0", 0.0)] * len(crops)
        name = self.cls.get_inputs()[0].name
        for b in range(0, len(crops), batch):
            idx = order[b:b + batch]
            x = np.stack([norm_line(crops[i], 48, 192) for i in idx])
            (p,) = self.cls.run(None, {name: x})
            for i, row in zip(idx, p):
                k = int(row.argmax())
                res[i] = (("0", "180")[k], float(row[k]))
                if k == 1 and row[k] > thresh:
                    crops[i] = np.ascontiguousarray(crops[i][::-1, ::-1])
        return crops, res

    def recognise(self, crops: List[np.ndarray], trace: Optional[dict] = None) -> List[ctc.Decoded]:
        order = np.argsort(np.array([c.shape[1] / float(c.shape[0]) for c in crops]))
        out: List[Optional[ctc.Decoded]] = [None] * len(crops)
        name = self.rec.get_inputs()[0].name
        logits = [None] * len(crops)
        for b in range(0, len(crops), self.rec_batch):
            idx = order[b:b + self.rec_batch]
            ratio = max([320 / 48] + [crops[i].shape[1] / crops[i].shape[0] for i in idx])
            x = np.stack([norm_line(crops[i], 48, int(48 * ratio)) for i in idx])
            (probs,) = self.rec.run(None, {name: x})
            for i, p in zip(idx, probs):
                logits[i] = p
                out[i] = ctc.decode(p, self.characters, self.decoder, **self.decoder_options)
        if trace is not None:
            trace["logits"] = logits
        return out

    # ------------------------------------------------------------ whole pipeline
    def __call__(self, image: Any, trace: Optional[dict] = None) -> Dict[str, Any]:
        t = {"load": time.perf_counter()}
        img = load_image(image)
        raw_h, raw_w = img.shape[:2]
        work, ratio_h, ratio_w = D.limit_sides(img)
        top = 0
        if self.det is not None:
            work, top = D.letterbox(work)
        t["preprocess"] = time.perf_counter()
        if self.det is not None:
            boxes = self.detect(work, trace)
            crops = [crop_line(work, b) for b in boxes]
        else:
            h, w = work.shape[:2]
            boxes = [np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)]
            crops = [work]
        t["det"] = time.perf_counter()
        cls_res = None
        if self.cls is not None and crops:
            crops, cls_res = self.classify(crops)
        t["cls"] = time.perf_counter()
        if trace is not None:
            trace["crops"] = crops
        texts = self.recognise(crops, trace) if crops else []
        t["rec"] = time.perf_counter()
        lines = []
        for box, d in zip(boxes, texts):
            if d.score < self.text_score:
                continue
            b = box.astype(np.float32).copy()
            b[:, 1] -= top
            b[:, 0] *= ratio_w
            b[:, 1] *= ratio_h
            b = np.maximum(b, 0)
            b[:, 0] = np.minimum(b[:, 0], raw_w)
            b[:, 1] = np.minimum(b[:, 1], raw_h)
            lines.append({"text": d.text, "score": round(d.score, 6),
                          "box": [[float(x), float(y)] for x, y in b],
                          "chars": [{"char": c, "score": round(p, 6), "frame": f} for c, p, f in d.chars]})
        names = ["load", "preprocess", "det", "cls", "rec"]      # stage i ends at t[names[i]]
        timings = {n: round(t[n] - t[names[i - 1]], 6) for i, n in enumerate(names) if i}
        timings["total"] = round(t["rec"] - t["load"], 6)
        return {"lines": lines, "timings": timings}

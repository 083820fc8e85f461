"""Model card of models/db_det: `python models/db_det/card.py` rewrites CARD.md."""
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import textgen  # noqa: E402
import zoo  # noqa: E402

NAME = "db_det"
TITLE = "db_det — small DB-style text detector"
DESCRIPTION = ("Finds text lines on a page: a probability map for DB post-processing, with the input "
               "and output conventions of PP-OCR det models, so `tinyinfer ocr PAGE --det "
               "models/db_det/db_det.int8.onnx --cls none --rec models/crnn_digits/crnn_digits.int8.onnx` "
               "runs the project's own OCR stack.")
TASK = "text detection (probability map + DB boxes)"
FP32, INT8 = "db_det.onnx", "db_det.int8.onnx"
BENCH_SHAPE = "x=1x3x736x736"
METRIC = "F-score (lines at IoU ≥ 0.5)"
SEED = 777
HELDOUT = ("`heldout.npz`: 30 pages (320–416 px a side, 1–8 lines of digits, words or codes at "
           "12–26 px each) rendered in the held-out font families DejaVu Sans Mono and STIX General, "
           "stored before noise, Gaussian noise added with seed 777 when loaded. A ground-truth line "
           "is the ink box of the line grown by 0.35 × its height on each side (the margin the "
           "detector is trained to leave for recognisers). Predicted boxes come from tinyinfer.ocr.det "
           "(det_input, db_boxes with RapidOCR's defaults), taken axis-aligned; a prediction matches a "
           "line when their IoU is ≥ 0.5 (one-to-one, greedy by IoU). F-score = 2 · matched / "
           "(predicted + ground-truth lines), which is the fraction shown")
QUANTIZE = ("tinyinfer-convert quantize db_det.onnx --format qoperator --calibrate <8 pages of 384×384 in "
            "training fonts, resized to 736×736 as det_input does> (build.py --compress-only)")
DATA = """Rendered on the fly with Pillow (`models/textgen.py` render_page): 2,000 batches of 8
pages of 192×192 holding 1–8 lines of digits (card numbers, meter readings), words or upper-case
codes at 10–43 px (the scale the model sees after its 2×2 average pool, i.e. half of
det_input's), flat/gradient/speckled/dark backgrounds, blur, noise. Target: each line's box (ink
box grown by 0.35 × its height on each side) shrunk by the distance d that DB's unclip (ratio 1.6)
restores. Training fonts: DejaVu Sans/Serif, Computer Modern, Liberation, GNU FreeFont; held-out
pages use DejaVu Sans Mono and STIX General only."""
ARCH = """```
x (N, 3, H, W) in [-1, 1] -> grey -> AvgPool 2×2        (det_input doubles a small page; this halves it back)
 -> Conv 3×3 s2 16 -> DW-sep 16 (c1) -> DW-sep s2 32 (c2) -> DW-sep s2 48 (c3) -> DW-sep s2 64 (c4)
 -> 2 residual DW-sep blocks at c4, depthwise dilation 2 and 4 (context to bridge word gaps)
 -> FPN: 1×1 laterals to 32 channels, nearest ×2 + add, c4 -> c3 -> c2 (1/8 of x)
 -> Conv 3×3 32→16 -> nearest ×2 + 1×1 lateral of c1 (1/4 of x)
 -> Conv 3×3 16 + BN + ReLU -> Conv 1×1 1 -> bilinear ×4 -> sigmoid -> maps (N, 1, H, W)
```
DW-sep = depthwise 3×3 + BN + ReLU, pointwise 1×1 + BN + ReLU. Trained by
`python models/db_det/build.py`: BCE (3 hardest negatives per positive pixel) + dice loss,
AdamW, one-cycle, seed 0, one thread."""


PAD = 0.35  # a line's box: its ink box grown by PAD × ink height on each side (build.py trains on it)


def line_box(b):
    x0, y0, x1, y1 = (float(v) for v in b)
    p = PAD * (y1 - y0)
    return (x0 - p, y0 - p, x1 + p, y1 + p)


_heldout = []


def heldout():
    """Held-out pages (noised with the fixed seed) and their line boxes."""
    if not _heldout:
        z = np.load(os.path.join(HERE, "heldout.npz"))
        rng = np.random.default_rng(SEED)
        pages = [textgen.add_noise(z["pages"][i, :h, :w], rng) for i, (h, w) in enumerate(z["sizes"])]
        boxes = [[line_box(b[1:]) for b in z["boxes"] if b[0] == i] for i in range(len(pages))]
        _heldout.append((pages, boxes))
    return _heldout[0]


def calibration():
    import random

    from PIL import Image

    rng = random.Random(5)
    imgs = []
    for _ in range(8):
        img, _ = textgen.render_page(rng, zoo.fonts("train"), 384, 384)
        imgs.append(np.asarray(Image.fromarray(img).resize((736, 736), Image.BILINEAR)))
    return np.stack([(np.repeat(i[None], 3, 0).astype(np.float32) / 255 - 0.5) / 0.5 for i in imgs])


def feeds():
    return {"x": np.zeros((1, 3, 736, 736), np.float32)}


def iou(a, b):
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def detect(path):
    """Per page: predicted axis-aligned boxes, with tinyinfer and tinyinfer.ocr.det."""
    from tinyinfer import InferenceSession
    from tinyinfer.ocr import det as D

    sess = InferenceSession(path)
    out = []
    for page in heldout()[0]:
        img = np.repeat(page[..., None], 3, axis=2)
        (prob,) = sess.run(None, {"x": D.det_input(img)})
        boxes, _ = D.db_boxes(prob, img.shape[0], img.shape[1])
        out.append([(float(b[:, 0].min()), float(b[:, 1].min()), float(b[:, 0].max()), float(b[:, 1].max()))
                    for b in boxes])
    return out


def match(path):
    """(matched, predicted, ground truth) over the held-out pages."""
    m = p = g = 0
    for pred, gt in zip(detect(path), heldout()[1]):
        pairs = sorted(((iou(a, b), i, j) for i, a in enumerate(pred) for j, b in enumerate(gt)), reverse=True)
        used_p, used_g = set(), set()
        for v, i, j in pairs:
            if v >= 0.5 and i not in used_p and j not in used_g:
                used_p.add(i)
                used_g.add(j)
        m, p, g = m + len(used_p), p + len(pred), g + len(gt)
    return m, p, g


_cache = {}


def _match(path):
    if path not in _cache:
        _cache[path] = match(path)
    return _cache[path]


def evaluate(path):
    """(2 · matched, predicted + ground truth): their ratio is the F-score."""
    m, p, g = _match(path)
    return 2 * m, p + g


def fscore(path):
    m, p, g = _match(path)
    prec, rec = m / max(p, 1), m / max(g, 1)
    return (f"{2 * m / max(p + g, 1):.4f} (precision {prec:.4f} = {m}/{p}, "
            f"recall {rec:.4f} = {m}/{g})")


EXTRA = {"f_fp32": lambda: fscore(os.path.join(HERE, FP32)), "f_int8": lambda: fscore(os.path.join(HERE, INT8))}
EXTRA_LABELS = {"f_fp32": "F-score, precision, recall fp32 (IoU ≥ 0.5)",
                "f_int8": "F-score, precision, recall int8 (IoU ≥ 0.5)"}


if __name__ == "__main__":
    zoo.write_card(sys.modules[__name__])

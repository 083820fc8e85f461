"""Rendered OCR test images with ground truth (Pillow): pages of several lines and single lines
such as card numbers and meter readings, in several fonts, sizes, colours and backgrounds, turned
by up to +-5 degrees, with noise and blur. Deterministic for a given seed."""
from __future__ import annotations

import glob
import os
import random

import numpy as np

FONT_DIRS = ["/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/truetype/liberation",
             "/usr/share/fonts"]
WORDS = ("invoice total amount account number balance date meter reading serial model power "
         "voltage energy customer address street city station price paid due card valid thru "
         "reference code order item quantity weight").split()


def fonts():
    out = []
    for d in FONT_DIRS:
        out += sorted(glob.glob(os.path.join(d, "**", "*.ttf"), recursive=True))
    keep = [f for f in out if any(k in os.path.basename(f) for k in
                                  ("Sans.ttf", "Serif.ttf", "Mono.ttf", "Sans-Bold.ttf",
                                   "SansMono-Bold.ttf", "Serif-Bold.ttf", "Condensed.ttf"))]
    return keep or out


def _font(path, size):
    from PIL import ImageFont
    if path is None:
        return ImageFont.load_default(size=size)
    return ImageFont.truetype(path, size)


def card_number(rng):
    return " ".join("".join(str(rng.randrange(10)) for _ in range(4)) for _ in range(4))


def meter_reading(rng):
    return f"{rng.randrange(100000):05d}.{rng.randrange(100)}"


def text_line(rng):
    kind = rng.randrange(4)
    if kind == 0:
        return card_number(rng)
    if kind == 1:
        return f"{rng.choice(WORDS).capitalize()} {meter_reading(rng)} kWh"
    if kind == 2:
        return " ".join(rng.choice(WORDS) for _ in range(rng.randrange(2, 5))).capitalize()
    return f"{rng.choice(WORDS).upper()} {rng.randrange(10, 99999)} {rng.choice(WORDS)}"


def _colours(rng):
    bg = tuple(rng.randrange(200, 256) for _ in range(3))
    fg = tuple(rng.randrange(0, 70) for _ in range(3))
    if rng.random() < 0.2:   # light text on a dark background
        bg, fg = tuple(rng.randrange(0, 50) for _ in range(3)), tuple(rng.randrange(210, 256) for _ in range(3))
    return bg, fg


def _finish(im, rng, angle):
    from PIL import Image, ImageFilter
    bg = im.getpixel((0, 0))
    if angle:
        im = im.rotate(angle, resample=Image.BICUBIC, expand=True, fillcolor=bg)
    if rng.random() < 0.5:
        im = im.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 0.9)))
    a = np.asarray(im).astype(np.float32)
    a += np.random.default_rng(rng.randrange(1 << 30)).normal(0, rng.uniform(0, 6), a.shape)
    return Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))


def page(rng, n_lines=None):
    """An RGB page of a few text lines and the lines' texts, top to bottom."""
    from PIL import Image, ImageDraw
    fl = fonts() or [None]
    n = n_lines or rng.randrange(3, 6)
    size = rng.randrange(20, 34)
    font = _font(rng.choice(fl), size)
    bg, fg = _colours(rng)
    lines = [text_line(rng) for _ in range(n)]
    w = max(int(font.getlength(t)) for t in lines) + 60
    gap = int(size * rng.uniform(1.8, 2.6))
    im = Image.new("RGB", (w, gap * n + 40), bg)
    d = ImageDraw.Draw(im)
    for i, t in enumerate(lines):
        d.text((30 + rng.randrange(10), 20 + i * gap), t, fill=fg, font=font)
    return _finish(im, rng, rng.uniform(-5, 5)), lines


def line(rng, kind=None):
    """A single RGB text line (card number or meter reading by default) and its text."""
    from PIL import Image, ImageDraw
    fl = fonts() or [None]
    size = rng.randrange(22, 40)
    font = _font(rng.choice(fl), size)
    bg, fg = _colours(rng)
    kind = kind or rng.choice(["card", "meter"])
    t = card_number(rng) if kind == "card" else meter_reading(rng)
    w = int(font.getlength(t)) + 24
    im = Image.new("RGB", (w, int(size * 1.6)), bg)
    ImageDraw.Draw(im).text((12, int(size * 0.25)), t, fill=fg, font=font)
    return _finish(im, rng, rng.uniform(-2, 2)), t


def make_set(seed: int, n_pages: int, n_lines: int):
    rng = random.Random(seed)
    items = [("page", *page(rng)) for _ in range(n_pages)]
    items += [("line", *line(rng)) for _ in range(n_lines)]
    return items


def cer(ref: str, hyp: str) -> float:
    """Levenshtein distance / len(ref)."""
    prev = list(range(len(hyp) + 1))
    for i, a in enumerate(ref, 1):
        cur = [i]
        for j, b in enumerate(hyp, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a != b)))
        prev = cur
    return prev[-1] / max(len(ref), 1)


def edits(ref: str, hyp: str) -> int:
    return round(cer(ref, hyp) * max(len(ref), 1))


def iou(a, b) -> float:
    """IoU of two convex quadrilaterals by rasterising them on a common grid."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    lo = np.floor(np.minimum(a.min(0), b.min(0))) - 1
    hi = np.ceil(np.maximum(a.max(0), b.max(0))) + 1
    xs = np.arange(lo[0], hi[0], 0.5) + 0.25
    ys = np.arange(lo[1], hi[1], 0.5) + 0.25
    X, Y = np.meshgrid(xs, ys)

    def inside(q):
        s = []
        for i in range(4):
            (x0, y0), (x1, y1) = q[i], q[(i + 1) % 4]
            s.append((x1 - x0) * (Y - y0) - (y1 - y0) * (X - x0))
        s = np.stack(s)
        return np.all(s >= 0, 0) | np.all(s <= 0, 0)

    ia, ib = inside(a), inside(b)
    u = (ia | ib).sum()
    return float((ia & ib).sum() / u) if u else 0.0

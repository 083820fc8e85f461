"""Rendered text for the OCR models in models/ (build scripts only: imports Pillow).

    img = render_line("1234 5678 9012 3456", font_path, rng)   # (48, w) grey uint8, ink dark or light
    x = to_input([img, ...], width)                               # (N, 3, 48, width) float32 in [-1, 1]

Lines vary in font size, letter spacing, margins, background (flat, gradient, speckled paper,
dark), ink colour, slight rotation and blur; sensor noise is added separately (`add_noise`) so
held-out sets can be stored clean (they compress well) and noised with a fixed seed when loaded.
The model input follows tinyinfer.ocr.pipeline.norm_line: height 48, (x / 255 - 0.5) / 0.5,
zero-padded on the right to the batch width.
"""
from __future__ import annotations

import random

import numpy as np

HEIGHT = 48


def card_number(rng: random.Random) -> str:
    k = rng.random()
    if k < 0.55:
        return " ".join("".join(str(rng.randrange(10)) for _ in range(4)) for _ in range(4))
    if k < 0.7:
        return " ".join("".join(str(rng.randrange(10)) for _ in range(n)) for n in (4, 6, 5))
    return "".join(str(rng.randrange(10)) for _ in range(rng.randrange(8, 17)))


def meter_reading(rng: random.Random) -> str:
    k = rng.random()
    if k < 0.5:
        return f"{rng.randrange(10 ** 5):05d}.{rng.randrange(10 ** rng.randrange(1, 3))}"
    if k < 0.75:
        return f"{rng.randrange(10 ** 8):0{rng.randrange(4, 9)}d}"[-rng.randrange(4, 9):]
    return f"{rng.randrange(1000)}.{rng.randrange(100):02d}"


def digit_line(rng: random.Random) -> str:
    k = rng.random()
    if k < 0.45:
        return card_number(rng)
    if k < 0.85:
        return meter_reading(rng)
    n = rng.randrange(1, 4)
    return " ".join("".join(str(rng.randrange(10)) for _ in range(rng.randrange(1, 6))) for _ in range(n))


def _background(rng: random.Random, w: int, h: int, dark: bool) -> np.ndarray:
    k = rng.random()
    base = rng.uniform(10, 70) if dark else rng.uniform(160, 255)
    if k < 0.4:
        bg = np.full((h, w), base, np.float32)
    elif k < 0.75:                                   # linear gradient in a random direction
        a = rng.uniform(0, 2 * np.pi)
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        g = (np.cos(a) * xx / max(w, 1) + np.sin(a) * yy / max(h, 1))
        bg = base + rng.uniform(-50, 50) * g
    else:                                            # speckled paper: smooth blobs
        r = np.random.default_rng(rng.randrange(1 << 30))
        small = r.normal(0, 1, (max(h // 8, 2), max(w // 8, 2))).astype(np.float32)
        from PIL import Image
        big = np.asarray(Image.fromarray(small).resize((w, h), Image.BILINEAR))
        bg = base + rng.uniform(5, 25) * big
    return np.clip(bg, 0, 255)


def render_line(text: str, font_path: str, rng: random.Random, size=None, height: int = HEIGHT) -> np.ndarray:
    """One text line -> (height, w) grey uint8, before noise."""
    from PIL import Image, ImageDraw, ImageFilter, ImageFont

    size = size or rng.randrange(20, 44)
    font = ImageFont.truetype(font_path, size)
    spacing = rng.uniform(-0.03, 0.25) * size if rng.random() < 0.6 else 0.0
    space_w = font.getlength(" ") * rng.uniform(0.8, 2.0)
    widths = [space_w if c == " " else font.getlength(c) for c in text]
    ascent, descent = font.getmetrics()
    mx = int(rng.uniform(0.1, 0.8) * size) + 2
    mt, mb = int(rng.uniform(0.05, 0.5) * size) + 1, int(rng.uniform(0.05, 0.5) * size) + 1
    w = int(sum(widths) + spacing * (len(text) - 1)) + 2 * mx
    h = ascent + descent + mt + mb
    dark = rng.random() < 0.15
    bg = _background(rng, w, h, dark)
    ink_img = Image.new("L", (w, h), 0)
    d = ImageDraw.Draw(ink_img)
    x = float(mx)
    for c, cw in zip(text, widths):
        if c != " ":
            d.text((x, mt), c, fill=255, font=font)
        x += cw + spacing
    angle = rng.uniform(-1.5, 1.5)
    if abs(angle) > 0.2:
        ink_img = ink_img.rotate(angle, resample=Image.BILINEAR)
    if rng.random() < 0.5:
        ink_img = ink_img.filter(ImageFilter.GaussianBlur(rng.uniform(0.2, 1.2)))
    ink = np.asarray(ink_img, np.float32) / 255
    fg = rng.uniform(200, 255) if dark else rng.uniform(0, 90)
    img = bg * (1 - ink) + fg * ink
    im = Image.fromarray(np.clip(img + 0.5, 0, 255).astype(np.uint8))
    nw = max(1, int(round(w * height / h * rng.uniform(0.9, 1.1))))
    return np.asarray(im.resize((nw, height), Image.BILINEAR))


def add_noise(img: np.ndarray, rng: np.random.Generator, sigma_max: float = 8.0) -> np.ndarray:
    a = img.astype(np.float32) + rng.normal(0, rng.uniform(0, sigma_max), img.shape).astype(np.float32)
    return np.clip(a + 0.5, 0, 255).astype(np.uint8)


def to_input(imgs, width: int) -> np.ndarray:
    """grey uint8 lines (48, w_i) -> (N, 3, 48, width) float32 as norm_line makes them: lines
    wider than `width` are squeezed to it, the rest zero-padded on the right."""
    from PIL import Image

    out = np.zeros((len(imgs), 3, HEIGHT, width), np.float32)
    for i, im in enumerate(imgs):
        if im.shape[1] > width:
            im = np.asarray(Image.fromarray(im).resize((width, HEIGHT), Image.BILINEAR))
        x = (im.astype(np.float32) / 255 - 0.5) / 0.5
        out[i, :, :, :im.shape[1]] = x
    return out


def stack_lines(imgs, width: int):
    """Pack grey lines into one (N, 48, width) uint8 array + their widths (for a compact .npz)."""
    arr = np.zeros((len(imgs), HEIGHT, width), np.uint8)
    widths = np.zeros(len(imgs), np.int32)
    from PIL import Image

    for i, im in enumerate(imgs):
        if im.shape[1] > width:
            im = np.asarray(Image.fromarray(im).resize((width, HEIGHT), Image.BILINEAR))
        arr[i, :, :im.shape[1]] = im
        widths[i] = im.shape[1]
    return arr, widths


def unstack_lines(arr: np.ndarray, widths: np.ndarray, seed: int, sigma_max: float = 8.0):
    """The inverse of stack_lines, with seeded sensor noise added to each line."""
    rng = np.random.default_rng(seed)
    return [add_noise(arr[i, :, :w], rng, sigma_max) for i, w in enumerate(widths)]


WORDS = ("invoice total amount account number balance date meter reading serial model power voltage "
         "energy customer address street city station price paid due card valid thru reference code "
         "order item quantity weight").split()


def mixed_line(rng: random.Random) -> str:
    """Digits, words, upper-case codes — what pages carry."""
    k = rng.random()
    if k < 0.35:
        return digit_line(rng)
    if k < 0.7:
        return " ".join(rng.choice(WORDS) for _ in range(rng.randrange(1, 5))).capitalize()
    alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    return " ".join("".join(rng.choice(alnum) for _ in range(rng.randrange(2, 7)))
                    for _ in range(rng.randrange(1, 4)))


def render_page(rng: random.Random, fonts, w: int, h: int, max_lines: int = 8, sizes=(12, 28)):
    """A grey page (h, w) uint8 (before noise) with text lines at random places, and the tight ink
    boxes of the lines [(x0, y0, x1, y1)], top to bottom."""
    from PIL import Image, ImageDraw, ImageFont

    dark = rng.random() < 0.1
    bg = _background(rng, w, h, dark)
    ink_img = Image.new("L", (w, h), 0)
    d = ImageDraw.Draw(ink_img)
    boxes = []
    y = rng.randrange(2, 20)
    for _ in range(rng.randrange(1, max_lines + 1)):
        size = rng.randrange(*sizes)
        font = ImageFont.truetype(rng.choice(fonts), size)
        text = mixed_line(rng)
        while text and font.getlength(text) > w - 8:
            text = text[:-1].rstrip()
        if not text:
            continue
        x = rng.randrange(2, max(3, int(w - font.getlength(text)) - 2))
        l, t, r, b = d.textbbox((x, y), text, font=font)
        if b >= h - 2:
            break
        d.text((x, y), text, fill=255, font=font)
        boxes.append((l, t, r, b))
        y = b + int(size * rng.uniform(0.5, 2.5))
    if rng.random() < 0.4:
        from PIL import ImageFilter
        ink_img = ink_img.filter(ImageFilter.GaussianBlur(rng.uniform(0.2, 0.8)))
    ink = np.asarray(ink_img, np.float32) / 255
    fg = rng.uniform(200, 255) if dark else rng.uniform(0, 90)
    img = bg * (1 - ink) + fg * ink
    return np.clip(img + 0.5, 0, 255).astype(np.uint8), boxes

"""Reading images with NumPy alone (PNG, PGM/PPM), or through Pillow when it is installed.

    read_image(path) -> uint8 array, (H, W) grayscale or (H, W, 3) RGB

PNG without Pillow: 8-bit grayscale, RGB, palette, grey+alpha and RGBA, not interlaced — the
IDAT chunks are inflated with zlib and each row un-filtered (None, Sub, Up, Average, Paeth).
Sizes are checked before anything is allocated (MAX_PIXELS), so a forged header cannot
ask for gigabytes.
"""
from __future__ import annotations

import os
import struct
import warnings
import zlib

import numpy as np

from ..errors import InputError

MAX_PIXELS = 40_000_000  # well below Pillow's own decompression-bomb limit of 89.5 M pixels


def read_image(path: str) -> np.ndarray:
    if not os.path.isfile(path):
        raise InputError(f"image {path!r} not found")
    with open(path, "rb") as f:
        head = f.read(8)
    try:
        if head.startswith(b"\x89PNG\r\n\x1a\n"):
            return _read_png(path)
        if head[:2] in (b"P5", b"P6", b"P2", b"P3"):
            return _read_pnm(path)
        return _read_pillow(path)
    except InputError:
        raise
    except (ValueError, zlib.error, struct.error, IndexError) as e:
        raise InputError(f"image {path!r} is damaged or truncated ({e})") from None


ALLOWED_FORMATS = ("PNG", "JPEG", "BMP", "GIF", "TIFF", "WEBP", "PPM")  # what Pillow may parse


def _read_pillow(path: str) -> np.ndarray:
    try:
        from PIL import Image
    except ImportError:
        raise InputError(f"{path!r}: only PNG and PGM/PPM are read without Pillow; "
                         "install Pillow (pip install tinyinfer[image]) for other formats") from None
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS  # Pillow's own bomb check, well below its 89.5 M default
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path, formats=ALLOWED_FORMATS) as im:
                _check_size(*im.size, path)  # from the header, before any pixel is decoded
                im.load()  # truncated files raise (Image.LOAD_TRUNCATED_IMAGES stays False)
                im = im.convert("L") if im.mode in ("L", "1", "I;16", "I") else im.convert("RGB")
                return np.asarray(im)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise InputError(f"image {path!r} declares more than {MAX_PIXELS:,} pixels; refused") from None
    except (OSError, SyntaxError, ValueError) as e:
        raise InputError(f"{path!r} is not a readable image ({e}); allowed formats: "
                         f"{', '.join(ALLOWED_FORMATS)}, and PGM") from None


def _check_size(w: int, h: int, path: str) -> None:
    if w <= 0 or h <= 0 or w * h > MAX_PIXELS:
        raise InputError(f"image {path!r} declares {w}x{h} pixels; "
                         f"at most {MAX_PIXELS:,} pixels are allowed")


def _read_pnm(path: str) -> np.ndarray:
    with open(path, "rb") as f:
        data = f.read()
    magic = data[:2]
    tokens, pos = [], 2
    while len(tokens) < 3:  # width, height, maxval; comments start with '#'
        while pos < len(data) and data[pos:pos + 1].isspace():
            pos += 1
        if data[pos:pos + 1] == b"#":
            pos = data.index(b"\n", pos)
            continue
        start = pos
        while pos < len(data) and not data[pos:pos + 1].isspace():
            pos += 1
        tokens.append(int(data[start:pos]))
    w, h, maxval = tokens
    _check_size(w, h, path)
    if not 0 < maxval < 256:
        raise InputError(f"image {path!r}: only 8-bit PGM/PPM are supported (maxval {maxval})")
    ch = 3 if magic in (b"P6", b"P3") else 1
    if magic in (b"P5", b"P6"):
        raw = np.frombuffer(data, np.uint8, count=w * h * ch, offset=pos + 1)
    else:
        raw = np.array(data[pos:].split()[: w * h * ch], dtype=np.int64).astype(np.uint8)
    if raw.size != w * h * ch:
        raise InputError(f"image {path!r} is truncated")
    img = raw.reshape(h, w, ch) if ch == 3 else raw.reshape(h, w)
    return (img.astype(np.uint32) * 255 // maxval).astype(np.uint8)


def _read_png(path: str) -> np.ndarray:
    with open(path, "rb") as f:
        data = f.read()
    pos, idat, palette, trns = 8, [], None, None
    w = h = depth = ctype = interlace = None
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        if len(chunk) != length:
            raise InputError(f"image {path!r} is truncated")
        if kind == b"IHDR":
            w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", chunk)
            _check_size(w, h, path)
        elif kind == b"PLTE":
            palette = np.frombuffer(chunk, np.uint8).reshape(-1, 3)
        elif kind == b"tRNS":
            trns = chunk
        elif kind == b"IDAT":
            idat.append(chunk)
        elif kind == b"IEND":
            break
        pos += 12 + length
    if w is None or not idat:
        raise InputError(f"image {path!r} is truncated (no image data)")
    if depth != 8 or interlace:
        return _read_pillow(path)  # 16-bit, low bit depths and interlacing: leave to Pillow
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[ctype]
    stride = w * channels
    raw = zlib.decompressobj().decompress(b"".join(idat), h * (stride + 1) + 1)
    if len(raw) < h * (stride + 1):
        raise InputError(f"image {path!r} is truncated")
    rows = np.frombuffer(raw, np.uint8, count=h * (stride + 1)).reshape(h, stride + 1)
    out = np.zeros((h, stride), np.uint8)
    prev = np.zeros(stride, np.int32)
    bpp = channels
    for y in range(h):
        ftype, line = rows[y, 0], rows[y, 1:].astype(np.int32)
        if ftype == 0:
            cur = line
        elif ftype == 2:
            cur = (line + prev) & 0xFF
        elif ftype == 1:  # Sub: a running sum per channel
            cur = (np.cumsum(line.reshape(-1, bpp), axis=0).reshape(-1)) & 0xFF
        else:
            cur = np.zeros(stride, np.int32)
            for i in range(stride):
                a = cur[i - bpp] if i >= bpp else 0
                b = prev[i]
                c = prev[i - bpp] if i >= bpp else 0
                if ftype == 3:
                    pred = (a + b) >> 1
                elif ftype == 4:
                    p = a + b - c
                    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                    pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                else:
                    raise InputError(f"image {path!r}: invalid PNG filter type {ftype}")
                cur[i] = (line[i] + pred) & 0xFF
        out[y] = cur
        prev = cur
    img = out.reshape(h, w, channels)
    if ctype == 3:
        if palette is None:
            raise InputError(f"image {path!r}: palette image without a palette")
        return palette[np.minimum(img[..., 0], len(palette) - 1)]
    if ctype == 0:
        return img[..., 0]
    if ctype == 4:
        return img[..., 0]
    return img[..., :3]


def to_gray(img: np.ndarray) -> np.ndarray:
    """(H, W, 3) RGB -> (H, W) with ITU-R 601 weights; grayscale passes through. Returns float32."""
    if img.ndim == 3:
        return (img[..., :3].astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32))
    return img.astype(np.float32)


def resize_area(img: np.ndarray, h: int, w: int) -> np.ndarray:
    """Average-pool a (H, W) image to (h, w) — exact when H, W are multiples of h, w."""
    H, W = img.shape[:2]
    ys = np.linspace(0, H, h + 1).astype(int)
    xs = np.linspace(0, W, w + 1).astype(int)
    out = np.empty((h, w), np.float32)
    for i in range(h):
        for j in range(w):
            out[i, j] = img[ys[i]:max(ys[i + 1], ys[i] + 1), xs[j]:max(xs[j + 1], xs[j] + 1)].mean()
    return out

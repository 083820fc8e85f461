"""Shared set-up for the notebooks: import this checkout's tinyinfer, plot defaults, a text renderer.

    from nbsetup import ROOT, MODELS, PPOCR, render_line
"""
from __future__ import annotations

import os
import sys

NB = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(NB)                 # the repository: tinyinfer/, converters/, models/
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)               # this checkout's tinyinfer, installed or not
MODELS = os.path.join(ROOT, "models")

import numpy as np  # noqa: E402

try:
    import matplotlib
    matplotlib.rcParams.update({"figure.dpi": 72, "savefig.dpi": 72, "figure.figsize": (7, 3),
                                "axes.grid": False, "font.size": 9})
    FONT = os.path.join(os.path.dirname(matplotlib.__file__), "mpl-data", "fonts", "ttf",
                        "DejaVuSans.ttf")
except ImportError:  # pragma: no cover
    FONT = None


def ppocr_dir():
    """Folder of the PP-OCR models shipped in the rapidocr_onnxruntime wheel (no download)."""
    from tinyinfer.ocr import default_models
    return os.path.dirname(default_models()["rec"])


def render_line(text: str, height: int = 48, size: int = 30, pad: int = 12, dark_ink: bool = True):
    """A clean text line as a (height, width) uint8 grey image, rendered with Pillow."""
    from PIL import Image, ImageDraw, ImageFont
    font = ImageFont.truetype(FONT, size)
    x0, y0, x1, y1 = font.getbbox(text)
    w = x1 - x0 + 2 * pad
    img = Image.new("L", (w, height), 255 if dark_ink else 0)
    ImageDraw.Draw(img).text((pad - x0, (height - (y1 - y0)) // 2 - y0), text, font=font,
                             fill=0 if dark_ink else 255)
    return np.asarray(img)

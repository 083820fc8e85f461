"""ImageDecoder — decode an encoded image (JPEG, PNG, BMP, TIFF, WebP, PNM, JPEG 2000) into pixels.

    encoded: uint8 (n,) file bytes  ->  (H, W, 3) uint8 for pixel_format RGB or BGR,
                                        (H, W, 1) uint8 for Grayscale

Decoding uses Pillow (the `image` extra), imported only when the op runs; without Pillow the op
fails with a sentence saying how to install it.
"""
from __future__ import annotations

import io

import numpy as np

from ..errors import ModelError, RuntimeFailure
from ..registry import Op, op

PIXEL_FORMATS = ("RGB", "BGR", "Grayscale")
MAX_PIXELS = 1 << 28   # refuse decompression bombs before allocating


@op("ImageDecoder", since=20)
class ImageDecoder(Op):
    """ImageDecoder(encoded_stream) -> image (H, W, C) uint8."""

    def __init__(self, node, *, pixel_format: str = "RGB"):
        fmt = pixel_format.decode() if isinstance(pixel_format, bytes) else pixel_format
        if fmt not in PIXEL_FORMATS:
            raise ModelError(node, f"pixel_format={fmt!r} must be one of {list(PIXEL_FORMATS)}")
        self.node, self.pixel_format = node, fmt

    def run(self, encoded):
        try:
            from PIL import Image  # optional dependency: pip install tinyinfer[image]
        except ImportError:
            raise RuntimeFailure(self.node, "decoding images needs Pillow, which is not installed; "
                                            "install it with `pip install pillow` (or the "
                                            "tinyinfer[image] extra)") from None
        data = np.asarray(encoded)
        if data.dtype != np.uint8 or data.ndim != 1:
            raise RuntimeFailure(self.node, f"encoded_stream must be a 1-D uint8 tensor; got "
                                            f"{data.dtype} shape {list(data.shape)}")
        try:
            img = Image.open(io.BytesIO(data.tobytes()))
            w, h = img.size
            if w * h > MAX_PIXELS:
                raise RuntimeFailure(self.node, f"the image is {w} x {h} pixels, more than the "
                                                f"{MAX_PIXELS} allowed")
            img = img.convert("L" if self.pixel_format == "Grayscale" else "RGB")
            pixels = np.asarray(img, dtype=np.uint8)
        except RuntimeFailure:
            raise
        except Exception as e:  # Pillow raises many types for bad or unknown data
            raise RuntimeFailure(self.node, f"cannot decode the image: {type(e).__name__}: {e}") from e
        if self.pixel_format == "Grayscale":
            return pixels[:, :, None].copy()                     # (H, W) -> (H, W, 1)
        if self.pixel_format == "BGR":
            return np.ascontiguousarray(pixels[:, :, ::-1])      # RGB -> BGR
        return pixels

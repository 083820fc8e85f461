"""Text detection for DB (Differentiable Binarization) models such as PP-OCR det: the tensor the
model sees, and boxes from the probability map it returns. Parameters are RapidOCR's defaults.

    image (H, W, 3) BGR uint8 -> det_input -> (1, 3, h32, w32) float32, mean 0.5 / std 0.5
    probability map (1, 1, h32, w32) -> db_boxes -> (N, 4, 2) int32 corners in image pixels
        mask = map > 0.3, dilated 2x2 -> 8-connected regions -> minimum-area rectangle
        -> drop short side < 3 -> mean probability inside >= 0.5 -> unclip by
        area * 1.6 / perimeter -> rectangle again -> drop short side < 5 -> scale to image
    sort_boxes: top to bottom, then left to right within 10 pixels of height
"""
from __future__ import annotations

from typing import List, Tuple

import numpy as np

from . import geometry as G
from .resize import resize_linear


def limit_sides(img: np.ndarray, max_side: int = 2000, min_side: int = 30) -> Tuple[np.ndarray, float, float]:
    """RapidOCR's preprocess: shrink a side over max_side, grow one under min_side (to multiples
    of 32). Returns the image and the ratios (original / new) per axis."""
    ratio_h = ratio_w = 1.0
    for limit, too_big in ((max_side, True), (min_side, False)):
        h, w = img.shape[:2]
        side = max(h, w) if too_big else min(h, w)
        if (side > limit) if too_big else (side < limit):
            r = float(limit) / (h if (h > w) == too_big else w)
            rh = int(round(int(h * r) / 32) * 32)
            rw = int(round(int(w * r) / 32) * 32)
            if rh <= 0 or rw <= 0:
                raise ValueError(f"image of {w}x{h} pixels cannot be resized for detection")
            img = resize_linear(img, rw, rh)
            ratio_h, ratio_w = h / rh, w / rw
    return img, ratio_h, ratio_w


def letterbox(img: np.ndarray, min_height: int = 30, max_ratio: float = 8) -> Tuple[np.ndarray, int]:
    """Pad short or very wide images with black rows above and below (RapidOCR's
    maybe_add_letterbox), so a single line still looks like a page. Returns image, top pad."""
    h, w = img.shape[:2]
    if h <= min_height or w / h > max_ratio:
        new_h = max(int(w / max_ratio), min_height) * 2
        pad = int(abs(new_h - h) / 2)
        out = np.zeros((h + 2 * pad, w) + img.shape[2:], img.dtype)
        out[pad:pad + h] = img
        return out, pad
    return img, 0


def det_input(img: np.ndarray, limit_side_len: int = 736) -> np.ndarray:
    """(H, W, 3) uint8 -> (1, 3, h, w) float32: the shorter side scaled up to limit_side_len (if
    smaller), both sides rounded to multiples of 32, (x / 255 - 0.5) / 0.5."""
    h, w = img.shape[:2]
    ratio = 1.0
    if min(h, w) < limit_side_len:
        ratio = float(limit_side_len) / (h if h < w else w)
    rh = int(round(int(h * ratio) / 32) * 32)
    rw = int(round(int(w * ratio) / 32) * 32)
    if rh <= 0 or rw <= 0:
        raise ValueError(f"image of {w}x{h} pixels is too small for text detection")
    x = resize_linear(img, rw, rh).astype(np.float32) * np.float32(1 / 255.0)
    x = (x.astype(np.float64) - 0.5) / 0.5                       # RapidOCR subtracts in float64
    return x.astype(np.float32).transpose(2, 0, 1)[None].copy()   # (H, W, 3) -> (1, 3, H, W)


def db_boxes(prob: np.ndarray, dest_h: int, dest_w: int, thresh: float = 0.3,
             box_thresh: float = 0.5, unclip_ratio: float = 1.6, dilation: bool = True,
             max_candidates: int = 1000) -> Tuple[np.ndarray, List[float]]:
    """(1, 1, h, w) or (h, w) probability map -> boxes (N, 4, 2) int32 in a dest_h x dest_w
    image and their scores."""
    pred = prob.reshape(prob.shape[-2:])
    height, width = pred.shape
    mask = pred > thresh
    if dilation:
        mask = G.dilate2x2(mask)
    boxes, scores = [], []
    for pts in G.regions(mask)[:max_candidates]:
        box, sside = G.min_area_rect(pts)
        if sside < 3:
            continue
        score = box_score(pred, box)
        if box_thresh > score:
            continue
        area, perim = G.polygon_area_perimeter(box)
        grown = G.unclip(box, area * unclip_ratio / perim)
        box, sside = G.min_area_rect(grown)
        if sside < 3 + 2:
            continue
        box = box.astype(np.float32)
        box[:, 0] = np.clip(np.round(box[:, 0] / width * dest_w), 0, dest_w)
        box[:, 1] = np.clip(np.round(box[:, 1] / height * dest_h), 0, dest_h)
        boxes.append(box.astype(np.int32))
        scores.append(score)
    return np.array(boxes, np.int32).reshape(-1, 4, 2), scores


def box_score(pred: np.ndarray, box: np.ndarray) -> float:
    """Mean of the map inside the box (corners truncated to integers, edges included)."""
    h, w = pred.shape
    xmin = int(np.clip(np.floor(box[:, 0].min()), 0, w - 1))
    xmax = int(np.clip(np.ceil(box[:, 0].max()), 0, w - 1))
    ymin = int(np.clip(np.floor(box[:, 1].min()), 0, h - 1))
    ymax = int(np.clip(np.ceil(box[:, 1].max()), 0, h - 1))
    local = (box - np.array([xmin, ymin], np.float32)).astype(np.int32)
    mask = G.fill_mask(local, ymax - ymin + 1, xmax - xmin + 1).astype(bool)
    region = pred[ymin:ymax + 1, xmin:xmax + 1]
    return float(region[mask].astype(np.float64).mean()) if mask.any() else 0.0


def order_clockwise(pts: np.ndarray) -> np.ndarray:
    """4 corners -> [top-left, top-right, bottom-right, bottom-left] (imutils' rule)."""
    xs = pts[np.argsort(pts[:, 0]), :]
    left, right = xs[:2], xs[2:]
    tl, bl = left[np.argsort(left[:, 1]), :]
    tr, br = right[np.argsort(right[:, 1]), :]
    return np.array([tl, tr, br, bl], np.float32)


def filter_boxes(boxes: np.ndarray, h: int, w: int) -> List[np.ndarray]:
    """Order corners, clip them into the image, drop boxes 3 pixels or less across."""
    out = []
    for box in boxes:
        box = order_clockwise(box)
        box[:, 0] = np.floor(np.clip(box[:, 0], 0, w - 1))
        box[:, 1] = np.floor(np.clip(box[:, 1], 0, h - 1))
        if int(np.linalg.norm(box[0] - box[1])) <= 3 or int(np.linalg.norm(box[0] - box[3])) <= 3:
            continue
        out.append(box)
    return out


def sort_boxes(boxes: List[np.ndarray]) -> List[np.ndarray]:
    """Reading order: by top-left (y, x); then neighbours whose tops are within 10 pixels swap
    into left-to-right order (one bubble pass, as PaddleOCR does)."""
    b = sorted(boxes, key=lambda x: (x[0][1], x[0][0]))
    for i in range(len(b) - 1):
        for j in range(i, -1, -1):
            if abs(b[j + 1][0][1] - b[j][0][1]) < 10 and b[j + 1][0][0] < b[j][0][0]:
                b[j], b[j + 1] = b[j + 1], b[j]
            else:
                break
    return b

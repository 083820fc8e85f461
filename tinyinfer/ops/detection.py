"""NonMaxSuppression, RoiAlign, MaxRoiPool — the box ops of detection heads.

    NonMaxSuppression(boxes: (B, n, 4), scores: (B, C, n), max_output_boxes_per_class=0,
                      iou_threshold=0, score_threshold=-inf, center_point_box=0)
        -> (k, 3) int64 rows [batch, class, box]: per (batch, class), boxes with score >
        score_threshold in descending score order (ties: lower index first), each kept unless its
        IoU with an already kept box is > iou_threshold, at most max_output_boxes_per_class.
        Boxes are [y1, x1, y2, x2] (any corner order) or, with center_point_box=1, [xc, yc, w, h].
    RoiAlign(X: (N, C, H, W), rois: (R, 4) [x1, y1, x2, y2], batch_indices: (R,))
        -> (R, C, output_height, output_width): each bin averages (or maxes) bilinear samples on a
        sampling_ratio² grid (adaptive ceil(roi / output) when 0), as onnxruntime does.
    MaxRoiPool(X: (N, C, H, W), rois: (R, 5) [batch, x1, y1, x2, y2], pooled_shape=(ph, pw))
        -> (R, C, ph, pw): max over each bin of the rounded, scaled roi (Caffe's ROIPooling).
"""
from __future__ import annotations

import math

import numpy as np

from ..errors import ModelError, RuntimeFailure
from ..registry import Op, op


def _scalar(v, default):
    if v is None or np.asarray(v).size == 0:
        return default
    return np.asarray(v).reshape(-1)[0]


@op("NonMaxSuppression", since=10)
class NonMaxSuppression(Op):
    def __init__(self, node, *, center_point_box=0):
        self.node, self.center = node, int(center_point_box)

    def run(self, boxes, scores, max_output_boxes_per_class=None, iou_threshold=None,
            score_threshold=None):
        if boxes.ndim != 3 or boxes.shape[2] != 4 or scores.ndim != 3 or \
                scores.shape[0] != boxes.shape[0] or scores.shape[2] != boxes.shape[1]:
            raise RuntimeFailure(self.node, f"boxes {list(boxes.shape)} and scores {list(scores.shape)} "
                                            "must be (B, n, 4) and (B, C, n)")
        max_out = int(_scalar(max_output_boxes_per_class, 0))
        iou_t = float(_scalar(iou_threshold, 0.0))
        score_t = _scalar(score_threshold, None)
        b = boxes.astype(np.float64)
        if self.center:
            xc, yc, w, h = b[..., 0], b[..., 1], b[..., 2], b[..., 3]
            y1, x1, y2, x2 = yc - h / 2, xc - w / 2, yc + h / 2, xc + w / 2
        else:
            y1, x1, y2, x2 = (np.minimum(b[..., 0], b[..., 2]), np.minimum(b[..., 1], b[..., 3]),
                              np.maximum(b[..., 0], b[..., 2]), np.maximum(b[..., 1], b[..., 3]))
        area = (y2 - y1) * (x2 - x1)
        out = []
        if max_out <= 0:
            return np.zeros((0, 3), dtype=np.int64)
        for bi in range(boxes.shape[0]):
            for ci in range(scores.shape[1]):
                s = scores[bi, ci].astype(np.float64)
                cand = np.arange(s.size) if score_t is None else np.nonzero(s > float(score_t))[0]
                order = cand[np.argsort(-s[cand], kind="stable")]
                kept = []
                for i in order:
                    if len(kept) >= max_out:
                        break
                    if kept:
                        k = np.array(kept)
                        ih = np.minimum(y2[bi, i], y2[bi, k]) - np.maximum(y1[bi, i], y1[bi, k])
                        iw = np.minimum(x2[bi, i], x2[bi, k]) - np.maximum(x1[bi, i], x1[bi, k])
                        inter = np.where((ih > 0) & (iw > 0), ih * iw, 0.0)
                        union = area[bi, i] + area[bi, k] - inter
                        ok = (area[bi, i] > 0) & (area[bi, k] > 0) & (union > 0)
                        iou = np.where(ok, inter / np.where(union > 0, union, 1.0), 0.0)
                        if (iou > iou_t).any():
                            continue
                    kept.append(int(i))
                out.extend([bi, ci, i] for i in kept)
        return np.array(out, dtype=np.int64).reshape(-1, 3)


def _bilinear_axis(pos, size):
    """For sample positions (S,) on an axis of `size`: (low, high, w_low, w_high) with zero weight
    for samples outside [-1, size] (onnxruntime's RoiAlign rule)."""
    valid = (pos >= -1.0) & (pos <= size)
    p = np.maximum(pos, 0.0)
    low = np.floor(p).astype(np.int64)
    at_end = low >= size - 1
    low = np.where(at_end, size - 1, low)
    high = np.where(at_end, size - 1, low + 1)
    p = np.where(at_end, low.astype(np.float64), p)
    frac = p - low
    return low, high, np.where(valid, 1 - frac, 0.0), np.where(valid, frac, 0.0)


@op("RoiAlign", since=10)
class RoiAlign(Op):
    def __init__(self, node, *, mode="avg", output_height=1, output_width=1, sampling_ratio=0,
                 spatial_scale=1.0, coordinate_transformation_mode="half_pixel"):
        self.node = node
        if mode not in ("avg", "max"):
            raise ModelError(node, f"mode must be avg or max, found {mode!r}")
        if coordinate_transformation_mode not in ("half_pixel", "output_half_pixel"):
            raise ModelError(node, "coordinate_transformation_mode must be half_pixel or "
                                   f"output_half_pixel, found {coordinate_transformation_mode!r}")
        self.mode, self.oh, self.ow = mode, int(output_height), int(output_width)
        self.sr, self.scale = int(sampling_ratio), float(spatial_scale)
        self.half = coordinate_transformation_mode
        if self.oh < 1 or self.ow < 1:
            raise ModelError(node, "output_height and output_width must be positive")

    def run(self, x, rois, batch_indices):
        half = self.half == "half_pixel" and self.opset >= 16
        n, c, h, w = x.shape
        r = rois.shape[0]
        bi = np.asarray(batch_indices).reshape(-1).astype(np.int64)
        if rois.ndim != 2 or rois.shape[1] != 4 or bi.size != r:
            raise RuntimeFailure(self.node, f"rois {list(rois.shape)} must be (R, 4) with R batch indices")
        if r and (bi.min() < 0 or bi.max() >= n):
            raise RuntimeFailure(self.node, f"batch_indices {bi.tolist()} must lie in [0, {n})")
        out = np.zeros((r, c, self.oh, self.ow), dtype=np.float64)
        off = 0.5 if half else 0.0
        xf = x.astype(np.float64)
        for i in range(r):
            x1, y1, x2, y2 = (float(v) * self.scale - off for v in rois[i])
            rw, rh = x2 - x1, y2 - y1
            if not half:
                rw, rh = max(rw, 1.0), max(rh, 1.0)
            bh, bw = rh / self.oh, rw / self.ow
            gh = self.sr if self.sr > 0 else int(math.ceil(rh / self.oh))
            gw = self.sr if self.sr > 0 else int(math.ceil(rw / self.ow))
            count = max(gh * gw, 1)
            ys = y1 + np.arange(self.oh)[:, None] * bh + (np.arange(gh)[None, :] + 0.5) * bh / max(gh, 1)
            xs = x1 + np.arange(self.ow)[:, None] * bw + (np.arange(gw)[None, :] + 0.5) * bw / max(gw, 1)
            yl, yh, wyl, wyh = _bilinear_axis(ys.reshape(-1), h)    # (oh*gh,)
            xl, xh, wxl, wxh = _bilinear_axis(xs.reshape(-1), w)    # (ow*gw,)
            img = xf[bi[i]]                                          # (C, H, W)
            corners = []
            for yi, wy in ((yl, wyl), (yh, wyh)):
                for xi, wx in ((xl, wxl), (xh, wxh)):
                    v = img[:, yi][:, :, xi]                         # (C, oh*gh, ow*gw)
                    corners.append(v * wy[None, :, None] * wx[None, None, :])
            shape = (c, self.oh, gh, self.ow, gw)
            if self.mode == "avg":
                out[i] = sum(corners).reshape(shape).sum(axis=(2, 4)) / count
            else:
                m = np.maximum.reduce(corners).reshape(shape)
                out[i] = m.max(axis=(2, 4)) if gh * gw else 0.0
        return out.astype(x.dtype)


@op("MaxRoiPool", since=1)
class MaxRoiPool(Op):
    def __init__(self, node, *, pooled_shape, spatial_scale=1.0):
        self.node, self.ps, self.scale = node, [int(v) for v in pooled_shape], float(spatial_scale)
        if len(self.ps) != 2 or min(self.ps) < 1:
            raise ModelError(node, f"pooled_shape must be two positive sizes, found {pooled_shape}")

    def run(self, x, rois):
        n, c, h, w = x.shape
        ph, pw = self.ps
        if rois.ndim != 2 or rois.shape[1] != 5:
            raise RuntimeFailure(self.node, f"rois must be (R, 5), found {list(rois.shape)}")
        out = np.zeros((rois.shape[0], c, ph, pw), dtype=x.dtype)
        for i, roi in enumerate(rois.astype(np.float64)):
            b = int(roi[0])
            if not 0 <= b < n:
                raise RuntimeFailure(self.node, f"roi {i} names batch {b}, outside [0, {n})")
            sw, sh, ew, eh = (int(np.round(v * self.scale)) for v in roi[1:])
            rh, rw = max(eh - sh + 1, 1), max(ew - sw + 1, 1)
            for py in range(ph):
                hs = min(max(int(math.floor(py * rh / ph)) + sh, 0), h)
                he = min(max(int(math.ceil((py + 1) * rh / ph)) + sh, 0), h)
                for px in range(pw):
                    ws = min(max(int(math.floor(px * rw / pw)) + sw, 0), w)
                    we = min(max(int(math.ceil((px + 1) * rw / pw)) + sw, 0), w)
                    if he > hs and we > ws:
                        out[i, :, py, px] = x[b, :, hs:he, ws:we].max(axis=(1, 2))
        return out

"""Plane geometry for text boxes: connected regions, convex hulls, minimum-area rectangles, the
DB "unclip" offset, polygon fill. NumPy and the standard library only.

    regions(mask)            (H, W) bool -> list of (K, 2) int hull-candidate points per 8-connected region
    convex_hull(pts)         (N, 2) -> (M, 2) counter-clockwise, no collinear points
    min_area_rect(pts)       (N, 2) -> (4, 2) float32 corners, short side
    unclip(box, distance)    4 integer corners offset outwards with round joins (Clipper's JT_ROUND)
    fill_mask(poly, h, w)    (h, w) uint8 with the polygon's pixels (edges included) set to 1

A region's outer contour (what cv2.findContours(RETR_LIST) walks) has the same convex hull as
the region's pixels, so regions() returns, per row, the leftmost and rightmost pixel.
"""
from __future__ import annotations

import math
from typing import List, Tuple

import numpy as np


def dilate2x2(mask: np.ndarray) -> np.ndarray:
    """cv2.dilate(mask, ones(2, 2)): out[y, x] = max(mask[y-1:y+1, x-1:x+1]) (anchor at (1, 1))."""
    out = mask.copy()
    out[1:] |= mask[:-1]
    out[:, 1:] |= out[:, :-1].copy()
    return out


def _runs(mask: np.ndarray):
    """Horizontal runs of True: arrays (row, start, end_inclusive), ordered by row then start."""
    h, w = mask.shape
    pad = np.zeros((h, w + 2), np.int8)
    pad[:, 1:-1] = mask
    d = np.diff(pad, axis=1)                     # (H, W + 1): +1 at a run start, -1 after its end
    ry, rs = np.nonzero(d == 1)
    _, re = np.nonzero(d == -1)
    return ry, rs, re - 1


def regions(mask: np.ndarray) -> List[np.ndarray]:
    """8-connected regions of a (H, W) bool mask: for each, (2 * rows, 2) int points (x, y) made of
    the leftmost and rightmost pixel of each of its rows. Regions are ordered by their first pixel
    in raster order."""
    ry, rs, re = _runs(mask)
    n = len(ry)
    parent = list(range(n))

    def find(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    row_start = np.searchsorted(ry, np.arange(mask.shape[0] + 1))
    for y in range(1, mask.shape[0]):
        a0, a1 = row_start[y - 1], row_start[y]   # runs on the previous row
        b0, b1 = a1, row_start[y + 1]
        i, j = a0, b0
        while i < a1 and j < b1:                  # runs overlap 8-wise if [s-1, e+1] meet
            if rs[i] <= re[j] + 1 and rs[j] <= re[i] + 1:
                ri, rj = find(i), find(j)
                if ri != rj:
                    parent[max(ri, rj)] = min(ri, rj)
            if re[i] < re[j]:
                i += 1
            else:
                j += 1
    roots = np.array([find(i) for i in range(n)], np.int64)
    order = np.argsort(roots, kind="stable")
    out = []
    bounds = np.flatnonzero(np.diff(roots[order])) + 1
    for grp in np.split(order, bounds) if n else []:
        ys, xs0, xs1 = ry[grp], rs[grp], re[grp]
        uy, first = np.unique(ys, return_index=True)
        lo = np.minimum.reduceat(xs0, first)      # runs of a region are sorted by row
        hi = np.maximum.reduceat(xs1, first)
        pts = np.concatenate([np.stack([lo, uy], 1), np.stack([hi, uy], 1)])
        out.append(pts.astype(np.int64))
    return out


def convex_hull(pts: np.ndarray) -> np.ndarray:
    """Andrew's monotone chain on (N, 2) points -> (M, 2), counter-clockwise in x-right/y-up terms."""
    p = np.unique(np.asarray(pts, np.float64), axis=0)   # sorted by x, then y
    if len(p) < 3:
        return p

    def half(seq):
        h = []
        for q in seq:
            while len(h) >= 2 and ((h[-1][0] - h[-2][0]) * (q[1] - h[-2][1])
                                   - (h[-1][1] - h[-2][1]) * (q[0] - h[-2][0])) <= 0:
                h.pop()
            h.append(q)
        return h

    pl = [tuple(r) for r in p]
    lower, upper = half(pl), half(pl[::-1])
    return np.array(lower[:-1] + upper[:-1], np.float64)


def min_area_rect(pts: np.ndarray) -> Tuple[np.ndarray, float]:
    """Minimum-area rectangle around points (rotating calipers over hull edges).

    Returns the corners (4, 2) float32 ordered as RapidOCR's get_mini_boxes orders
    cv2.boxPoints (top-left, top-right, bottom-right, bottom-left after sorting by x) and the
    shorter side length.
    """
    hull = convex_hull(pts)
    if len(hull) == 1:
        corners = np.repeat(hull, 4, axis=0)
        return _order(corners.astype(np.float32)), 0.0
    if len(hull) == 2:
        corners = np.array([hull[0], hull[1], hull[1], hull[0]])
        return _order(corners.astype(np.float32)), 0.0
    e = np.roll(hull, -1, axis=0) - hull
    e = e / np.hypot(e[:, 0], e[:, 1])[:, None]                # unit edge directions (M, 2)
    nrm = np.stack([-e[:, 1], e[:, 0]], 1)
    u = hull @ e.T                                            # (M points, M edges)
    v = hull @ nrm.T
    du, dv = u.max(0) - u.min(0), v.max(0) - v.min(0)
    area = du * dv
    k = int(np.argmin(area + 1e-9 * np.arange(len(area))))   # first of equal areas
    a, b = e[k], nrm[k]
    u0, u1, v0, v1 = u[:, k].min(), u[:, k].max(), v[:, k].min(), v[:, k].max()
    corners = np.array([a * u0 + b * v0, a * u1 + b * v0, a * u1 + b * v1, a * u0 + b * v1])
    # snap what is meant to be an integer (axis-aligned rectangles around pixel coordinates)
    r = np.round(corners)
    corners = np.where(np.abs(corners - r) < 1e-6, r, corners)
    return _order(corners.astype(np.float32)), float(min(du[k], dv[k]))


def _order(pts: np.ndarray) -> np.ndarray:
    """RapidOCR's get_mini_boxes order: sort by x; left pair top then bottom, right pair likewise;
    returns [left-top, right-top, right-bottom, left-bottom]."""
    p = sorted(list(pts), key=lambda q: q[0])
    i1, i4 = (0, 1) if p[1][1] > p[0][1] else (1, 0)
    i2, i3 = (2, 3) if p[3][1] > p[2][1] else (3, 2)
    return np.array([p[i1], p[i2], p[i3], p[i4]], np.float32)


def _cround(x: float) -> int:
    """Clipper's Round: halves away from zero."""
    return int(x - 0.5) if x < 0 else int(x + 0.5)


def unclip(box: np.ndarray, distance: float, arc_tolerance: float = 0.25) -> np.ndarray:
    """Offset a closed polygon outwards by `distance` with round joins, as pyclipper's
    PyclipperOffset(JT_ROUND, ET_CLOSEDPOLYGON).Execute(distance) does: vertices are first
    truncated to integers, output vertices are rounded to integers. Returns (K, 2) int64."""
    src = [(int(x), int(y)) for x, y in np.asarray(box)]          # pyclipper truncates floats
    pts = [p for i, p in enumerate(src) if i == 0 or p != src[i - 1]]
    if len(pts) > 1 and pts[0] == pts[-1]:
        pts.pop()
    if len(pts) < 3:
        return np.array(pts, np.int64).reshape(-1, 2)
    area2 = sum(pts[i - 1][0] * pts[i][1] - pts[i][0] * pts[i - 1][1] for i in range(len(pts)))
    if area2 < 0:           # Clipper turns the polygon so that the offset grows it
        pts = pts[::-1]
    delta = float(distance)
    y = arc_tolerance if arc_tolerance <= abs(delta) * 0.25 else abs(delta) * 0.25
    steps = math.pi / math.acos(1 - y / abs(delta)) if delta else 1.0
    steps = min(steps, abs(delta) * math.pi)
    sin_s, cos_s = math.sin(2 * math.pi / steps), math.cos(2 * math.pi / steps)
    steps_per_rad = steps / (2 * math.pi)
    n = len(pts)
    normals = []
    for j in range(n):
        (x1, y1), (x2, y2) = pts[j], pts[(j + 1) % n]
        dx, dy = x2 - x1, y2 - y1
        f = 1.0 / math.sqrt(dx * dx + dy * dy)
        normals.append((dy * f, -dx * f))
    out = []
    k = n - 1
    for j in range(n):
        (nkx, nky), (njx, njy) = normals[k], normals[j]
        px, py = pts[j]
        sin_a = nkx * njy - njx * nky
        if abs(sin_a * delta) < 1.0 and nkx * njx + nky * njy > 0:
            out.append((_cround(px + nkx * delta), _cround(py + nky * delta)))
            k = j
            continue
        sin_a = max(-1.0, min(1.0, sin_a))
        if sin_a * delta < 0:
            out += [(_cround(px + nkx * delta), _cround(py + nky * delta)), (px, py),
                    (_cround(px + njx * delta), _cround(py + njy * delta))]
        else:
            a = math.atan2(sin_a, nkx * njx + nky * njy)
            m = max(_cround(steps_per_rad * abs(a)), 1)
            X, Y = nkx, nky
            for _ in range(m):
                out.append((_cround(px + X * delta), _cround(py + Y * delta)))
                X, Y = X * cos_s - sin_s * Y, X * sin_s + Y * cos_s
            out.append((_cround(px + njx * delta), _cround(py + njy * delta)))
        k = j
    return np.array(out, np.int64)


def polygon_area_perimeter(box: np.ndarray) -> Tuple[float, float]:
    """Shoelace area (absolute) and perimeter of a closed polygon (as shapely's Polygon computes)."""
    p = np.asarray(box, np.float64)
    q = np.roll(p, -1, axis=0)
    area = abs(float(np.sum(p[:, 0] * q[:, 1] - q[:, 0] * p[:, 1]))) / 2
    return area, float(np.sum(np.hypot(*(q - p).T)))


def _line_pixels(x0: int, y0: int, x1: int, y1: int):
    """Pixels of OpenCV's 8-connected Bresenham line from (x0, y0) to (x1, y1), both included:
    one pixel per step along the longer axis; the other axis steps when the error goes negative.
    Like cv::line, it always walks left to right."""
    if x1 < x0:
        x0, y0, x1, y1 = x1, y1, x0, y0
    dx, dy = abs(x1 - x0), abs(y1 - y0)
    sx, sy = (1 if x1 >= x0 else -1), (1 if y1 >= y0 else -1)
    steep = dy > dx
    if steep:
        dx, dy = dy, dx
    err, xs, ys = dx - 2 * dy, [], []
    x, y = x0, y0
    for _ in range(dx + 1):
        xs.append(x)
        ys.append(y)
        minor = err < 0
        err += -2 * dy + (2 * dx if minor else 0)
        if steep:
            y += sy
            x += sx if minor else 0
        else:
            x += sx
            y += sy if minor else 0
    return np.array(xs, np.int64), np.array(ys, np.int64)


def fill_mask(poly: np.ndarray, h: int, w: int) -> np.ndarray:
    """(h, w) uint8 mask of an integer convex polygon with its edges drawn in (like cv2.fillPoly):
    each row is filled between the leftmost and rightmost pixel of the rasterised edges."""
    p = np.asarray(poly, np.int64).reshape(-1, 2)
    lo = np.full(h, np.iinfo(np.int64).max)
    hi = np.full(h, np.iinfo(np.int64).min)
    for (x0, y0), (x1, y1) in zip(p, np.roll(p, -1, axis=0)):
        xs, ys = _line_pixels(int(x0), int(y0), int(x1), int(y1))
        ok = (ys >= 0) & (ys < h)
        np.minimum.at(lo, ys[ok], xs[ok])
        np.maximum.at(hi, ys[ok], xs[ok])
    cols = np.arange(w)
    return ((cols >= lo[:, None]) & (cols <= hi[:, None])).astype(np.uint8)

"""Bilinear and bicubic resampling that give OpenCV's uint8 results, with NumPy alone.

    resize_linear(img, w, h)       == cv2.resize(img, (w, h))               (INTER_LINEAR)
    warp_perspective_cubic(img, M, w, h) ~ cv2.warpPerspective(img, M, (w, h),
                                        flags=INTER_CUBIC, borderMode=BORDER_REPLICATE)

OpenCV resizes uint8 in fixed point: source coordinate fx = (dx + 0.5) * (W / w) - 0.5 (half-pixel
centres), clamped at the borders; weights (1 - f, f) become 11-bit integers (x 2048). The
horizontal pass keeps ints (value * 2048); the vertical pass is a vectorised mul-hi: each row is
shifted >> 4, multiplied by its 11-bit weight keeping the high 16 bits, the two are summed and
rounded >> 2. The warp follows OpenCV 5: float source positions and float cubic weights (a = -0.75);
it agrees with OpenCV to within 1 grey level on a few pixels in ten thousand.
"""
from __future__ import annotations

import numpy as np


def _linear_taps(n_src: int, n_dst: int, clamp: bool):
    """Per destination index: left source index, right index, 11-bit weights (w0, w1).

    Horizontally OpenCV clamps position and weight at the borders (clamp=True); vertically it
    keeps the weights and only clamps which rows are read."""
    scale = 1.0 / (n_dst / n_src)  # OpenCV: scale = 1 / inv_scale, in double
    f = ((np.arange(n_dst) + 0.5) * scale - 0.5).astype(np.float32)
    s = np.floor(f).astype(np.int64)
    f = f - s.astype(np.float32)
    if clamp:
        lo = s < 0
        f[lo], s[lo] = 0, 0
        hi = s >= n_src - 1
        f[hi], s[hi] = 0, n_src - 1
    w1 = np.round(f * 2048).astype(np.int64)          # saturate_cast<short>(f * 2048)
    w0 = np.round((np.float32(1) - f) * 2048).astype(np.int64)
    return np.clip(s, 0, n_src - 1), np.clip(s + 1, 0, n_src - 1), w0, w1


def resize_linear(img: np.ndarray, w: int, h: int) -> np.ndarray:
    """(H, W[, C]) uint8 -> (h, w[, C]) uint8, bit-identical to cv2.resize(..., INTER_LINEAR)."""
    if img.dtype != np.uint8:
        raise TypeError("resize_linear takes uint8 images")
    H, W = img.shape[:2]
    if (H, W) == (h, w):
        return img.copy()
    x0, x1, a0, a1 = _linear_taps(W, w, True)
    y0, y1, b0, b1 = _linear_taps(H, h, False)
    src = img.astype(np.int64)
    shp = (1, -1) + (1,) * (img.ndim - 2)
    rows = src[:, x0] * a0.reshape(shp) + src[:, x1] * a1.reshape(shp)   # (H, w[, C]) value*2048
    r0, r1 = rows[y0] >> 4, rows[y1] >> 4
    shp = (-1, 1) + (1,) * (img.ndim - 2)
    v = ((r0 * b0.reshape(shp)) >> 16) + ((r1 * b1.reshape(shp)) >> 16)
    return np.clip((v + 2) >> 2, 0, 255).astype(np.uint8)


def _cubic_coeffs(x: np.ndarray) -> np.ndarray:
    """OpenCV interpolateCubic in float32 (A = -0.75): (n,) -> (n, 4)."""
    A = np.float32(-0.75)
    x = x.astype(np.float32)
    one = np.float32(1)
    c0 = ((A * (x + one) - np.float32(5) * A) * (x + one) + np.float32(8) * A) * (x + one) - np.float32(4) * A
    c1 = ((A + np.float32(2)) * x - (A + np.float32(3))) * x * x + one
    c2 = ((A + np.float32(2)) * (one - x) - (A + np.float32(3))) * (one - x) * (one - x) + one
    c3 = one - c0 - c1 - c2
    return np.stack([c0, c1, c2, c3], axis=1)


def warp_perspective_cubic(img: np.ndarray, M: np.ndarray, w: int, h: int) -> np.ndarray:
    """(H, W[, C]) uint8 warped by the 3x3 map M (source -> destination) to (h, w[, C]).

    Each destination pixel reads source (X, Y) = (Minv @ [x, y, 1]) dehomogenised, rounded to
    float32; 4x4 taps around floor(X, Y) with float32 cubic weights; rows and columns outside the
    image repeat the edge (BORDER_REPLICATE); the sum is rounded and saturated to uint8.
    """
    Minv = np.linalg.inv(M.astype(np.float64))                    # destination -> source
    H, W = img.shape[:2]
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float64)
    den = Minv[2, 0] * xs + Minv[2, 1] * ys + Minv[2, 2]
    den[den == 0] = np.inf
    X = ((Minv[0, 0] * xs + Minv[0, 1] * ys + Minv[0, 2]) / den).astype(np.float32)
    Y = ((Minv[1, 0] * xs + Minv[1, 1] * ys + Minv[1, 2]) / den).astype(np.float32)
    X = np.clip(X, -4, W + 4)
    Y = np.clip(Y, -4, H + 4)
    sx, sy = np.floor(X).astype(np.int64), np.floor(Y).astype(np.int64)
    cx = _cubic_coeffs((X - sx).ravel()).reshape(h, w, 4).astype(np.float64)
    cy = _cubic_coeffs((Y - sy).ravel()).reshape(h, w, 4).astype(np.float64)
    src = img if img.ndim == 3 else img[..., None]
    acc = np.zeros((h, w, src.shape[2]), np.float64)
    for i in range(4):
        yy = np.clip(sy + (i - 1), 0, H - 1)
        row = np.zeros_like(acc)
        for j in range(4):
            row += cx[..., j, None] * src[yy, np.clip(sx + (j - 1), 0, W - 1)]
        acc += cy[..., i, None] * row
    out = np.clip(np.rint(acc), 0, 255).astype(np.uint8)
    return out if img.ndim == 3 else out[..., 0]


def perspective_transform(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """The 3x3 homography taking 4 points src -> dst (cv2.getPerspectiveTransform): (4, 2) x2 -> (3, 3)."""
    A = np.zeros((8, 8), np.float64)
    b = np.zeros(8, np.float64)
    for i in range(4):
        (x, y), (u, v) = src[i], dst[i]
        A[i] = [x, y, 1, 0, 0, 0, -x * u, -y * u]
        A[i + 4] = [0, 0, 0, x, y, 1, -x * v, -y * v]
        b[i], b[i + 4] = u, v
    return np.append(np.linalg.solve(A, b), 1.0).reshape(3, 3)

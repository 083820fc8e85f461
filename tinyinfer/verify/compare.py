"""How far apart two tensors are — the numbers in every row of `tinyinfer verify`.

    a = ours, b = theirs, d = |a - b| elementwise (float64)
    max_abs  = max d
    max_rel  = max d / |b|   over elements with |b| >= atol (tiny |b| would make it meaningless)
    max_ulp  = max distance in units in the last place of the tensor's float type (float16/32/64;
               integers: max d; other types: None)
    cosine   = <a, b> / (|a| |b|)   (1.0 when both are all zero)
    ok       = every element has d <= atol + rtol * |b|          (numpy.allclose's rule)
NaN at the same place on both sides counts as equal; NaN or inf on one side only is inf error.
A shape or dtype mismatch is reported as such and is never ok.
"""
from __future__ import annotations

from typing import Optional

import numpy as np

from .. import dtypes

_ORDERED = {np.dtype(np.float16): np.int16, np.dtype(np.float32): np.int32,
            np.dtype(np.float64): np.int64}


def _as_float(a: np.ndarray) -> Optional[np.ndarray]:
    if dtypes.is_tagged_float(a.dtype):
        return dtypes.to_float32(a).astype(np.float64)
    if dtypes.is_tagged_int(a.dtype):
        return dtypes.to_int(a).astype(np.float64)
    if a.dtype.kind in "fiub":
        return a.astype(np.float64)
    if a.dtype.kind == "c":
        return None
    return None


def _ordered(a: np.ndarray) -> np.ndarray:
    """Float bits as integers that count ULPs: adjacent floats differ by 1, across zero too."""
    i = a.view(_ORDERED[a.dtype]).astype(np.int64)
    top = np.int64(1) << (8 * a.dtype.itemsize - 1)
    return np.where(i < 0, -(i + top), i)  # -0.0 and +0.0 both map to 0


def compare(a, b, rtol: float, atol: float) -> dict:
    out = {"shape": list(getattr(b, "shape", ())), "dtype": str(getattr(b, "dtype", type(b).__name__)),
           "max_abs": None, "max_rel": None, "max_ulp": None, "cosine": None, "ok": False,
           "note": ""}
    if not isinstance(a, np.ndarray) or not isinstance(b, np.ndarray):
        out["note"] = "not a tensor on both sides"
        out["ok"] = a is None and b is None
        return out
    if a.shape != b.shape:
        out["note"] = f"shape {list(a.shape)} vs {list(b.shape)}"
        out["max_abs"] = float("inf")
        return out
    if a.dtype != b.dtype:
        out["note"] = f"dtype {a.dtype} vs {b.dtype}"
    fa, fb = _as_float(a), _as_float(b)
    if fa is None or fb is None:
        if a.dtype.kind == "c" and b.dtype.kind == "c":
            fa, fb = np.abs(a - b).astype(np.float64), np.zeros(a.shape)
        else:
            same = bool(np.array_equal(a, b))
            out.update(max_abs=0.0 if same else float("inf"), ok=same and not out["note"])
            return out
    if a.size == 0:
        out.update(max_abs=0.0, max_rel=0.0, max_ulp=0, cosine=1.0, ok=not out["note"])
        return out
    both_nan = np.isnan(fa) & np.isnan(fb)
    same_inf = np.isinf(fa) & (fa == fb)
    with np.errstate(invalid="ignore", over="ignore"):
        d = np.abs(fa - fb)
    d = np.where(both_nan | same_inf, 0.0, np.where(np.isnan(d), np.inf, d))
    mag = np.abs(np.where(np.isfinite(fb), fb, 0.0))
    big = mag >= max(atol, 1e-30)
    out["max_abs"] = float(d.max())
    out["max_rel"] = float((d[big] / mag[big]).max()) if big.any() else 0.0
    if a.dtype == b.dtype and a.dtype in _ORDERED:
        u = np.abs(_ordered(np.ascontiguousarray(a)) - _ordered(np.ascontiguousarray(b)))
        u = np.where(both_nan, 0, u)
        out["max_ulp"] = int(u.max())
    elif a.dtype.kind in "iub" and b.dtype.kind in "iub":
        out["max_ulp"] = int(out["max_abs"]) if np.isfinite(out["max_abs"]) else None
    ga, gb = np.where(np.isfinite(fa), fa, 0.0).ravel(), np.where(np.isfinite(fb), fb, 0.0).ravel()
    # plain sums, not BLAS dot: no thread start-up for ~1000 small tensors
    na, nb = float(np.sqrt(np.sum(ga * ga))), float(np.sqrt(np.sum(gb * gb)))
    out["cosine"] = 1.0 if na == 0 and nb == 0 else (float(np.sum(ga * gb)) / (na * nb) if na and nb else 0.0)
    out["ok"] = bool(np.all(d <= atol + rtol * mag)) and not out["note"].startswith("dtype")
    return out

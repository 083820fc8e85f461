"""Calibration: sample inputs in, a (min, max) range per activation tensor out.

    feeds = load_inputs(model, "inputs.npz")                    {input name: (S, ...) array}
    feeds = load_inputs(model, "images/", "size=48x192,mean=0.5,std=0.5,channels=bgr")
    ranges = collect_ranges(model, feeds, names, method="minmax")   {name: (rmin, rmax)}

Methods: minmax (the observed range), percentile (the 0.01 % tails cut off, --percentile), and
entropy (the clipping threshold whose 128-level histogram is closest in KL divergence to the
observed one, TensorRT's method). Samples are fed in batches along the first axis.
"""
from __future__ import annotations

import os
from typing import Dict, Iterable, Optional

import numpy as np
import onnx

from ._common import ConvertError, Progress, input_names, session

IMAGE_EXT = (".png", ".jpg", ".jpeg", ".bmp", ".pgm", ".ppm")


def _declared_shape(m: onnx.ModelProto, name: str):
    for v in m.graph.input:
        if v.name == name and v.type.HasField("tensor_type") and v.type.tensor_type.HasField("shape"):
            return [d.dim_value if d.HasField("dim_value") else None for d in v.type.tensor_type.shape.dim]
    return None


def _check(m: onnx.ModelProto, name: str, a: np.ndarray, source: str) -> np.ndarray:
    shape = _declared_shape(m, name)
    if a.dtype.kind == "f":
        a = a.astype(np.float32)
    if shape is None:
        return a
    if a.ndim != len(shape):
        raise ConvertError(f"{source}: calibration data for input {name!r} has shape {list(a.shape)} "
                           f"but the model expects rank {len(shape)} "
                           f"{['?' if d is None else d for d in shape]} (first axis = samples)")
    for axis, (want, got) in enumerate(zip(shape, a.shape)):
        if axis and want and want != got:
            raise ConvertError(f"{source}: calibration data for input {name!r} has shape {list(a.shape)} "
                               f"but the model expects {['?' if d is None else d for d in shape]}")
    if len(a) == 0:
        raise ConvertError(f"{source}: calibration data for input {name!r} has no samples")
    return a


def parse_spec(spec: str) -> dict:
    """'size=48x192,mean=0.5,std=0.5,scale=0.00392,channels=bgr' -> dict (all optional)."""
    out = {}
    for part in filter(None, (spec or "").split(",")):
        if "=" not in part:
            raise ConvertError(f"preprocessing spec {spec!r}: expected key=value, got {part!r}")
        k, v = (s.strip() for s in part.split("=", 1))
        try:
            if k == "size":
                h, w = v.lower().split("x")
                out[k] = (int(h), int(w))
            elif k in ("mean", "std"):
                out[k] = [float(x) for x in v.split("/")]
            elif k == "scale":
                out[k] = float(eval(v, {"__builtins__": {}})) if "/" in v else float(v)
            elif k == "channels":
                if v.lower() not in ("rgb", "bgr", "gray"):
                    raise ValueError
                out[k] = v.lower()
            else:
                raise ConvertError(f"preprocessing spec: unknown key {k!r} (size, mean, std, scale, channels)")
        except (ValueError, SyntaxError, ZeroDivisionError, TypeError):
            raise ConvertError(f"preprocessing spec: bad value {v!r} for {k!r}") from None
    return out


def _resize(img: np.ndarray, h: int, w: int) -> np.ndarray:
    """(H, W, C) float -> (h, w, C), bilinear with half-pixel centres."""
    H, W = img.shape[:2]
    ys = np.clip((np.arange(h) + 0.5) * H / h - 0.5, 0, H - 1)
    xs = np.clip((np.arange(w) + 0.5) * W / w - 0.5, 0, W - 1)
    y0, x0 = ys.astype(int), xs.astype(int)
    y1, x1 = np.minimum(y0 + 1, H - 1), np.minimum(x0 + 1, W - 1)
    fy, fx = (ys - y0)[:, None, None], (xs - x0)[None, :, None]
    top = img[y0][:, x0] * (1 - fx) + img[y0][:, x1] * fx
    bot = img[y1][:, x0] * (1 - fx) + img[y1][:, x1] * fx
    return (top * (1 - fy) + bot * fy).astype(np.float32)


def load_images(m: onnx.ModelProto, folder: str, spec: str = "") -> Dict[str, np.ndarray]:
    from tinyinfer.errors import TinyInferError
    from tinyinfer.vision.image import read_image

    names = input_names(m)
    if len(names) != 1:
        raise ConvertError(f"a folder of images can calibrate a one-input model only; this one has {names}")
    files = sorted(f for f in os.listdir(folder) if f.lower().endswith(IMAGE_EXT))
    if not files:
        raise ConvertError(f"{folder}: no images ({', '.join(IMAGE_EXT)}) in the folder")
    shape = _declared_shape(m, names[0]) or [None] * 4
    if len(shape) != 4:
        raise ConvertError(f"input {names[0]!r} has rank {len(shape)}; images need an (N, C, H, W) input")
    p = parse_spec(spec)
    c = shape[1] or (1 if p.get("channels") == "gray" else 3)
    if "size" in p:
        h, w = p["size"]
    elif shape[2] and shape[3]:
        h, w = shape[2], shape[3]
    else:
        raise ConvertError(f"input {names[0]!r} has no fixed height/width: give size=HxW in --preprocess")
    mean = np.array(p.get("mean", [0.0]), np.float32)
    std = np.array(p.get("std", [1.0]), np.float32)
    scale = p.get("scale", 1 / 255)
    out = []
    for f in files:
        try:
            img = read_image(os.path.join(folder, f)).astype(np.float32)
        except TinyInferError as e:
            raise ConvertError(f"{os.path.join(folder, f)}: {e}") from None
        if img.ndim == 2:
            img = img[:, :, None]
        if c == 1 and img.shape[2] == 3:
            img = img @ np.array([0.299, 0.587, 0.114], np.float32)[:, None]
        elif c == 3 and img.shape[2] == 1:
            img = np.repeat(img, 3, axis=2)
        if c == 3 and p.get("channels") == "bgr":
            img = img[:, :, ::-1]
        img = (_resize(img, h, w) * scale - mean) / std
        out.append(img.transpose(2, 0, 1))
    return {names[0]: np.stack(out).astype(np.float32)}


def load_inputs(m: onnx.ModelProto, data, spec: str = "") -> Dict[str, np.ndarray]:
    """Calibration inputs from a dict, a .npz file or a folder of images."""
    names = input_names(m)
    if isinstance(data, dict):
        arrays, source = data, "calibration data"
    else:
        data = os.fspath(data)
        if os.path.isdir(data):
            return load_images(m, data, spec)
        if not os.path.isfile(data):
            raise ConvertError(f"{data}: no such file or folder")
        try:
            with np.load(data, allow_pickle=False) as z:
                arrays = {k: z[k] for k in z.files}
        except Exception as e:
            raise ConvertError(f"{data}: not a .npz file of arrays ({type(e).__name__})") from None
        source = data
    feeds = {n: arrays[n] for n in names if n in arrays}
    if len(names) == 1 and not feeds:
        rest = [k for k in arrays if k not in ("y", "label", "labels", "texts")]
        key = "x" if "x" in arrays else (rest[0] if len(rest) == 1 else None)
        if key is None:
            raise ConvertError(f"{source}: no array named {names[0]!r} or 'x' (found {sorted(arrays)})")
        feeds = {names[0]: arrays[key]}
    missing = [n for n in names if n not in feeds]
    if missing:
        raise ConvertError(f"{source}: no calibration data for input {missing[0]!r} (found {sorted(arrays)})")
    feeds = {n: _check(m, n, np.asarray(a), source) for n, a in feeds.items()}
    counts = {len(a) for a in feeds.values()}
    if len(counts) != 1:
        raise ConvertError(f"{source}: inputs have different sample counts {sorted(counts)}")
    return feeds


def batches(m: onnx.ModelProto, feeds: Dict[str, np.ndarray], limit: Optional[int] = None, size: int = 16):
    """Slices of the samples; batch 1 when the model fixes the first axis."""
    n = min(len(next(iter(feeds.values()))), limit or 10**12)
    fixed = any((_declared_shape(m, k) or [None])[0] for k in feeds)
    step = 1 if fixed else size
    for i in range(0, n, step):
        yield {k: v[i:i + step] for k, v in feeds.items()}


def _entropy_threshold(hist: np.ndarray, edges: np.ndarray, levels: int = 128) -> float:
    """The |x| threshold whose `levels`-bin quantised histogram diverges least (KL) from hist."""
    best, best_t = np.inf, edges[-1]
    nbins = len(hist)
    for i in range(levels, nbins + 1, max(1, nbins // 128)):
        p = hist[:i].astype(np.float64).copy()
        p[i - 1] += hist[i:].sum()
        chunks = np.array_split(hist[:i].astype(np.float64), levels)
        q = np.concatenate([np.where(c > 0, c.sum() / max((c > 0).sum(), 1), 0) for c in chunks])
        ps, qs = p / p.sum(), q / max(q.sum(), 1e-12)
        mask = ps > 0
        kl = np.sum(ps[mask] * np.log(ps[mask] / np.maximum(qs[mask], 1e-12)))
        if kl < best:
            best, best_t = kl, edges[i]
    return float(best_t)


def collect_ranges(m: onnx.ModelProto, feeds, names: Iterable[str], method: str = "minmax",
                   percentile: float = 99.99, limit: Optional[int] = None, quiet: bool = False,
                   label: str = "calibrating") -> Dict[str, tuple]:
    names = list(dict.fromkeys(names))
    sess = session(m, names)
    outs = [o.name for o in sess.get_outputs()]
    lo = {n: np.inf for n in names}
    hi = {n: -np.inf for n in names}
    keep = {n: [] for n in names} if method != "minmax" else None
    rng = np.random.default_rng(0)
    chunks = list(batches(m, feeds, limit))
    bar = Progress(len(chunks), label, quiet)
    for feed in chunks:
        values = dict(zip(outs, sess.run(None, feed)))
        for n in names:
            v = np.asarray(values[n], np.float32).reshape(-1)
            if v.size == 0:
                continue
            lo[n], hi[n] = min(lo[n], float(v.min())), max(hi[n], float(v.max()))
            if keep is not None:
                keep[n].append(v if v.size <= 200_000 else rng.choice(v, 200_000, replace=False))
        bar.step()
    ranges = {}
    for n in names:
        if not np.isfinite(lo[n]):
            lo[n] = hi[n] = 0.0
        if method == "percentile":
            v = np.concatenate(keep[n]) if keep[n] else np.zeros(1, np.float32)
            ranges[n] = (float(np.percentile(v, 100 - percentile)), float(np.percentile(v, percentile)))
        elif method == "entropy":
            v = np.abs(np.concatenate(keep[n])) if keep[n] else np.zeros(1, np.float32)
            top = float(v.max()) or 1.0
            hist, edges = np.histogram(v, bins=2048, range=(0, top))
            t = _entropy_threshold(hist, edges)
            ranges[n] = (max(lo[n], -t), min(hi[n], t))
        elif method == "minmax":
            ranges[n] = (lo[n], hi[n])
        else:
            raise ConvertError(f"unknown calibration method {method!r} (minmax, percentile, entropy)")
    return ranges

"""Bundles and test-data folders: the files that carry tensors between runtimes (NumPy only).

    BUNDLE.npz          one array per value, keyed by the ONNX value name (inputs, every
                        intermediate, outputs) + "__tinyinfer__": a JSON note (uint8 bytes) with
                        the producer, the input and output names. Any runtime that can write an
                        .npz keyed by value name makes a bundle; the note is optional.
    test_data_set_0/    ONNX's own layout: input_0.pb, input_1.pb, ... output_0.pb, ...: one
                        TensorProto each, in the order of the model's inputs and outputs.

    load_inputs(path, session)   .npz, .npy, .pb, a test-data folder, or an image  -> feeds
"""
from __future__ import annotations

import glob
import json
import os
from typing import Dict, Optional, Tuple

import numpy as np

from ..errors import InputError

META_KEY = "__tinyinfer__"
IMAGE_EXTS = (".png", ".jpg", ".jpeg", ".bmp", ".pgm", ".ppm", ".pnm", ".webp", ".tif", ".tiff")


def _storable(v):
    """An array np.savez can write without pickle (strings become fixed-width unicode)."""
    if not isinstance(v, np.ndarray):
        return None
    if v.dtype == object:
        try:
            return v.astype(str)
        except (TypeError, ValueError):
            return None
    return v


def save_bundle(path: str, values: Dict[str, np.ndarray], meta: Optional[dict] = None) -> int:
    """Write `values` to an .npz; returns how many arrays were stored (sequences etc. are not)."""
    arrays = {k: a for k, a in ((k, _storable(v)) for k, v in values.items()) if a is not None}
    if meta is not None:
        arrays[META_KEY] = np.frombuffer(json.dumps(meta).encode("utf-8"), np.uint8)
    np.savez(path, **arrays)
    return len(arrays) - (meta is not None)


def load_bundle(path: str) -> Tuple[Dict[str, np.ndarray], dict]:
    if not os.path.isfile(path):
        raise InputError(f"bundle {path!r} not found")
    try:
        data = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as e:
        raise InputError(f"cannot read bundle {path!r} as .npz: {e}") from None
    if not isinstance(data, np.lib.npyio.NpzFile):
        raise InputError(f"bundle {path!r} is a single .npy array; a bundle is an .npz keyed by "
                         "value name")
    values, meta = {}, {}
    for k in data.files:
        if k == META_KEY:
            try:
                meta = json.loads(bytes(data[k]).decode("utf-8"))
            except ValueError:
                meta = {}
        else:
            values[k] = data[k]
    return values, meta


# -- ONNX test-data folders -------------------------------------------------------------------
def write_test_data(folder: str, inputs: Dict[str, np.ndarray], outputs: Dict[str, np.ndarray],
                    index: int = 0) -> str:
    """folder/test_data_set_<index>/input_<i>.pb and output_<i>.pb; returns that sub-folder."""
    from ..onnx.writer import save_tensor

    where = os.path.join(folder, f"test_data_set_{index}")
    os.makedirs(where, exist_ok=True)
    for kind, tensors in (("input", inputs), ("output", outputs)):
        for i, (name, a) in enumerate(tensors.items()):
            save_tensor(os.path.join(where, f"{kind}_{i}.pb"), a, name)
    return where


def read_pb(path: str) -> Tuple[str, np.ndarray]:
    """(name stored in the TensorProto, or '', array)."""
    from ..onnx import load_tensor
    from ..onnx.tensor import parse

    with open(path, "rb") as f:
        data = f.read()
    return parse(data, 0, len(data)).name, load_tensor(data)


def read_test_data(folder: str, input_names, output_names=()) -> Tuple[dict, dict]:
    """Inputs and outputs of a test-data folder (or the first test_data_set_* inside it).
    Tensors without a stored name take the model's name at their position."""
    sets = sorted(glob.glob(os.path.join(folder, "test_data_set_*")))
    if not glob.glob(os.path.join(folder, "input_*.pb")) and sets:
        folder = sets[0]
    found = []
    for kind, names in (("input", list(input_names)), ("output", list(output_names))):
        files = sorted(glob.glob(os.path.join(folder, f"{kind}_*.pb")),
                       key=lambda p: int(os.path.basename(p)[len(kind) + 1:-3] or 0))
        tensors = {}
        for i, path in enumerate(files):
            name, a = read_pb(path)
            if not name:
                if i >= len(names):
                    raise InputError(f"{path}: the model has only {len(names)} {kind}s")
                name = names[i]
            tensors[name] = a
        found.append(tensors)
    if not found[0]:
        raise InputError(f"{folder!r} holds no input_*.pb files (nor a test_data_set_* folder "
                         "with them)")
    return found[0], found[1]


# -- inputs from any of the above ------------------------------------------------------------
def load_inputs(path: str, session, shapes: Optional[dict] = None) -> Dict[str, np.ndarray]:
    """Feeds for `session` from an .npz (only keys naming inputs are taken), .npy, .pb, a
    test-data folder, or an image (see image_feed)."""
    names = [a.name for a in session.get_inputs()]
    if os.path.isdir(path):
        return read_test_data(path, names)[0]
    if not os.path.isfile(path):
        raise InputError(f"input file {path!r} not found")
    low = path.lower()
    if low.endswith(".pb"):
        name, a = read_pb(path)
        return {name or _only(names, path): a}
    if low.endswith(IMAGE_EXTS):
        return image_feed(path, session, shapes or {})
    try:
        data = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as e:
        raise InputError(f"cannot read input file {path!r} as .npy/.npz: {e}") from None
    if isinstance(data, np.lib.npyio.NpzFile):
        feeds = {k: data[k] for k in data.files if k in names}
        if not feeds:
            raise InputError(f"{path!r} has no array named after an input of the model "
                             f"(inputs are {names}; the file has {data.files[:5]})")
        return feeds
    return {_only(names, path): data}


def _only(names, path) -> str:
    if len(names) != 1:
        raise InputError(f"{path!r} holds one unnamed tensor but the model has inputs {names}")
    return names[0]


def image_feed(path: str, session, shapes: dict) -> Dict[str, np.ndarray]:
    """An image as the model's single (N, C, H, W) float input: resized (area average) to H x W
    (the declared or --shape size; 48 x 192 when symbolic), scaled to [-1, 1] as PP-OCR and most
    exported vision models expect: x = (pixel / 255 - 0.5) / 0.5."""
    from ..vision.image import read_image, resize_area

    arg = session.get_inputs()[0]
    shape = list(shapes.get(arg.name) or arg.shape or [1, 3, 48, 192])
    if len(shape) != 4:
        raise InputError(f"an image can feed only a 4-D (N, C, H, W) input; {arg.name!r} is "
                         f"{arg.shape}")
    c = shape[1] if isinstance(shape[1], int) else 3
    h = shape[2] if isinstance(shape[2], int) and shape[2] > 0 else 48
    w = shape[3] if isinstance(shape[3], int) and shape[3] > 0 else 192
    img = read_image(path)
    img = img[..., None] if img.ndim == 2 else img
    planes = [resize_area(img[..., min(k, img.shape[2] - 1)].astype(np.float32), h, w)
              for k in range(c)]
    x = (np.stack(planes)[None] / 255.0 - 0.5) / 0.5  # (1, C, H, W)
    return {arg.name: x.astype(np.float32)}

"""Inputs for a model from files or at random — shared by `tinyinfer run`, `bench` and `verify`.

    parse_shape("1x3x48x192") -> (1, 3, 48, 192)
    random_feeds(session, {"x": (1, 3, 48, 192)}, seed=0) -> {"x": array}
    load_feeds(["x=img.npy"]) / load_feeds(["inputs.npz"]) -> {"x": array}
"""
from __future__ import annotations

import os
from typing import Dict, Iterable, Optional, Tuple

import numpy as np

from . import dtypes
from .errors import InputError

DEFAULT_DIM = 32  # what a symbolic or unknown dim becomes when no --shape is given (axis 0: 1)


def parse_shape(text: str) -> Tuple[int, ...]:
    try:
        dims = tuple(int(d) for d in text.lower().replace(",", "x").split("x") if d != "")
    except ValueError:
        raise InputError(f"shape {text!r} is not of the form 1x3x224x224") from None
    if any(d < 0 for d in dims):
        raise InputError(f"shape {text!r} has a negative dimension")
    return dims


def parse_assignments(items: Iterable[str], what: str) -> Dict[str, str]:
    out = {}
    for item in items or ():
        name, sep, value = item.partition("=")
        if not sep:
            raise InputError(f"{what} {item!r} must look like name=value")
        out[name] = value
    return out


def concrete_shape(arg, given: Optional[Tuple[int, ...]]) -> Tuple[int, ...]:
    if given is not None:
        if arg.shape is not None and len(given) != len(arg.shape):
            raise InputError(f"input {arg.name!r} has rank {len(arg.shape)} "
                             f"({arg.shape}); --shape gave {len(given)} dims")
        return given
    if arg.shape is None:
        raise InputError(f"input {arg.name!r} has no declared shape; give one with "
                         f"--shape {arg.name}=1x3x224x224")
    return tuple(d if isinstance(d, int) else (1 if i == 0 else DEFAULT_DIM)
                 for i, d in enumerate(arg.shape))


def random_array(type_string: str, shape, rng: np.random.Generator) -> np.ndarray:
    name = type_string[len("tensor("):-1] if type_string.startswith("tensor(") else "float"
    code = next((k for k, v in dtypes.ONNX_NAMES.items() if v == name), dtypes.FLOAT)
    dt = dtypes.ONNX_TO_NUMPY.get(code, np.dtype(np.float32))
    if dt.kind == "f":
        return rng.standard_normal(shape).astype(dt)
    if dt.kind in "iu":
        return rng.integers(0, 10, size=shape).astype(dt)
    if dt.kind == "b":
        return rng.integers(0, 2, size=shape).astype(bool)
    if dt == object:
        return np.array([f"s{i}" for i in range(int(np.prod(shape)))], dtype=object).reshape(shape)
    raise InputError(f"cannot make random values of type {type_string}; pass an input file")


def random_feeds(session, shapes: Dict[str, Tuple[int, ...]], seed: int = 0) -> Dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {a.name: random_array(a.type, concrete_shape(a, shapes.get(a.name)), rng)
            for a in session.get_inputs()}


def load_feeds(items: Iterable[str], session=None) -> Dict[str, np.ndarray]:
    """`name=file.npy` pairs, or a bare `.npz` whose keys are input names."""
    feeds = {}
    names = [a.name for a in session.get_inputs()] if session is not None else []
    for item in items or ():
        name, sep, path = item.partition("=")
        if not sep:
            path, name = item, None
        if not os.path.isfile(path):
            raise InputError(f"input file {path!r} not found")
        try:
            data = np.load(path, allow_pickle=False)
        except (OSError, ValueError) as e:
            raise InputError(f"cannot read input file {path!r} as .npy/.npz: {e}") from None
        if isinstance(data, np.lib.npyio.NpzFile):
            feeds.update({k: data[k] for k in data.files})
        else:
            if name is None:
                if len(names) != 1:
                    raise InputError(f"{path!r}: say which input it is (name={path})")
                name = names[0]
            feeds[name] = data
    return feeds

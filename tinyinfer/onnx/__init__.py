"""Reading ONNX files with no `onnx` or `protobuf` package: bytes → ir.Model.

    load_model(path_or_bytes) -> ir.Model       (functions expanded, external data read)
    load_tensor(path_or_bytes) -> np.ndarray    (a serialized TensorProto, e.g. input_0.pb)
"""
from __future__ import annotations

import os
from typing import Optional, Union

import numpy as np

from .. import ir
from ..errors import DecodeError, ModelError
from .functions import expand_functions
from .reader import MAX_NESTING, Reader, read_tensor_bytes

__all__ = ["load_model", "load_tensor", "read_bytes"]


def read_bytes(path_or_bytes: Union[str, bytes, os.PathLike]):
    """(bytes, folder or None, path or None)."""
    if isinstance(path_or_bytes, (bytes, bytearray, memoryview)):
        return bytes(path_or_bytes), None, None
    path = os.fspath(path_or_bytes)
    if not os.path.exists(path):
        raise ModelError(f"model file {path!r} does not exist")
    if os.path.isdir(path):
        raise ModelError(f"{path!r} is a folder, not an ONNX model file")
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise ModelError(f"cannot read model file {path!r}: {e.strerror}") from None
    return data, os.path.dirname(os.path.abspath(path)), path


def load_model(path_or_bytes, *, expand: bool = True, max_nesting: int = MAX_NESTING,
               base_dir: Optional[str] = None) -> ir.Model:
    data, folder, path = read_bytes(path_or_bytes)
    if not data:
        raise ModelError(f"model {path or '<bytes>'} is empty (0 bytes)")
    try:
        model = Reader(data, base_dir or folder, max_nesting).model()
    except DecodeError as e:
        raise DecodeError(f"{path or 'the model bytes'} is not a valid ONNX file ({e})") from None
    except ModelError as e:
        if path:
            raise type(e)(f"{path}: {e}") from None
        raise
    from dataclasses import replace
    model = replace(model, path=path)
    return expand_functions(model) if expand else model


def load_tensor(path_or_bytes) -> np.ndarray:
    data, folder, _ = read_bytes(path_or_bytes)
    return read_tensor_bytes(data, folder)

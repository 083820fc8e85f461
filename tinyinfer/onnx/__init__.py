"""Reading ONNX files with no `onnx` or `protobuf` package: bytes → ir.Model.

    load_model(path_or_bytes) -> ir.Model       (functions expanded, external data read)
    load_tensor(path_or_bytes) -> np.ndarray    (a serialized TensorProto, e.g. input_0.pb)
"""
from __future__ import annotations

import os
from typing import Optional, Union

import numpy as np

from .. import ir
from ..errors import DecodeError, ModelError, NestingLimitError, ResourceLimitError
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
    if not os.path.isfile(path):  # a FIFO or device would never end (/dev/zero) or block
        raise ModelError(f"{path!r} is not a regular file")
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise ModelError(f"cannot read model file {path!r}: {e.strerror}") from None
    return data, os.path.dirname(os.path.abspath(path)), path


def load_model(path_or_bytes, *, expand: bool = True, max_nesting: int = MAX_NESTING,
               base_dir: Optional[str] = None, budgets=None) -> ir.Model:
    """``budgets`` (budgets.Budgets) bounds sub-graph and type nesting, bytes per tensor and
    nodes; without it only the nesting limits apply."""
    data, folder, path = read_bytes(path_or_bytes)
    if not data:
        raise ModelError(f"model {path or '<bytes>'} is empty (0 bytes)")
    limits = {}
    if budgets is not None:
        limits = dict(max_nesting=_finite(budgets.max_subgraph_depth) or 10 ** 9,
                      max_type_nesting=_finite(budgets.max_protobuf_nesting) or 10 ** 9,
                      max_tensor_bytes=_finite(budgets.max_tensor_bytes),
                      max_nodes=_finite(budgets.max_nodes))
    else:
        limits = dict(max_nesting=max_nesting, max_type_nesting=max_nesting)
    try:
        model = Reader(data, base_dir or folder, **limits).model()
        model = expand_functions(model, limits.get("max_nodes")) if expand else model
    except DecodeError as e:
        raise DecodeError(f"{path or 'the model bytes'} is not a valid ONNX file ({e})") from None
    except ModelError as e:
        if path:
            raise type(e)(f"{path}: {e}") from None
        raise
    except ResourceLimitError as e:
        if path:
            raise type(e)(f"{path}: {e}") from None
        raise
    except RecursionError:  # a budget above was set higher than Python's stack allows
        raise NestingLimitError(f"{path or 'the model'} nests too deeply for Python's stack; "
                                "lower max_subgraph_depth / max_protobuf_nesting") from None
    from dataclasses import replace
    return replace(model, path=path)


def _finite(v):
    return None if v is None or v == float("inf") else int(v)


def load_tensor(path_or_bytes) -> np.ndarray:
    data, folder, _ = read_bytes(path_or_bytes)
    return read_tensor_bytes(data, folder)

"""Small helpers shared by op implementations (axis handling, attribute checks).

Keep this file to helpers that several op files need; one idea each, each with a docstring.
"""
from __future__ import annotations

import struct
import sys
from typing import Iterable, List, Optional

import numpy as np

from .. import budgets
from ..errors import ModelError, RuntimeFailure, TensorSizeLimitError


def normalize_axis(axis: int, rank: int, node=None, what: str = "axis") -> int:
    """Map a possibly negative axis into [0, rank); a clear error when out of range."""
    a = int(axis)
    if not -rank <= a < max(rank, 1) or (rank == 0 and a not in (0, -1)):
        raise RuntimeFailure(node, f"{what}={axis} is out of range for a tensor of rank {rank}")
    return a + rank if a < 0 else a


def normalize_axes(axes: Iterable[int], rank: int, node=None, what: str = "axes") -> List[int]:
    out = [normalize_axis(a, rank, node, what) for a in axes]
    if len(set(out)) != len(out):
        raise RuntimeFailure(node, f"{what}={list(axes)} repeats an axis")
    return out


def as_int_list(x: Optional[np.ndarray]) -> Optional[List[int]]:
    """A 0-D/1-D integer tensor input (axes, shape, pads ...) as a Python list; None stays None."""
    if x is None:
        return None
    return [int(v) for v in np.asarray(x).reshape(-1)]


def require(cond: bool, node, message: str, model_error: bool = True) -> None:
    """Raise a ModelError (or RuntimeFailure) naming the node when ``cond`` is false."""
    if not cond:
        raise (ModelError if model_error else RuntimeFailure)(node, message)


DEFAULT_MAX_LOOP_ITERATIONS = 10 ** 7


def loop_budget(ctx) -> float:
    """How many iterations a Loop/Scan may run: ``max_loop_iterations`` from the session options
    (attribute or config entry ``tinyinfer.max_loop_iterations``; 0 = no limit), else 10**7."""
    return budgets.from_options(getattr(ctx, "options", None)).max_loop_iterations


def empty_like_type(type_info, node=None) -> np.ndarray:
    """Zeros shaped like a declared ir.TypeInfo (unknown dims taken as 0, unknown type float).

    Control flow takes its dtype and shape for the outputs of a loop that ran zero times."""
    from .. import dtypes

    elem = getattr(type_info, "elem_type", 0) or dtypes.FLOAT
    shape = getattr(type_info, "shape", None) or ()
    dims = [d if isinstance(d, int) and d >= 0 else 0 for d in shape]
    return np.zeros(dims, dtype=dtypes.to_numpy(elem))


MAX_ELEMENTS = 2 ** 31


def check_output_size(shape, node, what: str = "output", itemsize: int = 1) -> None:
    """Refuse, before allocating, a shape with a negative dim, over 2**31 elements, or over the
    session's max_tensor_bytes (TensorSizeLimitError, a RuntimeFailure naming the node).

    For ops whose output size comes from data (Expand, Tile, ConstantOfShape, Range, OneHot ...),
    so an untrusted model cannot make us allocate without bound.
    """
    n = 1
    for d in shape:
        d = int(d)
        if d < 0:
            raise RuntimeFailure(node, f"the {what} shape {list(shape)} has a negative dimension")
        n *= d
    if n > MAX_ELEMENTS:
        raise TensorSizeLimitError(node, f"the {what} would have {n} elements (shape {list(shape)}), "
                                         f"more than the limit of 2**31")
    if n * itemsize > sys.maxsize:  # 32-bit: NumPy cannot address 2**31 bytes in one array
        raise TensorSizeLimitError(node, f"the {what} would need {n * itemsize:,} bytes (shape "
                                         f"{list(shape)}), more than this {8 * struct.calcsize('P')}"
                                         f"-bit platform can address in one array")
    limit = budgets.max_tensor_bytes()
    if n * itemsize > limit:
        raise TensorSizeLimitError(node, f"the {what} would need {n * itemsize:,} bytes (shape "
                                         f"{list(shape)}), over {budgets.limit_text('max_tensor_bytes', limit)}")


def bfloat16_to_float32(x: np.ndarray) -> np.ndarray:
    """Decode a tagged bfloat16 array to float32 (exact: bfloat16 is float32's top 16 bits)."""
    bits = np.ascontiguousarray(x).view(np.uint16).astype(np.uint32) << 16
    return bits.view(np.float32).reshape(x.shape)


def float32_to_bfloat16(x: np.ndarray) -> np.ndarray:
    """Encode float32 as tagged bfloat16, rounding to nearest even (NaN stays NaN)."""
    from ..dtypes import bfloat16

    f = np.ascontiguousarray(x, dtype=np.float32)
    bits = f.view(np.uint32)
    rounded = ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16).astype(np.uint16)
    rounded = np.where(np.isnan(f), np.uint16(0x7FC0), rounded).astype(np.uint16)
    return rounded.view(bfloat16).reshape(f.shape)


def float_compute(x: Optional[np.ndarray]) -> Optional[np.ndarray]:
    """A float input as an array NumPy can compute on: bfloat16 (tagged) decoded to float32.

    Other dtypes pass through unchanged; pair with ``float_restore`` to encode the result."""
    if x is None or x.dtype.names is None:
        return x
    if x.dtype.names[0] != "bfloat16":
        raise TypeError(f"cannot compute on {x.dtype.names[0]} here")
    return bfloat16_to_float32(x)


def float_restore(y: np.ndarray, dtype) -> np.ndarray:
    """Encode a computed float array as ``dtype``; bfloat16 rounds to nearest even, NaN stays NaN."""
    dtype = np.dtype(dtype)
    if dtype.names is None:
        return np.asarray(y).astype(dtype, copy=False)
    if dtype.names[0] != "bfloat16":
        raise TypeError(f"cannot encode a computed result as {dtype.names[0]} here")
    return float32_to_bfloat16(y)

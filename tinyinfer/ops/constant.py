"""Constant, ConstantOfShape, EyeLike, Range — tensors made from attributes or a few scalars.

    Constant()                          -> the one attribute given, as a tensor
        value: T (any shape) | value_float: () float32 | value_floats: (n,) float32
        value_int: () int64  | value_ints: (n,) int64  | value_string(s): () / (n,) string
        sparse_value: densified by the reader
    ConstantOfShape(shape: (r,) int64)  -> (shape...) filled with value (default float32 0)
    EyeLike(x: (n, m))                  -> (n, m), y[i, i + k] = 1
    Range(start, limit, delta: ())      -> (max(ceil((limit - start) / delta), 0),)
"""
from __future__ import annotations

import math

import numpy as np

from .. import dtypes
from ..errors import ModelError, RuntimeFailure
from ..registry import Op, op
from ._common import as_int_list, bfloat16_to_float32, check_output_size, float32_to_bfloat16


@op("Constant", since=1)
class Constant(Op):
    def __init__(self, node, *, value=None, value_float=None, value_floats=None, value_int=None,
                 value_ints=None, value_string=None, value_strings=None, sparse_value=None):
        self.node = node
        given = {k: v for k, v in dict(
            value=value, value_float=value_float, value_floats=value_floats, value_int=value_int,
            value_ints=value_ints, value_string=value_string, value_strings=value_strings,
            sparse_value=sparse_value).items() if v is not None}
        if len(given) != 1:
            raise ModelError(node, "a Constant needs exactly one of value, value_float(s), "
                                   f"value_int(s), value_string(s), sparse_value; found {sorted(given) or 'none'}")
        (kind, v), = given.items()
        if kind in ("value", "sparse_value"):
            out = np.asarray(v)
        elif kind == "value_float":
            out = np.array(v, dtype=np.float32)
        elif kind == "value_floats":
            out = np.array(list(v), dtype=np.float32).reshape(-1)
        elif kind == "value_int":
            out = np.array(v, dtype=np.int64)
        elif kind == "value_ints":
            out = np.array(list(v), dtype=np.int64).reshape(-1)
        elif kind == "value_string":
            out = np.empty((), dtype=object)
            out[()] = v
        else:  # value_strings
            out = np.empty(len(v), dtype=object)
            out[:] = list(v)
        self.value = out

    def run(self):
        return self.value


@op("ConstantOfShape", since=9)
class ConstantOfShape(Op):
    def __init__(self, node, *, value=None):
        self.node = node
        if value is None:
            self.fill = np.zeros(1, dtype=np.float32)
        else:
            self.fill = np.asarray(value).reshape(-1)
            if self.fill.size != 1:
                raise ModelError(node, f"value must hold exactly one element, found {self.fill.size}")

    def run(self, shape):
        dims = as_int_list(shape)
        check_output_size(dims, self.node, itemsize=self.fill.dtype.itemsize)
        return np.full(dims, self.fill[0], dtype=self.fill.dtype)


@op("EyeLike", since=9)
class EyeLike(Op):
    def __init__(self, node, *, dtype=None, k=0):
        self.node, self.k = node, int(k)
        try:
            self.dtype = None if dtype is None else dtypes.to_numpy(int(dtype))
        except KeyError:
            raise ModelError(node, f"dtype={dtype} is not an ONNX element type") from None

    def run(self, x):
        if x.ndim != 2:
            raise RuntimeFailure(self.node, f"the input must be 2-D, found shape {list(x.shape)}")
        dt = self.dtype if self.dtype is not None else x.dtype
        if dtypes.is_tagged(dt) or dt == object:
            raise RuntimeFailure(self.node, f"output type {dtypes.name(dt)} is not supported")
        return np.eye(x.shape[0], x.shape[1], k=self.k, dtype=dt)


@op("Range", since=11)
class Range(Op):
    def run(self, start, limit, delta):
        if any(dtypes.is_tagged(a.dtype) for a in (start, limit, delta)):
            return self._tagged(start, limit, delta)
        s, l, d = (np.asarray(a).reshape(-1)[0] for a in (start, limit, delta))
        if d == 0:
            raise RuntimeFailure(self.node, "delta must not be zero")
        n = max(int(math.ceil((float(l) - float(s)) / float(d))), 0)
        dt = np.asarray(start).dtype
        check_output_size([n], self.node, itemsize=8 if dt.kind in "iu" else dt.itemsize)  # int64 arange
        # y[i] = start + i * delta, accumulated in the input type as the spec's loop does
        if dt.kind in "iu":
            return (int(s) + np.arange(n, dtype=np.int64) * int(d)).astype(dt)
        return (s + np.arange(n, dtype=dt) * d).astype(dt)

    def _tagged(self, start, limit, delta):
        dt = start.dtype
        if dt != dtypes.bfloat16:
            raise RuntimeFailure(self.node, f"Range does not support type {dtypes.name(dt)}")
        s, l, d = (float(bfloat16_to_float32(np.asarray(a)).reshape(-1)[0]) for a in (start, limit, delta))
        if d == 0:
            raise RuntimeFailure(self.node, "delta must not be zero")
        n = max(int(math.ceil((l - s) / d)), 0)
        check_output_size([n], self.node)
        return float32_to_bfloat16(np.float32(s) + np.arange(n, dtype=np.float32) * np.float32(d))

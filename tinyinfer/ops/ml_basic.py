"""ai.onnx.ml: ArrayFeatureExtractor, Binarizer, LabelEncoder.

    ArrayFeatureExtractor  x: (..., F), indices: (K,)  ->  y = x[..., indices]: (..., K)
                           (a 1-D x gives (1, K), as onnxruntime does)
    Binarizer              y = (x > threshold) in x's type
    LabelEncoder           y[i] = values[keys.index(x[i])], or the default when x[i] is no key;
                           float keys match NaN to NaN
"""
from __future__ import annotations

import math

import numpy as np

from ..errors import ModelError, RuntimeFailure
from ..registry import Op, op

ML = "ai.onnx.ml"


@op("ArrayFeatureExtractor", since=1, domain=ML)
class ArrayFeatureExtractor(Op):
    """y = x[..., indices]; see the module docstring."""

    def run(self, x, indices):
        x = np.asarray(x)
        idx = np.asarray(indices).astype(np.int64).reshape(-1)
        f = x.shape[-1] if x.ndim else 0
        if idx.size and (idx.min() < -f or idx.max() >= f):
            bad = int(idx[(idx < -f) | (idx >= f)][0])
            raise RuntimeFailure(self.node, f"index {bad} is out of range for the last axis of "
                                            f"size {f}")
        y = x[..., idx]
        return y.reshape((1, idx.size) if x.ndim == 1 else x.shape[:-1] + (idx.size,))


@op("Binarizer", since=1, domain=ML)
def Binarizer(x, *, threshold=0.0):
    """y = 1 where x > threshold else 0, in x's type.   x: any shape -> y: same shape"""
    return (x > threshold).astype(x.dtype)


def _text(s):
    return s.decode("utf-8") if isinstance(s, bytes) else s


def _nan_key(v):
    """Dictionary key for a float that makes NaN equal to NaN."""
    return "nan" if isinstance(v, float) and math.isnan(v) else v


@op("LabelEncoder", since=1, domain=ML)
class LabelEncoder(Op):
    """y[i] = values[j] where keys[j] == x[i], else the default; see the module docstring."""

    def __init__(self, node, *, default_float=-0.0, default_int64=-1, default_string="_Unused",
                 default_tensor=None, keys_floats=None, keys_int64s=None, keys_strings=None,
                 keys_tensor=None, values_floats=None, values_int64s=None, values_strings=None,
                 values_tensor=None, classes_strings=None):
        self.node = node
        keys = [k for k in (keys_floats, keys_int64s, keys_strings, keys_tensor) if k is not None]
        vals = [v for v in (values_floats, values_int64s, values_strings, values_tensor)
                if v is not None]
        if len(keys) != 1 or len(vals) != 1:
            raise ModelError(node, "exactly one keys_* and one values_* attribute must be given")
        k, v = keys[0], vals[0]
        if isinstance(v, np.ndarray):
            self.out_dtype = v.dtype
            vals_list = v.reshape(-1).tolist()
            if default_tensor is not None:
                if np.asarray(default_tensor).size != 1:
                    raise ModelError(node, f"default_tensor must hold one value, found "
                                           f"{np.asarray(default_tensor).size}")
                default = np.asarray(default_tensor).reshape(-1)[0]
                default = default.item() if hasattr(default, "item") else default
            else:
                default = ("_Unused" if v.dtype.kind in "OUS" else
                           -1 if v.dtype.kind in "iu" else -0.0)
        elif values_floats is not None:
            self.out_dtype, vals_list, default = np.dtype(np.float32), list(v), default_float
        elif values_int64s is not None:
            self.out_dtype, vals_list, default = np.dtype(np.int64), list(v), default_int64
        else:
            self.out_dtype, vals_list, default = np.dtype(object), [_text(s) for s in v], \
                _text(default_string)
        keys_list = k.reshape(-1).tolist() if isinstance(k, np.ndarray) else list(k)
        keys_list = [_nan_key(_text(x)) for x in keys_list]
        if len(keys_list) != len(vals_list):
            raise ModelError(node, f"{len(keys_list)} keys but {len(vals_list)} values; they must "
                                   "pair up")
        if self.out_dtype.kind in "OUS":
            self.out_dtype = np.dtype(object)
            vals_list = [_text(s) for s in vals_list]
            default = _text(default)
        self.table = dict(zip(keys_list, vals_list))
        self.default = default

    def run(self, x):
        x = np.asarray(x)
        flat = [self.table.get(_nan_key(_text(v)), self.default) for v in x.reshape(-1).tolist()]
        y = np.empty(len(flat), dtype=self.out_dtype)
        y[:] = flat
        return y.reshape(x.shape)

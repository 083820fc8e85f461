"""ai.onnx.ml feature transforms: Scaler, Normalizer, Imputer, OneHotEncoder, CategoryMapper,
FeatureVectorizer, ZipMap, DictVectorizer.

    Scaler             y = (x - offset) * scale               x: (N, C) -> (N, C) float32
    Normalizer         y = x / norm(row)  (MAX: max x (signed), L1: sum |x|, L2: sqrt(sum x^2))
    Imputer            y = x with every `replaced_value` (NaN by default) set to imputed_value
    OneHotEncoder      y[..., j] = (x[...] == cats[j])        x: (...) -> (..., len(cats)) float32
    CategoryMapper     int64 <-> string through cats_int64s / cats_strings, with defaults
    FeatureVectorizer  y = concat_i(x_i cut or zero-padded to inputdimensions[i])  -> float32
    ZipMap             x: (N, C) -> [ {label_j: x[n, j]} for each row n ]  (a list of dicts)
    DictVectorizer     {key: value} -> (1, len(vocabulary)), 0 where a word is absent
Per-feature parameters (offset, scale, imputed values) may also be a single value for all.
"""
from __future__ import annotations

import math

import numpy as np

from .. import dtypes
from ..errors import ModelError, RuntimeFailure
from ..registry import Op, op

ML = "ai.onnx.ml"


def _rows(node, x) -> np.ndarray:
    x = np.asarray(x)
    if x.ndim == 1:
        x = x.reshape(1, -1)
    if x.ndim != 2:
        raise RuntimeFailure(node, f"x has shape {list(x.shape)}; expected (N, C)")
    return x


def _per_feature(node, values, c, what):
    v = np.asarray(values, np.float32).reshape(-1)
    if v.size not in (1, c):
        raise RuntimeFailure(node, f"{what} has {v.size} values; expected 1 or {c} (one per "
                                   "feature)")
    return v


@op("Scaler", since=1, domain=ML)
class Scaler(Op):
    """y = (x - offset) * scale, per feature; see the module docstring."""

    def __init__(self, node, *, offset=None, scale=None):
        self.node = node
        self.offset = None if offset is None else np.asarray(offset, np.float32)
        self.scale = None if scale is None else np.asarray(scale, np.float32)

    def run(self, x):
        x = np.asarray(x)
        y = x.astype(np.float32)
        c = x.shape[-1] if x.ndim else 1
        if self.offset is not None:
            y = y - _per_feature(self.node, self.offset, c, "offset")
        if self.scale is not None:
            y = y * _per_feature(self.node, self.scale, c, "scale")
        return y.astype(np.float32)


@op("Normalizer", since=1, domain=ML)
class Normalizer(Op):
    """y = x / norm(row), norm MAX, L1 or L2; see the module docstring."""

    def __init__(self, node, *, norm="MAX"):
        self.node = node
        if norm not in ("MAX", "L1", "L2"):
            raise ModelError(node, f"norm must be MAX, L1 or L2, not {norm!r}")
        self.norm = norm

    def run(self, x):
        x = np.asarray(x)
        f = _rows(self.node, x).astype(np.float32)
        if self.norm == "MAX":  # the signed row maximum, as onnxruntime does; 0 leaves the row
            d = f.max(axis=1, keepdims=True, initial=-np.inf)
            y = f / np.where(d == 0, np.float32(1), d)
            return y.reshape(x.shape) if x.ndim == 1 else y
        if self.norm == "L1":
            d = np.abs(f).sum(axis=1, keepdims=True)
        else:
            d = np.sqrt(np.square(f).sum(axis=1, keepdims=True))
        y = f / np.maximum(d, np.float32(1e-30))
        return y.reshape(x.shape) if x.ndim == 1 else y


@op("Imputer", since=1, domain=ML)
class Imputer(Op):
    """y = x with `replaced_value` (NaN by default) replaced per feature; x's type and shape."""

    def __init__(self, node, *, imputed_value_floats=None, imputed_value_int64s=None,
                 replaced_value_float=0.0, replaced_value_int64=0):
        self.node = node
        if imputed_value_floats:
            self.values, self.replace = np.asarray(imputed_value_floats, np.float32), \
                float(replaced_value_float)
        elif imputed_value_int64s:
            self.values, self.replace = np.asarray(imputed_value_int64s, np.int64), \
                int(replaced_value_int64)
        else:
            raise ModelError(node, "one of imputed_value_floats / imputed_value_int64s is needed")

    def run(self, x):
        x = np.asarray(x)
        c = x.shape[-1] if x.ndim else 1
        v = self.values
        if v.size not in (1, c):
            raise RuntimeFailure(self.node, f"{v.size} imputed values for {c} features; expected "
                                            f"1 or {c}")
        if isinstance(self.replace, float) and math.isnan(self.replace):
            hit = np.isnan(x) if x.dtype.kind == "f" else np.zeros(x.shape, bool)
        else:
            hit = x == self.replace
        return np.where(hit, v.astype(x.dtype), x)


def _text(s):
    return s.decode("utf-8") if isinstance(s, bytes) else s


@op("OneHotEncoder", since=1, domain=ML)
class OneHotEncoder(Op):
    """y[..., j] = 1.0 where x == cats[j]; unknown values give zeros, or an error if zeros=0."""

    def __init__(self, node, *, cats_int64s=None, cats_strings=None, zeros=1):
        self.node = node
        cats = cats_int64s if cats_int64s else cats_strings
        if not cats:
            raise ModelError(node, "one of cats_int64s / cats_strings must be non-empty")
        self.cats = {(_text(c) if cats_strings and not cats_int64s else int(c)): j
                     for j, c in enumerate(cats)}
        self.strings = not cats_int64s
        self.zeros = bool(zeros)

    def run(self, x):
        x = np.asarray(x)
        flat = x.reshape(-1).tolist()
        y = np.zeros((len(flat), len(self.cats)), np.float32)
        for i, v in enumerate(flat):
            key = _text(v) if self.strings else (int(v) if float(v).is_integer() else None)
            j = self.cats.get(key)
            if j is not None:
                y[i, j] = 1.0
            elif not self.zeros:
                raise RuntimeFailure(self.node, f"value {v!r} is not one of the categories and "
                                                "zeros=0")
        return y.reshape(x.shape + (len(self.cats),))


@op("CategoryMapper", since=1, domain=ML)
class CategoryMapper(Op):
    """Strings -> int64 (or int64 -> strings) through the paired cats lists, else the default."""

    def __init__(self, node, *, cats_int64s=None, cats_strings=None, default_int64=-1,
                 default_string="_Unused"):
        self.node = node
        ints, strs = list(cats_int64s or []), [_text(s) for s in (cats_strings or [])]
        if len(ints) != len(strs):
            raise ModelError(node, f"{len(ints)} cats_int64s but {len(strs)} cats_strings; they "
                                   "must pair up")
        self.to_int, self.to_str = dict(zip(strs, ints)), dict(zip(ints, strs))
        self.default_int, self.default_str = int(default_int64), _text(default_string)

    def run(self, x):
        x = np.asarray(x)
        if x.dtype.kind in "OUS":
            flat = [self.to_int.get(_text(v), self.default_int) for v in x.reshape(-1).tolist()]
            return np.array(flat, np.int64).reshape(x.shape)
        y = np.empty(x.size, dtype=object)
        y[:] = [self.to_str.get(int(v), self.default_str) for v in x.reshape(-1).tolist()]
        return y.reshape(x.shape)


@op("FeatureVectorizer", since=1, domain=ML)
class FeatureVectorizer(Op):
    """y = concatenation of the inputs, each cut or zero-padded to inputdimensions[i]; float32."""

    def __init__(self, node, *, inputdimensions=None):
        self.node = node
        self.dims = [int(d) for d in (inputdimensions or [])]

    def run(self, *xs):
        if len(xs) != len(self.dims):
            raise RuntimeFailure(self.node, f"{len(xs)} inputs but inputdimensions has "
                                            f"{len(self.dims)} entries")
        parts = []
        for x, d in zip(xs, self.dims):
            a = np.asarray(x).astype(np.float32)
            a = a.reshape(-1, 1) if a.ndim == 1 else a.reshape(a.shape[0], -1) if a.ndim else \
                a.reshape(1, 1)
            if a.shape[1] >= d:
                parts.append(a[:, :d])
            else:
                parts.append(np.pad(a, ((0, 0), (0, d - a.shape[1]))))
        n = {p.shape[0] for p in parts}
        if len(n) > 1:
            raise RuntimeFailure(self.node, f"inputs have different row counts {sorted(n)}")
        return np.concatenate(parts, axis=1)


@op("ZipMap", since=1, domain=ML)
class ZipMap(Op):
    """x: (N, C) float32 -> a list of N dicts {classlabel_j: x[n, j]}."""

    def __init__(self, node, *, classlabels_int64s=None, classlabels_strings=None):
        self.node = node
        labels = classlabels_int64s if classlabels_int64s else classlabels_strings
        if not labels or (classlabels_int64s and classlabels_strings):
            raise ModelError(node, "exactly one of classlabels_int64s / classlabels_strings is "
                                   "needed")
        self.labels = [int(v) for v in labels] if classlabels_int64s else \
            [_text(v) for v in labels]

    def run(self, x):
        f = _rows(self.node, x)
        if f.shape[1] != len(self.labels):
            raise RuntimeFailure(self.node, f"x has {f.shape[1]} columns but there are "
                                            f"{len(self.labels)} class labels")
        return [dict(zip(self.labels, map(float, row))) for row in f.astype(np.float32)]



@op("DictVectorizer", since=1, domain=ML)
class DictVectorizer(Op):
    """A map {key: value} (or a list of maps) -> (rows, len(vocabulary)) with y[r, j] = the
    value of vocabulary[j] in map r, 0 where absent; the values' own type."""

    def __init__(self, node, *, int64_vocabulary=None, string_vocabulary=None):
        self.node = node
        if bool(int64_vocabulary) == bool(string_vocabulary):
            raise ModelError(node, "exactly one of int64_vocabulary / string_vocabulary is needed")
        vocab = ([int(v) for v in int64_vocabulary] if int64_vocabulary else
                 [_text(v) for v in string_vocabulary])
        self.column = {v: j for j, v in enumerate(vocab)}
        self.dtype = None

    def prepare(self, x):
        t = x.type  # map(key, tensor(value)) or sequence(map(...)): the declared value type
        t = t.elem if t is not None and t.kind == "sequence" else t
        if t is not None and t.kind == "map" and t.elem is not None and t.elem.elem_type:
            self.dtype = dtypes.to_numpy(t.elem.elem_type)

    def run(self, x):
        maps = x if isinstance(x, list) else [x]
        if not all(isinstance(m, dict) for m in maps):
            raise RuntimeFailure(self.node, f"x must be a map (or a sequence of maps); found "
                                            f"{type(x).__name__}")
        values = [v for m in maps for v in m.values()]
        dtype = self.dtype or (np.asarray(values).dtype if values else np.dtype(np.float32))
        y = np.zeros((len(maps), len(self.column)), dtype)
        for r, m in enumerate(maps):
            for k, v in m.items():
                j = self.column.get(_text(k) if isinstance(k, (str, bytes)) else int(k))
                if j is not None:
                    y[r, j] = v
        return y

"""Random generators: RandomNormal(Like), RandomUniform(Like), Bernoulli, Multinomial.

    RandomNormal        y: `shape`, y ~ N(mean, scale**2)          RandomNormalLike: x's shape
    RandomUniform       y: `shape`, y ~ U[low, high)               RandomUniformLike: x's shape
    Bernoulli           y[i] = 1 with probability x[i], else 0     (x's shape)
    Multinomial         x: (B, C) unnormalised log-probabilities -> y: (B, sample_size) class ids

`dtype` picks the output type (float by default; the Like ops and Bernoulli default to x's
type; Multinomial to int32). With `seed` the op draws from its own generator, seeded once, so a
session reproduces the same sequence run after run; without it each op gets fresh entropy.
"""
from __future__ import annotations

import numpy as np

from .. import dtypes
from ..errors import ModelError, RuntimeFailure
from ..registry import Op, op
from ._common import check_output_size

_FLOATS = (np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64), dtypes.bfloat16)


class _Random(Op):
    """Shared seeding and output-type handling."""

    def setup(self, node, dtype, seed, allowed=_FLOATS, default=None):
        self.node = node
        self.dtype = None if dtype is None else self._dtype(node, dtype, allowed)
        self.default = default
        self.rng = np.random.default_rng(None if seed is None else
                                         np.frombuffer(np.float32(seed).tobytes(), np.uint32)[0])

    @staticmethod
    def _dtype(node, code, allowed):
        try:
            d = dtypes.to_numpy(int(code))
        except KeyError:
            raise ModelError(node, f"dtype={code} is not a known ONNX element type") from None
        if d not in allowed:
            raise ModelError(node, f"dtype {dtypes.name(d)} is not allowed here; expected one of "
                                   + ", ".join(dtypes.name(a) for a in allowed))
        return d

    def out_type(self, like=None):
        if self.dtype is not None:
            return self.dtype
        if like is not None:
            return np.asarray(like).dtype
        return self.default

    @staticmethod
    def cast(values: np.ndarray, dtype) -> np.ndarray:
        if dtypes.is_tagged_float(dtype):
            return dtypes.from_float(values, dtype)
        return values.astype(dtype)


def _shape(node, shape):
    if shape is None:
        raise ModelError(node, "attribute 'shape' is required")
    dims = [int(d) for d in shape]
    check_output_size(dims, node)
    return dims


@op("RandomNormal", since=1)
class RandomNormal(_Random):
    """y ~ N(mean, scale**2), y: `shape`."""

    def __init__(self, node, *, shape=None, dtype=1, mean=0.0, scale=1.0, seed=None):
        self.setup(node, dtype, seed)
        self.shape, self.mean, self.scale = _shape(node, shape), float(mean), float(scale)

    def run(self):
        return self.cast(self.rng.normal(self.mean, self.scale, self.shape), self.out_type())


@op("RandomUniform", since=1)
class RandomUniform(_Random):
    """y ~ U[low, high), y: `shape`."""

    def __init__(self, node, *, shape=None, dtype=1, low=0.0, high=1.0, seed=None):
        self.setup(node, dtype, seed)
        self.shape, self.low, self.high = _shape(node, shape), float(low), float(high)

    def run(self):
        return self.cast(self.rng.uniform(self.low, self.high, self.shape), self.out_type())


@op("RandomNormalLike", since=1)
class RandomNormalLike(_Random):
    """y ~ N(mean, scale**2) with x's shape (and x's type unless dtype is given)."""

    def __init__(self, node, *, dtype=None, mean=0.0, scale=1.0, seed=None):
        self.setup(node, dtype, seed)
        self.mean, self.scale = float(mean), float(scale)

    def run(self, x):
        d = self.out_type(x)
        if d not in _FLOATS:
            raise RuntimeFailure(self.node, f"x is {dtypes.name(d)}; give a float dtype attribute")
        return self.cast(self.rng.normal(self.mean, self.scale, np.shape(x)), d)


@op("RandomUniformLike", since=1)
class RandomUniformLike(_Random):
    """y ~ U[low, high) with x's shape (and x's type unless dtype is given)."""

    def __init__(self, node, *, dtype=None, low=0.0, high=1.0, seed=None):
        self.setup(node, dtype, seed)
        self.low, self.high = float(low), float(high)

    def run(self, x):
        d = self.out_type(x)
        if d not in _FLOATS:
            raise RuntimeFailure(self.node, f"x is {dtypes.name(d)}; give a float dtype attribute")
        return self.cast(self.rng.uniform(self.low, self.high, np.shape(x)), d)


_BERNOULLI_OUT = _FLOATS + tuple(np.dtype(t) for t in (np.int8, np.int16, np.int32, np.int64,
                                                        np.uint8, np.uint16, np.uint32,
                                                        np.uint64, np.bool_))


@op("Bernoulli", since=15)
class Bernoulli(_Random):
    """y[i] = 1 with probability x[i] (0 <= x[i] <= 1), else 0; x's shape."""

    def __init__(self, node, *, dtype=None, seed=None):
        self.setup(node, dtype, seed, allowed=_BERNOULLI_OUT)

    def run(self, x):
        p = np.asarray(dtypes.to_float32(x) if dtypes.is_tagged(np.asarray(x).dtype) else x,
                       np.float64)
        if p.size and (np.isnan(p).any() or p.min() < 0 or p.max() > 1):
            raise RuntimeFailure(self.node, "probabilities must lie in [0, 1]")
        draws = (self.rng.random(p.shape) < p).astype(np.float64)
        return self.cast(draws, self.out_type(x))


@op("Multinomial", since=7)
class Multinomial(_Random):
    """y[b, s] ~ Categorical(softmax(x[b])), s < sample_size.   x: (B, C) -> y: (B, sample_size)"""

    def __init__(self, node, *, dtype=6, sample_size=1, seed=None):
        self.setup(node, dtype, seed, allowed=(np.dtype(np.int32), np.dtype(np.int64)))
        self.sample_size = int(sample_size)
        if self.sample_size < 1:
            raise ModelError(node, f"sample_size={sample_size} must be at least 1")

    def run(self, x):
        x = np.asarray(dtypes.to_float32(x) if dtypes.is_tagged(np.asarray(x).dtype) else x,
                       np.float64)
        if x.ndim != 2:
            raise RuntimeFailure(self.node, f"x has shape {list(x.shape)}; expected (B, C)")
        check_output_size((x.shape[0], self.sample_size), self.node)
        logp = x - x.max(axis=1, keepdims=True)
        p = np.exp(logp)
        cdf = np.cumsum(p / p.sum(axis=1, keepdims=True), axis=1)  # (B, C)
        u = self.rng.random((x.shape[0], self.sample_size))
        y = np.empty(u.shape, np.int64)
        for b in range(x.shape[0]):
            y[b] = np.minimum(np.searchsorted(cdf[b], u[b], side="right"), x.shape[1] - 1)
        return y.astype(self.out_type())

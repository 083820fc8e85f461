"""ai.onnx.ml linear models and the classifiers' score transforms.

    LinearRegressor    y = x @ coefficients.reshape(T, C).T + intercepts   -> (N, T) float32
    LinearClassifier   (label, scores) with onnxruntime's binary and multi-class conventions
    post_transform     NONE, SOFTMAX, LOGISTIC, SOFTMAX_ZERO, PROBIT (shared with the trees)
"""
from __future__ import annotations

import math

import numpy as np

from ..errors import ModelError, RuntimeFailure
from ..registry import Op, op
from .ml_transforms import _rows, _text

ML = "ai.onnx.ml"


def probit(p: np.ndarray) -> np.ndarray:
    """sqrt(2) * erfinv(2p - 1): the inverse of the standard normal CDF."""
    out = np.empty(np.shape(p), np.float64)
    flat = out.reshape(-1)
    for i, v in enumerate(np.asarray(p, np.float64).reshape(-1)):
        y = 2.0 * v - 1.0
        if not -1.0 < y < 1.0:
            flat[i] = math.copysign(math.inf, y) if abs(y) == 1.0 else math.nan
            continue
        z = math.copysign(math.sqrt(-math.log((1.0 - y) * (1.0 + y))), y) * 0.886
        for _ in range(50):  # Newton on erf(z) = y
            err = math.erf(z) - y
            z -= err / (2.0 / math.sqrt(math.pi) * math.exp(-z * z))
            if abs(err) < 1e-15:
                break
        flat[i] = math.sqrt(2.0) * z
    return out


@op("LinearRegressor", since=1, domain=ML)
class LinearRegressor(Op):
    """y = x @ coefficients.reshape(T, C).T + intercepts, optionally PROBIT; (N, T) float32."""

    def __init__(self, node, *, coefficients=None, intercepts=None, post_transform="NONE",
                 targets=1):
        self.node = node
        if post_transform not in ("NONE", "PROBIT"):
            raise ModelError(node, f"post_transform must be NONE or PROBIT, not {post_transform!r}")
        self.post, self.targets = post_transform, int(targets)
        self.coef = np.asarray(coefficients if coefficients is not None else [], np.float32)
        self.intercepts = None if intercepts is None else np.asarray(intercepts, np.float32)
        if self.targets < 1 or self.coef.size % self.targets:
            raise ModelError(node, f"{self.coef.size} coefficients do not split into "
                                   f"targets={targets} rows")

    def run(self, x):
        f = _rows(self.node, x).astype(np.float32)
        w = self.coef.reshape(self.targets, -1)  # (T, C)
        if w.shape[1] != f.shape[1]:
            raise RuntimeFailure(self.node, f"x has {f.shape[1]} features but the model has "
                                            f"{w.shape[1]} coefficients per target")
        y = f @ w.T
        if self.intercepts is not None:
            y = y + self.intercepts
        if self.post == "PROBIT":
            y = probit(y)
        return y.astype(np.float32)


def post_transform(scores: np.ndarray, name: str) -> np.ndarray:
    """The classifiers' score transforms, row by row: NONE, SOFTMAX, LOGISTIC, SOFTMAX_ZERO
    (softmax over the non-zero entries; zeros stay 0), PROBIT (inverse normal CDF)."""
    s = np.asarray(scores, np.float64)
    if name == "NONE":
        return s
    if name == "LOGISTIC":
        return 1.0 / (1.0 + np.exp(-s))
    if name == "SOFTMAX":
        e = np.exp(s - s.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)
    if name == "SOFTMAX_ZERO":
        nz = s != 0
        top = np.where(nz, s, -np.inf).max(axis=-1, keepdims=True)
        e = np.where(nz, np.exp(s - np.where(np.isfinite(top), top, 0)), 0.0)
        total = e.sum(axis=-1, keepdims=True)
        return np.where(total > 0, e / np.where(total > 0, total, 1), 0.5)
    if name == "PROBIT":
        return probit(s)
    raise ValueError(f"unknown post_transform {name!r}")


POST_TRANSFORMS = ("NONE", "SOFTMAX", "LOGISTIC", "SOFTMAX_ZERO", "PROBIT")


@op("LinearClassifier", since=1, domain=ML)
class LinearClassifier(Op):
    """(label, scores) of a linear model, as onnxruntime computes them.

        x: (N, C)  coefficients: T*C  intercepts: T  ->  label: (N,)  scores: (N, max(T, 2)) float32
        raw = x @ coefficients.reshape(T, C).T + intercepts
        T > 1: scores = post_transform(raw), label = classlabels[argmax raw]
        T = 1 (binary): p = LOGISTIC/PROBIT(raw) or raw, scores = [1 - p, p],
                        label = classlabels[1] if raw > 0 else classlabels[0]
    """

    def __init__(self, node, *, coefficients=None, intercepts=None, classlabels_ints=None,
                 classlabels_strings=None, multi_class=0, post_transform="NONE"):
        self.node = node
        if post_transform not in POST_TRANSFORMS:
            raise ModelError(node, f"post_transform {post_transform!r} is not one of "
                                   + ", ".join(POST_TRANSFORMS))
        if classlabels_ints and classlabels_strings:
            raise ModelError(node, "give classlabels_ints or classlabels_strings, not both")
        self.post = post_transform
        self.coef = np.asarray(coefficients or [], np.float32)
        self.intercepts = None if intercepts is None else np.asarray(intercepts, np.float32)
        if classlabels_strings:
            self.labels = np.empty(len(classlabels_strings), dtype=object)
            self.labels[:] = [_text(s) for s in classlabels_strings]
        elif classlabels_ints:
            self.labels = np.asarray(classlabels_ints, np.int64)
        else:
            self.labels = None

    def run(self, x):
        f = _rows(self.node, x).astype(np.float32)
        c = f.shape[1]
        if c == 0 or self.coef.size % c:
            raise RuntimeFailure(self.node, f"{self.coef.size} coefficients do not split into "
                                            f"rows of {c} features")
        w = self.coef.reshape(-1, c)  # (T, C)
        raw = (f @ w.T).astype(np.float32)
        if self.intercepts is not None:
            if self.intercepts.size != w.shape[0]:
                raise RuntimeFailure(self.node, f"{self.intercepts.size} intercepts for "
                                                f"{w.shape[0]} targets")
            raw = raw + self.intercepts
        if w.shape[0] == 1:
            s = raw[:, 0]
            p = post_transform(s, self.post) if self.post in ("LOGISTIC", "PROBIT") else s
            scores = np.stack([1.0 - p, p], axis=1)
            pick = (s > 0).astype(np.int64)
        else:
            scores = post_transform(raw, self.post)
            pick = np.argmax(raw, axis=1)
        if self.labels is None:
            label = pick.astype(np.int64)
        else:
            if pick.size and pick.max() >= len(self.labels):
                raise RuntimeFailure(self.node, f"{len(self.labels)} class labels for "
                                                f"{max(w.shape[0], 2)} classes")
            label = self.labels[pick]
        return label, scores.astype(np.float32)

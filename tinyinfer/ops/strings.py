"""String ops: StringNormalizer, StringConcat, StringSplit, RegexFullMatch.

    StringNormalizer  x: (C,) or (1, C) -> same rank, stopwords removed, case changed;
                      an all-removed input becomes [""] (or [[""]])
    StringConcat      z = x + y, elementwise with broadcasting
    StringSplit       x: (...) -> y: (..., max splits) padded with "", z: (...) int64 counts
    RegexFullMatch    y[i] = pattern matches the whole of x[i]  (bool)

Strings are object arrays of Python str.
"""
from __future__ import annotations

import re

import numpy as np

from ..errors import ModelError, RuntimeFailure
from ..registry import Op, op


def _strings(node, x, what="x") -> np.ndarray:
    x = np.asarray(x)
    if x.dtype.kind not in "OUS":
        raise RuntimeFailure(node, f"{what} must be a string tensor; found {x.dtype}")
    return x


def _text(s) -> str:
    return s.decode("utf-8", "replace") if isinstance(s, bytes) else str(s)


@op("StringNormalizer", since=10)
class StringNormalizer(Op):
    """Remove stopwords (case-insensitively unless is_case_sensitive), then change case."""

    def __init__(self, node, *, case_change_action="NONE", is_case_sensitive=0, locale="",
                 stopwords=None):
        self.node = node
        if case_change_action not in ("NONE", "LOWER", "UPPER"):
            raise ModelError(node, f"case_change_action must be NONE, LOWER or UPPER, not "
                                   f"{case_change_action!r}")
        self.action = case_change_action
        self.case_sensitive = bool(is_case_sensitive)
        words = [_text(w) for w in (stopwords or [])]
        self.stops = set(words) if self.case_sensitive else {w.casefold() for w in words}

    def run(self, x):
        x = _strings(self.node, x)
        if x.ndim not in (1, 2) or (x.ndim == 2 and x.shape[0] != 1):
            raise RuntimeFailure(self.node, f"x has shape {list(x.shape)}; expected (C,) or (1, C)")
        out = []
        for s in x.reshape(-1):
            s = _text(s)
            key = s if self.case_sensitive else s.casefold()
            if key in self.stops:
                continue
            out.append(s.lower() if self.action == "LOWER" else
                       s.upper() if self.action == "UPPER" else s)
        if not out:
            out = [""]
        y = np.empty(len(out), dtype=object)
        y[:] = out
        return y.reshape((1, -1) if x.ndim == 2 else (-1,))


@op("StringConcat", since=20)
class StringConcat(Op):
    """z = x + y (string concatenation), elementwise with NumPy broadcasting."""

    def run(self, x, y):
        x, y = _strings(self.node, x, "x"), _strings(self.node, y, "y")
        try:
            bx, by = np.broadcast_arrays(x, y)
        except ValueError:
            raise RuntimeFailure(self.node, f"shapes {list(x.shape)} and {list(y.shape)} do not "
                                            "broadcast") from None
        z = np.empty(bx.shape, dtype=object)
        z.reshape(-1)[:] = [_text(a) + _text(b) for a, b in zip(bx.reshape(-1), by.reshape(-1))]
        return z


@op("StringSplit", since=20)
class StringSplit(Op):
    """Split each string at `delimiter` (runs of whitespace when empty/absent), at most
    `maxsplit` times; pad every row with "" to the longest."""

    def __init__(self, node, *, delimiter="", maxsplit=None):
        self.node = node
        self.delimiter = _text(delimiter) or None
        self.maxsplit = -1 if maxsplit is None else int(maxsplit)
        if self.maxsplit < -1:
            raise ModelError(node, f"maxsplit={maxsplit} must be non-negative")

    def run(self, x):
        x = _strings(self.node, x)
        parts = [_text(s).split(self.delimiter, self.maxsplit) for s in x.reshape(-1)]
        width = max((len(p) for p in parts), default=0)
        y = np.full((len(parts), width), "", dtype=object)
        for i, p in enumerate(parts):
            y[i, :len(p)] = p
        z = np.array([len(p) for p in parts], dtype=np.int64).reshape(x.shape)
        return y.reshape(x.shape + (width,)), z


@op("RegexFullMatch", since=20)
class RegexFullMatch(Op):
    """y = whether `pattern` (RE2 syntax; Python re here) matches each whole string."""

    def __init__(self, node, *, pattern=None):
        self.node = node
        if pattern is None:
            raise ModelError(node, "attribute 'pattern' is required")
        try:
            self.regex = re.compile(_text(pattern))
        except re.error as e:
            raise ModelError(node, f"pattern {pattern!r} is not a valid regular expression: {e}") \
                from None

    def run(self, x):
        x = _strings(self.node, x)
        flat = [self.regex.fullmatch(_text(s)) is not None for s in x.reshape(-1)]
        return np.array(flat, dtype=np.bool_).reshape(x.shape)

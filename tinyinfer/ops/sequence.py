"""Sequence ops — a sequence is a Python list of tensors; ops never modify their input list.

    SequenceEmpty()                        -> []                       (element type from dtype)
    SequenceConstruct(t_0, ..., t_n-1)     -> [t_0, ..., t_n-1]
    SequenceLength(S)                      -> int64 [] = len(S)
    SequenceAt(S, i)                       -> S[i]                     i in [-n, n-1]
    SequenceInsert(S, T, i = n)            -> S[:i] + [T] + S[i:]      i in [-n, n]
    SequenceErase(S, i = -1)               -> S[:i] + S[i+1:]          i in [-n, n-1]
    SplitToSequence(x, split?)             -> pieces of x along axis
    ConcatFromSequence(S)                  -> concat(S, axis), or stack(S, axis) with new_axis=1
"""
from __future__ import annotations

import numpy as np

from .. import dtypes
from ..errors import ModelError, RuntimeFailure
from ..registry import Op, op
from ._common import normalize_axis


def _sequence(node, S, what="input sequence"):
    if not isinstance(S, list):
        raise RuntimeFailure(node, f"{what} must be a sequence, got {type(S).__name__}")
    return S


def _position(node, pos, n: int, allow_end: bool, what="position") -> int:
    """A scalar index into a sequence of length n; negative counts from the back."""
    a = np.asarray(pos)
    if a.size != 1 or a.dtype.kind not in "iu":
        raise RuntimeFailure(node, f"{what} must be one integer, got {a.dtype} shape {list(a.shape)}")
    i = int(a.reshape(-1)[0])
    hi = n if allow_end else n - 1
    if not -n <= i <= hi:
        raise RuntimeFailure(node, f"{what}={i} is out of range for a sequence of length {n} "
                                   f"(allowed [{-n}, {hi}])")
    return i + n if i < 0 else i


@op("SequenceEmpty", since=11)
class SequenceEmpty(Op):
    """SequenceEmpty() -> an empty sequence of tensors of element type ``dtype`` (default float)."""

    def __init__(self, node, *, dtype: int = dtypes.FLOAT):
        self.node, self.dtype = node, dtype
        if dtype not in dtypes.ONNX_TO_NUMPY:
            raise ModelError(node, f"dtype={dtype} is not a known ONNX element type")

    def run(self):
        return []


@op("SequenceConstruct", since=11)
def SequenceConstruct(*tensors):
    """SequenceConstruct(t_0, ..., t_n-1) -> [t_0, ..., t_n-1]."""
    return list(tensors)


@op("SequenceLength", since=11)
def SequenceLength(S):
    """SequenceLength(S) -> int64 scalar len(S)."""
    return np.array(len(S), dtype=np.int64)


@op("SequenceAt", since=11)
class SequenceAt(Op):
    """SequenceAt(S, position) -> S[position]  (negative positions count from the back)."""

    def __init__(self, node):
        self.node = node

    def run(self, S, position):
        S = _sequence(self.node, S)
        return S[_position(self.node, position, len(S), False)]


@op("SequenceInsert", since=11)
class SequenceInsert(Op):
    """SequenceInsert(S, T, position = len(S)) -> a new sequence with T inserted at position."""

    def __init__(self, node):
        self.node = node

    def run(self, S, T, position=None):
        S = list(_sequence(self.node, S))
        if S and isinstance(T, np.ndarray) and isinstance(S[0], np.ndarray) and T.dtype != S[0].dtype:
            raise RuntimeFailure(self.node, f"tensor of {dtypes.name(T.dtype)} cannot join a "
                                            f"sequence of {dtypes.name(S[0].dtype)}")
        i = len(S) if position is None else _position(self.node, position, len(S), True)
        S.insert(i, T)
        return S


@op("SequenceErase", since=11)
class SequenceErase(Op):
    """SequenceErase(S, position = -1) -> a new sequence without S[position]."""

    def __init__(self, node):
        self.node = node

    def run(self, S, position=None):
        S = list(_sequence(self.node, S))
        if not S:
            raise RuntimeFailure(self.node, "cannot erase from an empty sequence")
        i = len(S) - 1 if position is None else _position(self.node, position, len(S), False)
        del S[i]
        return S


@op("SplitToSequence", since=11)
class SplitToSequence(Op):
    """SplitToSequence(x, split?) -> [x pieces along axis].

    split absent: pieces of size 1 (axis dropped when keepdims=0); scalar k: pieces of k with a
    shorter last piece; 1-D: the given sizes, which must add up to x.shape[axis].
    """

    def __init__(self, node, *, axis: int = 0, keepdims: int = 1):
        self.node, self.axis, self.keepdims = node, axis, keepdims

    def run(self, x, split=None):
        ax = normalize_axis(self.axis, x.ndim, self.node)
        dim = x.shape[ax]
        if split is None:
            pieces = [np.take(x, i, axis=ax) if not self.keepdims else
                      np.take(x, [i], axis=ax) for i in range(dim)]
            return pieces
        s = np.asarray(split)
        if s.ndim == 0:
            k = int(s)
            if k <= 0:
                raise RuntimeFailure(self.node, f"split={k} must be positive")
            sizes = [k] * (dim // k) + ([dim % k] if dim % k else [])
        else:
            sizes = [int(v) for v in s.reshape(-1)]
            if any(v < 0 for v in sizes) or sum(sizes) != dim:
                raise RuntimeFailure(self.node, f"split={sizes} must be non-negative and add up to "
                                                f"the axis size {dim}")
        bounds = np.cumsum([0] + sizes)
        index = [slice(None)] * x.ndim
        out = []
        for a, b in zip(bounds[:-1], bounds[1:]):
            index[ax] = slice(int(a), int(b))
            out.append(x[tuple(index)])
        return out


@op("ConcatFromSequence", since=11)
class ConcatFromSequence(Op):
    """ConcatFromSequence(S) -> concat(S, axis)  or, with new_axis=1, stack(S, axis).

    With new_axis=1 the axis counts in the output rank (r + 1), so -1 appends a last axis.
    """

    def __init__(self, node, *, axis: int, new_axis: int = 0):
        self.node, self.axis, self.new_axis = node, axis, new_axis

    def run(self, S):
        S = _sequence(self.node, S)
        if not S:
            raise RuntimeFailure(self.node, "cannot concatenate an empty sequence")
        rank = S[0].ndim + (1 if self.new_axis else 0)
        ax = normalize_axis(self.axis, rank, self.node)
        try:
            if self.new_axis:
                return np.stack(S, axis=ax)
            return np.concatenate(S, axis=ax)
        except ValueError as e:
            shapes = [list(t.shape) for t in S]
            raise RuntimeFailure(self.node, f"the sequence's tensors do not fit together along "
                                            f"axis {self.axis}: shapes {shapes}") from e

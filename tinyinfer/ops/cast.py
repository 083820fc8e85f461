"""Cast and CastLike — change the element type of a tensor.

    y = cast(x, to)                 x: any shape, y: same shape, element type `to`
    y = CastLike(x, like)           the type of `like` (its values are not read)

Rules (ONNX Cast): float -> int truncates toward zero; int -> narrower int keeps the low bits;
anything -> bool is `x != 0`; to bfloat16/float8/float4/float6 rounds half to even, and with
`saturate=1` (float8 only, opset 19) too-large values and ±Inf become ±max, else Inf or NaN;
float8e8m0 rounds per `round_mode` ("up", "down", "nearest"). int4/uint4/int2/uint2 take the
low bits of the truncated value. Strings parse as numbers ("1.5", "-INF", "nan", "1e3") and
numbers print as onnxruntime prints them ('%.8g', 'INF', 'NaN', bool as 1/0). The bit work lives in dtypes.convert.
"""
from __future__ import annotations

import numpy as np

from .. import dtypes
from ..errors import ModelError, RuntimeFailure
from ..registry import Op, op

_OPSET1_NAMES = {v.upper(): k for k, v in dtypes.ONNX_NAMES.items()}


def _target_dtype(node, to) -> np.dtype:
    if isinstance(to, (str, bytes)):  # Cast-1 spelled the type as a name: to="FLOAT"
        name = to.decode() if isinstance(to, bytes) else to
        to = _OPSET1_NAMES.get(name.upper(), -1)
    try:
        return dtypes.to_numpy(int(to))
    except (KeyError, ValueError):
        raise ModelError(node, f"'to'={to!r} is not a known ONNX element type") from None


def _check_round_mode(node, round_mode):
    if round_mode not in ("up", "down", "nearest"):
        raise ModelError(node, f"round_mode must be 'up', 'down' or 'nearest', not {round_mode!r}")


def _parse(node, s, dtype: np.dtype):
    if isinstance(s, bytes):
        s = s.decode("utf-8", "replace")
    t = str(s).strip()
    try:
        if dtype == np.bool_:
            low = t.lower()
            if low in ("true", "false"):
                return low == "true"
            return float(t) != 0
        if dtype.kind in "iu":
            try:
                return int(t)
            except ValueError:
                return int(float(t))
        return float(t)
    except (ValueError, OverflowError):
        raise RuntimeFailure(node, f"cannot parse the string {s!r} as {dtypes.name(dtype)}") from None


def _to_string(x: np.ndarray) -> np.ndarray:
    """Numbers as onnxruntime prints them: '%.8g' for every float type, 'INF', '-INF', 'NaN',
    integers in full, bool as '1' / '0'."""
    if dtypes.is_tagged_float(x.dtype):
        x = dtypes.to_float32(x)
    elif dtypes.is_tagged_int(x.dtype):
        x = dtypes.to_int(x)
    out = np.empty(x.shape, dtype=object)
    flat = out.reshape(-1)
    if x.dtype.kind == "f":
        for i, f in enumerate(x.reshape(-1).tolist()):
            flat[i] = "NaN" if f != f else "INF" if f == np.inf else "-INF" if f == -np.inf \
                else "%.8g" % f
    elif x.dtype == np.bool_:
        flat[:] = ["1" if v else "0" for v in x.reshape(-1).tolist()]
    else:
        flat[:] = [str(v) for v in x.reshape(-1).tolist()]
    return out


def cast(node, x, dtype: np.dtype, saturate=1, round_mode="up") -> np.ndarray:
    """The shared body of Cast and CastLike."""
    x = np.asarray(x)
    if dtype == x.dtype:
        return x
    if dtype.kind == "O":
        return _to_string(x)
    if x.dtype.kind in "OUS":
        values = [_parse(node, s, dtype) for s in x.reshape(-1)]
        if dtypes.is_tagged(dtype):
            return dtypes.convert(np.array(values, np.float64).reshape(x.shape), dtype,
                                  bool(saturate), round_mode)
        if dtype.kind in "iu":
            return np.array(values, dtype=object).astype(dtype).reshape(x.shape)
        return np.array(values, dtype=np.float64).astype(dtype).reshape(x.shape)
    if x.dtype.kind == "c" or dtype.kind == "c":
        if dtype.kind != "c":
            raise RuntimeFailure(node, f"cannot cast {dtypes.name(x.dtype)} to {dtypes.name(dtype)}")
        return x.astype(dtype)
    with np.errstate(invalid="ignore", over="ignore"):
        return dtypes.convert(x, dtype, bool(saturate), round_mode)


@op("Cast", since=1)
class Cast(Op):
    """y = cast(x, to); see the module docstring for the rules."""

    def __init__(self, node, *, to, saturate=1, round_mode="up"):
        self.node = node
        self.dtype = _target_dtype(node, to)
        self.saturate = saturate
        _check_round_mode(node, round_mode)
        self.round_mode = round_mode

    def run(self, x):
        return cast(self.node, x, self.dtype, self.saturate, self.round_mode)


@op("CastLike", since=15)
class CastLike(Op):
    """y = cast(x, type of target_type); the values of target_type are not read."""

    def __init__(self, node, *, saturate=1, round_mode="up"):
        self.node = node
        self.saturate = saturate
        _check_round_mode(node, round_mode)
        self.round_mode = round_mode

    def run(self, x, target_type):
        return cast(self.node, x, np.asarray(target_type).dtype, self.saturate, self.round_mode)

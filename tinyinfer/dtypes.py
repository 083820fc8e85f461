"""ONNX element types and their NumPy representation.

Every type NumPy holds natively maps to its NumPy dtype. The types NumPy lacks get a *tagged*
representation: a one-field structured dtype whose field name is the ONNX type name, so arrays
keep their exact bits, move through shape ops (Reshape, Transpose, Gather, Concat ...) unchanged,
and cannot be used in arithmetic by accident. Ops that compute on them decode first with
``to_float32`` / ``to_int`` and encode results with ``from_float32``.

    ONNX type       tinyinfer dtype                       one element holds
    BFLOAT16        [("bfloat16", "<u2")]                 the 16 raw bits
    FLOAT8E4M3FN    [("float8e4m3fn", "u1")]              the 8 raw bits   (likewise the other float8)
    FLOAT8E8M0      [("float8e8m0", "u1")]                the 8 raw bits
    FLOAT4E2M1      [("float4e2m1", "u1")]                the 4 raw bits, one element per byte
    FLOAT6E2M3/E3M2 [("float6e2m3", "u1")] ...            the 6 raw bits, one element per byte
    INT4 / INT2     [("int4", "i1")] / [("int2", "i1")]   the value, sign-extended, one per byte
    UINT4 / UINT2   [("uint4", "u1")] / [("uint2", "u1")] the value, one per byte
    STRING          object                                Python str (bytes if not UTF-8)

Packing (two int4 per byte, low nibble first, etc.) exists only in the file; see onnx/tensor.py.
"""
from __future__ import annotations

import numpy as np

# ONNX TensorProto.DataType codes
UNDEFINED, FLOAT, UINT8, INT8, UINT16, INT16, INT32, INT64, STRING, BOOL = range(10)
FLOAT16, DOUBLE, UINT32, UINT64, COMPLEX64, COMPLEX128, BFLOAT16 = range(10, 17)
FLOAT8E4M3FN, FLOAT8E4M3FNUZ, FLOAT8E5M2, FLOAT8E5M2FNUZ, UINT4, INT4 = range(17, 23)
FLOAT4E2M1, FLOAT8E8M0, UINT2, INT2, FLOAT6E2M3, FLOAT6E3M2 = range(23, 29)


def _tag(name: str, storage: str) -> np.dtype:
    return np.dtype([(name, storage)])


bfloat16 = _tag("bfloat16", "<u2")
float8e4m3fn = _tag("float8e4m3fn", "u1")
float8e4m3fnuz = _tag("float8e4m3fnuz", "u1")
float8e5m2 = _tag("float8e5m2", "u1")
float8e5m2fnuz = _tag("float8e5m2fnuz", "u1")
float8e8m0 = _tag("float8e8m0", "u1")
float4e2m1 = _tag("float4e2m1", "u1")
float6e2m3 = _tag("float6e2m3", "u1")
float6e3m2 = _tag("float6e3m2", "u1")
int4 = _tag("int4", "i1")
uint4 = _tag("uint4", "u1")
int2 = _tag("int2", "i1")
uint2 = _tag("uint2", "u1")

ONNX_TO_NUMPY: dict[int, np.dtype] = {
    FLOAT: np.dtype(np.float32), UINT8: np.dtype(np.uint8), INT8: np.dtype(np.int8),
    UINT16: np.dtype(np.uint16), INT16: np.dtype(np.int16), INT32: np.dtype(np.int32),
    INT64: np.dtype(np.int64), STRING: np.dtype(object), BOOL: np.dtype(np.bool_),
    FLOAT16: np.dtype(np.float16), DOUBLE: np.dtype(np.float64), UINT32: np.dtype(np.uint32),
    UINT64: np.dtype(np.uint64), COMPLEX64: np.dtype(np.complex64),
    COMPLEX128: np.dtype(np.complex128), BFLOAT16: bfloat16,
    FLOAT8E4M3FN: float8e4m3fn, FLOAT8E4M3FNUZ: float8e4m3fnuz, FLOAT8E5M2: float8e5m2,
    FLOAT8E5M2FNUZ: float8e5m2fnuz, UINT4: uint4, INT4: int4, FLOAT4E2M1: float4e2m1,
    FLOAT8E8M0: float8e8m0, UINT2: uint2, INT2: int2, FLOAT6E2M3: float6e2m3,
    FLOAT6E3M2: float6e3m2,
}
NUMPY_TO_ONNX: dict[np.dtype, int] = {v: k for k, v in ONNX_TO_NUMPY.items()}

ONNX_NAMES: dict[int, str] = {
    UNDEFINED: "undefined", FLOAT: "float", UINT8: "uint8", INT8: "int8", UINT16: "uint16",
    INT16: "int16", INT32: "int32", INT64: "int64", STRING: "string", BOOL: "bool",
    FLOAT16: "float16", DOUBLE: "double", UINT32: "uint32", UINT64: "uint64",
    COMPLEX64: "complex64", COMPLEX128: "complex128", BFLOAT16: "bfloat16",
    FLOAT8E4M3FN: "float8e4m3fn", FLOAT8E4M3FNUZ: "float8e4m3fnuz", FLOAT8E5M2: "float8e5m2",
    FLOAT8E5M2FNUZ: "float8e5m2fnuz", UINT4: "uint4", INT4: "int4", FLOAT4E2M1: "float4e2m1",
    FLOAT8E8M0: "float8e8m0", UINT2: "uint2", INT2: "int2", FLOAT6E2M3: "float6e2m3",
    FLOAT6E3M2: "float6e3m2",
}

# Bytes per element as stored in NumPy (not in the file).
TAGGED = frozenset(d for d in ONNX_TO_NUMPY.values() if d.names is not None)


def to_numpy(onnx_type: int) -> np.dtype:
    """NumPy dtype for an ONNX element type code; KeyError if the code is unknown."""
    return ONNX_TO_NUMPY[onnx_type]


def to_onnx(dtype) -> int:
    """ONNX element type code for a NumPy dtype (tagged dtypes included)."""
    dtype = np.dtype(dtype)
    if dtype.kind in "US":  # str_ and bytes_ arrays hold strings too
        return STRING
    return NUMPY_TO_ONNX[dtype]


def type_string(onnx_type: int) -> str:
    """onnxruntime's spelling: 'tensor(float)'."""
    return f"tensor({ONNX_NAMES.get(onnx_type, 'undefined')})"


def name(dtype) -> str:
    """Short ONNX name of a NumPy (or tagged) dtype, for messages: 'float', 'int4'."""
    try:
        return ONNX_NAMES[to_onnx(dtype)]
    except (KeyError, TypeError):
        return str(dtype)


def is_tagged(dtype) -> bool:
    return np.dtype(dtype) in TAGGED

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


# ---------------------------------------------------------------------------------------------
# Conversions of the tagged types.
#
#   to_float32(x)                       any tagged float/int type (or plain NumPy) -> float32
#   from_float(x, dtype, saturate=True, round_mode="up")
#                                       real numbers -> a tagged float type, round half to even
#   to_int(x) / from_int(x, dtype, saturate=False)
#                                       int4/uint4/int2/uint2 <-> int64 (wrap or saturate)
#   convert(x, dtype, saturate=True, round_mode="up")
#                                       Cast between any two numeric types, tagged or not
#
# A small float format is (exponent bits, mantissa bits, bias, kind); kind says which bit
# patterns are special:  "ieee" Inf and NaN as in IEEE 754 (bfloat16, float8e5m2);
# "fn" only S.1111.111 is NaN, no Inf (float8e4m3fn); "fnuz" only 1.0000.000 is NaN, no -0,
# no Inf (the *fnuz types); "finite" every pattern is a number (float4e2m1, float6).
# ---------------------------------------------------------------------------------------------

_FLOAT_FORMATS = {  # field name -> (ebits, mbits, bias, kind)
    "bfloat16": (8, 7, 127, "ieee"),
    "float8e4m3fn": (4, 3, 7, "fn"),
    "float8e4m3fnuz": (4, 3, 8, "fnuz"),
    "float8e5m2": (5, 2, 15, "ieee"),
    "float8e5m2fnuz": (5, 2, 16, "fnuz"),
    "float4e2m1": (2, 1, 1, "finite"),
    "float6e2m3": (2, 3, 1, "finite"),
    "float6e3m2": (3, 2, 3, "finite"),
}
_INT_FORMATS = {"int4": (4, True), "uint4": (4, False), "int2": (2, True), "uint2": (2, False)}


def _field(dtype) -> str:
    return np.dtype(dtype).names[0]


def is_tagged_float(dtype) -> bool:
    """True for bfloat16, float8*, float4e2m1 and float6* (tagged floating-point types)."""
    d = np.dtype(dtype)
    return d.names is not None and d.names[0] in _FLOAT_FORMATS or d == float8e8m0


def is_tagged_int(dtype) -> bool:
    """True for int4, uint4, int2 and uint2."""
    d = np.dtype(dtype)
    return d.names is not None and d.names[0] in _INT_FORMATS


def bits(x: np.ndarray) -> np.ndarray:
    """The raw storage of a tagged array (uint8/uint16/int8 values), same shape, a copy."""
    x = np.asarray(x)
    return np.array(x[x.dtype.names[0]])


def from_bits(b, dtype) -> np.ndarray:
    """Wrap raw storage values (already in range) as a tagged array of ``dtype``."""
    dtype = np.dtype(dtype)
    storage = dtype.fields[dtype.names[0]][0]
    arr = np.asarray(b).astype(storage)
    return np.ascontiguousarray(arr).view(dtype).reshape(arr.shape)  # keeps 0-d arrays 0-d


def _float_table(name: str) -> np.ndarray:
    """float32 value of every bit pattern of an 8-bit-or-smaller float format."""
    ebits, mbits, bias, kind = _FLOAT_FORMATS[name]
    nbits = 1 + ebits + mbits
    code = np.arange(1 << nbits, dtype=np.int64)
    sign = np.where(code >> (ebits + mbits), -1.0, 1.0)
    e = (code >> mbits) & ((1 << ebits) - 1)
    m = code & ((1 << mbits) - 1)
    mag = np.where(e == 0, m * 2.0 ** (1 - bias - mbits), (1 + m / 2.0 ** mbits) * 2.0 ** (e - bias))
    val = sign * mag
    top = (1 << ebits) - 1
    if kind == "ieee":
        val[(e == top) & (m == 0)] = sign[(e == top) & (m == 0)] * np.inf
        val[(e == top) & (m != 0)] = np.nan
    elif kind == "fn":
        val[(e == top) & (m == (1 << mbits) - 1)] = np.nan
    elif kind == "fnuz":
        val[1 << (ebits + mbits)] = np.nan
    table = np.zeros(256, np.float32)
    table[: len(val)] = val
    return table


_TABLES: dict = {}


def to_float32(x) -> np.ndarray:
    """Decode any tagged float (or int4/int2 family) array to float32; plain arrays are cast."""
    x = np.asarray(x)
    d = x.dtype
    if d.names is None:
        return x.astype(np.float32)
    name = d.names[0]
    raw = x[name]
    if name == "bfloat16":
        return np.ascontiguousarray(raw.astype(np.uint32) << 16).view(np.float32).reshape(x.shape)
    if name == "float8e8m0":
        e = np.minimum(raw.astype(np.int32), 254) - 127
        out = np.asarray(np.ldexp(np.float32(1.0), e), dtype=np.float32)
        return np.where(raw == 255, np.float32(np.nan), out).astype(np.float32)
    if name in _INT_FORMATS:
        return raw.astype(np.float32)
    table = _TABLES.get(name)
    if table is None:
        table = _TABLES[name] = _float_table(name)
    return np.asarray(table[raw.astype(np.intp)])


def _encode_small_float(x: np.ndarray, name: str, saturate: bool) -> np.ndarray:
    """Real numbers -> bit patterns of a small float format, round half to even, exactly.

    In float64 every step is exact: with x = f * 2**k (0.5 <= f < 1), the spacing of the format
    near x is ulp = 2**max(k - 1 - mbits, 1 - bias - mbits), and rint(x / ulp) * ulp rounds to it.
    """
    ebits, mbits, bias, kind = _FLOAT_FORMATS[name]
    top = (1 << ebits) - 1
    max_m = (1 << mbits) - 1 - (1 if kind == "fn" else 0)
    max_e = top - (1 if kind == "ieee" else 0)
    max_val = (1 + max_m / 2.0 ** mbits) * 2.0 ** (max_e - bias)
    sign_bit = 1 << (ebits + mbits)

    x = np.asarray(x).astype(np.float64)
    neg = np.signbit(x)
    a = np.abs(x)
    nan, inf = np.isnan(a), np.isinf(a)
    a = np.where(nan | inf, 0.0, a)
    _, k = np.frexp(a)
    min_exp = 1 - bias - mbits
    ulp = np.ldexp(1.0, np.maximum(k - 1 - mbits, min_exp))
    q = np.rint(a / ulp) * ulp                                   # rounded magnitude
    over = (q > max_val) | inf
    q = np.where(over, max_val, q)
    _, k = np.frexp(q)
    normal = q >= 2.0 ** (1 - bias)
    e = np.where(normal, k - 1 + bias, 0)
    m = np.where(normal, np.ldexp(q, -(k - 1)) - 1.0, q / 2.0 ** (1 - bias)) * 2.0 ** mbits
    code = (e.astype(np.int64) << mbits) | np.rint(m).astype(np.int64)
    code = np.where(neg, code | sign_bit, code)

    if kind == "fnuz":
        code = np.where(code == sign_bit, 0, code)               # no negative zero
    if kind == "finite":
        # every pattern is a number: overflow saturates; NaN becomes a zero (as ml_dtypes does)
        code = np.where(nan, np.where(neg, 0, sign_bit), code)
    else:
        if saturate:
            # Inf saturates like any too-large value; NaN stays NaN
            pass
        elif kind == "ieee":
            code = np.where(over, (top << mbits) | np.where(neg, sign_bit, 0), code)
        elif kind == "fn":
            code = np.where(over, (top << mbits) | ((1 << mbits) - 1) | np.where(neg, sign_bit, 0), code)
        else:  # fnuz
            code = np.where(over, sign_bit, code)
        if kind == "ieee":
            nan_code = (top << mbits) | (1 << (mbits - 1))           # quiet NaN, sign kept
            code = np.where(nan, nan_code | np.where(neg, sign_bit, 0), code)
        elif kind == "fn":
            code = np.where(nan, (top << mbits) | ((1 << mbits) - 1) | np.where(neg, sign_bit, 0), code)
        else:
            code = np.where(nan, sign_bit, code)
    return code


def _encode_e8m0(x, saturate: bool, round_mode: str) -> np.ndarray:
    """float -> float8e8m0 (a bare power-of-two exponent, 255 = NaN), rounding per round_mode."""
    f = np.ascontiguousarray(np.asarray(x, dtype=np.float32))
    fb = f.view(np.uint32)
    e = ((fb >> 23) & 0xFF).astype(np.int32)
    special = e == 0xFF
    frac = fb & 0x7FFFFF
    if round_mode == "nearest":
        g = (fb & 0x400000) > 0
        r = (fb & 0x200000) > 0
        s = (fb & 0x1FFFFF) > 0
        up = g & (r | s | (e > 0))
    elif round_mode == "up":
        up = frac > 0
    elif round_mode == "down":
        up = np.zeros(f.shape, bool)
    else:
        raise ValueError(f"round_mode must be 'up', 'down' or 'nearest', not {round_mode!r}")
    up = up & ~special
    if saturate:
        up = up & (e != 0xFE)
    e = np.where(special, 0xFF, e + up)
    return (e & 0xFF).astype(np.uint8)


def from_float(x, dtype, saturate: bool = True, round_mode: str = "up") -> np.ndarray:
    """Encode real numbers (any NumPy float/int array) as the tagged float type ``dtype``.

    Round half to even. With ``saturate`` (float8 only, as Cast's attribute) values beyond the
    largest finite number, Inf included, become ±max; without it they become Inf where the type
    has one, else NaN. float4/float6 have no specials: they always saturate. float8e8m0 rounds
    as ``round_mode`` says ("up", "down", "nearest").
    """
    dtype = np.dtype(dtype)
    name = dtype.names[0]
    x = np.asarray(x)
    if name == "float8e8m0":
        return from_bits(_encode_e8m0(x, saturate, round_mode).reshape(x.shape), dtype)
    if name == "bfloat16" and x.dtype in (np.float32, np.float16):
        f = np.ascontiguousarray(x, dtype=np.float32)
        b = f.view(np.uint32).astype(np.uint64)
        r = ((b + 0x7FFF + ((b >> 16) & 1)) >> 16).astype(np.uint16)
        r = np.where(np.isnan(f), ((b >> 16) & 0x8000) | 0x7FC0, r)  # canonical quiet NaN
        return from_bits(r.reshape(x.shape), dtype)
    if name == "bfloat16":
        return from_bits(_encode_small_float(x, name, False), dtype)
    return from_bits(_encode_small_float(x, name, saturate), dtype)


from_float32 = from_float  # the name the design notes use


def to_int(x) -> np.ndarray:
    """int4/uint4/int2/uint2 -> int64 values; plain integer arrays -> int64."""
    x = np.asarray(x)
    if x.dtype.names is not None:
        return x[x.dtype.names[0]].astype(np.int64)
    return x.astype(np.int64)


def int_range(dtype):
    """(min, max) of an integer type, tagged or not."""
    dtype = np.dtype(dtype)
    if dtype.names is not None:
        nb, signed = _INT_FORMATS[dtype.names[0]]
        return (-(1 << (nb - 1)), (1 << (nb - 1)) - 1) if signed else (0, (1 << nb) - 1)
    info = np.iinfo(dtype)
    return int(info.min), int(info.max)


def from_int(values, dtype, saturate: bool = False) -> np.ndarray:
    """Integers -> int4/uint4/int2/uint2: keep the low bits (wrap, like C) or clamp (saturate)."""
    dtype = np.dtype(dtype)
    nb, signed = _INT_FORMATS[dtype.names[0]]
    v = np.asarray(values).astype(np.int64)
    if saturate:
        lo, hi = int_range(dtype)
        v = np.clip(v, lo, hi)
    else:
        v = v & ((1 << nb) - 1)
        if signed:
            v = np.where(v >= 1 << (nb - 1), v - (1 << nb), v)
    return from_bits(v, dtype)


def _float_to_int64(x: np.ndarray) -> np.ndarray:
    """Truncate toward zero; NaN and ±Inf become 0 (as ml_dtypes does for the 4/2-bit types)."""
    x = np.asarray(x, dtype=np.float64)
    ok = np.isfinite(x) & (np.abs(x) < 2.0 ** 63)
    return np.where(ok, np.trunc(np.where(ok, x, 0.0)), 0.0).astype(np.int64)


def convert(x, dtype, saturate: bool = True, round_mode: str = "up") -> np.ndarray:
    """Cast a numeric array to ``dtype`` (tagged or plain), following ONNX Cast.

    float -> int truncates toward zero; int -> narrower int keeps the low bits; to a tagged float
    rounds half to even (see from_float); strings are handled by the Cast op itself.
    """
    dtype = np.dtype(dtype)
    x = np.asarray(x)
    src = x.dtype
    if src == dtype:
        return x.copy()
    src_tagged_float = is_tagged_float(src)
    if is_tagged_float(dtype):
        if is_tagged_int(src):
            vals = to_int(x).astype(np.float64)
        elif src_tagged_float:
            vals = to_float32(x)
        elif src == np.bool_:
            vals = x.astype(np.float32)
        else:
            vals = x if src.kind == "f" else x.astype(np.float64)
        return from_float(vals, dtype, saturate, round_mode)
    if is_tagged_int(dtype):
        if is_tagged_int(src) or src.kind in "iub":
            return from_int(to_int(x), dtype)
        vals = to_float32(x) if src_tagged_float else x
        return from_int(_float_to_int64(vals), dtype)
    # plain NumPy target
    if is_tagged_int(src):
        return to_int(x).astype(dtype)
    if src_tagged_float:
        f = to_float32(x)
        return f.astype(dtype)
    return x.astype(dtype)

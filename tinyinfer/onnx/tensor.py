"""TensorProto and SparseTensorProto → NumPy arrays.

Where the elements are, by ONNX element type (TensorProto fields in brackets):

    raw_data [9]      any type except STRING, little-endian; int4/uint4/float4 packed two per
                      byte (low nibble first), int2/uint2 four per byte, float6 four per 3 bytes
    float_data [4]    FLOAT, COMPLEX64 (real, imag pairs)
    int32_data [5]    INT32, INT16, INT8, UINT16, UINT8, BOOL, and the bit patterns of FLOAT16,
                      BFLOAT16, FLOAT8*, FLOAT6* (one per entry), and packed bytes of
                      INT4/UINT4/FLOAT4E2M1/INT2/UINT2
    int64_data [7]    INT64
    double_data [10]  DOUBLE, COMPLEX128
    uint64_data [11]  UINT32, UINT64
    string_data [6]   STRING
    external_data [13] with data_location [14] = EXTERNAL: raw bytes in a file next to the model

The element count must equal the product of dims; nothing is allocated before that is checked.
"""
from __future__ import annotations

import math
import sys
from dataclasses import dataclass, field
from typing import List, Optional

import numpy as np

from .. import dtypes as dt
from ..errors import ModelError, TensorSizeLimitError
from . import wire


@dataclass
class RawTensor:
    name: str = ""
    dims: List[int] = field(default_factory=list)
    data_type: int = 0
    raw: Optional[tuple] = None           # span into the buffer
    floats: Optional[wire.Repeated] = None
    int32s: Optional[wire.Repeated] = None
    int64s: Optional[wire.Repeated] = None
    doubles: Optional[wire.Repeated] = None
    uint64s: Optional[wire.Repeated] = None
    strings: List[bytes] = field(default_factory=list)
    external: dict = field(default_factory=dict)
    data_location: int = 0
    has_segment: bool = False


def parse(buf: bytes, start: int, end: int) -> RawTensor:
    t = RawTensor()
    dims = wire.Repeated("varint")
    for num, wt, v in wire.fields(buf, start, end):
        if num == 1:
            dims.add(buf, wt, v)
            if len(dims.singles) > MAX_RANK:  # unpacked dims bomb: stop at once
                break
        elif num == 2 and wt == 0:
            t.data_type = v
        elif num == 3:
            t.has_segment = True
        elif num == 4:
            t.floats = t.floats or wire.Repeated("f32")
            t.floats.add(buf, wt, v)
        elif num == 5:
            t.int32s = t.int32s or wire.Repeated("varint")
            t.int32s.add(buf, wt, v)
        elif num == 6 and wt == 2:
            t.strings.append(bytes(buf[v[0]:v[1]]))
        elif num == 7:
            t.int64s = t.int64s or wire.Repeated("varint")
            t.int64s.add(buf, wt, v)
        elif num == 8 and wt == 2:
            t.name = wire.string(buf, v)
        elif num == 9 and wt == 2:
            t.raw = v
        elif num == 10:
            t.doubles = t.doubles or wire.Repeated("f64")
            t.doubles.add(buf, wt, v)
        elif num == 11:
            t.uint64s = t.uint64s or wire.Repeated("varint")
            t.uint64s.add(buf, wt, v)
        elif num == 13 and wt == 2:
            key = value = ""
            for n2, w2, v2 in wire.fields(buf, v[0], v[1]):
                if n2 == 1 and w2 == 2:
                    key = wire.string(buf, v2)
                elif n2 == 2 and w2 == 2:
                    value = wire.string(buf, v2)
            t.external[key] = value
        elif num == 14 and wt == 0:
            t.data_location = v
    if len(dims) > MAX_RANK:  # counted before decoding: a dims bomb never becomes a list
        raise ModelError(f"tensor {t.name!r}: declares more than {MAX_RANK} dimensions; at "
                         f"most {MAX_RANK} are supported")
    t.dims = [int(d) for d in dims.int64()]
    return t


MAX_RANK = 64  # NumPy's limit on dimensions


def element_count(t: RawTensor, what: str, max_bytes=None) -> int:
    """Elements the dims declare, after checking them: none negative, rank and byte size sane."""
    if len(t.dims) > MAX_RANK:
        raise ModelError(f"{what}: declares {len(t.dims)} dimensions; at most {MAX_RANK} are supported")
    for d in t.dims:
        if d < 0:
            raise ModelError(f"{what}: negative dimension {d} in dims {t.dims}")
    n = math.prod(t.dims)
    dtype = dt.ONNX_TO_NUMPY.get(t.data_type)
    itemsize = 8 if dtype is None or t.data_type == dt.STRING else dtype.itemsize
    if math.prod(max(d, 1) for d in t.dims) * itemsize >= 1 << 62:  # even when another dim is 0
        raise ModelError(f"{what}: dims {t.dims} describe an impossibly large tensor")
    if max_bytes is not None and n * itemsize > max_bytes:
        raise TensorSizeLimitError(f"{what}: dims {t.dims} need {n * itemsize:,} bytes, over the "
                                   f"budget max_tensor_bytes={max_bytes:,} (SessionOptions."
                                   "max_tensor_bytes)")
    return n


def to_array(buf: bytes, t: RawTensor, what: str, read_external=None,
             max_bytes=None) -> np.ndarray:
    """Decode a parsed tensor. ``read_external(t, nbytes)`` returns the bytes of external data;
    a tensor over ``max_bytes`` is refused before anything is read or allocated."""
    what = f"{what} {t.name!r}" if t.name else what
    if t.has_segment:
        raise ModelError(f"{what}: segmented tensors are not supported")
    if t.data_type not in dt.ONNX_TO_NUMPY:
        raise ModelError(f"{what}: unknown element type {t.data_type}")
    n = element_count(t, what, max_bytes)
    dtype = dt.ONNX_TO_NUMPY[t.data_type]
    code = t.data_type

    if code == dt.STRING:
        if len(t.strings) != n:
            raise ModelError(f"{what}: dims {t.dims} need {n} strings, found {len(t.strings)}")
        out = np.empty(n, dtype=object)
        for i, s in enumerate(t.strings):
            try:
                out[i] = s.decode("utf-8")
            except UnicodeDecodeError:
                out[i] = s
        return out.reshape(t.dims)

    if t.data_location == 1 or t.external:
        if read_external is None:
            raise ModelError(f"{what}: stored as external data, but the model was loaded from bytes "
                             "with no folder to find it in")
        raw = read_external(t, packed_nbytes(code, n), what)
        return from_raw(raw, code, t.dims, n, what)
    if t.raw is not None:
        return from_raw(memoryview(buf)[t.raw[0]:t.raw[1]], code, t.dims, n, what)

    if code in (dt.FLOAT, dt.COMPLEX64):
        per = 2 if code == dt.COMPLEX64 else 1
        _check_count(len(t.floats or ()), n * per, what, t.dims)
        vals = t.floats.float32() if t.floats else np.zeros(0, np.float32)
        return vals.copy().view(dtype).reshape(t.dims) if per == 2 else vals.reshape(t.dims)
    if code in (dt.DOUBLE, dt.COMPLEX128):
        per = 2 if code == dt.COMPLEX128 else 1
        _check_count(len(t.doubles or ()), n * per, what, t.dims)
        vals = t.doubles.float64() if t.doubles else np.zeros(0, np.float64)
        return vals.copy().view(dtype).reshape(t.dims) if per == 2 else vals.reshape(t.dims)
    if code == dt.INT64:
        _check_count(len(t.int64s or ()), n, what, t.dims)
        vals = t.int64s.int64() if t.int64s else np.zeros(0, np.int64)
        return vals.reshape(t.dims)
    if code in (dt.UINT32, dt.UINT64):
        _check_count(len(t.uint64s or ()), n, what, t.dims)
        vals = t.uint64s.bits() if t.uint64s else np.zeros(0, np.uint64)
        return vals.astype(dtype).reshape(t.dims)
    # everything else lives in int32_data
    packed = code in PACKED_BITS and code not in (dt.FLOAT6E2M3, dt.FLOAT6E3M2)  # float6: one each
    _check_count(len(t.int32s or ()), packed_nbytes(code, n) if packed else n, what, t.dims)
    vals = t.int32s.int64() if t.int32s else np.zeros(0, np.int64)
    if packed:
        return unpack(vals.astype(np.uint8), code, t.dims, n)
    if dtype.names is not None or code in (dt.FLOAT16,):
        storage = np.uint16 if dtype.itemsize == 2 else np.uint8
        bits = vals.astype(np.uint32).astype(storage)
        if code in (dt.FLOAT6E2M3, dt.FLOAT6E3M2):
            bits &= 0x3F
        return bits.view(dtype).reshape(t.dims)
    return vals.astype(dtype).reshape(t.dims)


def _check_count(found: int, need: int, what: str, dims) -> None:
    if found != need:
        raise ModelError(f"{what}: dims {list(dims)} need {need} stored elements, found {found}")


# bits per element in the file for sub-byte types
PACKED_BITS = {dt.INT4: 4, dt.UINT4: 4, dt.FLOAT4E2M1: 4, dt.INT2: 2, dt.UINT2: 2,
               dt.FLOAT6E2M3: 6, dt.FLOAT6E3M2: 6}


def packed_nbytes(code: int, n: int) -> int:
    """Bytes the file uses for n elements of this type."""
    bits = PACKED_BITS.get(code)
    if bits is None:
        return n * dt.ONNX_TO_NUMPY[code].itemsize
    if bits == 6:
        return -(-n * 6 // 8)
    return -(-n * bits // 8)


def from_raw(raw, code: int, dims, n: int, what: str) -> np.ndarray:
    need = packed_nbytes(code, n)
    if len(raw) != need:
        raise ModelError(f"{what}: dims {list(dims)} need {need} bytes of raw data, found {len(raw)}")
    if code in PACKED_BITS:
        return unpack(np.frombuffer(raw, dtype=np.uint8), code, dims, n)
    dtype = dt.ONNX_TO_NUMPY[code]
    if dtype.names is not None:
        storage = np.dtype("<u2") if dtype.itemsize == 2 else np.dtype("u1")
        return np.frombuffer(raw, dtype=storage).copy().view(dtype).reshape(dims)
    arr = np.frombuffer(raw, dtype=dtype.newbyteorder("<"))
    if sys.byteorder == "big":
        arr = arr.astype(dtype)
    return arr.copy().reshape(dims)


def unpack(packed: np.ndarray, code: int, dims, n: int) -> np.ndarray:
    """Unpack sub-byte elements (low bits first) into one element per byte, sign-extending ints."""
    bits = PACKED_BITS[code]
    packed = packed.astype(np.uint8)
    if bits == 6:
        groups = -(-n // 4)
        buf = np.zeros(groups * 3, np.uint8)
        buf[:packed.size] = packed[:groups * 3]
        b0, b1, b2 = buf[0::3], buf[1::3], buf[2::3]
        out = np.empty((groups, 4), np.uint8)
        out[:, 0] = b0 & 0x3F
        out[:, 1] = (b0 >> 6) | ((b1 & 0x0F) << 2)
        out[:, 2] = (b1 >> 4) | ((b2 & 0x03) << 4)
        out[:, 3] = b2 >> 2
        vals = out.reshape(-1)[:n]
    else:
        per = 8 // bits
        mask = (1 << bits) - 1
        vals = np.empty((packed.size, per), np.uint8)
        for k in range(per):
            vals[:, k] = (packed >> (k * bits)) & mask
        vals = vals.reshape(-1)[:n]
    dtype = dt.ONNX_TO_NUMPY[code]
    if code in (dt.INT4, dt.INT2):
        signed = vals.astype(np.int8)
        signed[signed >= (1 << (bits - 1))] -= 1 << bits
        return signed.view(dtype).reshape(dims)
    return vals.copy().view(dtype).reshape(dims)


def pack(values: np.ndarray, code: int) -> bytes:
    """Inverse of ``unpack`` (used when writing tensors back, e.g. by converters)."""
    bits = PACKED_BITS[code]
    v = np.ascontiguousarray(values).view(np.uint8).reshape(-1) & ((1 << bits) - 1)
    if bits == 6:
        n = v.size
        groups = -(-n // 4)
        g = np.zeros(groups * 4, np.uint8)
        g[:n] = v
        g = g.reshape(-1, 4)
        out = np.empty((groups, 3), np.uint8)
        out[:, 0] = g[:, 0] | ((g[:, 1] & 0x03) << 6)
        out[:, 1] = (g[:, 1] >> 2) | ((g[:, 2] & 0x0F) << 4)
        out[:, 2] = (g[:, 2] >> 4) | (g[:, 3] << 2)
        return out.reshape(-1)[: -(-n * 6 // 8)].tobytes()
    per = 8 // bits
    n = v.size
    g = np.zeros(-(-n // per) * per, np.uint8)
    g[:n] = v
    g = g.reshape(-1, per)
    out = np.zeros(g.shape[0], np.uint8)
    for k in range(per):
        out |= g[:, k] << (k * bits)
    return out.tobytes()

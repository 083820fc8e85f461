"""NumPy arrays → serialized TensorProto bytes: the inverse of tensor.py, for test-data folders.

    tensor_bytes(array, name="x")   -> bytes of a TensorProto (what `input_0.pb` holds)
    save_tensor("input_0.pb", array, name="x")

Written fields (numbers as in onnx.proto): dims [1] one varint each (proto2, not packed),
data_type [2], name [8], and the elements in raw_data [9], little-endian; STRING elements go
one per string_data [6] entry; int4/uint4/float4/int2/uint2/float6 are packed as in the file
format (tensor.pack). The reader (onnx/tensor.py) decodes every tensor written here.
"""
from __future__ import annotations

import numpy as np

from .. import dtypes as dt
from ..errors import InputError
from .tensor import PACKED_BITS, pack


def _varint(v: int) -> bytes:
    v &= 0xFFFFFFFFFFFFFFFF  # negatives as two's-complement 64-bit, as protobuf does
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _key(number: int, wire_type: int) -> bytes:
    return _varint((number << 3) | wire_type)


def _bytes_field(number: int, data: bytes) -> bytes:
    return _key(number, 2) + _varint(len(data)) + data


def tensor_bytes(array, name: str = "") -> bytes:
    """One TensorProto holding ``array`` (any dtype tinyinfer represents)."""
    a = np.asarray(array)
    try:
        code = dt.to_onnx(a.dtype)
    except Exception:
        code = dt.STRING if a.dtype.kind in "OUS" else None
    if code is None or code == dt.UNDEFINED:
        raise InputError(f"cannot write a tensor of dtype {a.dtype} as a TensorProto")
    out = bytearray()
    for d in a.shape:
        out += _key(1, 0) + _varint(int(d))
    out += _key(2, 0) + _varint(code)
    if code == dt.STRING:
        for s in a.reshape(-1):
            out += _bytes_field(6, s if isinstance(s, bytes) else str(s).encode("utf-8"))
    if name:
        out += _bytes_field(8, name.encode("utf-8"))
    if code != dt.STRING:
        if code in PACKED_BITS:
            raw = pack(a, code)
        else:
            raw = np.ascontiguousarray(a).view(np.uint8).tobytes()  # tagged types: their raw bits
            if a.dtype.byteorder == ">":
                raw = np.ascontiguousarray(a.astype(a.dtype.newbyteorder("<"))).tobytes()
        out += _bytes_field(9, raw)
    return bytes(out)


def save_tensor(path: str, array, name: str = "") -> None:
    with open(path, "wb") as f:
        f.write(tensor_bytes(array, name))

"""The protobuf wire format, decoded by hand.

A message is a run of fields; each field starts with a varint key = (field_number << 3) | wire_type:

    wire type 0  varint            int32/int64/uint64/bool/enum   (1–10 bytes, 7 bits each, LSB first)
    wire type 1  64-bit            double, fixed64                (8 bytes little-endian)
    wire type 2  length-delimited  string, bytes, sub-message, packed repeated scalars
    wire type 5  32-bit            float, fixed32                 (4 bytes little-endian)
    (3 and 4 are the deprecated group markers; 6 and 7 do not exist)

``fields(buf, start, end)`` yields (field_number, wire_type, value) where value is an int for
types 0/1/5 (raw bits for 1 and 5) and a (start, end) span into ``buf`` for type 2. Nothing is
copied until a caller asks for it. Every length and position is checked against the span.
Taught in notebooks/02_onnx_file.ipynb (the wire format decoded by hand, then with this file).
"""
from __future__ import annotations

import array
import struct
from typing import Iterator, Tuple

import numpy as np

from ..errors import DecodeError

MAX_VARINT_BYTES = 10


def varint(buf: bytes, pos: int, end: int) -> Tuple[int, int]:
    """Decode one unsigned varint at ``pos``; return (value, next position)."""
    result = 0
    shift = 0
    start = pos
    while True:
        if pos >= end:
            raise DecodeError("truncated protobuf: a varint runs past the end of its message")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result & 0xFFFFFFFFFFFFFFFF, pos  # bits past 64 are dropped, as protobuf does
        shift += 7
        if pos - start >= MAX_VARINT_BYTES:
            raise DecodeError(f"malformed protobuf: varint at byte {start} is longer than 10 bytes")


def signed64(v: int) -> int:
    """Reinterpret a decoded varint as two's-complement int64 (how protobuf stores negatives)."""
    v &= 0xFFFFFFFFFFFFFFFF
    return v - (1 << 64) if v >= 1 << 63 else v


def fields(buf: bytes, start: int, end: int) -> Iterator[Tuple[int, int, object]]:
    pos = start
    while pos < end:
        key, pos = varint(buf, pos, end)
        number, wtype = key >> 3, key & 7
        if number == 0:
            raise DecodeError(f"malformed protobuf: field number 0 at byte {pos}")
        if wtype == 0:
            value, pos = varint(buf, pos, end)
        elif wtype == 2:
            length, pos = varint(buf, pos, end)
            if length > end - pos:
                raise DecodeError(
                    f"truncated protobuf: field {number} declares {length} bytes, "
                    f"only {end - pos} remain"
                )
            value = (pos, pos + length)
            pos += length
        elif wtype == 5:
            if pos + 4 > end:
                raise DecodeError("truncated protobuf: a 32-bit field runs past the end")
            value = int.from_bytes(buf[pos:pos + 4], "little")
            pos += 4
        elif wtype == 1:
            if pos + 8 > end:
                raise DecodeError("truncated protobuf: a 64-bit field runs past the end")
            value = int.from_bytes(buf[pos:pos + 8], "little")
            pos += 8
        elif wtype == 3:
            pos = _skip_group(buf, pos, end, number)
            continue
        else:
            raise DecodeError(f"malformed protobuf: invalid wire type {wtype} for field {number}")
        yield number, wtype, value


def _skip_group(buf: bytes, pos: int, end: int, number: int) -> int:
    """Skip a deprecated group (wire types 3..4) without recursion."""
    depth = 1
    while depth:
        if pos >= end:
            raise DecodeError("truncated protobuf: unterminated group")
        key, pos = varint(buf, pos, end)
        wtype = key & 7
        if wtype == 0:
            _, pos = varint(buf, pos, end)
        elif wtype == 1:
            pos += 8
        elif wtype == 5:
            pos += 4
        elif wtype == 2:
            length, pos = varint(buf, pos, end)
            pos += length
        elif wtype == 3:
            depth += 1
        elif wtype == 4:
            depth -= 1
        else:
            raise DecodeError(f"malformed protobuf: invalid wire type {wtype} inside a group")
        if pos > end:
            raise DecodeError("truncated protobuf: a group runs past the end")
    return pos


def string(buf: bytes, span) -> str:
    raw = bytes(buf[span[0]:span[1]])
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise DecodeError(f"malformed protobuf: a string field is not UTF-8 ({e.reason})") from None


def float32(bits: int) -> float:
    return struct.unpack("<f", bits.to_bytes(4, "little"))[0]


def float64(bits: int) -> float:
    return struct.unpack("<d", bits.to_bytes(8, "little"))[0]


def packed_varints(buf: bytes, span) -> np.ndarray:
    """All varints in a packed span, vectorised; returned as uint64 (callers reinterpret).

    Decoded in slices of at most PACKED_CHUNK bytes, so the temporaries stay a few MB however
    long the field is (a one-byte varint becomes 8 bytes of output, never 40 of scratch)."""
    a = np.frombuffer(buf, dtype=np.uint8, count=span[1] - span[0], offset=span[0])
    if a.size == 0:
        return np.zeros(0, np.uint64)
    if a[-1] & 0x80:
        raise DecodeError("truncated protobuf: a packed varint list ends mid-varint")
    if not (a >= 0x80).any():  # every value fits in 7 bits (common for dims and small ints)
        return a.astype(np.uint64)
    parts, start = [], 0
    while start < a.size:
        stop = min(start + PACKED_CHUNK, a.size)
        while a[stop - 1] & 0x80:  # end the slice on a varint's last byte
            stop += 1
        parts.append(_varints(a[start:stop]))
        start = stop
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


PACKED_CHUNK = 1 << 20


def _varints(a: np.ndarray) -> np.ndarray:
    ends = np.flatnonzero(a < 0x80)
    starts = np.empty_like(ends)
    starts[0] = 0
    starts[1:] = ends[:-1] + 1
    lengths = ends - starts + 1
    if lengths.max() > MAX_VARINT_BYTES:
        raise DecodeError("malformed protobuf: a packed varint is longer than 10 bytes")
    pos_in = np.arange(a.size) - np.repeat(starts, lengths)
    parts = (a & 0x7F).astype(np.uint64) << (7 * pos_in).astype(np.uint64)
    return np.add.reduceat(parts, starts)


def packed_fixed(buf: bytes, span, dtype) -> np.ndarray:
    dtype = np.dtype(dtype)
    n = span[1] - span[0]
    if n % dtype.itemsize:
        raise DecodeError(f"malformed protobuf: packed {dtype} field of {n} bytes")
    return np.frombuffer(buf, dtype=dtype, count=n // dtype.itemsize, offset=span[0]).copy()


class Repeated:
    """Collects a repeated scalar field that may arrive packed (spans) or one value at a time.

    Single values go into an ``array.array`` (8 bytes each), not one NumPy array per value, so
    a file of many tiny unpacked fields cannot make the decoder use 50x its size."""

    _DTYPE = {"varint": np.uint64, "f32": np.uint32, "f64": np.uint64}
    _WIRE = {"varint": 0, "f32": 5, "f64": 1}

    def __init__(self, kind: str):
        self.kind = kind  # 'varint', 'f32', 'f64'
        self.parts = []
        self.singles = array.array("Q")

    def add(self, buf, wtype, value):
        if wtype == 2:  # packed: kept as a span, decoded only when asked (after counts are checked)
            self._flush()
            n = value[1] - value[0]
            if self.kind != "varint" and n % (4 if self.kind == "f32" else 8):
                raise DecodeError(f"malformed protobuf: packed {self.kind} field of {n} bytes")
            self.parts.append((buf, value))
        else:
            if wtype != self._WIRE[self.kind]:
                raise DecodeError(f"malformed protobuf: wire type {wtype} for a {self.kind} field")
            self.singles.append(value)

    def _flush(self):
        if self.singles:
            self.parts.append(np.frombuffer(self.singles, np.uint64).astype(self._DTYPE[self.kind]))
            self.singles = array.array("Q")

    def _decode(self, part) -> np.ndarray:
        if isinstance(part, np.ndarray):
            return part
        buf, span = part
        if self.kind == "varint":
            return packed_varints(buf, span)
        return packed_fixed(buf, span, "<u4" if self.kind == "f32" else "<u8")

    def bits(self) -> np.ndarray:
        self._flush()
        if not self.parts:
            return np.zeros(0, self._DTYPE[self.kind])
        arrays = [self._decode(p) for p in self.parts]
        self.parts = [arrays[0] if len(arrays) == 1 else np.concatenate(arrays)]
        return self.parts[0]

    def int64(self) -> np.ndarray:
        return self.bits().view(np.int64)

    def float32(self) -> np.ndarray:
        return self.bits().view(np.float32)

    def float64(self) -> np.ndarray:
        return self.bits().view(np.float64)

    def __len__(self):
        """How many values, counted without decoding (one per varint's last byte)."""
        n = len(self.singles)
        for p in self.parts:
            if isinstance(p, np.ndarray):
                n += len(p)
            elif self.kind == "varint":
                buf, (a, b) = p
                n += _count_varints(buf, a, b)
            else:
                n += (p[1][1] - p[1][0]) // (4 if self.kind == "f32" else 8)
        return n


def _count_varints(buf, a: int, b: int) -> int:
    n = 0
    for start in range(a, b, PACKED_CHUNK):
        stop = min(start + PACKED_CHUNK, b)
        n += int(np.count_nonzero(np.frombuffer(buf, np.uint8, stop - start, start) < 0x80))
    return n

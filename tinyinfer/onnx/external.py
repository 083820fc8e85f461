"""External tensor data, read only from inside the model's own folder.

A TensorProto with data_location = EXTERNAL carries key/value pairs:
    location  path of the data file, relative to the model's folder   (required)
    offset    byte offset in that file                                 (default 0)
    length    byte count                                               (default: to the end)

Refused before any target is opened: absolute paths, drive letters, any '..' component, and paths
whose real location (after resolving symlinks) is outside the model's folder. Offset and length
are checked against the file size and against what the tensor's dims need.
"""
from __future__ import annotations

import os
from typing import Optional

from ..errors import ModelError


class ExternalDataReader:
    def __init__(self, base_dir: Optional[str]):
        self.base_dir = os.path.realpath(base_dir) if base_dir is not None else None

    def resolve(self, location: str, what: str) -> str:
        if self.base_dir is None:
            raise ModelError(f"{what}: external data {location!r} cannot be read: the model was "
                             "loaded from bytes, so there is no model folder")
        if not location:
            raise ModelError(f"{what}: external data has no 'location'")
        norm = location.replace("\\", "/")
        if norm.startswith("/") or os.path.isabs(location) or (len(norm) > 1 and norm[1] == ":"):
            raise ModelError(f"{what}: external data location {location!r} is an absolute path; "
                             "only paths inside the model's folder are allowed")
        if any(part == ".." for part in norm.split("/")):
            raise ModelError(f"{what}: external data location {location!r} contains '..'; "
                             "only paths inside the model's folder are allowed")
        path = os.path.realpath(os.path.join(self.base_dir, norm))
        if os.path.commonpath([path, self.base_dir]) != self.base_dir:
            raise ModelError(f"{what}: external data location {location!r} resolves outside the "
                             "model's folder (through a symlink); refused")
        return path

    def __call__(self, t, nbytes: int, what: str) -> bytes:
        info = t.external
        path = self.resolve(info.get("location", ""), what)
        try:
            offset = int(info.get("offset", "0") or 0)
            length = int(info["length"]) if info.get("length") else None
        except ValueError:
            raise ModelError(f"{what}: external data offset/length are not integers: "
                             f"offset={info.get('offset')!r} length={info.get('length')!r}") from None
        if offset < 0 or (length is not None and length < 0):
            raise ModelError(f"{what}: negative external data offset or length")
        if not os.path.isfile(path):
            raise ModelError(f"{what}: external data file {info.get('location')!r} not found "
                             f"next to the model")
        size = os.path.getsize(path)
        if length is None:
            length = size - offset
        if offset + length > size:
            raise ModelError(f"{what}: external data asks for bytes {offset}..{offset + length} of "
                             f"{info.get('location')!r}, which has only {size} bytes")
        if length != nbytes:
            raise ModelError(f"{what}: external data length {length} does not match the {nbytes} "
                             "bytes its dims and type need")
        with open(path, "rb") as f:
            f.seek(offset)
            data = f.read(length)
        if len(data) != length:
            raise ModelError(f"{what}: short read from external data file {info.get('location')!r}")
        return data

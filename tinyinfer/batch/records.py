"""Inputs in, JSON Lines out: expanding files/folders/globs, and the results file.

    expand_inputs(["scans/", "*.png", "a.jpg"], IMAGE_EXTS) -> sorted absolute paths, no repeats
    done = read_done("out.jsonl")           # paths that already have a record (for --resume)
    with Writer("out.jsonl") as w: w.write(record)     # one line per record, flushed at once

Only the parent process writes, one whole line per record followed by a flush, so a killed run
keeps every record it wrote; a half-written last line (killed mid-write) is cut off on resume.
"""
from __future__ import annotations

import glob
import json
import os
from typing import Iterable, List, Sequence, Set

from ..errors import InputError

GLOB_CHARS = set("*?[")


def _walk(folder: str, exts: Sequence[str]) -> List[str]:
    out = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        out += [os.path.join(root, f) for f in sorted(files)
                if not f.startswith(".") and f.lower().endswith(tuple(exts))]
    return out


def expand_inputs(items: Iterable[str], exts: Sequence[str]) -> List[str]:
    """Files are taken as given; folders are walked (recursively) for files ending in `exts`;
    globs (`*`, `?`, `[..]`, `**`) are expanded. A name that matches nothing is an error."""
    seen, out = set(), []
    for item in items:
        if os.path.isdir(item):
            found = _walk(item, exts)
        elif os.path.isfile(item):
            found = [item]
        elif GLOB_CHARS & set(item):
            found = []
            for m in sorted(glob.glob(item, recursive=True)):
                found += _walk(m, exts) if os.path.isdir(m) else [m]
            if not found:
                raise InputError(f"input pattern {item!r} matches no file")
        else:
            raise InputError(f"input {item!r} is not a file, a folder or a glob pattern")
        for p in found:
            p = os.path.abspath(p)
            if p not in seen:
                seen.add(p)
                out.append(p)
    return out


def read_done(path: str) -> Set[str]:
    """Paths recorded in an existing results file. A torn last line is removed from the file."""
    if not os.path.exists(path):
        return set()
    with open(path, "rb") as f:
        data = f.read()
    end = data.rfind(b"\n") + 1
    if end < len(data):  # the run was killed in the middle of a line: drop the fragment
        with open(path, "r+b") as f:
            f.truncate(end)
    done = set()
    for n, line in enumerate(data[:end].splitlines(), 1):
        if not line.strip():
            continue
        try:
            done.add(json.loads(line)["path"])
        except (ValueError, KeyError, TypeError):
            raise InputError(f"{path}:{n} is not a batch record; is this the right results "
                             "file?") from None
    return done


def read_records(path: str) -> List[dict]:
    """Every record of a results file, in the order written."""
    with open(path, encoding="utf-8") as f:
        return [json.loads(ln) for ln in f if ln.strip()]


class Writer:
    def __init__(self, path: str, append: bool):
        folder = os.path.dirname(os.path.abspath(path))
        os.makedirs(folder, exist_ok=True)
        self.f = open(path, "a" if append else "w", encoding="utf-8")

    def write(self, record: dict) -> None:
        self.f.write(json.dumps(record, ensure_ascii=False) + "\n")
        self.f.flush()

    def close(self) -> None:
        self.f.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

"""What every converter needs: reading and writing ONNX files, running them in tinyinfer, errors.

    m = load(path)                 onnx.ModelProto, or ConvertError with one readable line
    save(m, path)                  onnx.checker first, then write; returns the file size
    run(m, feeds, names=None)      tinyinfer outputs (and any intermediate `names`) as a dict
    inits(m)                       {name: np.ndarray} of the graph's initializers
    Progress(total, label)         a one-line progress bar on stderr
"""
from __future__ import annotations

import os
import sys
from typing import Dict, Iterable, Optional

import numpy as np
import onnx
from onnx import numpy_helper


class ConvertError(Exception):
    """A user error in converters/: the CLI prints it as one line and exits 2."""


def load(path) -> onnx.ModelProto:
    if isinstance(path, onnx.ModelProto):
        return path
    path = os.fspath(path)
    if not os.path.exists(path):
        raise ConvertError(f"{path}: no such file")
    if os.path.isdir(path):
        raise ConvertError(f"{path}: is a folder, not an ONNX model file")
    try:
        m = onnx.load(path)
    except Exception as e:  # protobuf raises several types for garbage bytes
        raise ConvertError(f"{path}: not an ONNX model file ({type(e).__name__})") from None
    if not m.graph.node and not m.graph.output:
        raise ConvertError(f"{path}: not an ONNX model file (no graph)")
    return m


def save(m: onnx.ModelProto, path) -> int:
    try:
        onnx.checker.check_model(m)
    except onnx.checker.ValidationError as e:
        first = str(e).strip().splitlines()[0]
        raise ConvertError(f"the converted model does not pass onnx.checker: {first}") from None
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise ConvertError(f"{path}: folder {folder} does not exist")
    onnx.save(m, path)
    return os.path.getsize(path)


def inits(m: onnx.ModelProto) -> Dict[str, np.ndarray]:
    return {t.name: numpy_helper.to_array(t) for t in m.graph.initializer}


def opset(m: onnx.ModelProto) -> int:
    for o in m.opset_import:
        if o.domain in ("", "ai.onnx"):
            return o.version
    return 0


def set_opset(m: onnx.ModelProto, version: int) -> None:
    for o in m.opset_import:
        if o.domain in ("", "ai.onnx"):
            o.version = max(o.version, version)
            return
    m.opset_import.append(onnx.helper.make_opsetid("", version))


def input_names(m: onnx.ModelProto):
    names = {t.name for t in m.graph.initializer}
    return [i.name for i in m.graph.input if i.name not in names]


def session(m: onnx.ModelProto, extra_outputs: Iterable[str] = ()):
    """A tinyinfer session running `m` as written (level 0), with `extra_outputs` exposed."""
    import tinyinfer
    m2 = onnx.ModelProto()
    m2.CopyFrom(m)
    have = {o.name for o in m2.graph.output}
    for name in extra_outputs:
        if name not in have:
            m2.graph.output.append(onnx.ValueInfoProto(name=name))
            have.add(name)
    opts = tinyinfer.SessionOptions()
    opts.graph_optimization_level = tinyinfer.GraphOptimizationLevel.ORT_DISABLE_ALL
    return tinyinfer.InferenceSession(m2.SerializeToString(), opts)


def run(m: onnx.ModelProto, feeds: Dict[str, np.ndarray], names: Iterable[str] = ()) -> Dict[str, np.ndarray]:
    sess = session(m, names)
    outs = [o.name for o in sess.get_outputs()]
    return dict(zip(outs, sess.run(None, feeds)))


class Progress:
    """[#####.....] 12/50 label — redrawn in place on stderr; quiet when quiet=True."""

    def __init__(self, total: int, label: str = "", quiet: bool = False, width: int = 30):
        self.total, self.label, self.quiet, self.width, self.n = max(total, 1), label, quiet, width, 0

    def step(self, k: int = 1) -> None:
        self.n += k
        if self.quiet:
            return
        fill = int(self.width * self.n / self.total)
        sys.stderr.write(f"\r{self.label} [{'#' * fill}{'.' * (self.width - fill)}] {self.n}/{self.total}")
        if self.n >= self.total:
            sys.stderr.write("\n")
        sys.stderr.flush()


def fmt_size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if abs(n) < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024


def fresh_namer(m: onnx.ModelProto):
    """A function giving names not yet used in the graph: fresh('conv1_w') -> 'conv1_w_1'."""
    used = set()
    for n in m.graph.node:
        used.update(n.input)
        used.update(n.output)
        used.add(n.name)
    used.update(t.name for t in m.graph.initializer)
    used.update(v.name for v in (*m.graph.input, *m.graph.output, *m.graph.value_info))

    def fresh(base: str) -> str:
        name, k = base, 0
        while name in used:
            k += 1
            name = f"{base}_{k}"
        used.add(name)
        return name
    return fresh

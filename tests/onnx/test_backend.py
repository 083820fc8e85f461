"""The official ONNX backend tests (onnx.backend.test.BackendTest), generated from the pinned
onnx package at test time, run against tinyinfer.

Suites: node (~1,884 single-op models), simple, pytorch-converted, pytorch-operator and the nine
'light' real models (expected outputs ship inside the onnx package). Every exclusion lives in
backend_exclusions.txt with its reason; the terminal summary prints the pass counts per suite.
"""
import os
import pathlib
import tempfile
import unittest

import pytest

onnx = pytest.importorskip("onnx")
pytest.importorskip("ml_dtypes")

import onnx.backend.test  # noqa: E402

from tinyinfer.backend import TinyInferBackend  # noqa: E402

HERE = pathlib.Path(__file__).parent
os.environ.setdefault("ONNX_HOME", os.path.join(tempfile.gettempdir(), "tinyinfer-onnx-home"))


def read_exclusions(path=HERE / "backend_exclusions.txt"):
    """Lines 'regex  # reason'. A line without a reason is an error: the list must explain itself."""
    out = []
    for lineno, line in enumerate(path.read_text().splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        pattern, _, reason = line.partition("#")
        if not reason.strip():
            raise ValueError(f"{path.name}:{lineno}: exclusion {pattern.strip()!r} has no reason")
        out.append((pattern.strip(), reason.strip()))
    return out


backend_test = onnx.backend.test.BackendTest(TinyInferBackend, __name__)
for pattern, _reason in read_exclusions():
    backend_test.exclude(pattern)

globals().update(backend_test.test_cases)

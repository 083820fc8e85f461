import os
import re
import sys
from collections import Counter

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

_SUITES = {"OnnxBackendNodeModelTest": "node", "OnnxBackendSimpleModelTest": "simple",
           "OnnxBackendPyTorchConvertedModelTest": "pytorch-converted",
           "OnnxBackendPyTorchOperatorModelTest": "pytorch-operator",
           "OnnxBackendRealModelTest": "real (light models)"}
_counts = {}


def pytest_runtest_logreport(report):
    m = re.search(r"::(OnnxBackend\w+)::", report.nodeid)
    if not m or m.group(1) not in _SUITES or report.nodeid.endswith("_cuda"):
        return  # the CUDA twins of each test are skipped by design: tinyinfer is a CPU runtime
    c = _counts.setdefault(_SUITES[m.group(1)], Counter())
    if report.when == "call":
        c["passed" if report.passed else "failed" if report.failed else "skipped"] += 1
    elif report.when == "setup" and report.skipped:
        c["skipped"] += 1
    elif report.when == "setup" and report.failed:
        c["failed"] += 1


def pytest_terminal_summary(terminalreporter):
    if not _counts or getattr(terminalreporter, "_tinyinfer_reported", False):
        return
    terminalreporter._tinyinfer_reported = True
    terminalreporter.section("ONNX backend conformance")
    for suite, c in _counts.items():
        total = c["passed"] + c["failed"] + c["skipped"]
        pct = 100.0 * c["passed"] / total if total else 0.0
        terminalreporter.write_line(
            f"{suite:22s} {c['passed']:5d} / {total:5d} passed ({pct:5.1f} %), "
            f"{c['failed']} failed, {c['skipped']} excluded or skipped")


@pytest.fixture(scope="session")
def ppocr_dir():
    """The PP-OCR models shipped in the rapidocr_onnxruntime wheel."""
    rapidocr = pytest.importorskip("rapidocr_onnxruntime")
    return os.path.join(os.path.dirname(rapidocr.__file__), "models")

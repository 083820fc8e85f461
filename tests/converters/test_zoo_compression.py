"""models/COMPRESSION.md — what quantize, prune and lowrank do to the project's models — recomputed
from the committed models and held-out data: sizes, parameters, held-out metrics, and every variant
loading and agreeing (≤ 1e-4) in onnxruntime and tinyinfer. Plus issue 6's size and accuracy bars
for the committed int8 builds: ≤ 30 % of the fp32 file, metric within 1 point of fp32."""
import os
import re
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "models"))
pytest.importorskip("onnxruntime")
import compression  # noqa: E402

with open(compression.OUT) as fh:
    COMMITTED = fh.read()
SECTIONS = re.findall(r"^## (\S+)$", COMMITTED, re.M)


@pytest.mark.parametrize("name", SECTIONS)
def test_table_is_reproduced(name):
    part = COMMITTED.split(f"## {name}\n", 1)[1].split("\n## ", 1)[0].rstrip("\n")
    fresh = compression.table([name]).split(f"## {name}\n", 1)[1].rstrip("\n")
    assert fresh == part


@pytest.mark.parametrize("name", SECTIONS)
def test_int8_build_meets_issue_6(name):
    """The committed table (reproduced by the test above): int8 file <= 30 % of fp32, metric within
    1 point of fp32."""
    part = COMMITTED.split(f"## {name}\n", 1)[1].split("\n## ", 1)[0]
    row = next(ln.split(" | ") for ln in part.splitlines() if ln.startswith("| int8 |"))
    assert float(row[3].rstrip(" %")) <= 30.0, row
    assert float(row[6]) >= -1.0, row

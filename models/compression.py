"""What converters/ does to the project's models: size and held-out metric of each fp32 model, its
committed int8 build, and three more compressions made here — structured pruning (whole conv
channels removed), unstructured magnitude pruning and SVD low-rank factorisation — with no
fine-tuning afterwards. Every variant is measured with tinyinfer on the model's held-out data
(the card's `evaluate`) and also run in onnxruntime on the card's sample input. Models with a
`calib.npz` (training-distribution inputs) also get structured pruning with least-squares refitting
of the layers after the removed channels.

    python models/compression.py                         writes models/COMPRESSION.md
    pytest tests/converters/test_zoo_compression.py      recomputes the table and compares

Structured pruning only removes channels where the algebra stays exact (converters/prune.py): a
conv whose channels reach a Reshape (ShuffleNet's channel shuffle, a CRNN's column-to-sequence
step) or a grouped conv is left whole, so such models shrink little or not at all. The detector's
F-score needs its probability map near the trained values everywhere; without fine-tuning it does
not survive these compressions. Sizes are the ONNX files' bytes. Unstructured pruning zeroes weights inside dense tensors: the
file does not shrink (a sparse format or a compressor would be needed) — it is listed to show
what the zeros cost in accuracy.
"""
from __future__ import annotations

import os
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
for p in (ROOT, HERE):
    if p not in sys.path:
        sys.path.insert(0, p)
import zoo  # noqa: E402

OUT = os.path.join(HERE, "COMPRESSION.md")


def _variants(calib):
    """(label, command, make(src, dst)); the refit row only for models with a calib.npz."""
    from converters import lowrank, prune

    out = [("prune, structured 25 %", "prune --sparsity 0.25 --structured",
            lambda s, d: prune(s, d, sparsity=0.25, structured=True))]
    if calib:
        out.append(("prune, structured 25 %, refit", "prune --sparsity 0.25 --structured --calibrate calib.npz",
                    lambda s, d: prune(s, d, sparsity=0.25, structured=True, calibrate=calib)))
    out += [("prune, unstructured 30 %", "prune --sparsity 0.3", lambda s, d: prune(s, d, sparsity=0.3)),
            ("low rank, 90 % energy", "lowrank --energy 0.9", lambda s, d: lowrank(s, d, energy=0.9))]
    return out


def _vs_onnxruntime(path: str, feeds: dict) -> float:
    """max |tinyinfer - onnxruntime| over the outputs for the card's sample input."""
    import onnxruntime as ort

    import tinyinfer

    a = ort.InferenceSession(path, providers=["CPUExecutionProvider"]).run(None, feeds)
    b = tinyinfer.InferenceSession(path).run(None, feeds)
    return float(max(np.abs(np.asarray(x, np.float64) - np.asarray(y, np.float64)).max() for x, y in zip(a, b)))


def rows(name: str) -> list:
    """[(variant, command, size bytes, params, (hits, total), max diff vs onnxruntime)] for one model."""
    card = zoo.load_card(name)
    d = os.path.join(HERE, name)
    fp32, int8 = os.path.join(d, card.FP32), os.path.join(d, card.INT8)
    feeds = card.feeds()
    out = []
    for label, cmd, path in (("fp32", "(trained)", fp32), ("int8", card.QUANTIZE.split(" (")[0], int8)):
        out.append((label, cmd, os.path.getsize(path), zoo.params(path), card.evaluate(path),
                    _vs_onnxruntime(path, feeds)))
    with tempfile.TemporaryDirectory() as tmp:
        calib = os.path.join(d, "calib.npz")
        for label, cmd, make in _variants(calib if os.path.isfile(calib) else None):
            path = os.path.join(tmp, "v.onnx")
            make(fp32, path)
            out.append((label, f"tinyinfer-convert {cmd}", os.path.getsize(path), zoo.params(path),
                        card.evaluate(path), _vs_onnxruntime(path, feeds)))
    return out


def _diff(d: float) -> str:
    return "≤ 1e-4" if d <= 1e-4 else f"{d:.1e}"


def table(names=None) -> str:
    names = names or [n for n in zoo.MODELS if os.path.isfile(os.path.join(HERE, n, "CARD.md"))]
    lines = [__doc__.split("\n\n")[0].replace("\n", " "), "",
             "Written by `python models/compression.py`; `pytest tests/converters/test_zoo_compression.py` "
             "recomputes every figure.", ""]
    for name in names:
        card = zoo.load_card(name)
        rs = rows(name)
        base_size, base_hits = rs[0][2], rs[0][4]
        base = base_hits[0] / base_hits[1]
        lines += [f"## {name}", "", f"held-out metric: {card.METRIC}", "",
                  "| variant | made by | size | % of fp32 | parameters | metric | Δ vs fp32 | max abs diff tinyinfer vs onnxruntime |",
                  "|---|---|---|---|---|---|---|---|"]
        for label, cmd, size, params, (h, t), diff in rs:
            acc = h / t
            lines.append(f"| {label} | `{cmd}` | {size:,} B | {100 * size / base_size:.1f} % | {params:,} | "
                         f"{100 * acc:.2f} % ({h}/{t}) | {100 * (acc - base):+.2f} | {_diff(diff)} |")
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    text = table(sys.argv[1:] or None)
    with open(OUT, "w") as fh:
        fh.write(text)
    print(text)

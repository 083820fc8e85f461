"""report: size, parameters and MACs per layer; with two models, per-layer error and accuracy.

    print(report("m.onnx"))
    print(report("m.onnx", "m.int8.onnx", data="labelled.npz"))    # .npz: inputs and 'y'

Accuracy: for classifiers, the share of samples whose arg-max class equals `y` (integer labels);
for CTC text recognisers (a `character` metadata entry, PP-OCR style) the share of lines whose
greedy CTC text equals `texts` (strings) exactly.

Shapes come from running the model once in tinyinfer (on the first sample of `data`, or on
zeros with symbolic dimensions set to 1). Layers are Conv, ConvTranspose, Gemm, MatMul and their
integer forms. Two models' layers are matched by output name, or else in order when both have
as many layers; the error is ||a - b|| / ||a|| on the same inputs.
"""
from __future__ import annotations

import os
from typing import Optional

import numpy as np
import onnx
from onnx import numpy_helper

from ._common import ConvertError, fmt_size, input_names, load, run
from .calibrate import _declared_shape, load_inputs

LAYERS = {"Conv": 1, "ConvTranspose": 1, "Gemm": 1, "MatMul": 1, "QLinearConv": 3,
          "ConvInteger": 1, "MatMulInteger": 1, "QLinearMatMul": 3}


def _params(m: onnx.ModelProto) -> int:
    n = sum(int(np.prod(t.dims)) for t in m.graph.initializer)
    for node in m.graph.node:
        if node.op_type == "Constant":
            for a in node.attribute:
                if a.name == "value":
                    n += int(np.prod(a.t.dims))
    return n


def _sample(m: onnx.ModelProto, feeds):
    if feeds:
        return {k: v[:1] for k, v in feeds.items()}
    out = {}
    for name in input_names(m):
        shape = [d or 1 for d in (_declared_shape(m, name) or [1])]
        out[name] = np.zeros(shape, np.float32)
    return out


def layers(m: onnx.ModelProto, feed) -> list:
    """[(name, op, weight params, MACs, output shape, output tensor)] in graph order."""
    wanted = [n.output[0] for n in m.graph.node] + [x for n in m.graph.node for x in n.input if x]
    vals = run(m, feed, wanted)
    consts = {t.name: numpy_helper.to_array(t) for t in m.graph.initializer}
    consumers = {}
    for n in m.graph.node:
        for x in n.input:
            consumers.setdefault(x, []).append(n)
    out = []
    for n in m.graph.node:
        if n.op_type not in LAYERS:
            continue
        wi = LAYERS[n.op_type]
        w = vals.get(n.input[wi]) if len(n.input) > wi else None
        y = vals.get(n.output[0])
        if w is None or y is None:
            continue
        if n.op_type in ("Conv", "QLinearConv", "ConvInteger", "ConvTranspose"):
            macs = y.size * int(np.prod(w.shape[1:])) if n.op_type != "ConvTranspose" else \
                vals[n.input[0]].size * int(np.prod(w.shape[1:]))
        else:
            macs = y.size * vals[n.input[0]].shape[-1]
        params = w.size if (n.input[wi] in consts or _from_const(m, n.input[wi], consts)) else 0
        tensor = n.output[0]
        # integer layers: follow to the float value the next layer reads
        for _ in range(4):
            nxt = consumers.get(tensor, [])
            if len(nxt) == 1 and nxt[0].op_type in ("DequantizeLinear", "QuantizeLinear", "Cast", "Mul", "Add") \
                    and (n.op_type not in ("Conv", "Gemm", "MatMul", "ConvTranspose") or nxt[0].op_type in
                         ("QuantizeLinear", "DequantizeLinear")):
                tensor = nxt[0].output[0]
            else:
                break
        out.append((n.name or n.output[0], n.op_type, params, macs, tuple(y.shape), tensor))
    return out


def _from_const(m, name, consts) -> bool:
    for n in m.graph.node:
        if name in n.output:
            return all(x in consts or _from_const(m, x, consts) for x in n.input if x) if n.input else True
    return False


def _characters(m: onnx.ModelProto):
    meta = {p.key: p.value for p in m.metadata_props}
    if "character" not in meta:
        return None
    from tinyinfer.ocr import ctc

    return ctc.load_characters(meta)


def _accuracy(m, feeds, y) -> float:
    outs = run(m, feeds)
    out = np.asarray(outs[m.graph.output[0].name])
    if np.asarray(y).dtype.kind in "USO":            # text lines: greedy CTC over (N, T, C) probabilities
        chars = _characters(m)
        if chars is None:
            raise ConvertError("text labels ('texts') need a CTC recogniser with a 'character' metadata entry")
        if out.ndim != 3 or out.shape[-1] != len(chars):
            raise ConvertError(f"text labels need (N, T, {len(chars)}) probabilities; the model gives {list(out.shape)}")
        from tinyinfer.ocr import ctc

        got = [ctc.decode(row, chars, "greedy").text for row in out]
        return float(np.mean([a == str(b) for a, b in zip(got, y)]))
    return float((out.reshape(len(y), -1).argmax(1) == y).mean())


def report(model, other=None, data: Optional[str] = None, limit: int = 256) -> str:
    a = load(model)
    models = [(model, a)] + ([(other, load(other))] if other else [])
    feeds, labels = None, None
    if data:
        feeds = load_inputs(a, data)
        feeds = {k: v[:limit] for k, v in feeds.items()}
        with np.load(data) as z:
            for key in ("y", "texts"):
                if key in z.files:
                    labels = z[key][:limit]
    lines = []
    tables = []
    for path, m in models:
        size = os.path.getsize(path) if isinstance(path, (str, os.PathLike)) else len(m.SerializeToString())
        rows = layers(m, _sample(m, feeds))
        tables.append(rows)
        head = f"{path}: {fmt_size(size)}, {_params(m):,} parameters, {sum(r[3] for r in rows):,} MACs, " \
               f"{len(m.graph.node)} nodes"
        if labels is not None:
            head += f", accuracy {100 * _accuracy(m, feeds, labels):.2f} % on {len(labels)} samples"
        lines.append(head)
    lines.append("")
    if not other:
        lines.append(f"{'layer':48} {'op':12} {'params':>9} {'MACs':>11}  output")
        for name, op, p, macs, shape, _ in tables[0]:
            lines.append(f"{name[-48:]:48} {op:12} {p:9,} {macs:11,}  {list(shape)}")
        return "\n".join(lines)
    ta, tb = tables
    by_name = {r[5]: r for r in tb}
    pairs = [(r, by_name[r[5]]) for r in ta if r[5] in by_name]
    if len(pairs) < len(ta) // 2 and len(ta) == len(tb):
        pairs = list(zip(ta, tb))
    feed = _sample(a, feeds if feeds is None else {k: v[:8] for k, v in feeds.items()})
    va = run(a, feed, [p[0][5] for p in pairs])
    vb = run(models[1][1], feed, [p[1][5] for p in pairs])
    lines.append(f"{'layer':40} {'op A':8} {'op B':12} {'params A':>9} {'params B':>9} {'MACs A':>10} {'MACs B':>10}  error")
    for ra, rb in pairs:
        x, y = va[ra[5]], vb[rb[5]]
        err = (f"{np.linalg.norm(x - y) / max(np.linalg.norm(x), 1e-12):.2e}" if x.shape == y.shape
               else "shape " + "x".join(map(str, y.shape)))
        lines.append(f"{ra[0][-40:]:40} {ra[1]:8} {rb[1]:12} {ra[2]:9,} {rb[2]:9,} {ra[3]:10,} {rb[3]:10,}  {err}")
    return "\n".join(lines)

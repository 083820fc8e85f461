"""Shape-aware rewrites before quantisation, each checked by running the model on zeros.

freeze_reshapes: Reshape targets computed at run time from Shape/Gather/Concat become constants.

    # Reshape(x, Concat(Unsqueeze(Gather(Shape(x), 0)), g, C/g, H, W))  ->  Reshape(x, [0, g, C/g, H, W])

PyTorch exports a channel shuffle or a flatten with a dynamic batch as a chain of Shape, Gather,
Div, Cast, Unsqueeze and Concat nodes (12 nodes per Reshape in models/chars_shufflenet). When only
the batch axis is symbolic, the target is the same for every batch size but its first entry, which
equals the input's own first axis: ONNX spells that 0 ("copy this axis"). The model is run at batch
sizes 1 and 2 to read each computed target; a target that fits this pattern becomes an
initializer, and the chain, read by nobody now, is dropped.

classifier_as_conv: a CNN's head as a 1x1 convolution, so the quantised head is a QLinearConv in
both formats (onnxruntime and tinyinfer fuse DQ -> Conv -> Q the same way; a Gemm has no
QLinearGemm in the standard domain, and onnxruntime's own QGemm rounds differently from a float
Gemm between Q/DQ):

    # Gemm(Flatten(x), W, b), x: (N, K, 1, 1)  ->  Flatten(Conv(x, W.T as (M, K, 1, 1), b))
"""
from __future__ import annotations

import numpy as np
import onnx
from onnx import numpy_helper

from ._common import fresh_namer, input_names, run
from .calibrate import _declared_shape


def _feeds(m: onnx.ModelProto, batch: int):
    out = {}
    for name in input_names(m):
        shape = _declared_shape(m, name)
        if not shape or any(d is None for d in shape[1:]):
            return None  # more than the batch axis is symbolic: leave the model alone
        out[name] = np.zeros([batch] + list(shape[1:]), np.float32)
    return out


def prune(m: onnx.ModelProto) -> None:
    """Drop nodes whose outputs nobody reads, and initializers nobody reads, in place."""
    used = {o.name for o in m.graph.output}
    keep = []
    for n in reversed(m.graph.node):
        if any(o in used for o in n.output):
            keep.append(n)
            used.update(n.input)
    keep.reverse()
    inits = [t for t in m.graph.initializer if t.name in used]
    del m.graph.node[:]
    m.graph.node.extend(keep)
    del m.graph.initializer[:]
    m.graph.initializer.extend(inits)


def freeze_reshapes(m: onnx.ModelProto) -> onnx.ModelProto:
    consts = {t.name for t in m.graph.initializer}
    todo = [n for n in m.graph.node if n.op_type == "Reshape" and len(n.input) > 1 and n.input[1] not in consts
            and not any(a.name == "allowzero" and a.i for a in n.attribute)]
    f1, f2 = _feeds(m, 1), _feeds(m, 2)
    if not todo or f1 is None:
        return m
    names = [x for n in todo for x in n.input]
    try:
        v1, v2 = run(m, f1, names), run(m, f2, names)
    except Exception:  # a model that does not run on zeros: nothing to learn here
        return m
    wanted = {n.output[0] for n in todo}
    out = onnx.ModelProto()
    out.CopyFrom(m)
    fresh, changed = fresh_namer(out), False
    for n in out.graph.node:
        if n.op_type != "Reshape" or n.output[0] not in wanted:
            continue
        s1, s2 = np.asarray(v1[n.input[1]]), np.asarray(v2[n.input[1]])
        x1, x2 = v1[n.input[0]], v2[n.input[0]]
        if s1.ndim != 1 or s1.shape != s2.shape or not len(s1) or np.asarray(x1).ndim < 1:
            continue
        if s1[0] != x1.shape[0] or s2[0] != x2.shape[0] or not np.array_equal(s1[1:], s2[1:]):
            continue
        target = np.concatenate([[0], s1[1:]]).astype(np.int64)
        name = fresh("shape")
        out.graph.initializer.append(numpy_helper.from_array(target, name))
        n.input[1] = name
        changed = True
    if changed:
        prune(out)
    return out


def classifier_as_conv(m: onnx.ModelProto, exclude=()) -> onnx.ModelProto:
    """exclude: names, op types ("Gemm") or output names of Gemm nodes to leave alone."""
    consts = {t.name: numpy_helper.to_array(t) for t in m.graph.initializer}
    made = {o: n for n in m.graph.node for o in n.output}
    readers = {}
    for n in m.graph.node:
        for x in n.input:
            readers[x] = readers.get(x, 0) + 1
    todo = []
    for n in m.graph.node:
        if n.op_type != "Gemm" or n.domain not in ("", "ai.onnx") or len(n.input) < 2:
            continue
        if "Gemm" in exclude or n.name in exclude or any(o in exclude for o in n.output):
            continue
        a = {x.name: onnx.helper.get_attribute_value(x) for x in n.attribute}
        f = made.get(n.input[0])
        w = consts.get(n.input[1])
        b = consts.get(n.input[2]) if len(n.input) > 2 and n.input[2] else None
        if a.get("transA", 0) or a.get("alpha", 1.0) != 1.0 or a.get("beta", 1.0) != 1.0 or w is None \
                or w.ndim != 2 or (len(n.input) > 2 and n.input[2] and (b is None or b.ndim != 1)):
            continue
        if f is None or f.op_type != "Flatten" or readers.get(f.output[0]) != 1 \
                or any(x.name == "axis" and x.i != 1 for x in f.attribute):
            continue
        todo.append((n, f, w.T if not a.get("transB", 0) else w, b))
    feeds = _feeds(m, 1)
    if not todo or feeds is None:
        return m
    try:
        vals = run(m, feeds, [f.input[0] for _, f, _, _ in todo])
    except Exception:
        return m
    out = onnx.ModelProto()
    out.CopyFrom(m)
    fresh, nodes = fresh_namer(out), []
    swap = {}
    for n, f, w, b in todo:
        x = np.asarray(vals[f.input[0]])
        if x.ndim < 3 or x.shape[1] != w.shape[1] or any(d != 1 for d in x.shape[2:]):
            continue
        wn = fresh(n.input[1] + "_conv")
        out.graph.initializer.append(numpy_helper.from_array(
            np.ascontiguousarray(w.reshape(w.shape + (1,) * (x.ndim - 2)), np.float32), wn))
        y = fresh(n.output[0] + "_conv")
        conv = onnx.helper.make_node("Conv", [f.input[0], wn] + ([n.input[2]] if b is not None else []), [y],
                                     name=fresh((n.name or "head") + "_conv"))
        flat = onnx.helper.make_node("Flatten", [y], list(n.output), name=fresh((n.name or "head") + "_flatten"))
        swap[n.output[0]] = (conv, flat)
        swap[f.output[0]] = None
    if not swap:
        return m
    for n in out.graph.node:
        key = n.output[0] if n.output else None
        if key in swap:
            if swap[key] is not None:
                nodes.extend(swap[key])
            continue
        nodes.append(n)
    del out.graph.node[:]
    out.graph.node.extend(nodes)
    prune(out)
    return out

"""prune: magnitude pruning of Conv, Gemm and MatMul weights.

    prune(model, out, sparsity=0.5)                   zero the smallest |w| of each weight tensor
    prune(model, out, sparsity=0.25, structured=True) remove the output channels of each Conv
                                                      with the smallest L1 norm, and the matching
                                                      input channels of every consumer

Structured pruning follows a Conv's output through channel-wise ops (activations, x * f(x),
pooling, Flatten after GlobalAveragePool, depthwise Conv) to the layers that read the channels
(Conv, Gemm, MatMul), which lose the same input channels. A Conv whose channels reach anything
else (a residual Add, Concat, Reshape, a graph output) is left whole: the file and the compute
shrink only where the algebra is exact.
"""
from __future__ import annotations

import numpy as np
import onnx
from onnx import helper, numpy_helper

from ._common import ConvertError, inits, save
from .optimize import optimize

UNARY = {"Relu", "HardSigmoid", "Sigmoid", "Clip", "LeakyRelu", "HardSwish", "Tanh", "Identity",
         "Elu", "Selu", "Softplus", "Gelu", "Swish", "MaxPool", "AveragePool", "GlobalAveragePool",
         "GlobalMaxPool", "Dropout"}
BINARY = {"Mul", "Add", "Sub", "Div"}


def _attr(n, name, default=None):
    for a in n.attribute:
        if a.name == name:
            return helper.get_attribute_value(a)
    return default


def _unstructured(w: dict, m: onnx.ModelProto, sparsity: float) -> None:
    for n in m.graph.node:
        if n.op_type in ("Conv", "Gemm", "MatMul") and len(n.input) > 1 and n.input[1] in w:
            W = w[n.input[1]]
            if W.dtype != np.float32 or W.ndim < 2:
                continue
            k = int(round(sparsity * W.size))
            if k:
                cut = np.partition(np.abs(W).reshape(-1), k - 1)[k - 1]
                w[n.input[1]] = np.where(np.abs(W) <= cut, np.float32(0), W).astype(np.float32)


def _trace(m, w, conv):
    """The edits removing conv's output channels: [(node, input index, axis)] + depthwise nodes,
    or None when the channels reach something that cannot lose them."""
    consumers = {}
    for n in m.graph.node:
        for i, x in enumerate(n.input):
            consumers.setdefault(x, []).append((n, i))
    outputs = {o.name for o in m.graph.output}
    group, queue, edits, depthwise = {conv.output[0]}, [conv.output[0]], [], []
    producer = {o: n for n in m.graph.node for o in n.output}
    C = w[conv.input[1]].shape[0]
    while queue:
        t = queue.pop()
        if t in outputs:
            return None
        for n, i in consumers.get(t, []):
            nxt = None
            if n.op_type in UNARY and i == 0:
                nxt = n.output[0]
            elif n.op_type in BINARY:
                other = n.input[1 - i]
                if other in group or (other in w and w[other].size == 1):
                    nxt = n.output[0]
            elif n.op_type == "Flatten" and _attr(n, "axis", 1) == 1 and \
                    getattr(producer.get(t), "op_type", "") in ("GlobalAveragePool", "GlobalMaxPool"):
                nxt = n.output[0]
            elif n.op_type == "Conv" and i == 0 and n.input[1] in w:
                W = w[n.input[1]]
                g = _attr(n, "group", 1)
                if g == 1 and W.shape[1] == C:
                    edits.append((n, 1, 1))
                    continue
                if g == C and W.shape[0] == C and W.shape[1] == 1:
                    depthwise.append(n)
                    nxt = n.output[0]
            elif n.op_type == "Gemm" and i == 0 and n.input[1] in w and not _attr(n, "transA", 0):
                edits.append((n, 1, 1 if _attr(n, "transB", 0) else 0))
                continue
            elif n.op_type == "MatMul" and i == 0 and n.input[1] in w and w[n.input[1]].ndim == 2:
                edits.append((n, 1, 0))
                continue
            if nxt is None:
                return None
            if nxt not in group:
                group.add(nxt)
                queue.append(nxt)
    return edits, depthwise


def _structured(w: dict, m: onnx.ModelProto, sparsity: float) -> int:
    removed = 0
    users = {}
    for n in m.graph.node:
        for x in n.input:
            users[x] = users.get(x, 0) + 1
    for conv in list(m.graph.node):
        if conv.op_type != "Conv" or conv.input[1] not in w or _attr(conv, "group", 1) != 1:
            continue
        W = w[conv.input[1]]
        C = W.shape[0]
        keep_n = max(1, int(round(C * (1 - sparsity))))
        if keep_n >= C:
            continue
        found = _trace(m, w, conv)
        if found is None:
            continue
        edits, depthwise = found
        tensors = [conv.input[1]] + ([conv.input[2]] if len(conv.input) > 2 and conv.input[2] else [])
        tensors += [x for d in depthwise for x in d.input[1:3] if x]
        tensors += [n.input[k] for n, k, _ in edits]
        if any(users.get(x, 0) > 1 or x not in w for x in tensors):
            continue  # a shared weight: pruning one reader would change another
        keep = np.sort(np.argsort(-np.abs(W).reshape(C, -1).sum(axis=1))[:keep_n])
        for x in tensors[:2 if len(conv.input) > 2 and conv.input[2] else 1]:
            w[x] = w[x][keep]
        for d in depthwise:
            for x in d.input[1:3]:
                if x:
                    w[x] = w[x][keep]
            for a in d.attribute:
                if a.name == "group":
                    a.i = keep_n
        for n, k, axis in edits:
            w[n.input[k]] = np.take(w[n.input[k]], keep, axis=axis)
        removed += C - keep_n
    return removed


def prune(model, out=None, sparsity: float = 0.5, structured: bool = False) -> onnx.ModelProto:
    if not 0.0 <= sparsity < 1.0:
        raise ConvertError(f"--sparsity must be in [0, 1), got {sparsity}")
    m = optimize(model)
    w = inits(m)
    if structured:
        _structured(w, m, sparsity)
    else:
        _unstructured(w, m, sparsity)
    del m.graph.initializer[:]
    m.graph.initializer.extend(numpy_helper.from_array(np.array(a, order="C"), k) for k, a in w.items())  # keeps 0-d scalars 0-d
    del m.graph.value_info[:]
    if out is not None:
        save(m, out)
    return m

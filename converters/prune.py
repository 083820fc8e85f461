"""prune: magnitude pruning of Conv, Gemm and MatMul weights.

    prune(model, out, sparsity=0.5)                   zero the smallest |w| of each weight tensor
    prune(model, out, sparsity=0.25, structured=True) remove the output channels of each Conv
                                                      with the smallest L1 norm, and the matching
                                                      input channels of every consumer
    prune(..., structured=True, calibrate="x.npz")    and refit each consumer on calibration data

Structured pruning follows a Conv's output through channel-wise ops (activations, x * f(x),
pooling, Flatten after GlobalAveragePool, depthwise Conv) to the layers that read the channels
(Conv, Gemm, MatMul), which lose the same input channels. A Conv whose channels reach anything
else (a residual Add, Concat, Reshape, a graph output) is left whole: the file and the compute
shrink only where the algebra is exact.

With calibration data, each layer that lost input channels is refitted by least squares (channel
pruning with reconstruction, as in He et al. 2017, "Channel Pruning for Accelerating Very Deep
Neural Networks"): with X its input patches over the calibration set in the pruned model so far
(kept channels only, plus a ones column when it has a bias) and Y its output in the original
model, the new weights are argmin ||X W' - Y||^2 + lambda ||W'||^2, lambda = 1e-4 * trace(X^T X) / n.
Pruning then costs far less accuracy without any retraining (models/COMPRESSION.md).
"""
from __future__ import annotations

import numpy as np
import onnx
from onnx import helper, numpy_helper

from ._common import ConvertError, inits, run, save
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


def _with(m: onnx.ModelProto, w: dict) -> onnx.ModelProto:
    """A copy of m carrying the weights w (for running the model part-way through pruning)."""
    out = onnx.ModelProto()
    out.CopyFrom(m)
    del out.graph.initializer[:]
    out.graph.initializer.extend(numpy_helper.from_array(np.array(a, order="C"), k) for k, a in w.items())
    del out.graph.value_info[:]
    return out


def _patches(x: np.ndarray, n: onnx.NodeProto, kh: int, kw: int) -> np.ndarray:
    """im2col of a group=1 Conv's input: (N, C, H, W) -> (N * OH * OW, C * kh * kw)."""
    if _attr(n, "auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET"):
        raise ConvertError(f"node {n.name!r}: reconstruction needs explicit pads, not auto_pad")
    sh, sw = _attr(n, "strides", [1, 1])
    dh, dw = _attr(n, "dilations", [1, 1])
    t, l, b, r = _attr(n, "pads", [0, 0, 0, 0])
    x = np.pad(x, ((0, 0), (0, 0), (t, b), (l, r)))
    N, C, H, W = x.shape
    oh, ow = (H - dh * (kh - 1) - 1) // sh + 1, (W - dw * (kw - 1) - 1) // sw + 1
    cols = np.empty((N, C, kh, kw, oh, ow), x.dtype)
    for i in range(kh):
        for j in range(kw):
            cols[:, :, i, j] = x[:, :, i * dh:i * dh + sh * (oh - 1) + 1:sh, j * dw:j * dw + sw * (ow - 1) + 1:sw]
    return cols.transpose(0, 4, 5, 1, 2, 3).reshape(N * oh * ow, C * kh * kw)


def _refit(m0, m, w, feeds, n, k, rng, max_rows=20000) -> None:
    """Least-squares refit of consumer n (Conv group 1, Gemm or MatMul), whose weights already read
    only the kept channels, towards its output in the original model m0."""
    Wt = w[n.input[k]]
    has_b = len(n.input) > 2 and bool(n.input[2]) and n.input[2] in w
    x = run(_with(m, w), feeds, [n.input[0]])[n.input[0]].astype(np.float64)
    y = run(m0, feeds, [n.output[0]])[n.output[0]].astype(np.float64)
    if n.op_type == "Conv":
        co, ci, kh, kw = Wt.shape
        X = _patches(x, n, kh, kw)
        Y = y.transpose(0, 2, 3, 1).reshape(-1, co)
    else:   # Gemm (x @ W or x @ W^T, alpha, beta) or MatMul (x @ W)
        X, Y = x.reshape(-1, x.shape[-1]), y.reshape(-1, y.shape[-1])
        if n.op_type == "Gemm":
            X = X * _attr(n, "alpha", 1.0)
    if len(X) > max_rows:
        pick = rng.choice(len(X), max_rows, replace=False)
        X, Y = X[pick], Y[pick]
    A = X
    if has_b:
        A = np.concatenate([A, np.ones((len(A), 1))], 1)
    lam = 1e-4 * np.trace(A.T @ A) / max(A.shape[1], 1)
    sol = np.linalg.solve(A.T @ A + lam * np.eye(A.shape[1]), A.T @ Y)     # (cols [+1], out)
    if has_b:
        beta = _attr(n, "beta", 1.0) if n.op_type == "Gemm" else 1.0
        w[n.input[2]] = (sol[-1] / beta).astype(np.float32).reshape(w[n.input[2]].shape)
        sol = sol[:-1]
    if n.op_type == "Conv":
        w[n.input[k]] = sol.T.reshape(co, ci, kh, kw).astype(np.float32)
    elif n.op_type == "Gemm" and _attr(n, "transB", 0):
        w[n.input[k]] = sol.T.astype(np.float32)
    else:
        w[n.input[k]] = sol.astype(np.float32)


def _importance(m, w, feeds, edits, C) -> np.ndarray:
    """With data: how much each channel feeds the consumers, sum over them of
    RMS(channel at the consumer's input) * ||consumer weights reading it||."""
    names = [n.input[0] for n, _, _ in edits]
    vals = run(_with(m, w), feeds, names)
    score = np.zeros(C)
    for (n, k, axis), name in zip(edits, names):
        x = vals[name].astype(np.float64)
        rms = np.sqrt((np.moveaxis(x, 1 if x.ndim == 4 else -1, 0).reshape(C, -1) ** 2).mean(axis=1))
        Wc = np.moveaxis(w[n.input[k]].astype(np.float64), axis, 0).reshape(C, -1)
        score += rms * np.linalg.norm(Wc, axis=1)
    return score


def _structured(w: dict, m: onnx.ModelProto, sparsity: float, feeds=None) -> int:
    removed = 0
    m0 = _with(m, dict(w)) if feeds else None
    rng = np.random.default_rng(0)
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
        score = _importance(m, w, feeds, edits, C) if feeds else np.abs(W).reshape(C, -1).sum(axis=1)
        keep = np.sort(np.argsort(-score)[:keep_n])
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
        for n, k, axis in edits if feeds else ():
            _refit(m0, m, w, feeds, n, k, rng)
        removed += C - keep_n
    return removed


def prune(model, out=None, sparsity: float = 0.5, structured: bool = False, calibrate=None,
          limit: int = 256) -> onnx.ModelProto:
    if not 0.0 <= sparsity < 1.0:
        raise ConvertError(f"--sparsity must be in [0, 1), got {sparsity}")
    if calibrate is not None and not structured:
        raise ConvertError("--calibrate refits the layers after removed channels: it needs --structured")
    m = optimize(model)
    w = inits(m)
    if structured:
        feeds = None
        if calibrate is not None:
            from .calibrate import load_inputs

            feeds = {k: v[:limit] for k, v in load_inputs(m, calibrate).items()}
        _structured(w, m, sparsity, feeds)
    else:
        _unstructured(w, m, sparsity)
    del m.graph.initializer[:]
    m.graph.initializer.extend(numpy_helper.from_array(np.array(a, order="C"), k) for k, a in w.items())  # keeps 0-d scalars 0-d
    del m.graph.value_info[:]
    if out is not None:
        save(m, out)
    return m

"""What a node computes, in its own numbers; why a divergence happened.

    explain_node(session, step, values) -> str   the op's formula with the node's attributes and
                                                 shapes (Conv: depthwise/grouped/pointwise and the
                                                 output-size arithmetic; QLinearConv: the
                                                 requantisation chain with its scales and zero points)
    trace_element(step, values, index) -> str    which input elements produced one output element
    explain_divergence(report) -> str            op, opset/spec version, attributes, the spec's
                                                 wording, known pitfalls and a test of them
"""
from __future__ import annotations

import inspect
import itertools
from typing import Dict, Optional

import numpy as np

from .compare import compare


# -- the spec ---------------------------------------------------------------------------------
def spec_version(op_type: str, domain: str, opset: int) -> Optional[int]:
    """The ONNX schema version in force (BatchNormalization at opset 11 -> 9); needs onnx."""
    try:
        from onnx import defs
        return defs.get_schema(op_type, opset, domain or "").since_version
    except Exception:  # onnx missing, or an op it does not know
        return None


def spec_summary(op_type: str, domain: str, opset: int, limit: int = 400) -> Optional[str]:
    try:
        from onnx import defs
        doc = defs.get_schema(op_type, opset, domain or "").doc or ""
    except Exception:
        return None
    text = " ".join(doc.replace("`", "").split())
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + " …"


def reference_doc(op) -> str:
    cls = type(op)
    fn = getattr(cls, "signature_source", None)
    doc = inspect.getdoc(fn or cls) or inspect.getdoc(inspect.getmodule(cls)) or ""
    return doc.strip()


def attributes_with_defaults(step) -> Dict:
    """The node's attributes, plus the defaults tinyinfer's signature fills in (marked '(default)')."""
    node, cls = step.node, type(step.op)
    out = {k: _short_value(v) for k, v in node.attributes.items()}
    fn = getattr(cls, "signature_source", None)
    try:
        params = inspect.signature(fn or cls.__init__).parameters.values()
    except (TypeError, ValueError):
        return out
    for p in params:
        if p.kind == p.KEYWORD_ONLY and p.default is not p.empty and p.name not in out \
                and p.default is not None and not p.name.startswith("_"):
            out[p.name] = f"{p.default!r} (default)"
    return out


def _short_value(v):
    if isinstance(v, float):
        return float(f"{v:.7g}")  # float32 attributes: 1e-05, not 9.999999747378752e-06
    if isinstance(v, np.ndarray):
        return f"tensor {v.dtype} {list(v.shape)}" if v.size > 8 else v.tolist()
    if isinstance(v, (list, tuple)) and len(v) > 12:
        return f"[{', '.join(map(str, v[:12]))}, … ({len(v)} values)]"
    return v if not hasattr(v, "nodes") else f"graph ({len(v.nodes)} nodes)"


def _shape(v) -> str:
    if isinstance(v, np.ndarray):
        return f"({', '.join(map(str, v.shape))}) {v.dtype}"
    return "absent" if v is None else type(v).__name__


def _rng(a) -> str:
    a = np.asarray(a, np.float64).reshape(-1)
    if a.size == 1:
        return f"{a[0]:.6g}"
    return f"{a.size} values in [{a.min():.4g}, {a.max():.4g}]"


# -- per-op formulas ----------------------------------------------------------------------------
def _window_lines(win, x_shape, what="H") -> list:
    lines = []
    axes = ["H", "W"] if len(win.out) == 2 else [f"D{i + 1}" for i in range(len(win.out))]
    for i, ax in enumerate(axes):
        size, k, s, d = x_shape[2 + i], win.kernel[i], win.strides[i], win.dilations[i]
        b, e = win.begin[i], win.end[i]
        lines.append(f"  {ax}_out = floor(({ax} + pad_begin + pad_end - dilation*(k-1) - 1) / stride) + 1"
                     f" = floor(({size} + {b} + {e} - {d}*({k}-1) - 1) / {s}) + 1 = {win.out[i]}")
    return lines


def _conv(step, ins, outs) -> list:
    x, w = ins[0], ins[1]
    g = int(getattr(step.op, "group", 1))
    n, c = x.shape[:2]
    m, cg = w.shape[:2]
    k = "x".join(map(str, w.shape[2:]))
    if g == c and g > 1:
        kind = (f"depthwise convolution: group = C = {c}, each input channel has its own {k} "
                f"filter" + (f" ({m // c} per channel: channel multiplier {m // c})" if m != c else ""))
    elif g > 1:
        kind = f"grouped convolution: {g} groups of {c // g} input -> {m // g} output channels"
    elif all(d == 1 for d in w.shape[2:]):
        kind = f"pointwise (1x1) convolution: a per-pixel matrix product ({c} -> {m} channels)"
    else:
        kind = f"dense convolution: every output channel sees all {c} input channels"
    win = step.op.geometry(x.shape, w.shape)
    sp = len(w.shape) - 2
    idx = ", ".join(f"o{i}*{win.strides[i]} + k{i}*{win.dilations[i]} - {win.begin[i]}" for i in range(sp))
    lines = [f"kind: {kind}",
             f"  Y[n, m, o...] = B[m] + sum over c < {cg}, k... < ({k}) of "
             f"X[n, (m // {m // g})*{cg} + c, {idx}] * W[m, c, k...]",
             f"  (cross-correlation; taps that land in the padding read 0)"]
    lines += _window_lines(win, x.shape)
    macs = int(np.prod(outs[0].shape)) * cg * int(np.prod(w.shape[2:])) if outs and outs[0] is not None else 0
    if macs:
        lines.append(f"  work: {macs:,} multiply-adds")
    return lines


def _qlinearconv(step, ins, outs) -> list:
    x, xs, xz, w, ws, wz, ys, yz = ins[:8]
    b = ins[8] if len(ins) > 8 else None
    lines = _conv(step, [x, w], outs)
    ws_a = np.asarray(ws, np.float64).reshape(-1)
    mult = float(np.asarray(xs).reshape(-1)[0]) * ws_a / float(np.asarray(ys).reshape(-1)[0])
    lines += [
        "requantisation chain (integers exact, one rounding at the end):",
        f"  1. acc[n,m,o] = sum (x - x_zp) * (w - w_zp[m])  in int32,  x_zp = {_rng(xz)}, "
        f"w_zp = {_rng(wz) if wz is not None else 0}",
        f"  2. acc += B[m]  (int32, {_rng(b) if b is not None else 'no bias'})",
        f"  3. real = acc * x_scale * w_scale[m] = acc * {_rng(xs)} * {_rng(ws_a)}",
        f"  4. y = saturate(round_half_to_even(real / y_scale) + y_zp),  y_scale = {_rng(ys)}, "
        f"y_zp = {_rng(yz)}  ({np.asarray(yz).dtype} range)",
        f"     effective multiplier x_scale*w_scale/y_scale = {_rng(mult)}"
        + ("  (per output channel)" if ws_a.size > 1 else "  (per tensor)"),
    ]
    return lines


def _batchnorm(step, ins, outs) -> list:
    x, s, b, mean, var = ins[:5]
    eps = float(getattr(step.op, "epsilon", 1e-5))
    a = np.asarray(s, np.float64) / np.sqrt(np.asarray(var, np.float64) + eps)
    c = np.asarray(b, np.float64) - np.asarray(mean, np.float64) * a
    lines = [f"  Y = (X - mean) / sqrt(var + {eps:g}) * scale + B  =  X * a[c] + b[c] per channel",
             f"  a = scale / sqrt(var + eps): {_rng(a)};  b = B - mean * a: {_rng(c)}"]
    if getattr(step.op, "training_mode", False):
        lines.append("  training_mode=1: normalised with the batch's own mean and variance")
    else:
        lines.append("  inference: the stored mean and var are used (momentum plays no part)")
    return lines


def _gemm(step, ins, outs) -> list:
    at = getattr(step.op, "attrs", {})
    ta, tb = int(at.get("transA", 0)), int(at.get("transB", 0))
    al, be = at.get("alpha", 1.0), at.get("beta", 1.0)
    a, b = ins[0], ins[1]
    k = a.shape[0] if ta else a.shape[1]
    return [f"  Y = {al:g} * {'A^T' if ta else 'A'} @ {'B^T' if tb else 'B'} + {be:g} * C"
            f"   (K = {k} products summed per element)"]


def _matmul(step, ins, outs) -> list:
    a, b = ins[0], ins[1]
    return [f"  Y[..., i, j] = sum_k A[..., i, k] * B[..., k, j]   (K = {a.shape[-1]}; leading "
            f"dims broadcast: {list(a.shape[:-2])} with {list(b.shape[:-2])})"]


def _pool(step, ins, outs) -> list:
    x = ins[0]
    win = step.op.geometry(x.shape)
    how = "max" if "Max" in step.node.op_type else "mean"
    k = "x".join(map(str, win.kernel))
    lines = [f"  Y[n, c, o...] = {how} of the {k} window starting at o*stride - pad_begin"]
    if how == "mean":
        inc = int(getattr(step.op, "count_include_pad", 0) or 0)
        lines.append(f"  count_include_pad={inc}: padded taps {'count' if inc else 'do not count'} in the mean")
    return lines + _window_lines(win, x.shape)


FORMULAS = {"Conv": _conv, "QLinearConv": _qlinearconv, "ConvInteger": _conv,
            "BatchNormalization": _batchnorm, "Gemm": _gemm, "MatMul": _matmul,
            "MaxPool": _pool, "AveragePool": _pool, "LpPool": _pool}


def explain_node(session, step, values: Dict[str, np.ndarray], element=None) -> str:
    node = step.node
    opset = step.op.opset
    ins = [values.get(n) if n else None for n in node.inputs]
    outs = [values.get(n) for n in node.outputs]
    sv = spec_version(node.op_type, node.domain, opset)
    lines = [f"node {node.name!r}: {node.op_type}" + (f" (domain {node.domain})" if node.domain else "")
             + f", model opset {opset}" + (f" -> {node.op_type}-{sv} in the spec" if sv else ""),
             "attributes: " + (", ".join(f"{k}={v}" for k, v in attributes_with_defaults(step).items())
                               or "none")]
    for role, names, vals in (("input ", node.inputs, ins), ("output", node.outputs, outs)):
        for name, v in zip(names, vals):
            if name:
                lines.append(f"  {role} {name}: {_shape(v)}")
    maker = FORMULAS.get(node.op_type)
    if maker is not None and all(v is not None for v in ins[:2]):
        lines.append("formula:")
        lines += maker(step, ins, outs)
    else:
        lines.append("reference (tinyinfer's implementation docstring):")
        lines += ["  " + ln for ln in reference_doc(step.op).splitlines()[:14]]
    summary = spec_summary(node.op_type, node.domain, opset)
    if summary:
        lines.append(f"spec: {summary}")
    if element is not None:
        lines.append(trace_element(step, values, element))
    return "\n".join(lines)


# -- tracing one output element -----------------------------------------------------------------
ELEMENTWISE = {"Add", "Sub", "Mul", "Div", "Pow", "Relu", "Sigmoid", "Tanh", "Clip", "HardSigmoid",
               "HardSwish", "LeakyRelu", "Exp", "Log", "Sqrt", "Abs", "Neg", "Erf", "Max", "Min",
               "Where", "Cast", "Identity", "Equal", "Less", "Greater", "And", "Or", "Not",
               "Softplus", "Elu", "Selu", "PRelu", "Reciprocal", "Floor", "Ceil", "Round", "Sign"}


def trace_element(step, values, index) -> str:
    node = step.node
    y = values.get(node.outputs[0])
    if not isinstance(y, np.ndarray):
        return "trace: the output is not available"
    index = tuple(int(i) for i in index)
    if len(index) != y.ndim or any(not 0 <= i < d for i, d in zip(index, y.shape)):
        return f"trace: index {list(index)} is outside the output shape {list(y.shape)}"
    head = f"trace of {node.outputs[0]}[{', '.join(map(str, index))}] = {y[index]!r}:"
    ins = [values.get(n) if n else None for n in node.inputs]
    if node.op_type in ("Conv",) and ins[0] is not None and ins[1] is not None:
        return head + "\n" + _trace_conv(step, ins, index)
    if node.op_type in ELEMENTWISE:
        lines = [head]
        for name, v in zip(node.inputs, ins):
            if isinstance(v, np.ndarray):
                src = tuple(0 if d == 1 else i for i, d in
                            zip(index[len(index) - v.ndim:], v.shape)) if v.ndim else ()
                lines.append(f"  {name}[{', '.join(map(str, src))}] = {v[src]!r}"
                             + ("  (broadcast)" if v.shape != y.shape else ""))
        return "\n".join(lines)
    return head + f"\n  (no element trace for {node.op_type} yet; the formula above says which " \
                  "inputs it reads)"


def _trace_conv(step, ins, index) -> str:
    x, w = ins[0], ins[1]
    b = ins[2] if len(ins) > 2 else None
    g = int(step.op.group)
    win = step.op.geometry(x.shape, w.shape)
    n, m, o = index[0], index[1], index[2:]
    cg, mg = w.shape[1], w.shape[0] // g
    c0 = (m // mg) * cg
    total = float(b[m]) if b is not None else 0.0
    lines = [f"  reads X[{n}, {c0}:{c0 + cg}, window] and W[{m}, :, ...]"
             + (f" plus B[{m}] = {float(b[m]):.6g}" if b is not None else "")]
    used, padded = 0, 0
    for kk in itertools.product(*(range(k) for k in w.shape[2:])):
        pos = [o[i] * win.strides[i] + kk[i] * win.dilations[i] - win.begin[i] for i in range(len(o))]
        if any(p < 0 or p >= x.shape[2 + i] for i, p in enumerate(pos)):
            padded += 1
            continue
        used += 1
        total += float(np.dot(x[(n, slice(c0, c0 + cg)) + tuple(pos)].astype(np.float64),
                              w[(m, slice(None)) + kk].astype(np.float64)))
    rows = [o[0] * win.strides[0] - win.begin[0] + k * win.dilations[0] for k in range(w.shape[2])]
    lines.append(f"  window along axis 2: rows {rows}" + (
        f"; along axis 3: cols {[o[1] * win.strides[1] - win.begin[1] + k * win.dilations[1] for k in range(w.shape[3])]}"
        if len(o) > 1 else ""))
    lines.append(f"  {used} taps inside X, {padded} in the padding (zeros); recomputed in float64: "
                 f"{total:.7g}")
    return "\n".join(lines)


# -- why did it diverge -----------------------------------------------------------------------
def _bn_pitfall(step, args, theirs_out, ours_out) -> list:
    node = step.node
    if getattr(step.op, "training_mode", False) or step.op.opset >= 14:
        return []
    lines = []
    if "momentum" in node.attributes:
        lines.append(f"known pitfall: this node carries momentum={node.attributes['momentum']:g}. "
                     f"In {node.op_type}-{spec_version(node.op_type, '', step.op.opset) or 9} "
                     "momentum only says how running statistics would be updated in training; "
                     "for inference the output is always normalised with the stored input_mean and "
                     "input_var. A runtime that reads momentum as a request for training-mode "
                     "statistics computes something else (onnx's ReferenceEvaluator, "
                     "BatchNormalization_9, normalises with mean*momentum + batch_mean*(1-momentum) "
                     "whenever momentum is present).")
    x, s, b, mean, var = (np.asarray(a, np.float64) for a in args[:5])
    if x.ndim >= 2 and x.shape[0] > 0:
        axes = (0,) + tuple(range(2, x.ndim))
        shape = (1, -1) + (1,) * (x.ndim - 2)
        eps = float(getattr(step.op, "epsilon", 1e-5))
        mom = float(node.attributes.get("momentum", 0.9))
        bm, bv = x.mean(axis=axes), x.var(axis=axes)
        tests = (("the BATCH mean and variance (training mode)", bm, bv),
                 (f"running statistics updated with momentum: mean*{mom:g} + batch_mean*{1 - mom:g} "
                  "(likewise var) — the training-mode update, applied at inference", 
                  mean * mom + bm * (1 - mom), var * mom + bv * (1 - mom)))
        scale = max(1.0, float(np.max(np.abs(theirs_out))))
        for what, m_, v_ in tests:
            y = (x - m_.reshape(shape)) / np.sqrt(v_.reshape(shape) + eps) * s.reshape(shape) \
                + b.reshape(shape)
            d = float(np.max(np.abs(y - theirs_out))) if theirs_out.shape == y.shape else float("inf")
            if d < 1e-4 * scale:
                lines.append(f"test: the other side's output equals normalisation with {what} "
                             f"(max abs difference {d:.3g}). tinyinfer follows the spec: stored "
                             "input_mean and input_var.")
                break
        else:
            lines.append("test: neither batch statistics nor momentum-updated statistics explain "
                         "the other side's output.")
    return lines


PITFALLS = {"BatchNormalization": _bn_pitfall}


def _scale_test(ours, theirs) -> list:
    """Is the other side's output a constant multiple of ours (a common sign of a changed
    scale, epsilon or folded weight)?"""
    a = np.asarray(ours, np.float64).ravel()
    b = np.asarray(theirs, np.float64).ravel()
    if a.shape != b.shape or not a.size or not np.all(np.isfinite(a)) or not np.all(np.isfinite(b)):
        return []
    den = float(a @ a)
    if den == 0:
        return []
    k = float(a @ b) / den
    resid = float(np.max(np.abs(b - k * a)))
    if abs(k - 1) > 1e-4 and resid <= 1e-4 * max(1.0, float(np.max(np.abs(b)))):
        return [f"test: the other side's output is {k:.6g} x tinyinfer's (residual {resid:.2g}) — "
                "a uniform scale, as from a different scale factor or weight."]
    return []


def explain_divergence(report) -> str:
    first = report["first_divergence"]
    step = report["_steps"][first["index"]]
    node = step.node
    theirs, ours = report["_theirs"], report["_ours"]
    opset = step.op.opset
    sv = spec_version(node.op_type, node.domain, opset)
    row = next(r for r in report["nodes"] if r["index"] == first["index"])
    m = row[first["kind"]][first["outputs"][0]]
    lines = [f"FIRST DIVERGENCE: node {node.name!r} ({node.op_type}"
             + (f", domain {node.domain}" if node.domain else "") + f"), step {first['index']}",
             f"  {first['kind']} error on {', '.join(first['outputs'])}: max abs {m['max_abs']:.4g}, "
             f"max rel {m['max_rel'] if m['max_rel'] is None else format(m['max_rel'], '.3g')}, "
             f"cosine {m['cosine'] if m['cosine'] is None else format(m['cosine'], '.6f')}"
             + (f" ({m['note']})" if m["note"] else ""),
             f"  op: {node.op_type}, model opset {opset}"
             + (f" -> the {node.op_type}-{sv} specification applies" if sv else ""),
             "  attributes: " + (", ".join(f"{k}={v}" for k, v in attributes_with_defaults(step).items())
                                 or "none")]
    args = [None if not n else theirs.get(n, report["_plan"].initializers.get(n, ours.get(n)))
            for n in node.inputs]
    lines += [f"  input {n}: {_shape(v)}" for n, v in zip(node.inputs, args) if n]
    if first["kind"] == "local":
        lines.append("  this node was fed the other side's own input tensors and still disagrees: "
                     "the error starts here, it is not inherited.")
    else:
        lines.append("  every node agrees locally; the accumulated difference first exceeds "
                     "tolerance here (error grown over many nodes).")
    summary = spec_summary(node.op_type, node.domain, opset)
    if summary:
        lines.append(f"  spec: {summary}")
    doc = reference_doc(step.op).splitlines()
    if doc:
        lines.append("  tinyinfer's reference: " + " ".join(d.strip() for d in doc[:3]))
    out_name = first["outputs"][0]
    tv = theirs.get(out_name)
    if first["kind"] == "local":
        try:
            from .core import local_outputs
            mine = dict(zip(node.outputs, local_outputs(step, report["_plan"], theirs, ours)[0]))[out_name]
        except Exception:
            mine = ours.get(out_name)
    else:
        mine = ours.get(out_name)
    if isinstance(mine, np.ndarray) and isinstance(tv, np.ndarray) and mine.shape == tv.shape:
        d = np.abs(mine.astype(np.float64) - tv.astype(np.float64))
        if d.size and np.isfinite(d).any():
            worst = np.unravel_index(int(np.nanargmax(np.where(np.isfinite(d), d, -1))), d.shape)
            lines.append(f"  worst element {out_name}[{', '.join(map(str, worst))}]: tinyinfer "
                         f"{mine[worst].item()!r}, other side {tv[worst].item()!r}")
        extra = []
        if node.op_type in PITFALLS and all(a is not None for a in args[:3]):
            extra = PITFALLS[node.op_type](step, args, tv.astype(np.float64), mine)
        extra += _scale_test(mine, tv)
        lines += ["  " + e for e in extra]
    lines.append(f"  more: tinyinfer explain MODEL --node {node.name!r}")
    return "\n".join(lines)

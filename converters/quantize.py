"""quantize: post-training quantisation, ONNX -> ONNX, in onnxruntime's conventions.

    quantize(model, out, calibrate=data, format="qdq", per_channel=True, method="minmax")
    quantize(model, out, weights_only=True)                    int8 weights + DequantizeLinear
    quantize(model, out, weights_only=True, bits=4)            int4, blocked along the reduction
    quantize(model, out, dynamic=True)                         DynamicQuantizeLinear + MatMulInteger

The model is first optimised (BatchNormalization folded into Conv, constants folded), so only
Conv, Gemm and MatMul weights remain to quantise. Static formats:

    qdq        x ─Q─DQ─► Conv(·, DQ(w_int8), DQ(b_int32)) ─Q─DQ─► y      (runtimes fuse it)
    qoperator  x ─Q─► QLinearConv ─DQ─► y        MatMul/Gemm: Q ─► MatMulInteger ─► ·scale + b

A Relu or Clip(0, hi) that is a Conv's only reader is folded into the conv's output quantisation
(its calibrated range, zero point 0), as onnxruntime's quantiser does: no float activation between
a Q and a DQ. Activations are asymmetric uint8 per tensor, weights symmetric int8 per channel (axis 0 for
Conv, the output-column axis for Gemm/MatMul) where that pays (per_channel="auto", see
per_channel_pays) or per tensor, biases int32 with scale x_scale * w_scale.

Bytes (tests/converters check each): no initializer twice or unused or listed as a graph input,
one int8 zero point, the QDQ bias scale of a per-channel layer as Mul(x_scale, w_scale) that both
runtimes fold at load, short tensor names, no node names; a CNN head Flatten -> Gemm becomes a
1x1 Conv and computed Reshape targets become constants (shapes.py). QDQ weights keep an explicit
zero point: onnxruntime and tinyinfer's passes/fuse_qdq.py then both run the integer kernels.
"""
from __future__ import annotations

from typing import Dict, List, Optional, Sequence

import numpy as np
import onnx
from onnx import helper, numpy_helper

from . import qparams
from ._common import ConvertError, fresh_namer, inits, load, opset, run, save, set_opset
from .calibrate import batches, collect_ranges, load_inputs
from .optimize import optimize
from .shapes import classifier_as_conv, freeze_reshapes

STATIC_OPS = ("Conv", "Gemm", "MatMul")


def _attrs(node) -> dict:
    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def targets(m: onnx.ModelProto, exclude: Sequence[str] = (), ops=STATIC_OPS) -> Dict[int, dict]:
    """{node index: {'w': name, 'axis': channel axis, 'b': bias name or None}} for quantisable nodes."""
    w = inits(m)
    out = {}
    for i, n in enumerate(m.graph.node):
        if n.op_type not in ops or n.domain not in ("", "ai.onnx"):
            continue
        if n.name in exclude or n.op_type in exclude or any(o in exclude for o in n.output):
            continue
        if len(n.input) < 2 or n.input[1] not in w or w[n.input[1]].dtype != np.float32:
            continue
        W, a = w[n.input[1]], _attrs(n)
        b = n.input[2] if len(n.input) > 2 and n.input[2] else None
        if n.op_type == "Conv":
            if W.ndim < 3:
                continue
            info = {"w": n.input[1], "axis": 0}
        elif n.op_type == "Gemm":
            if W.ndim != 2 or a.get("transA", 0) or a.get("alpha", 1.0) != 1.0 or a.get("beta", 1.0) != 1.0:
                continue
            info = {"w": n.input[1], "axis": 0 if a.get("transB", 0) else 1}
        elif n.op_type == "MatMul":
            if W.ndim != 2:
                continue
            info = {"w": n.input[1], "axis": 1}
        else:  # LSTM / GRU / RNN: W and R, weight-only
            info = {"w": n.input[1], "axis": 1, "r": n.input[2]}
            b = None
        if b is not None and (b not in w or w[b].ndim != 1 or w[b].shape[0] != W.shape[info["axis"]]):
            b = None
        info["b"] = b
        out[i] = info
    return out


class _Builder:
    """Collects new nodes and initializers while the graph is rewritten in order."""

    def __init__(self, m: onnx.ModelProto):
        self.m, self.fresh, self.nodes, self.new_inits, self.cache = m, fresh_namer(m), [], [], {}
        self.w = inits(m)
        self.explicit_zp = False

    def const(self, base: str, a: np.ndarray) -> str:
        """A new initializer, or the existing one with equal dtype, shape and bytes (zero points,
        scales shared by a tensor's Q and DQ nodes): one copy of each constant in the file."""
        a = np.asarray(a)
        key = ("const", a.dtype.str, a.shape, a.tobytes())
        if key not in self.cache:
            name = self.fresh(base)
            self.new_inits.append(numpy_helper.from_array(a, name))
            self.cache[key] = name
        return self.cache[key]

    def node(self, op, inputs, outputs, **attrs):
        self.nodes.append(helper.make_node(op, inputs, outputs, name=self.fresh(f"{outputs[0]}_{op}"), **attrs))

    def dq_weight(self, name: str, axis: Optional[int]) -> str:
        """int8 weight initializer + DequantizeLinear; returns the float output name."""
        key = (name, axis, "int8")
        if key not in self.cache:
            q, s = qparams.weight_params(self.w[name], axis)
            qn = self.const(f"{name}_quantized", q)
            sn = self.const(f"{name}_scale", s)
            out = self.fresh(f"{name}_dequantized")
            # static QDQ spells the zero point: runtimes fuse DQ -> op -> Q into integer kernels
            # only then (tinyinfer's passes/fuse_qdq.py); elsewhere omitted = 0, of q's type
            zp = [self.const("w_zero_point", np.zeros(s.shape, np.int8))] if self.explicit_zp else []
            self.node("DequantizeLinear", [qn, sn] + zp, [out], **({} if axis is None else {"axis": axis}))
            self.cache[key] = out
            self.cache[("scale",) + key] = sn
        return self.cache[key]

    def weight_scale(self, name: str, axis: Optional[int]) -> str:
        """The scale initializer of dq_weight(name, axis)."""
        self.dq_weight(name, axis)
        return self.cache[("scale", name, axis, "int8")]

    def dq_int4(self, name: str, axis: int, block: int) -> str:
        key = (name, axis, "int4")
        if key not in self.cache:
            W = self.w[name]
            w2 = W.reshape(W.shape[0], -1) if W.ndim > 2 else W       # Conv (M, C, kh, kw) -> (M, C*kh*kw)
            red = 1 if W.ndim > 2 else axis
            q, s = qparams.blocked_int4(w2, red, block)
            qn = self.fresh(f"{name}_int4")
            self.new_inits.append(helper.make_tensor(qn, onnx.TensorProto.INT4, q.shape, q.reshape(-1).tolist()))
            sn = self.const(f"{name}_scale", s)
            out = self.fresh(f"{name}_dequantized")
            self.node("DequantizeLinear", [qn, sn], [out], axis=red, block_size=block)
            if W.ndim > 2:
                shaped = self.fresh(f"{name}_reshaped")
                self.node("Reshape", [out, self.const(f"{name}_shape", np.array(W.shape, np.int64))], [shaped])
                out = shaped
            self.cache[key] = out
        return self.cache[key]


def _finish(m: onnx.ModelProto, b: _Builder, min_opset: int) -> onnx.ModelProto:
    used = set()
    for n in b.nodes:
        used.update(n.input)
    used.update(o.name for o in m.graph.output)
    # drop nodes nobody reads (e.g. a DequantizeLinear made redundant by a QLinear op), backwards
    keep = []
    for n in reversed(b.nodes):
        if any(o in used for o in n.output):
            keep.append(n)
        else:
            for i in n.input:
                pass
    keep.reverse()
    all_inits = [t for t in m.graph.initializer] + b.new_inits
    # equal constants of the source model too (PP-OCR cls: eighteen 6.0s for its hard-swishes)
    first, same = {}, {}
    for t in all_inits:
        a = numpy_helper.to_array(t)
        key = (a.dtype.str, a.shape, a.tobytes())
        if key in first and t.name != first[key]:
            same[t.name] = first[key]
        else:
            first.setdefault(key, t.name)
    outs = {o.name for o in m.graph.output} | {v.name for v in m.graph.input}
    same = {k: v for k, v in same.items() if k not in outs}
    out = onnx.ModelProto()
    out.CopyFrom(m)
    del out.graph.node[:]
    out.graph.node.extend(keep)  # copies: m's own nodes stay as they were
    for n in out.graph.node:
        n.input[:] = [same.get(x, x) for x in n.input]
    reads = {i for n in out.graph.node for i in n.input} | {o.name for o in m.graph.output}
    del out.graph.initializer[:]
    out.graph.initializer.extend(t for t in all_inits if t.name in reads)
    if opset(out) < min_opset:
        out = _upgrade(out, min_opset)
    del out.graph.value_info[:]  # the version converter's shape inference adds them back
    # initializers listed as graph inputs (IR < 4 habit, e.g. PP-OCR): constants, not feeds; the
    # listing alone was 30 KB of the PP-OCR cls file
    consts = {t.name for t in out.graph.initializer} | set(b.w)
    feeds = [v for v in out.graph.input if v.name not in consts]
    del out.graph.input[:]
    out.graph.input.extend(feeds)
    out.ir_version = max(out.ir_version, 4)
    return out


def compact_names(m: onnx.ModelProto) -> onnx.ModelProto:
    """Short names ('a', 'b', ... 'a0') for every tensor but the graph's inputs and outputs, no
    node names: in a small model the names can outweigh the int8 weights."""
    if any(a.type in (onnx.AttributeProto.GRAPH, onnx.AttributeProto.GRAPHS)
           for n in m.graph.node for a in n.attribute):
        return m  # sub-graphs may read outer names: leave them alone
    keep = {v.name for v in (*m.graph.input, *m.graph.output)} | {""}
    table, digits = {}, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    counter = iter(range(1 << 62))

    def short(name):
        if name in keep:
            return name
        while name not in table:
            k, s = next(counter), ""
            while True:
                s, k = digits[k % 62] + s, k // 62
                if not k:
                    break
            if s not in keep:
                table[name] = s
        return table[name]
    defaults = {"dilations": 1, "strides": 1, "pads": 0, "group": 1, "auto_pad": b"NOTSET"}
    for n in m.graph.node:
        n.ClearField("name")         # proto2: "" would still be written
        n.ClearField("doc_string")
        if n.op_type in ("Conv", "QLinearConv", "ConvInteger"):
            # kernel_shape is optional: the weight's shape says it
            for a in [a for a in n.attribute if a.name == "kernel_shape"]:
                n.attribute.remove(a)
            drop = [a for a in n.attribute if a.name in defaults and all(
                v == defaults[a.name] for v in (helper.get_attribute_value(a) if a.type == onnx.AttributeProto.INTS
                                                else [helper.get_attribute_value(a)]))]
            for a in drop:
                n.attribute.remove(a)
        n.input[:] = [short(x) for x in n.input]
        n.output[:] = [short(x) for x in n.output]
    for t in m.graph.initializer:
        t.name = short(t.name)
    for v in m.graph.input:
        v.name = short(v.name)
    return m


def _upgrade(m: onnx.ModelProto, version: int) -> onnx.ModelProto:
    from onnx import version_converter
    try:
        return version_converter.convert_version(m, version)
    except Exception as e:
        raise ConvertError(f"cannot raise the model from opset {opset(m)} to {version}, which this "
                           f"quantisation needs ({str(e).splitlines()[0][:120]})") from None


PER_CHANNEL_GAIN = 3.0


def per_channel_pays(w: np.ndarray, axis: int) -> bool:
    """True when one scale per channel is worth its bytes (a float and a zero point per channel,
    and a Mul for the QDQ bias scale): the weight error with one scale for the whole tensor is
    more than PER_CHANNEL_GAIN times (about 1.6 bits) the per-channel error.
        e(axis) = ||w - dq(q(w))||,   per channel iff e(None) > PER_CHANNEL_GAIN * e(axis)
    Depthwise 5x5 layers of PP-OCR stay per channel (ratios 3 to 7); digits' and most 1x1
    layers (1.2 to 2.7) take one scale."""
    def err(ax):
        q, s = qparams.weight_params(w, ax)
        shape = [1] * w.ndim
        if ax is not None:
            shape[ax] = -1
        return float(np.linalg.norm(w - q * s.reshape(shape)))
    return err(None) > PER_CHANNEL_GAIN * err(axis)


def _prepare(model, min_opset: int) -> onnx.ModelProto:
    m = load(model)
    if opset(m) == 13:  # 14 only adds (HardSwish, Trilu, types, defaulted attributes): one
        m2 = onnx.ModelProto()  # HardSwish node instead of HardSigmoid + Mul
        m2.CopyFrom(m)
        set_opset(m2, 14)
        m = m2
    m = freeze_reshapes(optimize(m))
    if opset(m) < min_opset:
        m = _upgrade(m, min_opset)
    return m


# -- the rewrites ------------------------------------------------------------------------------

def weights_only(m: onnx.ModelProto, tg: Dict[int, dict], per_channel=True, bits=8, block=32) -> onnx.ModelProto:
    b = _Builder(m)
    for i, n in enumerate(m.graph.node):
        if i in tg:
            t = tg[i]
            n2 = onnx.NodeProto()
            n2.CopyFrom(n)
            if bits == 4:
                n2.input[1] = b.dq_int4(t["w"], t["axis"], block)
            else:
                n2.input[1] = b.dq_weight(t["w"], t["axis"] if per_channel else None)
                if "r" in t:
                    n2.input[2] = b.dq_weight(t["r"], t["axis"] if per_channel else None)
            n = n2
        b.nodes.append(n)
    return _finish(m, b, 21 if bits == 4 else (13 if per_channel else 10))


def _act(b: _Builder, ranges, name):
    s, z = qparams.activation_params(*ranges[name])
    key = ("act", name)
    if key not in b.cache:
        b.cache[key] = (b.const(f"{name}_scale", s), b.const(f"{name}_zero_point", z), s, z)
    return b.cache[key]


def qdq(m: onnx.ModelProto, tg: Dict[int, dict], ranges, per_channel=True) -> onnx.ModelProto:
    b = _Builder(m)
    b.explicit_zp = True
    acts = set()
    for i, t in tg.items():
        acts.add(m.graph.node[i].input[0])
        acts.add(m.graph.node[i].output[0])
    renamed = {}
    for g in m.graph.input:
        if g.name in acts:
            sn, zn, _, _ = _act(b, ranges, g.name)
            q, dq = b.fresh(f"{g.name}_quantized"), b.fresh(f"{g.name}_dequantized")
            b.node("QuantizeLinear", [g.name, sn, zn], [q])
            b.node("DequantizeLinear", [q, sn, zn], [dq])
            renamed[g.name] = dq
    for i, n in enumerate(m.graph.node):
        n2 = onnx.NodeProto()
        n2.CopyFrom(n)
        for k, x in enumerate(n2.input):
            if x in renamed:
                n2.input[k] = renamed[x]
        if i in tg:
            t = tg[i]
            axis = t["axis"] if t.get("per_channel", per_channel) else None
            n2.input[1] = b.dq_weight(t["w"], axis)
            if t["b"]:
                xsn, _, xs, _ = _act(b, ranges, n.input[0])
                _, ws = qparams.weight_params(b.w[t["w"]], axis)
                bq, bs = qparams.bias_int32(b.w[t["b"]], xs, ws)
                if np.ndim(ws):  # per channel: x_scale * w_scale as a constant Mul (both runtimes fold
                    # it at load, in float32 as bias_int32 does), not a second copy of the vector
                    sn = b.fresh(f"{t['b']}_scale")
                    b.node("Mul", [xsn, b.weight_scale(t["w"], axis)], [sn])
                else:
                    sn = b.const(f"{t['b']}_scale", bs.reshape(()))
                out = b.fresh(f"{t['b']}_dequantized")
                b.node("DequantizeLinear", [b.const(f"{t['b']}_quantized", bq), sn],
                       [out], **({"axis": 0} if np.ndim(ws) else {}))
                n2.input[2] = out
        later = []
        for k, y in enumerate(n2.output):
            if y in acts and y not in renamed:
                sn, zn, _, _ = _act(b, ranges, y)
                pre, q = b.fresh(f"{y}_float"), b.fresh(f"{y}_quantized")
                n2.output[k] = pre
                later.append(helper.make_node("QuantizeLinear", [pre, sn, zn], [q], name=b.fresh(f"{y}_QuantizeLinear")))
                later.append(helper.make_node("DequantizeLinear", [q, sn, zn], [y], name=b.fresh(f"{y}_DequantizeLinear")))
        b.nodes.append(n2)
        b.nodes.extend(later)
    return _finish(m, b, 13 if per_channel else 10)


def qoperator(m: onnx.ModelProto, tg: Dict[int, dict], ranges, per_channel=True) -> onnx.ModelProto:
    b = _Builder(m)
    qmap = {}

    def quantized(x):
        if x not in qmap:
            sn, zn, _, _ = _act(b, ranges, x)
            q = b.fresh(f"{x}_quantized")
            b.node("QuantizeLinear", [x, sn, zn], [q])
            qmap[x] = q
        return qmap[x]

    for i, n in enumerate(m.graph.node):
        if i not in tg:
            b.nodes.append(n)
            continue
        t, x, y = tg[i], n.input[0], n.output[0]
        axis = t["axis"] if t.get("per_channel", per_channel) else None
        W = b.w[t["w"]]
        wq, ws = qparams.weight_params(W, axis)
        xsn, xzn, xs, _ = _act(b, ranges, x)
        xq = quantized(x)
        if n.op_type == "Conv":
            ysn, yzn, _, _ = _act(b, ranges, y)
            ins = [xq, xsn, xzn, b.const(f"{t['w']}_quantized", wq), b.const(f"{t['w']}_scale", ws),
                   b.const("w_zero_point", np.zeros((), np.int8)), ysn, yzn]
            if t["b"]:
                ins.append(b.const(f"{t['b']}_quantized", qparams.bias_int32(b.w[t["b"]], xs, ws)[0]))
            yq = b.fresh(f"{y}_quantized")
            b.nodes.append(helper.make_node("QLinearConv", ins, [yq], name=b.fresh(n.name or y), **_attrs(n)))
            b.node("DequantizeLinear", [yq, ysn, yzn], [y])
            qmap[y] = yq
            continue
        # Gemm / MatMul: MatMulInteger on (K, N) int8 weights, then float scale and bias
        if n.op_type == "Gemm" and _attrs(n).get("transB", 0):
            wq, ws = wq.T.copy(), ws
        acc, f = b.fresh(f"{y}_int32"), b.fresh(f"{y}_float")
        b.node("MatMulInteger", [xq, b.const(f"{t['w']}_quantized", wq), xzn,
                                 b.const("w_zero_point", np.zeros((), np.int8))], [acc])
        b.node("Cast", [acc], [f], to=onnx.TensorProto.FLOAT)
        scaled = y if not (len(n.input) > 2 and n.input[2]) else b.fresh(f"{y}_scaled")
        b.node("Mul", [f, b.const(f"{y}_output_scale", (xs * ws).astype(np.float32))], [scaled])
        if scaled != y:
            b.node("Add", [scaled, n.input[2]], [y])
    return _finish(m, b, 10)


def dynamic(m: onnx.ModelProto, per_channel=True) -> onnx.ModelProto:
    """MatMul/Gemm: DynamicQuantizeLinear + MatMulInteger; Conv and LSTM/GRU: int8 weights + DQ."""
    tg = targets(m, ops=("Conv", "Gemm", "MatMul", "LSTM", "GRU", "RNN"))
    b = _Builder(m)
    for i, n in enumerate(m.graph.node):
        if i not in tg or n.op_type not in ("Gemm", "MatMul"):
            if i in tg:
                n2 = onnx.NodeProto()
                n2.CopyFrom(n)
                n2.input[1] = b.dq_weight(tg[i]["w"], tg[i]["axis"] if per_channel else None)
                if "r" in tg[i]:
                    n2.input[2] = b.dq_weight(tg[i]["r"], tg[i]["axis"] if per_channel else None)
                n = n2
            b.nodes.append(n)
            continue
        t, x, y = tg[i], n.input[0], n.output[0]
        wq, ws = qparams.weight_params(b.w[t["w"]], t["axis"] if per_channel else None)
        if n.op_type == "Gemm" and _attrs(n).get("transB", 0):
            wq = wq.T.copy()
        xq, xs, xz = b.fresh(f"{x}_quantized"), b.fresh(f"{x}_scale"), b.fresh(f"{x}_zero_point")
        b.node("DynamicQuantizeLinear", [x], [xq, xs, xz])
        acc, f, s = b.fresh(f"{y}_int32"), b.fresh(f"{y}_float"), b.fresh(f"{y}_scale")
        b.node("MatMulInteger", [xq, b.const(f"{t['w']}_quantized", wq), xz,
                                 b.const("w_zero_point", np.zeros((), np.int8))], [acc])
        b.node("Cast", [acc], [f], to=onnx.TensorProto.FLOAT)
        b.node("Mul", [xs, b.const(f"{t['w']}_scale", ws)], [s])
        scaled = y if not (len(n.input) > 2 and n.input[2]) else b.fresh(f"{y}_scaled")
        b.node("Mul", [f, s], [scaled])
        if scaled != y:
            b.node("Add", [scaled, n.input[2]], [y])
    return _finish(m, b, 13 if per_channel else 11)


# -- sensitivity and the entry point -----------------------------------------------------------

def _rel_error(a: Dict[str, np.ndarray], b: Dict[str, np.ndarray]) -> float:
    errs = []
    for k, x in a.items():
        x, y = np.asarray(x, np.float64), np.asarray(b[k], np.float64)
        errs.append(np.linalg.norm(x - y) / max(np.linalg.norm(x), 1e-12))
    return float(max(errs)) if errs else 0.0


def _clip_floor_zero(w: Dict[str, np.ndarray], n: onnx.NodeProto) -> bool:
    """Relu, or Clip whose min is 0: what an output quantisation with zero point 0 does anyway."""
    if n.op_type == "Relu":
        return True
    if n.op_type != "Clip":
        return False
    a = _attrs(n)
    if "min" in a:                                   # opset < 11: attributes
        return float(a["min"]) == 0.0
    return len(n.input) > 1 and n.input[1] in w and float(np.ravel(w[n.input[1]])[0]) == 0.0


def foldable_activations(m: onnx.ModelProto, tg: Dict[int, dict]) -> Dict[int, int]:
    """{conv index: activation index} for Conv targets whose output goes only to a Relu or a
    Clip(0, hi). Quantising the conv's output with the activation's calibrated range (zero point
    0, upper end <= hi) clamps exactly as the activation does, so the activation node can go: the
    int8 conv (QLinearConv, or DQ -> Conv -> Q fused by the runtimes) applies it for free, as
    onnxruntime's quantiser does."""
    readers: Dict[str, list] = {}
    for k, n in enumerate(m.graph.node):
        for x in n.input:
            readers.setdefault(x, []).append(k)
    outs = {o.name for o in m.graph.output}
    w = inits(m)
    fold = {}
    for i in tg:
        n = m.graph.node[i]
        y = n.output[0]
        r = readers.get(y, [])
        if n.op_type == "Conv" and y not in outs and len(r) == 1 and _clip_floor_zero(w, m.graph.node[r[0]]):
            fold[i] = r[0]
    return fold


def fold_activations(m: onnx.ModelProto, fold: Dict[int, int]) -> onnx.ModelProto:
    """m without the folded activations: each conv writes its activation's output name."""
    out = onnx.ModelProto()
    out.CopyFrom(m)
    drop = set(fold.values())
    for i, k in fold.items():
        out.graph.node[i].output[0] = m.graph.node[k].output[0]
    keep = [n for k, n in enumerate(out.graph.node) if k not in drop]
    del out.graph.node[:]
    out.graph.node.extend(keep)
    return out


def sensitivity(m, tg, ranges, feeds, fmt="qdq", per_channel=True, samples=8) -> List[tuple]:
    """[(relative output error, node index)] quantising one node at a time, worst first."""
    feed = next(iter(batches(m, {k: v[:samples] for k, v in feeds.items()}, size=samples)))
    ref = run(m, feed)
    build = qdq if fmt == "qdq" else qoperator
    out = []
    for i in tg:
        out.append((_rel_error(ref, run(build(m, {i: tg[i]}, ranges, per_channel), feed)), i))
    return sorted(out, reverse=True)


def quantize(model, out=None, calibrate=None, *, format: str = "qdq", per_channel="auto",
             method: str = "minmax", weights_only_: bool = False, bits: int = 8, dynamic_: bool = False,
             exclude: Sequence[str] = (), auto_exclude: int = 0, block_size: int = 32,
             preprocess: str = "", limit: Optional[int] = None, quiet: bool = False,
             keep_names: bool = False, **kw) -> onnx.ModelProto:
    weights_only_ = kw.pop("weights_only", weights_only_)
    dynamic_ = kw.pop("dynamic", dynamic_)
    if kw:
        raise TypeError(f"unknown options {sorted(kw)}")
    if format not in ("qdq", "qoperator"):
        raise ConvertError(f"unknown format {format!r} (qdq, qoperator)")
    if bits not in (4, 8):
        raise ConvertError(f"--bits must be 8 or 4, got {bits}")
    if bits == 4:
        weights_only_ = True
    m = _prepare(model, 10)
    if dynamic_:
        q = dynamic(m, per_channel)
    elif weights_only_:
        ops = STATIC_OPS + (("LSTM", "GRU", "RNN") if bits == 8 else ())
        q = weights_only(m, targets(m, exclude, ops), per_channel, bits, block_size)
    else:
        if calibrate is None:
            raise ConvertError("static quantisation needs --calibrate DATA (a .npz of inputs or a folder "
                               "of images); or use --weights-only or --dynamic")
        m = classifier_as_conv(m, exclude)
        feeds = load_inputs(m, calibrate, preprocess)
        tg = targets(m, exclude)
        if not tg:
            raise ConvertError("nothing to quantise: no Conv, Gemm or MatMul with constant weights")
        acts = [m.graph.node[i].input[0] for i in tg] + [m.graph.node[i].output[0] for i in tg]
        acts += [m.graph.node[k].output[0] for k in foldable_activations(m, tg).values()]
        # ranges from the graph as written; a folded conv's output takes its activation's name and range
        ranges = collect_ranges(m, feeds, acts, method, limit=limit, quiet=quiet)

        def channel_flags(m, tg):
            if per_channel == "auto":
                w = inits(m)
                for t in tg.values():
                    t["per_channel"] = per_channel_pays(w[t["w"]], t["axis"])

        channel_flags(m, tg)
        kept_float = []
        if auto_exclude:
            worst = sensitivity(m, tg, ranges, feeds, format, per_channel)
            for err, i in worst[:auto_exclude]:
                n = m.graph.node[i]
                if not quiet:
                    print(f"keeping {n.name or n.output[0]} ({n.op_type}) in float: "
                          f"output error {err:.2%} when quantised alone")
                kept_float.append(n.output[0])
                del tg[i]
        fold = foldable_activations(m, tg)
        if fold:
            m = fold_activations(m, fold)
            tg = targets(m, list(exclude) + kept_float)
            channel_flags(m, tg)
        q = (qdq if format == "qdq" else qoperator)(m, tg, ranges, per_channel)
    q.producer_name = "tinyinfer-convert"
    if not keep_names:
        q = compact_names(q)
    if out is not None:
        save(q, out)
    return q

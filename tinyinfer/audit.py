"""int8 audit: where an integer model loses information — saturated outputs and int32 headroom.

    opts = SessionOptions(enable_int8_audit=True)     # or config "tinyinfer.int8_audit" = "1"
    sess = InferenceSession(path, opts); sess.run(None, feeds)
    print(sess.int8_audit().format())                 # `tinyinfer run MODEL --audit-int8`

Per integer node (QLinearConv, QLinearMatMul, ConvInteger, MatMulInteger, QLinearAdd/Mul, QGemm,
MatMulIntegerToFloat, QuantizeLinear), over every run of the session:

    saturated  = outputs at the type's min or max that are not the zero point
                 (an output at lo == zero point is a true 0.0, e.g. a fused Relu, not a loss)
    max|acc|   = max |(x - x_zp) * (w - w_zp) summed + bias|, recomputed exactly in int64/float64
    headroom   = 31 - bit_length(max|acc|)   bits to spare before the int32 accumulator wraps

A node is AT RISK when headroom < 2 bits or more than 1 % of its outputs saturate. The audit hooks
into Plan.run's per-step `timer` callback (as profiling does) and recomputes the accumulation in
NumPy: it is a diagnostic, slow on purpose, and never changes a result.
"""
from __future__ import annotations

from typing import Dict, List, Optional

import numpy as np

AUDITED = ("QLinearConv", "QLinearConvLookup", "QLinearMatMul", "ConvInteger", "MatMulInteger",
           "QLinearAdd", "QLinearMul", "QGemm", "MatMulIntegerToFloat", "QuantizeLinear")
MIN_HEADROOM_BITS = 2
MAX_SATURATION = 0.01
# op -> index of its output zero point among the inputs (None: int32 output, no saturation)
_ZP_INPUT = {"QLinearConv": 7, "QLinearMatMul": 7, "QLinearAdd": 7, "QLinearMul": 7, "QGemm": 8,
             "QuantizeLinear": 2}


def enabled(options) -> bool:
    """True when SessionOptions ask for the audit (flag or config entry)."""
    if getattr(options, "enable_int8_audit", False):
        return True
    return str(options.config.get("tinyinfer.int8_audit", "0")).lower() in ("1", "true", "on")


def _i64(v) -> np.ndarray:
    from .ops.quant_common import as_int32
    return as_int32(v).astype(np.int64)


def _conv_acc(op, x, xzp, w, wzp, bias=None) -> np.ndarray:
    """Conv(x - x_zp, w - w_zp) + B exactly (float64 sums of int products stay below 2**53)."""
    from .ops import _window as W
    from .ops.conv import conv_nd
    win = op.geometry(x.shape, w.shape)
    xf = _i64(x).astype(np.float64) - (0.0 if xzp is None else float(_i64(xzp).reshape(-1)[0]))
    wf = _i64(w).astype(np.float64)
    if wzp is not None:
        wf = wf - _i64(wzp).astype(np.float64).reshape((-1,) + (1,) * (w.ndim - 1))
    acc = np.rint(conv_nd(W.pad_spatial(xf, win.begin, win.end), wf, win, op.group))
    acc = acc.astype(np.int64)  # (N, M, O...)
    if bias is not None:
        acc = acc + _i64(bias).reshape((1, -1) + (1,) * (acc.ndim - 2))
    return acc


def _matmul_acc(a, b, azp, bzp) -> np.ndarray:
    """(a - a_zp) @ (b - b_zp) in int64; a_zp scalar or per row, b_zp scalar or per column."""
    a, b = _i64(a), _i64(b)
    if azp is not None:
        z = _i64(azp)
        a = a - (z.reshape(-1, 1) if z.size > 1 else z.reshape(()))
    if bzp is not None:
        z = _i64(bzp)
        b = b - (z.reshape(-1) if z.size > 1 else z.reshape(()))
    return np.matmul(a, b)


def accumulator(step, args) -> Optional[np.ndarray]:
    """The node's int32 accumulator recomputed without wrapping, or None (no accumulator)."""
    t, op = step.node.op_type, step.op
    a = list(args) + [None] * 9
    if t in ("QLinearConv", "QLinearConvLookup"):  # (the lookup's output: no saturation count)
        return _conv_acc(op, a[0], a[2], a[3], a[5], a[8])
    if t == "ConvInteger":
        return _conv_acc(op, a[0], a[2], a[1], a[3])
    if t == "QLinearMatMul":
        return _matmul_acc(a[0], a[3], a[2], a[5])
    if t == "MatMulInteger":
        return _matmul_acc(a[0], a[1], a[2], a[3])
    if t == "MatMulIntegerToFloat":
        return _matmul_acc(a[0], a[1], a[4], a[5])
    if t == "QGemm":
        A = a[0].T if getattr(op, "transA", 0) else a[0]
        B = a[3].T if getattr(op, "transB", 0) else a[3]
        acc = _matmul_acc(A, B, a[2], a[5])
        if a[6] is not None and a[7] is not None:  # int32 C is added to the accumulator
            acc = acc + _i64(a[6])
        return acc
    return None


def _saturated(step, args, y) -> Optional[int]:
    """Outputs at the type's min/max that are not the zero point (None: not applicable)."""
    k = _ZP_INPUT.get(step.node.op_type)
    y = np.asarray(y)
    if k is None or y.dtype.kind not in "iu" or y.dtype.itemsize > 2 or y.size == 0:
        return None
    info = np.iinfo(y.dtype)
    at = (y == info.min) | (y == info.max)
    zp = args[k] if k < len(args) else None
    if zp is not None:
        zp = np.asarray(zp)
        if zp.size > 1:  # per-axis QuantizeLinear: zero point along the op's axis
            from .ops import quant_common as Q
            try:
                zp = Q.layout(step.node, zp, y.shape, int(getattr(step.op, "axis", 1)))
            except Exception:  # a layout the op itself would reject: count every bound value
                zp = None
        if zp is not None:
            at &= y != zp.astype(y.dtype)
    else:
        at &= y != 0
    return int(np.count_nonzero(at))


class Int8Audit:
    """Per-node statistics gathered by `record` (Plan.run's `timer(step, args, outs, t0, t1)`)."""

    def __init__(self):
        self.stats: Dict[str, dict] = {}

    def record(self, step, args, outs, t0=None, t1=None) -> None:
        t = step.node.op_type
        if t not in AUDITED or not outs:
            return
        name = step.node.name or step.node.outputs[0]
        s = self.stats.setdefault(name, {"node": name, "op": t, "outputs": 0, "saturated": None,
                                         "max_acc": None})
        y = np.asarray(outs[0])
        s["outputs"] += int(y.size)
        sat = _saturated(step, args, y)
        if sat is not None:
            s["saturated"] = (s["saturated"] or 0) + sat
        acc = accumulator(step, args)
        if acc is not None:
            m = int(np.abs(acc).max(initial=0))
            s["max_acc"] = m if s["max_acc"] is None else max(s["max_acc"], m)

    def rows(self) -> List[dict]:
        """One dict per audited node: node, op, outputs, saturated, saturation, max_acc,
        headroom_bits (None where not applicable), at_risk, why."""
        out = []
        for s in self.stats.values():
            r = dict(s)
            r["saturation"] = (s["saturated"] / s["outputs"]
                               if s["saturated"] is not None and s["outputs"] else None)
            r["headroom_bits"] = None if s["max_acc"] is None else 31 - s["max_acc"].bit_length()
            why = []
            if r["headroom_bits"] is not None and r["headroom_bits"] < MIN_HEADROOM_BITS:
                why.append(f"headroom {r['headroom_bits']} bits")
            if r["saturation"] is not None and r["saturation"] > MAX_SATURATION:
                why.append(f"{100 * r['saturation']:.1f}% saturated")
            r["at_risk"], r["why"] = bool(why), ", ".join(why)
            out.append(r)
        return out

    def at_risk(self) -> List[dict]:
        return [r for r in self.rows() if r["at_risk"]]

    def format(self, all_nodes: bool = True) -> str:
        rows = self.rows()
        risky = [r for r in rows if r["at_risk"]]
        head = (f"int8 audit: {len(rows)} integer nodes; {len(risky)} at risk (headroom < "
                f"{MIN_HEADROOM_BITS} bits or saturation > {100 * MAX_SATURATION:g}%)")
        if not rows:
            return head
        lines = [head, f"{'node':40s} {'op':16s} {'outputs':>10s} {'saturated':>10s} {'%':>7s} "
                       f"{'max|acc|':>12s} {'headroom':>9s}  risk"]
        shown = rows if all_nodes else risky
        worst = lambda r: (not r["at_risk"], -(r["saturation"] or 0.0),  # noqa: E731
                           31 if r["headroom_bits"] is None else r["headroom_bits"], r["node"])
        for r in sorted(shown, key=worst):
            sat = "-" if r["saturated"] is None else str(r["saturated"])
            pct = "-" if r["saturation"] is None else f"{100 * r['saturation']:.2f}"
            acc = "-" if r["max_acc"] is None else str(r["max_acc"])
            hr = "-" if r["headroom_bits"] is None else f"{r['headroom_bits']} bits"
            lines.append(f"{r['node'][:40]:40s} {r['op'][:16]:16s} {r['outputs']:>10d} {sat:>10s} "
                         f"{pct:>7s} {acc:>12s} {hr:>9s}  {'AT RISK: ' + r['why'] if r['at_risk'] else 'ok'}")
        return "\n".join(lines)

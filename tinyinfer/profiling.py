"""Per-node profiling: a Chrome-trace JSON like onnxruntime's, and tables built from it.

    opts = SessionOptions(); opts.enable_profiling = True
    sess = InferenceSession(path, opts); sess.run(None, feeds)
    trace = sess.end_profiling()     # 'tinyinfer_profile_2024-01-31_12-00-00.json'

One event per node run, open in chrome://tracing or ui.perfetto.dev:
    {"cat": "Node", "name": node, "ph": "X", "ts": us, "dur": us, "pid": .., "tid": ..,
     "args": {"op_name": "Conv", "input_shapes": [[1, 3, 48, 192], ...], "output_shapes": [...],
              "flops": 2 * N*M*Ho*Wo * C/g*kh*kw}}
and one {"cat": "Session", "name": "model_run"} event per run. FLOPs are counted from shapes for
Conv/ConvTranspose/MatMul/Gemm/FusedConv (multiply-add = 2), one per output element for
elementwise ops, zero for everything else (data movement).
"""
from __future__ import annotations

import json
import os
import threading
import time
from collections import defaultdict
from typing import Dict, List, Optional

import numpy as np

CONV_LIKE = {"Conv", "FusedConv", "QLinearConv", "QLinearConvLookup", "ConvInteger"}
ELEMENTWISE = {"Add", "Sub", "Mul", "Div", "Pow", "Relu", "LeakyRelu", "PRelu", "Sigmoid",
               "HardSigmoid", "HardSwish", "Tanh", "Exp", "Log", "Sqrt", "Clip", "Erf", "Gelu",
               "Max", "Min", "Sum", "Mean", "Neg", "Abs", "Reciprocal", "Elu", "Selu", "Softplus"}


def _shape(v):
    return [int(d) for d in v.shape] if hasattr(v, "shape") else []


def flops(op_type: str, attributes: dict, in_shapes: List[list], out_shapes: List[list]) -> int:
    """Floating-point operations of one node from its shapes (a multiply-add counts 2)."""
    try:
        out = out_shapes[0]
        if op_type in CONV_LIKE:
            w = in_shapes[3] if op_type.startswith("QLinearConv") else in_shapes[1]
            # (N, M, *spatial) outputs, each a dot product over C/group * prod(kernel) taps
            return 2 * int(np.prod(out)) * int(np.prod(w[1:]))
        if op_type == "ConvTranspose":
            # every input element scatters onto M/group * prod(kernel) outputs; W: (C, M/g, *k)
            return 2 * int(np.prod(in_shapes[0])) * int(np.prod(in_shapes[1][1:]))
        if op_type in ("MatMul", "MatMulInteger", "QLinearMatMul"):
            k = in_shapes[0][-1]  # (..., M, K) @ (..., K, N) -> (..., M, N)
            return 2 * int(np.prod(out)) * int(k)
        if op_type == "Gemm":
            a = in_shapes[0]
            k = a[0] if attributes.get("transA", 0) else a[1]
            return 2 * int(np.prod(out)) * int(k)
        if op_type in ELEMENTWISE or op_type == "BatchNormalization":
            return int(np.prod(out))
    except (IndexError, TypeError, ValueError):
        pass
    return 0


class Profiler:
    """Collects one event per step (Plan.run's `timer` hook) and writes them as a Chrome trace."""

    def __init__(self, prefix: str = "tinyinfer_profile"):
        self.prefix = prefix
        self.start = time.perf_counter()
        self.started_at = time.strftime("%Y-%m-%d_%H-%M-%S")
        self.events: List[dict] = []
        self.pid = os.getpid()

    def _us(self, t: float) -> int:
        return int(round((t - self.start) * 1e6))

    def record(self, step, args, outs, t0: float, t1: float) -> None:
        node = step.node
        ins, res = [_shape(a) for a in args], [_shape(o) for o in outs]
        self.events.append({
            "cat": "Node", "name": node.name or node.outputs[0], "ph": "X",
            "ts": self._us(t0), "dur": max(self._us(t1) - self._us(t0), 0),
            "pid": self.pid, "tid": threading.get_ident() % 2 ** 31,
            "args": {"op_name": node.op_type, "provider": "CPUExecutionProvider",
                     "input_shapes": ins, "output_shapes": res,
                     "flops": flops(node.op_type, node.attributes, ins, res)}})

    def record_run(self, t0: float, t1: float) -> None:
        self.events.append({"cat": "Session", "name": "model_run", "ph": "X", "ts": self._us(t0),
                            "dur": self._us(t1) - self._us(t0), "pid": self.pid,
                            "tid": threading.get_ident() % 2 ** 31, "args": {}})

    def write(self) -> str:
        path = f"{self.prefix}_{self.started_at}.json"
        with open(path, "w") as f:
            json.dump(self.events, f, indent=0)
        return path


def node_events(trace: List[dict], skip_runs: int = 0) -> List[dict]:
    """Node events, leaving out those of the first `skip_runs` model_run windows (warm-up)."""
    runs = sorted((e["ts"], e["ts"] + e["dur"]) for e in trace if e.get("name") == "model_run")
    since = runs[skip_runs][0] if skip_runs and len(runs) > skip_runs else -1
    return [e for e in trace if e.get("cat") == "Node" and e["ts"] >= since]


def format_tables(trace: List[dict], skip_runs: int = 0, top: int = 20) -> str:
    """Per node (the `top` slowest) and per op type: time per run, share, FLOPs, GFLOP/s."""
    events = node_events(trace, skip_runs)
    if not events:
        return "no node events"
    by_node: Dict[str, list] = defaultdict(lambda: [None, 0.0, 0, 0])  # op, us, flops, count
    for e in events:
        row = by_node[e["name"]]
        row[0] = e["args"].get("op_name", "?")
        row[1] += e["dur"]
        row[2] += e["args"].get("flops", 0)
        row[3] += 1
    runs = max(r[3] for r in by_node.values())
    total = sum(r[1] for r in by_node.values())
    by_op: Dict[str, list] = defaultdict(lambda: [0, 0.0, 0])  # nodes, us, flops
    for op, us, fl, _ in by_node.values():
        by_op[op][0] += 1
        by_op[op][1] += us
        by_op[op][2] += fl

    def line(label, us, fl):
        ms = us / runs / 1e3
        rate = f"{fl / us / 1e3:8.2f}" if fl and us else f"{'-':>8s}"
        return (f"{label[:44]:44s} {ms:9.3f} {100 * us / total:6.1f}% "
                f"{fl / runs / 1e6:10.2f} {rate}")

    def head(label):
        return f"{label:44s} {'ms/run':>9s} {'share':>7s} {'MFLOP/run':>10s} {'GFLOP/s':>8s}"

    out = [f"{len(by_node)} nodes, {runs} timed run(s), {total / runs / 1e3:.2f} ms per run in nodes",
           "", f"top {min(top, len(by_node))} nodes", head("node (op)")]
    for name, (op, us, fl, _) in sorted(by_node.items(), key=lambda kv: -kv[1][1])[:top]:
        out.append(line(f"{name} ({op})", us, fl))
    out += ["", "per op type", head("op (nodes)")]
    for op, (n, us, fl) in sorted(by_op.items(), key=lambda kv: -kv[1][1]):
        out.append(line(f"{op} ({n})", us, fl))
    return "\n".join(out)

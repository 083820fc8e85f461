"""Memory plan: the peak of live tensor bytes for given input shapes, and what is alive then.

    report = measure(session, feeds)      one dry run through Plan.run's `timer` hook
    report.peak_bytes, report.peak_step, report.alive_at_peak
    print(format_report(report))          `tinyinfer info MODEL --memory`

Sizes are measured by running the model once on the given inputs (not by shape inference), so
they are exact for those shapes. The plan frees every value after its last reader (plan.py);
a value is live from the step that produces it through the step after which it is freed, both
included, so a step's inputs and outputs are counted together. A view (Reshape, Squeeze, a
Slice that NumPy can express as a view) shares its base's buffer: a buffer counts once, with the
bytes of the array that owns the memory, while any value viewing it is live. Inputs count as live
throughout (the caller holds them); weights (initializers and Constant nodes' tensors, which their
ops hold) are reported separately; the temporaries inside one op and the values inside
If/Loop/Scan bodies are not counted.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

import numpy as np

from .summary import human_bytes


@dataclass
class Tensor:
    name: str
    shape: tuple
    dtype: str
    nbytes: int
    buffer: str                      # name of the value owning the memory (itself unless a view)
    step: int                        # producing step, -1 for an input
    freed_after: Optional[int] = None  # last step it is live; None = to the end (outputs, inputs)


@dataclass
class MemoryReport:
    tensors: Dict[str, Tensor]
    buffers: Dict[str, int]          # owner name -> bytes of the memory it owns
    nodes: List[str]                 # node descriptions in run order
    timeline: List[int]              # live bytes at each step
    weights_bytes: int
    peak_bytes: int = 0
    peak_step: int = 0
    alive_at_peak: List[str] = field(default_factory=list)


def _root(a):
    while isinstance(getattr(a, "base", None), np.ndarray):
        a = a.base
    return a


def _nbytes(v) -> int:
    if isinstance(v, np.ndarray):
        return 0 if v.dtype == object else int(v.nbytes)
    if isinstance(v, (list, tuple)):
        return sum(_nbytes(x) for x in v)
    return 0


class _Recorder:
    """The `timer` hook: names, sizes and buffers of every output, and when each is freed."""

    def __init__(self, initializers, feeds):
        self.tensors: Dict[str, Tensor] = {}
        self.buffers: Dict[str, int] = {}
        self.nodes: List[str] = []
        self.owner: Dict[int, str] = {id(_root(a)): "" for a in initializers.values()}  # "" = weights
        self.members: Dict[str, int] = {}
        self.root_id: Dict[str, int] = {}
        self.constant_bytes = 0
        for name, a in feeds.items():
            self._add(name, a, -1)

    def _add(self, name, v, step, weight=False) -> None:
        root = _root(v) if isinstance(v, np.ndarray) else v
        buf = self.owner.get(id(root)) if isinstance(v, np.ndarray) else None
        if weight and buf is None:  # a Constant node's tensor: held by the op, like a weight
            self.owner[id(root)] = buf = ""
            self.constant_bytes += _nbytes(root)
        if buf is None:
            buf = name
            self.owner[id(root)], self.root_id[name] = name, id(root)
            self.buffers[name] = _nbytes(root)
        if buf:
            self.members[buf] = self.members.get(buf, 0) + 1
        self.tensors[name] = Tensor(name, tuple(getattr(v, "shape", ())), str(getattr(v, "dtype", type(v).__name__)),
                                    _nbytes(v), buf, step)

    def __call__(self, step, args, outs, t0, t1) -> None:
        i = len(self.nodes)
        self.nodes.append(step.node.describe())
        for name, v in zip(step.outputs, outs):
            if name:
                self._add(name, v, i, weight=step.node.op_type == "Constant")
        for name in step.frees:
            t = self.tensors.get(name)
            if t is None or t.step < 0:
                continue  # weights and inputs stay held by the plan and the caller
            t.freed_after = i
            if t.buffer:
                self.members[t.buffer] -= 1
                if not self.members[t.buffer]:
                    # the buffer is dead: forget its id, which Python may now reuse
                    self.owner.pop(self.root_id[t.buffer], None)


def measure(session, feeds: Dict[str, Any]) -> MemoryReport:
    """Run `session` once on `feeds`, recording every value's size and lifetime."""
    plan = session._plan
    checked = session._check_feeds(feeds)
    rec = _Recorder(plan.initializers, checked)
    plan.run(checked, timer=rec)
    last = len(rec.nodes) - 1
    start: Dict[str, int] = {}
    end: Dict[str, int] = {}
    for t in rec.tensors.values():
        if not t.buffer:
            continue
        start[t.buffer] = min(start.get(t.buffer, last), max(t.step, 0))
        end[t.buffer] = max(end.get(t.buffer, 0), last if t.freed_after is None else t.freed_after)
    delta = np.zeros(last + 2, dtype=np.int64)
    for b, n in rec.buffers.items():
        if b in start:
            delta[start[b]] += n
            delta[end[b] + 1] -= n
    timeline = [int(x) for x in np.cumsum(delta)[:last + 1]]
    weights = sum(_nbytes(a) for a in plan.initializers.values()) + rec.constant_bytes
    r = MemoryReport(rec.tensors, rec.buffers, rec.nodes, timeline, weights)
    if timeline:
        r.peak_step = int(np.argmax(timeline))
        r.peak_bytes = timeline[r.peak_step]
        r.alive_at_peak = alive_at(r, r.peak_step)
    return r


def alive_at(r: MemoryReport, i: int) -> List[str]:
    """Values (not weights) live at step i."""
    last = len(r.nodes) - 1
    return [t.name for t in r.tensors.values() if t.buffer
            and max(t.step, 0) <= i <= (last if t.freed_after is None else t.freed_after)]


def _row(r: MemoryReport, t: Tensor) -> str:
    made = "input" if t.step < 0 else f"step {t.step}"
    gone = "kept" if t.freed_after is None else f"freed after step {t.freed_after}"
    view = "" if t.buffer == t.name else ("  (weights)" if not t.buffer else f"  view of {t.buffer}")
    return (f"  {t.name[:40]:40s} {t.dtype:8s} {str(list(t.shape)):20s} {human_bytes(t.nbytes):>9s}"
            f"  {made}, {gone}{view}")


def format_report(r: MemoryReport, top: int = 10) -> str:
    ins = ", ".join(f"{t.name} {t.dtype} {list(t.shape)}" for t in r.tensors.values() if t.step < 0)
    lines = [f"memory     measured by a dry run on inputs {ins} (sizes recorded, not inferred)",
             f"peak       {r.peak_bytes:,} bytes ({human_bytes(r.peak_bytes)}) of live tensors at "
             f"step {r.peak_step} of {len(r.nodes)}: {r.nodes[r.peak_step] if r.nodes else '-'}",
             f"weights    {human_bytes(r.weights_bytes)} (always held, not in the peak); inputs are "
             "counted as live throughout; a view counts once, with its base"]
    alive = sorted((r.tensors[n] for n in r.alive_at_peak), key=lambda t: -t.nbytes)
    lines.append(f"alive at the peak: {len(alive)} tensors; the {min(top, len(alive))} largest")
    lines += [_row(r, t) for t in alive[:top]]
    values = [t for t in r.tensors.values() if t.buffer]
    largest = sorted(values, key=lambda t: -t.nbytes)[:top]
    lines.append(f"largest tensors of the run: the {len(largest)} largest of {len(values)}")
    lines += [_row(r, t) for t in largest]
    return "\n".join(lines)

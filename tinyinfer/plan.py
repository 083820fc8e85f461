"""From a Graph to a runnable plan, and the run loop.

    plan  = Plan(graph, ctx)          topological order, one built op per node, and for every
                                      value the step after which it is dead (freed)
    outs  = plan.run(feeds, outer)    the loop below; `outer` holds the enclosing graph's values
                                      when this graph is an If/Loop/Scan body
"""
from __future__ import annotations

import os
import sys
import time
from collections import ChainMap
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Sequence

import numpy as np

from . import budgets, ir, registry
from .errors import ModelError, RuntimeFailure, TinyInferError


@dataclass
class BuildContext:
    """What building ops needs beyond the node: opsets, options, and a sub-graph compiler."""

    opsets: Mapping[str, int]
    options: Any = None
    model_path: Optional[str] = None
    depth: int = 0

    def opset(self, domain: str) -> int:
        d = registry.canonical_domain(domain)
        if d == "":
            return self.opsets.get("", self.opsets.get("ai.onnx", 0))
        v = self.opsets.get(d)
        if v is None:
            # ai.onnx.ml, com.microsoft and our own domain default to their newest version
            return 10 ** 6
        return v

    def compile(self, graph: ir.Graph, outer_names) -> "Plan":
        """Compile a sub-graph (If/Loop/Scan body) that may read values of the enclosing scope."""
        sub = BuildContext(self.opsets, self.options, self.model_path, self.depth + 1)
        return Plan(graph, sub, outer_names=outer_names)


@dataclass
class Step:
    node: ir.Node
    op: Any
    inputs: tuple
    outputs: tuple
    frees: tuple = ()
    captures: tuple = ()      # outer names read by the node's sub-graphs (plan.implicit_inputs)


def implicit_inputs(node: ir.Node) -> tuple:
    """Outer-scope names a node's sub-graphs (If/Loop/Scan bodies) read without listing them as
    inputs. They count as inputs for ordering and lifetimes, so a captured value is computed
    before the node and kept alive until it has run."""
    found: List[str] = []
    for value in node.attributes.values():
        graphs = value if isinstance(value, (list, tuple)) else (value,)
        for g in graphs:
            if isinstance(g, ir.Graph):
                _captures(g, found)
    return tuple(dict.fromkeys(n for n in found if n not in node.inputs))


def _captures(graph: ir.Graph, found: List[str]) -> None:
    defined = set(graph.initializers) | {v.name for v in graph.inputs}
    for n in graph.nodes:
        defined.update(o for o in n.outputs if o)
    for n in graph.nodes:
        for name in (*n.inputs, *implicit_inputs(n)):
            if name and name not in defined:
                found.append(name)


def topological_order(graph: ir.Graph, known: set) -> List[ir.Node]:
    """Nodes ordered so every input is produced before use (Kahn); names the culprit otherwise."""
    producer: Dict[str, int] = {}
    for i, node in enumerate(graph.nodes):
        for o in node.outputs:
            if not o:
                continue
            if o in producer:
                raise ModelError(node, f"output {o!r} is also produced by "
                                       f"{graph.nodes[producer[o]].describe()}")
            if o in known and o not in graph.initializers:
                pass  # a node may shadow an outer-scope name
            producer[o] = i
    waiting = [0] * len(graph.nodes)
    users: Dict[int, List[int]] = {}
    for i, node in enumerate(graph.nodes):
        deps = set()
        for name in node.inputs:
            if not name:
                continue
            if name in producer:
                deps.add(producer[name])
            elif name not in known:
                raise ModelError(node, f"input {name!r} is not a graph input, initializer or the "
                                       "output of any node")
        for name in implicit_inputs(node):
            if name in producer and producer[name] != i:
                deps.add(producer[name])  # unknown captures are reported when the body compiles
        for d in deps:
            users.setdefault(d, []).append(i)
        waiting[i] = len(deps)
    ready = [i for i in range(len(graph.nodes)) if waiting[i] == 0]
    ready.reverse()
    order = []
    while ready:
        i = ready.pop()
        order.append(graph.nodes[i])
        for u in reversed(users.get(i, [])):
            waiting[u] -= 1
            if waiting[u] == 0:
                ready.append(u)
    if len(order) != len(graph.nodes):
        stuck = next(graph.nodes[i] for i in range(len(graph.nodes)) if waiting[i] > 0)
        raise ModelError(stuck, "the graph has a cycle through this node")
    return order


class Plan:
    def __init__(self, graph: ir.Graph, ctx: BuildContext, outer_names=frozenset()):
        self.graph = graph
        self.ctx = ctx
        self.initializers = dict(graph.initializers)
        self.input_names = [v.name for v in graph.inputs]
        self.output_names = [v.name for v in graph.outputs]
        known = set(outer_names) | set(self.initializers) | set(self.input_names)
        order = topological_order(graph, known)
        types = graph.value_types()
        steps = []
        visible = set(known)
        for node in order:
            cls = registry.lookup(node.op_type, node.domain, ctx.opset(node.domain), node)
            op = registry.instantiate(cls, node, dict(node.attributes))
            op.ctx = ctx
            op.opset = ctx.opset(node.domain)
            op.visible_names = frozenset(visible)
            op.graph = graph  # the graph the node sits in (Gradient differentiates through it)
            infos = [registry.InputInfo(n, types.get(n), self.initializers.get(n)) for n in node.inputs]
            try:
                op.prepare(*infos)
            except TinyInferError:
                raise
            except Exception as e:  # a bug in prepare must still name the node
                raise ModelError(node, f"cannot prepare: {type(e).__name__}: {e}") from e
            steps.append(Step(node, op, tuple(node.inputs), tuple(node.outputs),
                              captures=implicit_inputs(node)))
            visible.update(o for o in node.outputs if o)
        for name in self.output_names:
            if name not in visible:
                raise ModelError(f"graph output {name!r} is not produced by any node, input or "
                                 "initializer")
        # lifetimes: free each intermediate right after its last reader
        keep = set(self.output_names)
        last_use: Dict[str, int] = {}
        for i, s in enumerate(steps):
            for n in (*s.inputs, *s.captures):
                last_use[n] = i
            for n in s.outputs:
                last_use.setdefault(n, i)
        frees: Dict[int, list] = {}
        for name, i in last_use.items():
            if name and name not in keep:
                frees.setdefault(i, []).append(name)
        for i, s in enumerate(steps):
            s.frees = tuple(frees.get(i, ()))
        self.steps = steps

    def run(self, feeds: Mapping[str, Any], outer: Optional[Mapping[str, Any]] = None,
            capture: Optional[dict] = None, timer=None) -> list:
        """`timer(step, args, outs, t0, t1)`, if given, is called after each step (perf_counter
        seconds) — profiling and memory planning hook in here; None costs one test per step."""
        env: Dict[str, Any] = dict(self.initializers)
        env.update(feeds)
        scope = env if outer is None else ChainMap(env, outer)
        debug = DEBUG
        guard = budgets.current()  # set by InferenceSession.run: bytes, live bytes, deadline
        frame = guard.frame() if guard is not None else None
        for step in self.steps:
            if debug or timer is not None:
                t0 = time.perf_counter()
            try:
                args = [scope[n] if n else None for n in step.inputs]  # KeyError: an output not made
                result = step.op.run(*args, scope=scope) if step.op.uses_scope else step.op.run(*args)
            except TinyInferError:
                raise
            except (MemoryError, RecursionError, Exception) as e:
                raise RuntimeFailure(step.node, f"failed while running: {type(e).__name__}: {e}") from e
            outs = result if isinstance(result, tuple) else (result,)
            for name, value in zip(step.outputs, outs):
                if name:
                    env[name] = np.asarray(value) if isinstance(value, (np.generic, float, int, bool)) else value
            if frame is not None:
                frame.account(step, outs)
            if timer is not None:
                timer(step, args, outs, t0, time.perf_counter())
            if debug:
                _debug_print(step, args, outs, time.perf_counter() - t0, debug)
            if capture is not None:
                for name in step.outputs:
                    if name and (capture.get("*") or name in capture):
                        capture[name] = env[name]
            for name in step.frees:
                env.pop(name, None)
        if frame is not None:
            frame.close()
        try:
            return [scope[n] for n in self.output_names]
        except KeyError as e:
            raise RuntimeFailure(f"graph output {e.args[0]!r} was not computed") from None


def _stats(v) -> str:
    if isinstance(v, np.ndarray):
        s = f"{v.dtype}{list(v.shape)}"
        if DEBUG >= 2 and v.size and v.dtype.kind in "fiub":
            f = v.astype(np.float64)
            s += f" min={f.min():.4g} max={f.max():.4g} mean={f.mean():.4g}"
        return s
    if isinstance(v, list):
        return f"sequence[{len(v)}]"
    return type(v).__name__


def _debug_print(step, args, outs, seconds, level) -> None:
    ins = ", ".join(_stats(a) for a in args)
    res = ", ".join(_stats(o) for o in outs)
    print(f"[tinyinfer] {step.node.describe()}  ({ins}) -> ({res})  {seconds * 1e3:.3f} ms",
          file=sys.stderr)


def _debug_level() -> int:
    try:
        return int(os.environ.get("TINYINFER_DEBUG", "0") or 0)
    except ValueError:
        return 0


DEBUG = _debug_level()

"""Intermediate tensors without editing the graph: `InferenceSession.run(..., capture=...)`.

    outs, seen = sess.run(None, feeds, capture="all")          # every value, keyed by name
    outs, seen = sess.run(None, feeds, capture=["conv1_out"])  # just these
    outs, seen = sess.run(None, feeds, capture="all", until="BatchNormalization@0")
                                                               # stop after that node; outputs
                                                               # not computed yet are None

`seen` holds the fed inputs and every captured node output of the top-level graph (values inside
If/Loop/Scan bodies are not visible here). Initializers are weights, not captured. The values are
always those of the model as written: when the session's graph passes fused or renamed nodes
(graph_optimization_level > ORT_DISABLE_ALL), a capturing run uses a second, unoptimised plan of
the original graph (built once, on first use), so every name in the model file can be asked for.
"""
from __future__ import annotations

import copy
from typing import Dict, Optional, Sequence

from ..errors import InputError


def value_names(plan) -> list:
    """Every value a plan defines, in run order: inputs, then node outputs."""
    names = list(plan.input_names)
    for step in plan.steps:
        names.extend(n for n in step.outputs if n)
    return names


def find_step(plan, until: str) -> int:
    """Index of the step for node `until` (its name, or the name of one of its outputs)."""
    for i, step in enumerate(plan.steps):
        if step.node.name == until:
            return i
    for i, step in enumerate(plan.steps):
        if until in step.outputs:
            return i
    some = [s.node.name for s in plan.steps[:5] if s.node.name]
    raise InputError(f"until={until!r} is neither a node name nor a node output of the model "
                     f"(node names look like {some})")


def original_plan(session):
    """The plan of the model as written: the session's own when no pass changed the graph."""
    if getattr(session, "optimized_model", session.model) is session.model:
        return session._plan
    plan = getattr(session, "_capture_plan", None)
    if plan is None:
        from ..plan import BuildContext, Plan

        m = session.model
        plan = Plan(m.graph, BuildContext(dict(m.opset_import), session._options, m.path))
        session._capture_plan = plan
    return plan


def run_captured(session, output_names: Optional[Sequence[str]], all_outputs: Sequence[str],
                 feeds: Dict, capture, until: Optional[str] = None):
    """(outputs, captured) — see the module docstring. `feeds` are already checked."""
    plan = original_plan(session)
    if capture is None:
        capture = ()
    if isinstance(capture, str):
        if capture != "all":
            raise InputError(f"capture must be 'all' or a list of value names, got {capture!r}")
        wanted = None
    else:
        wanted = list(capture)
        known = set(value_names(plan))
        unknown = [n for n in wanted if n not in known]
        if unknown:
            raise InputError(f"capture: {unknown[0]!r} is not an input or node output of the "
                             "model (initializers are not captured)")
    run_plan = plan
    if until is not None:
        run_plan = copy.copy(plan)  # same built ops, fewer steps; nothing is rebuilt
        run_plan.steps = plan.steps[:find_step(plan, until) + 1]
        run_plan.output_names = []
    box: dict = {"*": True} if wanted is None else dict.fromkeys((*wanted, *all_outputs))
    results = run_plan.run(feeds, capture=box)
    box.pop("*", None)
    computed = {k: v for k, v in box.items() if v is not None or k in feeds}
    if until is None:
        computed.update(zip(all_outputs, results))
    seen = {k: v for k, v in feeds.items() if wanted is None or k in wanted}
    seen.update((k, v) for k, v in computed.items()
                if wanted is None or k in wanted)
    order = {n: i for i, n in enumerate(value_names(plan))}
    seen = dict(sorted(seen.items(), key=lambda kv: order.get(kv[0], -1)))
    names = list(output_names) if output_names else list(all_outputs)
    outs = [computed.get(n, feeds.get(n)) for n in names]
    return outs, seen

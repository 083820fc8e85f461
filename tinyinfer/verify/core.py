"""Node-by-node comparison of tinyinfer with another runtime; names the first divergence.

    report = verify(model, against, feeds, rtol, atol)

For each node of the top-level graph, in tinyinfer's run order, and each of its outputs:
    accumulated   tinyinfer's value vs the other side's, each side having run on its own from the
                  same inputs — error a node inherits from upstream shows here
    local         the tinyinfer node run on the other side's input tensors, vs the other side's
                  output — only error this node itself makes shows here
The first node whose local error exceeds tolerance is the first divergence. (If every node
agrees locally but values still differ, the first accumulated excess is named instead.)

tinyinfer runs with graph_optimization_level = ORT_DISABLE_ALL: plain spec semantics on the
original graph, so every value name of the model file exists on both sides.
"""
from __future__ import annotations

import time
from collections import ChainMap
from typing import Dict, Optional

import numpy as np

from ..errors import TinyInferError
from .compare import compare


def plain_session(model):
    """A session on the model as written: no graph passes, so all original values exist."""
    from ..session import GraphOptimizationLevel, InferenceSession, SessionOptions

    opts = SessionOptions(graph_optimization_level=GraphOptimizationLevel.ORT_DISABLE_ALL)
    return InferenceSession(model, opts)


def local_outputs(step, plan, theirs: Dict, ours: Dict):
    """Run one tinyinfer node on the other side's inputs. Returns (outputs, how many inputs came
    from the other side, how many it lacked and were taken from ours). Initializers are shared."""
    args, fed, lacking = [], 0, 0
    for n in step.inputs:
        if not n:
            args.append(None)
        elif n in theirs:
            args.append(theirs[n])
            fed += 1
        elif n in plan.initializers:
            args.append(plan.initializers[n])
        else:
            args.append(ours.get(n))
            lacking += 1
    if step.op.uses_scope:
        scope = ChainMap(dict(theirs), dict(plan.initializers), ours)
        result = step.op.run(*args, scope=scope)
    else:
        result = step.op.run(*args)
    outs = result if isinstance(result, tuple) else (result,)
    return [np.asarray(o) if isinstance(o, (np.generic, float, int, bool)) else o for o in outs], fed, lacking


SYMBOLIC_SIZES = (32, 64, 128, 224)  # tried in turn for symbolic dims when no shape is given


def _random_run(sess, shapes: dict, seed: int):
    """Random feeds (seeded) and tinyinfer's values on them. Symbolic dims without a --shape
    become the smallest of SYMBOLIC_SIZES the model runs with (a pool may need more than 32)."""
    from .. import feeds as fd
    from ..errors import RuntimeFailure

    symbolic = any(not isinstance(d, int) or d < 0 for a in sess.get_inputs()
                   if a.name not in shapes for d in (a.shape or [])[1:])
    sizes = SYMBOLIC_SIZES if symbolic else SYMBOLIC_SIZES[:1]
    for k, size in enumerate(sizes):
        old, fd.DEFAULT_DIM = fd.DEFAULT_DIM, size
        try:
            feeds = fd.random_feeds(sess, shapes, seed=seed)
        finally:
            fd.DEFAULT_DIM = old
        try:
            _, ours = sess.run(None, feeds, capture="all")
        except RuntimeFailure:
            if k == len(sizes) - 1:
                raise
            continue
        note = f"random, seed {seed}" + (f"; symbolic dims = {size}" if symbolic else "")
        return feeds, ours, note


def verify(model, against: str, feeds: Optional[Dict] = None, rtol: float = 1e-3,
           atol: float = 1e-4, seed: int = 0, shapes: Optional[dict] = None,
           session=None) -> dict:
    from . import others

    t0 = time.perf_counter()
    sess = session or plain_session(model)
    plan = sess._plan
    model_path = sess.model.path
    bundle_inputs = {}
    if against not in others.RUNTIMES:
        theirs_all = others.other_values(against, model_path, {})
        bundle_inputs = {a.name: theirs_all[a.name] for a in sess.get_inputs() if a.name in theirs_all}
    source = "given"
    t1 = time.perf_counter()
    if feeds is None and bundle_inputs and len(bundle_inputs) == len(sess.get_inputs()):
        feeds, source = bundle_inputs, "from the bundle"
    if feeds is None:
        feeds, ours, source = _random_run(sess, shapes or {}, seed)
    else:
        _, ours = sess.run(None, feeds, capture="all")
    t_ours = time.perf_counter() - t1
    t1 = time.perf_counter()
    if against in others.RUNTIMES:
        theirs = others.other_values(against, model_path, feeds)
    else:
        theirs = theirs_all
        for k, v in bundle_inputs.items():
            if source != "from the bundle" and not np.array_equal(v, feeds[k]):
                raise TinyInferError(f"input {k!r} differs from the one stored in the bundle; "
                                     "omit --inputs to use the bundle's inputs")
    t_theirs = time.perf_counter() - t1

    rows, first, first_acc = [], None, None
    for index, step in enumerate(plan.steps):
        names = [n for n in step.outputs if n]
        common = [n for n in names if n in ours and n in theirs]
        if not common:
            continue
        acc = {n: compare(ours[n], theirs[n], rtol, atol) for n in common}
        local, note = {}, ""
        try:
            outs, fed, lacking = local_outputs(step, plan, theirs, ours)
            by_name = dict(zip(step.outputs, outs))
            local = {n: compare(by_name.get(n), theirs[n], rtol, atol) for n in common}
            if lacking:
                note = f"{lacking} input(s) missing on the other side, ours used"
        except Exception as e:  # a node that cannot run on the other side's tensors says so
            note = f"local run failed: {type(e).__name__}: {e}"
        row = {"index": index, "node": step.node.name, "op": step.node.op_type,
               "domain": step.node.domain, "outputs": common, "accumulated": acc, "local": local,
               "note": note}
        rows.append(row)
        if first is None and local and not all(m["ok"] for m in local.values()):
            first = row
        if first_acc is None and not all(m["ok"] for m in acc.values()):
            first_acc = row
    culprit, kind = (first, "local") if first is not None else (first_acc, "accumulated")
    divergence = None
    if culprit is not None:
        table = culprit[kind]
        bad = [n for n in culprit["outputs"] if not table[n]["ok"]]
        divergence = {"node": culprit["node"], "op": culprit["op"], "index": culprit["index"],
                      "outputs": bad, "kind": kind,
                      "max_abs": max((table[n]["max_abs"] or 0.0) for n in bad)}
    final = [n for n in plan.output_names if n in ours and n in theirs]
    return {
        "model": model_path, "against": others.describe(against), "inputs": source,
        "input_shapes": {k: list(np.shape(v)) for k, v in feeds.items()},
        "rtol": rtol, "atol": atol,
        "tinyinfer": "graph_optimization_level=ORT_DISABLE_ALL (the original graph, spec semantics)",
        "compared": sum(len(r["outputs"]) for r in rows),
        "only_ours": len([n for n in ours if n not in theirs and n not in feeds]),
        "outputs": {n: compare(ours[n], theirs[n], rtol, atol) for n in final},
        "first_divergence": divergence, "nodes": rows,
        "seconds": {"tinyinfer": round(t_ours, 3), "other": round(t_theirs, 3),
                    "total": round(time.perf_counter() - t0, 3)},
        "_steps": plan.steps, "_ours": ours, "_theirs": theirs, "_plan": plan,
    }

"""Constant folding: a node whose inputs are all constants is run once, now, by its reference op;
its outputs become initializers. Shape and Size of a value with a fully static declared shape
are constants too.

    # y = f(c1, c2)  (c constant, f deterministic)   ->   initializer y = f(c1, c2)
    # s = Shape(x)   (x declared (2, 3, 4))            ->   initializer s = [2, 3, 4]

Never folded: random ops, Dropout, nodes with sub-graphs, outputs that are not plain arrays, and
results over `max_bytes` (16 MB by default) in total — a model must not be able to blow up
memory at load time. Ops that are known to grow their input are checked before they run.
"""
from __future__ import annotations

import numpy as np

from .. import ir, registry
from ..errors import TinyInferError
from ..plan import BuildContext, topological_order
from ._graph import STANDARD, rebuild

MAX_BYTES = 16 << 20

NEVER = {"RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike", "Bernoulli",
         "Multinomial", "Dropout"}


def _static_shape(t):
    if t is None or t.kind != "tensor" or t.shape is None:
        return None
    if all(isinstance(d, int) and d >= 0 for d in t.shape):
        return tuple(t.shape)
    return None


def _elements_bound(node: ir.Node, args) -> float:
    """An upper estimate of the output size for ops that can grow their inputs; 0 = unknown."""
    op = node.op_type
    try:
        if op == "ConstantOfShape":
            return float(np.prod(np.asarray(args[0], dtype=np.float64)))
        if op == "Expand":
            shape = np.broadcast_shapes(args[0].shape, tuple(int(d) for d in args[1].reshape(-1)))
            return float(np.prod(shape, dtype=np.float64))
        if op == "Tile":
            return float(args[0].size) * float(np.prod(np.asarray(args[1], dtype=np.float64)))
        if op == "Range":
            start, limit, delta = (float(np.asarray(a).reshape(-1)[0]) for a in args[:3])
            return abs((limit - start) / delta) if delta else 0.0
    except Exception:
        return float("inf")  # cannot even estimate: do not fold
    if op in ("Resize", "Upsample", "Pad", "OneHot", "EyeLike", "Col2Im", "ConvTranspose",
              "MaxUnpool", "DFT", "STFT", "MelWeightMatrix"):
        return float("inf")  # grows in ways not worth estimating; left to run time
    return 0.0


def fold_constants(model: ir.Model, max_bytes: int = MAX_BYTES) -> ir.Model:
    graph = model.graph
    fed = {v.name for v in graph.inputs}
    known = dict((k, v) for k, v in graph.initializers.items() if k not in fed)
    try:
        order = topological_order(graph, set(graph.initializers) | fed)
    except TinyInferError:
        return model  # the plan reports a malformed graph in its own words
    types = graph.value_types()
    outputs = {v.name for v in graph.outputs}
    ctx = BuildContext(dict(model.opset_import), None, model.path)
    drop, inits = [], {}
    for node in order:
        if node.op_type in NEVER or any(isinstance(a, ir.Graph) or (
                isinstance(a, (list, tuple)) and any(isinstance(g, ir.Graph) for g in a))
                for a in node.attributes.values()):
            continue
        if not node.outputs or not any(node.outputs):
            continue
        shape_of = node.op_type in ("Shape", "Size") and node.domain in STANDARD and \
            node.inputs and node.inputs[0] not in known
        if shape_of:
            shape = _static_shape(types.get(node.inputs[0]))
            if shape is None:
                continue
            args = [np.broadcast_to(np.zeros((), np.float32), shape)]  # no memory: shape only
        else:
            if any(i and i not in known for i in node.inputs):
                continue
            if not node.inputs and node.op_type not in ("Constant",):
                continue  # a source op other than Constant: leave it (it may be random)
            args = [known[i] if i else None for i in node.inputs]
            if any(not isinstance(a, np.ndarray) for a in args if a is not None):
                continue
            bound = _elements_bound(node, args)
            if bound * 8 > max_bytes:
                continue
        values = _run(node, args, ctx, graph, types, known)
        if values is None:
            continue
        size = sum(v.nbytes for v in values if isinstance(v, np.ndarray))
        if size > max_bytes or not all(isinstance(v, np.ndarray) for v in values):
            continue
        if any(o in fed for o in node.outputs if o):
            continue
        drop.append(node)
        for name, value in zip(node.outputs, values):
            if name:
                known[name] = inits[name] = value
    if not drop:
        return model
    from dataclasses import replace
    return replace(model, graph=rebuild(graph, drop=drop, new_inits=inits))


def _run(node, args, ctx, graph, types, known):
    """The node's outputs computed by its reference op, or None when it cannot run now."""
    try:
        cls = registry.lookup(node.op_type, node.domain, ctx.opset(node.domain), node)
        op = registry.instantiate(cls, node, dict(node.attributes))
        op.ctx, op.opset, op.graph = ctx, ctx.opset(node.domain), graph
        op.visible_names = frozenset(known)
        if getattr(op, "uses_scope", False):
            return None
        infos = [registry.InputInfo(n, types.get(n), a if isinstance(a, np.ndarray) and n in known
                                    else None) for n, a in zip(node.inputs, args)]
        op.prepare(*infos)
        with np.errstate(all="ignore"):
            result = op.run(*args)
    except Exception:  # the error, if real, is raised again by the plan or at run time
        return None
    outs = result if isinstance(result, tuple) else (result,)
    if len(outs) < len([o for o in node.outputs if o]):
        return None
    outs = tuple(np.asarray(o) if isinstance(o, (np.generic, float, int, bool)) else o
                 for o in outs[:len(node.outputs)])
    return outs

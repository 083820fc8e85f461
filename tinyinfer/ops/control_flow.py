"""If and Loop — control flow with sub-graph attributes.

    If(cond)                    cond: one bool element
        -> then_branch()        when cond is true, else else_branch(); the branches may return
                                values of different shapes (and sequences or optionals)

    Loop(M?, cond?, v_0..v_N-1) body(i, cond_in, v...) -> (cond_out, v'..., s_0..s_K-1)
        i = 0; while (M absent or i < M) and (cond absent or cond): run body, i += 1
        -> (v_final..., S_0..S_K-1)  with S_k = stack over iterations of s_k: (iterations, *s_k)

Bodies read values of the enclosing graph by name; plan.implicit_inputs makes sure those are
computed first and kept alive. Trip counts are bounded by ops._common.loop_budget.
"""
from __future__ import annotations

import numpy as np

from .. import ir
from ..errors import IterationLimitError, ModelError, NestingLimitError, RuntimeFailure

MAX_NESTING = 64   # sub-graphs inside sub-graphs, checked before compiling the next level
from ..registry import Op, op
from ._common import empty_like_type, loop_budget


def compile_body(self_op, graph, what: str):
    """Compile a sub-graph attribute of ``self_op`` with the enclosing scope visible."""
    if not isinstance(graph, ir.Graph):
        raise ModelError(self_op.node, f"attribute {what!r} must be a graph, got {type(graph).__name__}")
    if self_op.ctx.depth >= MAX_NESTING:
        raise NestingLimitError(f"{self_op.node.describe()}: sub-graphs are nested more than "
                                 f"{MAX_NESTING} levels deep")
    return self_op.ctx.compile(graph, getattr(self_op, "visible_names", frozenset()))


def as_condition(node, value, what: str = "cond") -> bool:
    """A one-element boolean tensor as a Python bool; a clear error for anything else."""
    a = np.asarray(value)
    if a.size != 1:
        raise RuntimeFailure(node, f"{what} must hold exactly one element, got shape {list(a.shape)}")
    return bool(a.reshape(-1)[0])


def stack_scan_output(node, values, body_output, what: str):
    """Stack per-iteration values on a new leading axis; an empty (0, ...) tensor for no iterations."""
    if not values:
        like = empty_like_type(body_output.type)     # the declared element type and dims
        return np.zeros((0, *like.shape), dtype=like.dtype)
    first = values[0]
    for t, v in enumerate(values):
        if not isinstance(v, np.ndarray):
            raise RuntimeFailure(node, f"{what} {body_output.name!r} must be a tensor, got "
                                       f"{type(v).__name__} at iteration {t}")
        if v.shape != first.shape:
            raise RuntimeFailure(node, f"{what} {body_output.name!r} changes shape between "
                                       f"iterations: {list(first.shape)} then {list(v.shape)} at "
                                       f"iteration {t}")
    return np.stack(values, axis=0)


@op("If", since=1)
class If(Op):
    """If(cond) -> outputs of then_branch when cond is true, else outputs of else_branch.

    cond: bool tensor with one element; branch outputs may differ in shape between branches.
    """

    uses_scope = True

    def __init__(self, node, *, then_branch, else_branch):
        self.node, self.then_branch, self.else_branch = node, then_branch, else_branch

    def prepare(self, cond=None, *rest):
        self.then_plan = compile_body(self, self.then_branch, "then_branch")
        self.else_plan = compile_body(self, self.else_branch, "else_branch")
        n = len(self.node.outputs)
        for name, plan in (("then_branch", self.then_plan), ("else_branch", self.else_plan)):
            if len(plan.output_names) < n:
                raise ModelError(self.node, f"{name} has {len(plan.output_names)} outputs but the "
                                            f"node has {n}")

    def run(self, cond, scope=None):
        plan = self.then_plan if as_condition(self.node, cond) else self.else_plan
        outs = plan.run({}, outer=scope)
        return tuple(outs[: len(self.node.outputs)])


@op("Loop", since=1)
class Loop(Op):
    """Loop(M?, cond?, v_initial...) -> (v_final..., scan_outputs...).

    body: (iteration_num: int64 [], cond_in: bool [], v...) -> (cond_out: bool [], v..., s...)
    Each scan output s_k is stacked over iterations: (iterations, *s_k.shape).
    """

    uses_scope = True

    def __init__(self, node, *, body):
        self.node, self.body = node, body

    def prepare(self, *inputs):
        self.plan = compile_body(self, self.body, "body")
        n_carried = max(len(self.node.inputs) - 2, 0)
        g = self.body
        if len(g.inputs) != 2 + n_carried:
            raise ModelError(self.node, f"body has {len(g.inputs)} inputs; expected 2 + "
                                        f"{n_carried} loop-carried values")
        if len(g.outputs) < 1 + n_carried:
            raise ModelError(self.node, f"body has {len(g.outputs)} outputs; expected at least "
                                        f"1 + {n_carried} loop-carried values")
        self.n_carried = n_carried
        self.n_scan = len(g.outputs) - 1 - n_carried
        self.budget = loop_budget(self.ctx)

    def run(self, M=None, cond=None, *carried, scope=None):
        node, plan = self.node, self.plan
        trip = None if M is None else int(np.asarray(M).reshape(-1)[0])
        go = True if cond is None else as_condition(node, cond)
        names = plan.input_names
        values = list(carried)
        scans = [[] for _ in range(self.n_scan)]
        i = 0
        while go and (trip is None or i < trip):
            if i >= self.budget:
                raise IterationLimitError(f"{node.describe()}: the loop would run more than "
                                         f"{self.budget} iterations (max_loop_iterations)")
            feeds = {names[0]: np.array(i, dtype=np.int64), names[1]: np.array(go)}
            feeds.update(zip(names[2:], values))
            feeds.pop("", None)
            outs = plan.run(feeds, outer=scope)
            go = as_condition(node, outs[0], "the body's cond output")
            values = list(outs[1: 1 + self.n_carried])
            for k in range(self.n_scan):
                scans[k].append(outs[1 + self.n_carried + k])
            i += 1
        body_outs = self.body.outputs[1 + self.n_carried:]
        stacked = [stack_scan_output(node, s, v, "scan output") for s, v in zip(scans, body_outs)]
        return tuple(values + stacked)

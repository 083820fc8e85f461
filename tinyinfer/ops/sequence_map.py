"""SequenceMap — apply a body graph to each element of one or more sequences.

    SequenceMap(S_0, x_1..., ) body(s_0[i], x_1[i] or x_1, ...) -> (o_0[i], ..., o_K-1[i])
        S: sequences of the same length n; a tensor input is passed whole to every call
        -> (O_0, ..., O_K-1)  sequences of length n
"""
from __future__ import annotations

from ..errors import IterationLimitError, ModelError, RuntimeFailure
from ..registry import Op, op
from ._common import loop_budget
from .control_flow import compile_body


@op("SequenceMap", since=17)
class SequenceMap(Op):
    """SequenceMap(input_sequence, additional_inputs...) -> out_sequence..."""

    uses_scope = True

    def __init__(self, node, *, body):
        self.node, self.body = node, body

    def prepare(self, *inputs):
        self.plan = compile_body(self, self.body, "body")
        if len(self.body.inputs) != len(self.node.inputs):
            raise ModelError(self.node, f"body has {len(self.body.inputs)} inputs; the node has "
                                        f"{len(self.node.inputs)}")
        if len(self.body.outputs) < len(self.node.outputs):
            raise ModelError(self.node, f"body has {len(self.body.outputs)} outputs; the node has "
                                        f"{len(self.node.outputs)}")

    def run(self, *args, scope=None):
        if not isinstance(args[0], list):
            raise RuntimeFailure(self.node, "the first input must be a sequence")
        n = len(args[0])
        for i, a in enumerate(args):
            if isinstance(a, list) and len(a) != n:
                raise RuntimeFailure(self.node, f"input {i} is a sequence of length {len(a)}; "
                                                f"expected {n} like the first input")
        if n > loop_budget(self.ctx):
            raise IterationLimitError(f"{self.node.describe()}: {n} body runs exceed the "
                                     "max_loop_iterations budget")
        names = self.plan.input_names
        outs = [[] for _ in self.node.outputs]
        for i in range(n):
            feeds = {name: (a[i] if isinstance(a, list) else a) for name, a in zip(names, args)}
            res = self.plan.run(feeds, outer=scope)
            for k in range(len(outs)):
                outs[k].append(res[k])
        return tuple(outs)

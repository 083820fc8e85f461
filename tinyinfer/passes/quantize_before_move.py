"""A per-tensor QuantizeLinear moves in front of the data movement that feeds it.

    # QuantizeLinear(Move(x), s, zp)  ->  Move(QuantizeLinear(x, s, zp))
    #   Move: Reshape, Transpose, Flatten, Squeeze, Unsqueeze; s, zp one-value constants

Quantising each element by itself commutes with moving elements around, so the result is the same
bytes. QDQ ShuffleNets spell  QLinearConv -> DQ -> Relu -> Reshape -> Transpose -> Reshape -> Q:
with the Q moved up, DQ -> Relu -> Q is a byte function of the conv's output (passes/fuse_qlut
makes it one lookup, inside the conv) and the channel shuffle moves bytes instead of floats.
The Move's float output must be read by the Q alone (so nothing else needs it). Called by
passes/fuse_qdq before fuse_qlut.
"""
from __future__ import annotations

from .. import ir
from ._graph import View, prune, rebuild

_MOVES = ("Reshape", "Transpose", "Flatten", "Squeeze", "Unsqueeze")


def _per_tensor_q(v: View, node: ir.Node) -> bool:
    if node.op_type != "QuantizeLinear" or node.domain not in ("", "ai.onnx"):
        return False
    if node.attributes.get("block_size", 0) or len(node.inputs) < 2 or not node.inputs[0]:
        return False
    for name in node.inputs[1:3]:
        if name and (v.const(name) is None or v.const(name).size != 1):
            return False
    return len(node.outputs) == 1


def quantize_before_move(graph: ir.Graph) -> ir.Graph:
    for _ in range(8):  # one Move per round (a channel shuffle is three)
        v = View(graph)
        put = {}
        for q in graph.nodes:
            if not _per_tensor_q(v, q):
                continue
            move = v.made_by(q.inputs[0], *_MOVES)
            if move is None or id(move) in put or len(move.outputs) != 1 or not move.inputs \
                    or not move.inputs[0] or v.only_consumer(move.outputs[0]) is not q:
                continue
            t = v.fresh(move.inputs[0] + "_q")
            put[id(move)] = ir.Node("QuantizeLinear", (move.inputs[0],) + tuple(q.inputs[1:]),
                                    (t,), dict(q.attributes), q.name, q.domain)
            put[id(q)] = ir.Node(move.op_type, (t,) + tuple(move.inputs[1:]), q.outputs,
                                 dict(move.attributes), move.name, move.domain)
        if not put:
            return graph
        graph = prune(rebuild(graph, put=put))
    return graph

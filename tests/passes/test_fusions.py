"""Level-2 passes (patterns and conv epilogues) on small handmade graphs."""
import math

import numpy as np
import pytest

from passes_helpers import helper, init, model, ops, rand, same_outputs, vi

from tinyinfer.passes import optimize
from tinyinfer.passes.fuse_channel_shuffle import fuse_channel_shuffle
from tinyinfer.passes.fuse_conv_activation import fuse_conv_activation
from tinyinfer.passes.fuse_conv_scale_shift import fuse_conv_scale_shift
from tinyinfer.passes.fuse_gelu import fuse_gelu
from tinyinfer.passes.fuse_hard_sigmoid import fuse_hard_sigmoid
from tinyinfer.passes.fuse_hard_swish import fuse_hard_swish
from tinyinfer.passes.fuse_layer_norm import fuse_layer_norm
from tinyinfer.passes.fuse_swish import fuse_swish

X = (2, 4, 5, 5)


def scalars(**kw):
    return [init(k, np.float32(v)) for k, v in kw.items()]


def test_hard_swish_clip_form():
    nodes = [helper.make_node("Add", ["x", "three"], ["a"]),
             helper.make_node("Clip", ["a", "zero", "six"], ["c"]),
             helper.make_node("Mul", ["x", "c"], ["m"]),
             helper.make_node("Div", ["m", "six"], ["y"])]
    m = model(nodes, [vi("x", X)], [vi("y")], scalars(three=3, zero=0, six=6), opset=12)
    after = fuse_hard_swish(m)
    assert [(n.domain, n.op_type) for n in after.graph.nodes] == [("ai.tinyinfer", "HardSwish")]
    same_outputs(m, optimize(m, 99), {"x": 4 * rand(*X)})
    m14 = model(nodes, [vi("x", X)], [vi("y")], scalars(three=3, zero=0, six=6), opset=14)
    assert [(n.domain, n.op_type) for n in fuse_hard_swish(m14).graph.nodes] == [("", "HardSwish")]


def test_hard_sigmoid_forms_then_hard_swish():
    nodes = [helper.make_node("Add", ["x", "three"], ["a"]),
             helper.make_node("Clip", ["a", "zero", "six"], ["c"]),
             helper.make_node("Div", ["c", "six"], ["h"]),
             helper.make_node("Mul", ["x", "h"], ["y"]),
             helper.make_node("Mul", ["x", "k"], ["xa"]),
             helper.make_node("Add", ["xa", "half"], ["xb"]),
             helper.make_node("Clip", ["xb", "zero", "one"], ["z"])]
    m = model(nodes, [vi("x", X)], [vi("y"), vi("z")],
              scalars(three=3, zero=0, six=6, one=1, half=0.5, k=0.3), opset=13)
    hs = fuse_hard_sigmoid(m)
    assert ops(hs) == {"HardSigmoid": 2, "Mul": 1}
    assert ops(fuse_hard_swish(hs)) == {"HardSigmoid": 1, "HardSwish": 1}
    same_outputs(m, fuse_hard_swish(hs), {"x": 4 * rand(*X)})


def test_swish_with_and_without_scale():
    nodes = [helper.make_node("Mul", ["x", "one"], ["x1"]), helper.make_node("Sigmoid", ["x1"], ["s"]),
             helper.make_node("Mul", ["x", "s"], ["y"]),
             helper.make_node("Sigmoid", ["x"], ["t"]), helper.make_node("Mul", ["t", "x"], ["z"])]
    m = model(nodes, [vi("x", X)], [vi("y"), vi("z")], scalars(one=1.0))
    after = fuse_swish(m)
    assert ops(after) == {"Swish": 2}
    same_outputs(m, after, {"x": rand(*X)})


@pytest.mark.parametrize("order", ["x_then_half", "half_first", "x_half_first"])
def test_gelu_erf_form(order):
    nodes = [helper.make_node("Div", ["x", "sqrt2"], ["d"]), helper.make_node("Erf", ["d"], ["e"]),
             helper.make_node("Add", ["e", "one"], ["p"])]
    if order == "x_then_half":
        nodes += [helper.make_node("Mul", ["x", "p"], ["q"]), helper.make_node("Mul", ["q", "half"], ["y"])]
    elif order == "half_first":
        nodes += [helper.make_node("Mul", ["p", "half"], ["q"]), helper.make_node("Mul", ["x", "q"], ["y"])]
    else:
        nodes += [helper.make_node("Mul", ["x", "half"], ["q"]), helper.make_node("Mul", ["q", "p"], ["y"])]
    m = model(nodes, [vi("x", X)], [vi("y")], scalars(sqrt2=math.sqrt(2), one=1, half=0.5))
    after = fuse_gelu(m)
    assert [n.op_type for n in after.graph.nodes] == ["Gelu"]
    same_outputs(m, after, {"x": 3 * rand(*X)})


def test_gelu_tanh_form():
    nodes = [helper.make_node("Pow", ["x", "three"], ["c"]), helper.make_node("Mul", ["c", "k"], ["ck"]),
             helper.make_node("Add", ["x", "ck"], ["s"]), helper.make_node("Mul", ["s", "r"], ["sr"]),
             helper.make_node("Tanh", ["sr"], ["t"]), helper.make_node("Add", ["t", "one"], ["p"]),
             helper.make_node("Mul", ["x", "p"], ["q"]), helper.make_node("Mul", ["q", "half"], ["y"])]
    m = model(nodes, [vi("x", X)], [vi("y")],
              scalars(three=3, k=0.044715, r=math.sqrt(2 / math.pi), one=1, half=0.5))
    after = fuse_gelu(m)
    assert [n.op_type for n in after.graph.nodes] == ["Gelu"]
    assert after.graph.nodes[0].attributes["approximate"] == "tanh"
    same_outputs(m, after, {"x": 3 * rand(*X)})


@pytest.mark.parametrize("square", ["Pow", "Mul"])
def test_layer_norm_chain(square):
    sq = helper.make_node("Pow", ["d", "two"], ["p"]) if square == "Pow" else helper.make_node("Mul", ["d", "d"], ["p"])
    nodes = [helper.make_node("ReduceMean", ["x"], ["m"], axes=[-1]), helper.make_node("Sub", ["x", "m"], ["d"]),
             sq, helper.make_node("ReduceMean", ["p"], ["v"], axes=[-1]),
             helper.make_node("Add", ["v", "eps"], ["ve"]), helper.make_node("Sqrt", ["ve"], ["s"]),
             helper.make_node("Div", ["d", "s"], ["n"]), helper.make_node("Mul", ["n", "g"], ["ng"]),
             helper.make_node("Add", ["ng", "b"], ["y"])]
    m = model(nodes, [vi("x", [2, 7, 16])], [vi("y")],
              scalars(two=2, eps=1e-5) + [init("g", rand(16, seed=2)), init("b", rand(16, seed=3))], opset=12)
    after = fuse_layer_norm(m)
    assert [(n.domain, n.op_type) for n in after.graph.nodes] == [("ai.tinyinfer", "LayerNormalization")]
    same_outputs(m, after, {"x": 2 * rand(2, 7, 16) + 1})


def test_channel_shuffle():
    nodes = [helper.make_node("Reshape", ["x", "s1"], ["r"]),
             helper.make_node("Transpose", ["r"], ["t"], perm=[0, 2, 1, 3, 4]),
             helper.make_node("Reshape", ["t", "s2"], ["y"])]
    m = model(nodes, [vi("x", [2, 6, 3, 4])], [vi("y")],
              [init("s1", np.int64([2, 3, 2, 3, 4])), init("s2", np.int64([2, 6, 3, 4]))])
    after = fuse_channel_shuffle(m)
    assert [n.op_type for n in after.graph.nodes] == ["ChannelShuffle"]
    same_outputs(m, after, {"x": rand(2, 6, 3, 4)})


@pytest.mark.parametrize("act, extra", [
    ("Relu", {}), ("LeakyRelu", {"alpha": 0.2}), ("HardSigmoid", {"alpha": 0.25, "beta": 0.4}),
    ("Sigmoid", {}), ("Clip", {}), ("HardSwish", {}), ("Tanh", {})])
@pytest.mark.parametrize("residual", [False, "Add", "Sum"])
def test_conv_epilogue_fusion_is_bit_identical(act, extra, residual):
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["c"], pads=[1, 1, 1, 1])]
    inputs = [vi("x", X)]
    src = "c"
    if residual:
        nodes.append(helper.make_node(residual, ["z", "c"], ["a"]))
        inputs.append(vi("z", [2, 3, 5, 5]))
        src = "a"
    act_inputs = [src, "lo", "hi"] if act == "Clip" else [src]
    nodes.append(helper.make_node(act, act_inputs, ["y"], **extra))
    m = model(nodes, inputs, [vi("y")], [init("w", rand(3, 4, 3, 3)), init("b", rand(3, seed=2))]
              + scalars(lo=-0.5, hi=1.5), opset=14)
    after = fuse_conv_activation(m)
    assert [(n.domain, n.op_type) for n in after.graph.nodes] == [("ai.tinyinfer", "FusedConv")]
    feeds = {"x": rand(*X, seed=3)}
    if residual:
        feeds["z"] = rand(2, 3, 5, 5, seed=4)
    assert same_outputs(m, after, feeds) == 0.0


@pytest.mark.parametrize("steps", [("Mul", "Add"), ("Mul",), ("Add",), ("Add", "Mul")])
@pytest.mark.parametrize("act", ["HardSwish", "Relu"])
@pytest.mark.parametrize("impl", ["", "reference"])
def test_conv_scale_shift_is_bit_identical(monkeypatch, steps, act, impl):
    """PP-LCNetV3's learnable affine block after the activation: scalar Mul, then Add."""
    monkeypatch.setenv("TINYINFER_IMPL", impl)
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["c"], pads=[1, 1, 1, 1]),
             helper.make_node(act, ["c"], ["a"])]
    src = "a"
    for i, op in enumerate(steps):  # constant first for Mul, second for Add: both orders occur
        ins = ["s", src] if op == "Mul" else [src, "t"]
        nodes.append(helper.make_node(op, ins, [f"y{i}"]))
        src = f"y{i}"
    m = model(nodes, [vi("x", X)], [vi(src)],
              [init("w", rand(3, 4, 3, 3)), init("b", rand(3, seed=2)),
               init("s", np.float32([0.7310586])), init("t", np.float32(-0.123))], opset=14)
    after = fuse_conv_scale_shift(fuse_conv_activation(m))
    # a Mul after the Add is not part of the affine step: it stays
    assert ops(after) == ({"FusedConv": 1, "Mul": 1} if steps == ("Add", "Mul") else {"FusedConv": 1})
    assert same_outputs(m, after, {"x": rand(*X, seed=3)}) == 0.0


def test_conv_scale_shift_needs_a_one_element_constant_of_the_same_dtype():
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"]), helper.make_node("Relu", ["c"], ["a"]),
             helper.make_node("Mul", ["a", "s"], ["y"]), helper.make_node("Mul", ["y", "d"], ["z"])]
    m = model(nodes, [vi("x", X)], [vi("z")],
              [init("w", rand(3, 4, 1, 1)), init("s", rand(1, 3, 1, 1)), init("d", np.float64(2.0))])
    after = fuse_conv_scale_shift(fuse_conv_activation(m))
    assert ops(after) == {"FusedConv": 1, "Mul": 2}


def test_conv_output_read_twice_is_not_fused():
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"]), helper.make_node("Relu", ["c"], ["y"]),
             helper.make_node("Neg", ["c"], ["z"])]
    m = model(nodes, [vi("x", X)], [vi("y"), vi("z")], [init("w", rand(3, 4, 1, 1))])
    assert ops(fuse_conv_activation(m)) == {"Conv": 1, "Relu": 1, "Neg": 1}

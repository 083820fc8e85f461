"""Level-1 passes on small handmade graphs: results before and after, node counts."""
import numpy as np
import pytest

from passes_helpers import F, helper, init, model, ops, rand, run, same_outputs, vi

from tinyinfer.passes import optimize
from tinyinfer.passes._graph import prune
from tinyinfer.passes.constants_to_initializers import constants_to_initializers
from tinyinfer.passes.fold_batch_norm import fold_batch_norm
from tinyinfer.passes.fold_constants import fold_constants
from tinyinfer.passes.fold_conv_affine import fold_conv_affine
from tinyinfer.passes.remove_identity import remove_identity
from dataclasses import replace


def on_graph(fn, m):
    return replace(m, graph=fn(m.graph))


def bn_params(c, seed=1):
    r = np.random.default_rng(seed)
    return [init(f"bn{seed}_s", r.uniform(0.5, 2, c).astype(np.float32)),
            init(f"bn{seed}_b", r.standard_normal(c).astype(np.float32)),
            init(f"bn{seed}_m", r.standard_normal(c).astype(np.float32)),
            init(f"bn{seed}_v", r.uniform(0.1, 3, c).astype(np.float32))]


def bn_node(x, y, seed=1, **kw):
    return helper.make_node("BatchNormalization", [x] + [f"bn{seed}_{k}" for k in "sbmv"], [y], **kw)


def test_constant_nodes_become_initializers():
    m = model([helper.make_node("Constant", [], ["c"], value=init("v", np.float32([1, 2, 3]))),
               helper.make_node("Add", ["x", "c"], ["y"])], [vi("x", [3])], [vi("y", [3])])
    after = constants_to_initializers(m.graph)
    assert ops(replace(m, graph=after)) == {"Add": 1} and "c" in after.initializers
    same_outputs(m, replace(m, graph=after), {"x": rand(3)})


def test_identity_and_dropout_removed_graph_output_name_kept():
    m = model([helper.make_node("Relu", ["x"], ["a"]),
               helper.make_node("Identity", ["a"], ["b"]),
               helper.make_node("Dropout", ["b"], ["c"]),
               helper.make_node("Identity", ["c"], ["y"])], [vi("x", [4])], [vi("y", [4])])
    after = on_graph(remove_identity, m)
    assert ops(after) == {"Relu": 1} and after.graph.nodes[0].outputs == ("y",)
    same_outputs(m, after, {"x": rand(4)})


def test_identity_of_graph_input_onto_graph_output_stays():
    m = model([helper.make_node("Identity", ["x"], ["y"])], [vi("x", [2])], [vi("y", [2])])
    assert ops(on_graph(remove_identity, m)) == {"Identity": 1}


def test_dropout_in_training_mode_or_with_mask_read_stays():
    m = model([helper.make_node("Dropout", ["x"], ["y", "mask"])], [vi("x", [2])],
              [vi("y", [2]), vi("mask", [2], 9)])
    assert ops(on_graph(remove_identity, m)) == {"Dropout": 1}


def test_fold_constants_and_static_shape():
    nodes = [helper.make_node("Mul", ["a", "b"], ["ab"]),
             helper.make_node("Shape", ["x"], ["s"]),
             helper.make_node("Reshape", ["ab", "s"], ["abr"]),
             helper.make_node("Add", ["x", "abr"], ["y"])]
    m = model(nodes, [vi("x", [2, 3])], [vi("y", [2, 3])],
              [init("a", rand(6)), init("b", rand(6, seed=2))])
    after = fold_constants(m)
    assert ops(after) == {"Add": 1}
    same_outputs(m, after, {"x": rand(2, 3, seed=3)})


def test_fold_constants_skips_dynamic_shapes_random_ops_and_huge_results():
    nodes = [helper.make_node("Shape", ["x"], ["s"]),
             helper.make_node("RandomUniform", [], ["r"], shape=[2]),
             helper.make_node("ConstantOfShape", ["big"], ["z"]),
             helper.make_node("ReduceSum", ["z"], ["zs"], keepdims=0)]
    m = model(nodes, [vi("x", ["n", 3])], [vi("s", [2], 7), vi("r", [2]), vi("zs", [])],
              [init("big", np.int64([4096, 4096]))])  # 64 MB of zeros: left to run time
    assert ops(fold_constants(m)) == ops(m)


def test_overridable_initializer_is_not_a_constant():
    g = helper.make_graph([helper.make_node("Neg", ["a"], ["y"])], "g", [vi("a", [2])], [vi("y", [2])],
                          [init("a", np.float32([1, 2]))])
    import onnx
    from tinyinfer.onnx import load_model
    m = load_model(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]).SerializeToString())
    assert ops(fold_constants(m)) == {"Neg": 1}


@pytest.mark.parametrize("op, wshape, group", [("Conv", (6, 2, 3, 3), 2), ("ConvTranspose", (4, 3, 2, 2), 2),
                                                ("Conv", (6, 4, 1, 1), 1)])
def test_batch_norm_folds_into_conv_and_conv_transpose(op, wshape, group):
    m_out = wshape[0] if op == "Conv" else wshape[1] * group
    nodes = [helper.make_node(op, ["x", "w", "b"], ["c"], group=group, pads=[1, 1, 1, 1]),
             bn_node("c", "y")]
    m = model(nodes, [vi("x", [2, 4, 5, 5])], [vi("y")],
              [init("w", rand(*wshape)), init("b", rand(m_out, seed=4))] + bn_params(m_out))
    after = on_graph(prune, on_graph(fold_batch_norm, m))
    assert ops(after) == {op: 1}
    same_outputs(m, after, {"x": rand(2, 4, 5, 5, seed=5)})


@pytest.mark.parametrize("trans_b", [0, 1])
def test_batch_norm_folds_into_gemm(trans_b):
    w = rand(5, 3) if trans_b else rand(3, 5)
    nodes = [helper.make_node("Gemm", ["x", "w", "c0"], ["g"], transB=trans_b, alpha=0.5, beta=2.0),
             bn_node("g", "y")]
    m = model(nodes, [vi("x", [4, 3])], [vi("y")], [init("w", w), init("c0", rand(5, seed=6))] + bn_params(5))
    after = on_graph(fold_batch_norm, m)
    assert ops(after) == {"Gemm": 1}
    same_outputs(m, after, {"x": rand(4, 3, seed=7)})


def test_batch_norm_not_folded_when_conv_output_has_another_reader():
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"]), bn_node("c", "y"),
             helper.make_node("Relu", ["c"], ["r"])]
    m = model(nodes, [vi("x", [1, 2, 4, 4])], [vi("y"), vi("r")], [init("w", rand(3, 2, 1, 1))] + bn_params(3))
    assert ops(on_graph(fold_batch_norm, m))["BatchNormalization"] == 1


def test_per_channel_mul_add_fold_into_conv():
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"]),
             helper.make_node("Mul", ["k", "c"], ["m"]),
             helper.make_node("Sub", ["m", "t"], ["s"]),
             helper.make_node("Div", ["s", "d"], ["y"])]
    m = model(nodes, [vi("x", [1, 2, 4, 4])], [vi("y")],
              [init("w", rand(3, 2, 3, 3)), init("k", rand(1, 3, 1, 1, seed=2)), init("t", np.float32([0.5])),
               init("d", np.float32(3.0))])
    after = on_graph(prune, on_graph(fold_conv_affine, m))
    assert ops(after) == {"Conv": 1}
    same_outputs(m, after, {"x": rand(1, 2, 4, 4, seed=3)})


def test_mul_along_a_spatial_axis_is_not_folded():
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"]), helper.make_node("Mul", ["c", "k"], ["y"])]
    m = model(nodes, [vi("x", [1, 2, 3, 3])], [vi("y")], [init("w", rand(3, 2, 1, 1)), init("k", rand(3))])
    assert ops(on_graph(fold_conv_affine, m)) == {"Conv": 1, "Mul": 1}


def test_level_zero_is_the_identity():
    m = model([helper.make_node("Identity", ["x"], ["a"]), helper.make_node("Relu", ["a"], ["y"])],
              [vi("x", [2])], [vi("y", [2])])
    assert optimize(m, 0) is m
    assert ops(optimize(m, 1)) == {"Relu": 1}

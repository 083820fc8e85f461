"""passes/fuse_batch_norm_activation.py: run-time BatchNormalization (+ Mul, Add, Relu) becomes
one FusedBatchNorm whose result equals the unfused graph bit for bit, parameters overridable."""
import numpy as np
import pytest

from passes_helpers import helper, init, model, ops, rand, run, vi

from tinyinfer.passes.fuse_batch_norm_activation import fuse_batch_norm_activation

X = [2, 3, 5, 7]
BN = ["s", "b", "m", "v"]


def bn_model(mul, add, relu, k_shape=(3, 1, 1), as_inputs=True, opset=9):
    nodes = [helper.make_node("BatchNormalization", ["x"] + BN, ["t0"], epsilon=1e-3)]
    last = "t0"
    if mul:
        nodes.append(helper.make_node("Mul", [last, "k"], ["t1"]))
        last = "t1"
    if add:
        nodes.append(helper.make_node("Add", ["d", last], ["t2"]))
        last = "t2"
    if relu:
        nodes.append(helper.make_node("Relu", [last], ["t3"]))
        last = "t3"
    nodes.append(helper.make_node("Identity", [last], ["y"]))
    params = {"s": rand(3, seed=1), "b": rand(3, seed=2), "m": rand(3, seed=3),
              "v": np.abs(rand(3, seed=4)) + 0.5, "k": rand(*k_shape, seed=5),
              "d": rand(*k_shape, seed=6)}
    used = BN + (["k"] if mul else []) + (["d"] if add else [])
    inputs = [vi("x", X)] + ([vi(p, list(params[p].shape)) for p in used] if as_inputs else [])
    return model(nodes, inputs, [vi("y")], [init(p, params[p]) for p in used], opset=opset), params


@pytest.mark.parametrize("mul,add,relu", [(1, 1, 1), (1, 0, 0), (0, 1, 1), (0, 0, 1), (1, 1, 0)])
@pytest.mark.parametrize("k_shape", [(3, 1, 1), (1, 3, 1, 1), (5, 7), (1,)])
def test_fused_batch_norm_is_bit_identical(monkeypatch, mul, add, relu, k_shape):
    m, _ = bn_model(mul, add, relu, k_shape)
    after = fuse_batch_norm_activation(m)
    assert ops(after) == {"FusedBatchNorm": 1, "Identity": 1}
    feeds = {"x": rand(*X, seed=7)}
    feeds["x"][0, 0, 0, :3] = [np.nan, np.inf, -np.inf]
    with np.errstate(invalid="ignore"):
        a, b = run(m, feeds), run(after, feeds)
        np.testing.assert_array_equal(a[0], b[0])
        monkeypatch.setenv("TINYINFER_IMPL", "reference")
        np.testing.assert_array_equal(a[0], run(after, feeds)[0])


def test_overridden_parameters_reach_the_fused_node():
    m, params = bn_model(1, 1, 1)
    after = fuse_batch_norm_activation(m)
    feeds = {"x": rand(*X, seed=8), "s": rand(3, seed=9), "k": rand(3, 1, 1, seed=10)}
    np.testing.assert_array_equal(run(m, feeds)[0], run(after, feeds)[0])


def test_not_fused_when_read_twice_or_nothing_follows():
    m, _ = bn_model(0, 0, 0)
    assert ops(fuse_batch_norm_activation(m)) == {"BatchNormalization": 1, "Identity": 1}
    nodes = [helper.make_node("BatchNormalization", ["x"] + BN, ["t0"]),
             helper.make_node("Relu", ["t0"], ["y"]), helper.make_node("Neg", ["t0"], ["z"])]
    m2 = model(nodes, [vi("x", X)] + [vi(p, [3]) for p in BN], [vi("y"), vi("z")],
               [init(p, rand(3, seed=i) ** 2 + 0.1) for i, p in enumerate(BN)], opset=9)
    assert ops(fuse_batch_norm_activation(m2)) == {"BatchNormalization": 1, "Relu": 1, "Neg": 1}

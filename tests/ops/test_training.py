"""Adagrad, Adam, Momentum, NegativeLogLikelihoodLoss, SoftmaxCrossEntropyLoss by hand."""
import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper  # noqa: E402

import tinyinfer  # noqa: E402
from tinyinfer.errors import ModelError, RuntimeFailure  # noqa: E402

TRAIN = "ai.onnx.preview.training"


def run(op_type, inputs, n_out, domain="", **attrs):
    node = helper.make_node(op_type, [n for n, _ in inputs], [f"y{i}" for i in range(n_out)],
                            name="tr", domain=domain, **attrs)
    ins = [helper.make_tensor_value_info(n, helper.np_dtype_to_tensor_dtype(v.dtype), v.shape)
           for n, v in inputs]
    outs = [helper.make_tensor_value_info(f"y{i}", TensorProto.UNDEFINED, None) for i in range(n_out)]
    opsets = [helper.make_opsetid("", 18), helper.make_opsetid(TRAIN, 1)]
    model = helper.make_model(helper.make_graph([node], "g", ins, outs), opset_imports=opsets,
                              ir_version=8)
    return tinyinfer.InferenceSession(model.SerializeToString()).run(None, dict(inputs))


f32 = lambda *v: np.array(v, dtype=np.float32)  # noqa: E731
R, T0, T1 = np.array(0.1, np.float32), np.array(0, np.int64), np.array(1, np.int64)


def test_adagrad_first_step():
    # h' = 0 + 2^2 = 4;  x' = 1 - 0.1 * 2 / (2 + 0) = 0.9
    x, h = run("Adagrad", [("r", R), ("t", T0), ("x", f32(1)), ("g", f32(2)), ("h", f32(0))], 2,
               domain=TRAIN, epsilon=0.0)
    np.testing.assert_allclose(x, [0.9], rtol=1e-6)
    np.testing.assert_allclose(h, [4.0])


def test_momentum_standard_and_nesterov():
    # t = 0: v' = 0.5 * 1 + 1 * 2 = 2.5 (beta ignored on the first step); x' = 1 - 0.1 * 2.5 = 0.75
    x, v = run("Momentum", [("r", R), ("t", T0), ("x", f32(1)), ("g", f32(2)), ("v", f32(1))], 2,
               domain=TRAIN, alpha=0.5, beta=0.25, mode="standard", norm_coefficient=0.0)
    np.testing.assert_allclose([x[0], v[0]], [0.75, 2.5], rtol=1e-6)
    # t = 1: v' = 0.5 + 0.25 * 2 = 1.0; nesterov x' = 1 - 0.1 * (2 + 0.5 * 1.0) = 0.75
    x, v = run("Momentum", [("r", R), ("t", T1), ("x", f32(1)), ("g", f32(2)), ("v", f32(1))], 2,
               domain=TRAIN, alpha=0.5, beta=0.25, mode="nesterov", norm_coefficient=0.0)
    np.testing.assert_allclose([x[0], v[0]], [0.75, 1.0], rtol=1e-6)


def test_momentum_bad_mode_names_the_node():
    with pytest.raises(ModelError, match='node "tr" .*mode=\'heavy\''):
        run("Momentum", [("r", R), ("t", T0), ("x", f32(1)), ("g", f32(2)), ("v", f32(1))], 2,
            domain=TRAIN, alpha=0.5, beta=0.25, mode="heavy", norm_coefficient=0.0)


def test_adam_first_step_without_bias_correction():
    # t = 0: v' = 0.1 * 2 = 0.2, h' = 0.001 * 4 = 0.004, x' = 1 - 0.1 * 0.2 / sqrt(0.004)
    x, v, h = run("Adam", [("r", R), ("t", T0), ("x", f32(1)), ("g", f32(2)), ("v", f32(0)),
                           ("h", f32(0))], 3, domain=TRAIN, epsilon=0.0)
    np.testing.assert_allclose(v, [0.2], rtol=1e-6)
    np.testing.assert_allclose(h, [0.004], rtol=1e-6)
    np.testing.assert_allclose(x, [1 - 0.1 * 0.2 / np.sqrt(0.004)], rtol=1e-6)


def test_nll_loss_with_weights_and_ignore_index():
    logp = f32(-1, -2, -3, -4, -5, -6).reshape(2, 3)
    target = np.array([2, 0], np.int64)
    w = f32(1, 1, 2)
    (loss,) = run("NegativeLogLikelihoodLoss", [("x", logp), ("t", target), ("w", w)], 1)
    # (3 * 2 + 4 * 1) / (2 + 1)
    np.testing.assert_allclose(loss, 10 / 3, rtol=1e-6)
    (none,) = run("NegativeLogLikelihoodLoss", [("x", logp), ("t", target)], 1,
                  reduction="none", ignore_index=0)
    np.testing.assert_allclose(none, [3, 0])


def test_nll_target_out_of_range_names_the_node():
    with pytest.raises(RuntimeFailure, match='node "tr" .*target value 3 is outside the 3 classes'):
        run("NegativeLogLikelihoodLoss", [("x", f32(0, 0, 0).reshape(1, 3)),
                                          ("t", np.array([3], np.int64))], 1)


def test_softmax_cross_entropy_uniform_scores():
    # equal scores over 4 classes: log_prob = -log 4 everywhere, loss = log 4
    loss, logp = run("SoftmaxCrossEntropyLoss", [("s", np.zeros((2, 4), np.float32)),
                                                 ("l", np.array([1, 3], np.int64))], 2)
    np.testing.assert_allclose(loss, np.log(4), rtol=1e-6)
    np.testing.assert_allclose(logp, np.full((2, 4), -np.log(4)), rtol=1e-6)


def gradient_model(middle_op="Mul"):
    nodes = [helper.make_node(middle_op, ["x", "x"], ["xx"]) if middle_op == "Mul" else
             helper.make_node(middle_op, ["x"], ["xx"]),
             helper.make_node("Mul", ["x", "z"], ["xz"]),
             helper.make_node("Add", ["xx", "xz"], ["y"]),
             helper.make_node("Gradient", ["x", "z"], ["dy_dx"], name="grad", domain=TRAIN,
                              xs=["x"], zs=["z"], y="y")]
    vi = lambda n: helper.make_tensor_value_info(n, TensorProto.FLOAT, [2])  # noqa: E731
    graph = helper.make_graph(nodes, "g", [vi("x"), vi("z")], [vi("y"), vi("dy_dx")])
    opsets = [helper.make_opsetid("", 12), helper.make_opsetid(TRAIN, 1)]
    return helper.make_model(graph, opset_imports=opsets, ir_version=8).SerializeToString()


def test_gradient_of_x_squared_plus_xz():
    # y = x*x + x*z  ->  dy/dx = 2x + z  (z is fed but not differentiated)
    s = tinyinfer.InferenceSession(gradient_model())
    y, g = s.run(None, {"x": f32(1, 3), "z": f32(10, 20)})
    np.testing.assert_allclose(y, [11, 69])
    np.testing.assert_allclose(g, [12, 26])


def test_gradient_through_unsupported_op_names_both_nodes():
    with pytest.raises(ModelError, match='node "grad" .*cannot differentiate through node "xx" \\(Abs\\)'):
        tinyinfer.InferenceSession(gradient_model("Abs"))

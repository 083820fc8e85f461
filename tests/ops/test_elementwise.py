"""Element-wise arithmetic, logic and activations: values checked by hand, dtypes, errors."""
import math

import numpy as np
import pytest

pytest.importorskip("onnx")
from tinyinfer.errors import ModelError, RuntimeFailure  # noqa: E402

from mathops_helpers import f32, run  # noqa: E402


def test_add_broadcasts_and_keeps_float32():
    (y,) = run("Add", [np.ones((2, 3), np.float32), f32(1, 2, 3)])
    assert y.dtype == np.float32
    np.testing.assert_array_equal(y, [[2, 3, 4], [2, 3, 4]])


def test_integer_div_truncates_toward_zero():
    a = np.array([7, -7, 7, -7], np.int32)
    b = np.array([2, 2, -2, -2], np.int32)
    (y,) = run("Div", [a, b])
    assert y.dtype == np.int32
    np.testing.assert_array_equal(y, [3, -3, -3, 3])


def test_integer_div_by_zero_names_the_node():
    with pytest.raises(RuntimeFailure, match=r'node "n1" \(Div\).*division by zero'):
        run("Div", [np.array([1], np.int64), np.array([0], np.int64)])


def test_mod_sign_rules():
    a = np.array([7, -7, 7, -7], np.int32)
    b = np.array([3, 3, -3, -3], np.int32)
    np.testing.assert_array_equal(run("Mod", [a, b])[0], [1, 2, -2, -1])          # sign of b
    np.testing.assert_array_equal(run("Mod", [a, b], fmod=1)[0], [1, -1, 1, -1])  # sign of a


def test_pow_keeps_base_dtype():
    (y,) = run("Pow", [f32(2, 3, 4), np.array([3, 2, 0], np.int64)])
    assert y.dtype == np.float32
    np.testing.assert_array_equal(y, [8, 9, 1])
    (z,) = run("Pow", [np.array([2, 3], np.int32), f32(2, 3)])
    assert z.dtype == np.int32 and list(z) == [4, 27]


def test_round_half_to_even_and_erf():
    np.testing.assert_array_equal(run("Round", [f32(0.5, 1.5, 2.5, -2.5)])[0], [0, 2, 2, -2])
    x = np.linspace(-3, 3, 101).astype(np.float32)  # > 64 elements: the polynomial path
    np.testing.assert_allclose(run("Erf", [x])[0], [math.erf(v) for v in x], atol=2e-7)


def test_variadic_and_comparisons():
    np.testing.assert_array_equal(run("Max", [f32(1, 5), f32(3, 2), f32(0, 9)])[0], [3, 9])
    np.testing.assert_array_equal(run("Mean", [f32(1, 2), f32(3, 6)])[0], [2, 4])
    (eq,) = run("Equal", [np.array([1, 2], np.int64), np.array([1, 3], np.int64)])
    assert eq.dtype == bool and list(eq) == [True, False]
    (w,) = run("Where", [np.array([True, False]), f32(1, 2), f32(8, 9)])
    np.testing.assert_array_equal(w, [1, 9])


def test_bitshift():
    x = np.array([16, 4, 1], np.uint8)
    np.testing.assert_array_equal(run("BitShift", [x, np.array([1, 2, 3], np.uint8)],
                                      direction="RIGHT")[0], [8, 1, 0])
    with pytest.raises(ModelError, match=r'node "n1" \(BitShift\).*direction'):
        run("BitShift", [x, x], direction="UP")


def test_clip_attribute_and_input_forms():
    x = f32(-2, 0, 2)
    np.testing.assert_array_equal(run("Clip", [x], opset=6, min=-1.0, max=1.0)[0], [-1, 0, 1])
    np.testing.assert_array_equal(run("Clip", [x, f32(-1), None])[0], [-1, 0, 2])  # no max
    np.testing.assert_array_equal(run("Clip", [x, f32(1), f32(0)])[0], [0, 0, 0])  # min > max
    with pytest.raises(RuntimeFailure, match=r'node "n1" \(Clip\).*scalar'):
        run("Clip", [x, f32(0, 1)])


def test_activations_by_hand():
    x = f32(-2, 0, 3)
    np.testing.assert_array_equal(run("Relu", [x])[0], [0, 0, 3])
    np.testing.assert_allclose(run("LeakyRelu", [x], alpha=0.1)[0], [-0.2, 0, 3])
    np.testing.assert_allclose(run("HardSigmoid", [x])[0], [0.1, 0.5, 1])       # 0.2x + 0.5
    np.testing.assert_allclose(run("HardSwish", [x])[0], [-2 / 6, 0, 3])       # x*(x/6+1/2)
    np.testing.assert_allclose(run("Sigmoid", [f32(0, -1000, 1000)])[0], [0.5, 0, 1])
    np.testing.assert_allclose(run("ThresholdedRelu", [x], alpha=2.0)[0], [0, 0, 3])
    np.testing.assert_allclose(run("Shrink", [x], lambd=1.0, bias=0.5)[0], [-1.5, 0, 2.5])
    np.testing.assert_allclose(run("Gelu", [f32(0, 1)])[0], [0, 0.5 * (1 + math.erf(2 ** -0.5))],
                               rtol=1e-6)
    (y,) = run("PRelu", [np.array([[-1, -1], [-2, 2]], np.float32), f32(0.5, 3)])
    np.testing.assert_allclose(y, [[-0.5, -3], [-1, 2]])  # slope runs along the last axis


def test_softmax_axis_versions():
    x = np.log(np.array([[1, 3], [1, 1]], np.float32))
    np.testing.assert_allclose(run("Softmax", [x])[0], [[0.25, 0.75], [0.5, 0.5]], rtol=1e-6)
    # opset 11: rows of the 2-D coercion at axis=0 are the whole tensor
    np.testing.assert_allclose(run("Softmax", [x], opset=11, axis=0)[0],
                               [[1 / 6, 3 / 6], [1 / 6, 1 / 6]], rtol=1e-6)
    np.testing.assert_array_equal(run("Hardmax", [x])[0], [[0, 1], [1, 0]])  # first max wins
    with pytest.raises(ModelError, match=r'node "n1" \(Softmax\).*axis=5'):  # found at load
        run("Softmax", [x], axis=5)


def test_gelu_bad_approximate_names_node():
    with pytest.raises(ModelError, match=r'node "n1" \(Gelu\).*approximate'):
        run("Gelu", [f32(1)], opset=20, approximate="cubic")


def test_opset6_broadcast_axis_attribute():
    a = np.zeros((2, 3, 2), np.float32)
    b = f32(1, 2, 3)  # lines up with a's axis 1
    (y,) = run("Add", [a, b], opset=6, broadcast=1, axis=1)
    np.testing.assert_array_equal(y[1], [[1, 1], [2, 2], [3, 3]])


def test_bfloat16_computes_in_float32_and_stays_bfloat16():
    from onnx import TensorProto, helper

    import tinyinfer
    from tinyinfer import dtypes

    node = helper.make_node("Mul", ["a", "b"], ["y"])
    vi = [helper.make_tensor_value_info(n, TensorProto.BFLOAT16, [2]) for n in "aby"]
    graph = helper.make_graph([node], "g", vi[:2], vi[2:])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21)], ir_version=10)
    a = dtypes.from_float(f32(1.5, -2), dtypes.bfloat16)
    b = dtypes.from_float(f32(2, 0.25), dtypes.bfloat16)
    (y,) = tinyinfer.InferenceSession(model.SerializeToString()).run(None, {"a": a, "b": b})
    assert y.dtype == dtypes.bfloat16
    np.testing.assert_array_equal(dtypes.to_float32(y), [3, -0.5])

"""Quantisation ops: hand-checkable values and errors that name the node."""
import os
import sys

import numpy as np
import onnx
import pytest

from tinyinfer import dtypes
from tinyinfer.errors import ModelError, RuntimeFailure

sys.path.insert(0, os.path.dirname(__file__))
from qtypes_helpers import run_node  # noqa: E402

f32 = np.float32


def test_quantize_rounds_half_to_even_and_saturates():
    x = np.array([0.0, 1.5, 2.5, -3.0, 300.0, 4.0], f32)
    (y,) = run_node("QuantizeLinear", [("x", x), ("s", np.array(1.0, f32)), ("z", np.array(0, np.uint8))])
    assert y.dtype == np.uint8 and y.tolist() == [0, 2, 2, 0, 255, 4]
    (y,) = run_node("QuantizeLinear", [("x", x), ("s", np.array(2.0, f32)), ("z", np.array(-1, np.int8))])
    assert y.tolist() == [-1, 0, 0, -3, 127, 1]  # x/2 = [0, .75, 1.25, -1.5, 150, 2]


def test_quantize_per_axis_and_blocked_and_int4():
    x = np.array([[1.0, 2.0, 3.0, 4.0], [10.0, 20.0, 30.0, 40.0]], f32)
    (y,) = run_node("QuantizeLinear", [("x", x), ("s", np.array([1.0, 10.0], f32)),
                                       ("z", np.array([0, 0], np.uint8))], axis=0)
    assert y.tolist() == [[1, 2, 3, 4], [1, 2, 3, 4]]
    s = np.array([[1.0, 2.0], [10.0, 20.0]], f32)  # blocks of 2 along axis 1
    (y,) = run_node("QuantizeLinear", [("x", x), ("s", s)], axis=1, block_size=2)
    assert y.tolist() == [[1, 2, 2, 2], [1, 2, 2, 2]]  # 3/2=1.5->2, 4/2=2, 30/20=1.5->2
    (y,) = run_node("QuantizeLinear", [("x", x), ("s", np.array(1.0, f32))],
                    output_dtype=onnx.TensorProto.INT4)
    assert y.dtype == dtypes.int4 and dtypes.to_int(y).tolist() == [[1, 2, 3, 4], [7, 7, 7, 7]]


def test_dequantize_and_dynamic():
    (y,) = run_node("DequantizeLinear", [("x", np.array([0, 128, 255], np.uint8)),
                                         ("s", np.array(0.5, f32)), ("z", np.array(128, np.uint8))])
    assert y.dtype == np.float32 and y.tolist() == [-64.0, 0.0, 63.5]
    y, s, z = run_node("DynamicQuantizeLinear", [("x", np.array([0.0, 2.55, -2.55], f32))], n_outputs=3)
    assert s == f32(5.1) / f32(255) and z == 128 and y.tolist() == [128, 255, 0]  # -127.5 -> -128 (half to even)


def test_integer_products():
    a = np.array([[1, 2], [3, 4]], np.uint8)
    b = np.array([[5, 6], [7, 8]], np.uint8)
    (y,) = run_node("MatMulInteger", [("a", a), ("b", b), ("az", np.array(1, np.uint8))])
    assert y.dtype == np.int32 and y.tolist() == [[7, 8], [31, 36]]  # [[0, 1], [2, 3]] @ b
    one = np.array(1.0, f32)
    (q,) = run_node("QLinearMatMul", [("a", a), ("as", one), ("az", np.array(0, np.uint8)),
                                      ("b", b), ("bs", one), ("bz", np.array(0, np.uint8)),
                                      ("ys", np.array(2.0, f32)), ("yz", np.array(0, np.uint8))])
    assert q.tolist() == [[10, 11], [22, 25]]  # [[19,22],[43,50]] / 2, half to even
    x = np.arange(9, dtype=np.uint8).reshape(1, 1, 3, 3)
    w = np.ones((1, 1, 2, 2), np.uint8)
    (c,) = run_node("QLinearConv", [("x", x), ("xs", one), ("xz", np.array(0, np.uint8)),
                                    ("w", w), ("ws", one), ("wz", np.array(0, np.uint8)),
                                    ("ys", np.array(4.0, f32)), ("yz", np.array(0, np.uint8))])
    assert c.tolist() == [[[[2, 3], [5, 6]]]]  # sums 8, 12, 20, 24 divided by 4


def test_errors_name_the_node():
    with pytest.raises(RuntimeFailure, match="QuantizeLinear.*finite and non-zero"):
        run_node("QuantizeLinear", [("x", np.ones(2, f32)), ("s", np.array(0.0, f32))])
    with pytest.raises(RuntimeFailure, match="per-axis y_scale"):
        run_node("QuantizeLinear", [("x", np.ones((2, 3), f32)), ("s", np.ones(2, f32))], axis=1)
    with pytest.raises(RuntimeFailure, match="DequantizeLinear.*same type"):
        run_node("DequantizeLinear", [("x", np.ones(2, np.uint8)), ("s", np.array(1.0, f32)),
                                      ("z", np.array(0, np.int8))])
    with pytest.raises(ModelError, match="must match"):
        run_node("QuantizeLinear", [("x", np.ones(2, f32)), ("s", np.array(1.0, f32)),
                                    ("z", np.array(0, np.int8))], output_dtype=onnx.TensorProto.UINT8)

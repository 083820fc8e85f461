"""Sizes on 32-bit platforms (armhf: np.intp is int32, sys.maxsize is 2**31 - 1).

The emulated board run (tests/pi/run) checks the same on a real 32-bit NumPy; these tests keep
the host honest: a size is checked in bytes, before allocating, in Python integers.
"""
import sys

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper  # noqa: E402

import tinyinfer  # noqa: E402
from tinyinfer.errors import TensorSizeLimitError  # noqa: E402
from tinyinfer.ops import _common  # noqa: E402


def constant_of_shape(dtype=TensorProto.FLOAT):
    node = helper.make_node("ConstantOfShape", ["s"], ["y"],
                            value=helper.make_tensor("v", dtype, [1], [1]))
    g = helper.make_graph([node], "g", [helper.make_tensor_value_info("s", TensorProto.INT64, [3])],
                          [helper.make_tensor_value_info("y", dtype, None)])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    return tinyinfer.InferenceSession(m.SerializeToString())


def test_constant_of_shape_counts_bytes_not_elements():
    # 2**31 float32 elements = 8 GiB: refused by max_tensor_bytes before np.full allocates
    with pytest.raises(TensorSizeLimitError, match="8,589,934,592 bytes"):
        constant_of_shape().run(None, {"s": np.array([2, 1 << 30, 1], np.int64)})
    (y,) = constant_of_shape(TensorProto.DOUBLE).run(None, {"s": np.array([2, 3, 4], np.int64)})
    assert y.shape == (2, 3, 4) and y.dtype == np.float64


def test_size_past_the_address_space_is_refused(monkeypatch):
    monkeypatch.setattr(sys, "maxsize", 2 ** 31 - 1)  # what a 32-bit CPython reports
    monkeypatch.setattr(_common.budgets, "max_tensor_bytes", lambda: float("inf"))
    with pytest.raises(TensorSizeLimitError, match="can address"):
        _common.check_output_size([3, 1 << 29], None, itemsize=2)
    _common.check_output_size([3, 1 << 28], None, itemsize=2)  # 1.5 GiB: fits

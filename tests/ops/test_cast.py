"""Cast / CastLike: hand-checkable values."""
import numpy as np
import onnx
import pytest

from tinyinfer import dtypes
from tinyinfer.errors import ModelError, RuntimeFailure

import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from qtypes_helpers import run_node  # noqa: E402

TP = onnx.TensorProto


def test_float_to_int_truncates_and_bool_is_nonzero():
    x = np.array([-1.7, -0.5, 0.0, 0.5, 2.9], np.float32)
    (y,) = run_node("Cast", [("x", x)], to=TP.INT32)
    assert y.dtype == np.int32 and y.tolist() == [-1, 0, 0, 0, 2]
    (b,) = run_node("Cast", [("x", x)], to=TP.BOOL)
    assert b.tolist() == [True, True, False, True, True]


def test_strings_both_ways():
    s = np.array(["1.5", "-INF", "1e3", "NaN"], dtype=object)
    (y,) = run_node("Cast", [("x", s)], to=TP.FLOAT)
    assert y.dtype == np.float32
    assert y[:3].tolist() == [1.5, -np.inf, 1000.0] and np.isnan(y[3])
    (t,) = run_node("Cast", [("x", np.array([0.5, 2.0, 1.5e-7, -np.inf], np.float32))], to=TP.STRING)
    assert t.tolist() == ["0.5", "2", "1.5000001e-07", "-INF"]  # as onnxruntime prints them


def test_float8_saturation_and_castlike():
    x = np.array([1000.0, -1000.0, 0.3], np.float32)
    (sat,) = run_node("Cast", [("x", x)], to=TP.FLOAT8E4M3FN)
    assert dtypes.to_float32(sat).tolist()[:2] == [448.0, -448.0]
    (ns,) = run_node("Cast", [("x", x)], to=TP.FLOAT8E4M3FN, saturate=0)
    assert np.isnan(dtypes.to_float32(ns)[:2]).all()
    like = np.zeros(1, np.float16)
    (h,) = run_node("CastLike", [("x", x), ("like", like)])
    assert h.dtype == np.float16 and h[2] == np.float16(0.3)


def test_int4_wraps():
    (y,) = run_node("Cast", [("x", np.array([7.9, 8.0, -9.0], np.float32))], to=TP.INT4)
    assert dtypes.to_int(y).tolist() == [7, -8, 7]


def test_errors_name_the_node():
    with pytest.raises(RuntimeFailure, match="Cast"):
        run_node("Cast", [("x", np.array(["abc"], dtype=object))], to=TP.FLOAT)
    with pytest.raises(ModelError, match="round_mode"):
        run_node("Cast", [("x", np.ones(1, np.float32))], to=TP.FLOAT8E8M0, round_mode="sideways",
                 opset=24)

"""Random ops and BitCast: shapes, types, ranges, seeding; errors that name the node."""
import os
import sys

import numpy as np
import onnx
import pytest

from tinyinfer import dtypes
from tinyinfer.errors import ModelError, RuntimeFailure

sys.path.insert(0, os.path.dirname(__file__))
from qtypes_helpers import run_node  # noqa: E402

TP = onnx.TensorProto


def test_generators_shape_type_range():
    (u,) = run_node("RandomUniform", [], shape=[3, 4], low=2.0, high=3.0, seed=1.0)
    assert u.shape == (3, 4) and u.dtype == np.float32 and ((u >= 2) & (u < 3)).all()
    (n,) = run_node("RandomNormal", [], shape=[1000], dtype=TP.DOUBLE, mean=5.0, seed=2.0)
    assert n.dtype == np.float64 and abs(n.mean() - 5.0) < 0.3
    (again,) = run_node("RandomNormal", [], shape=[1000], dtype=TP.DOUBLE, mean=5.0, seed=2.0)
    np.testing.assert_array_equal(n, again)  # same seed, same draw
    (ul,) = run_node("RandomUniformLike", [("x", np.zeros((2, 2), np.float16))])
    assert ul.dtype == np.float16 and ul.shape == (2, 2)
    (b,) = run_node("Bernoulli", [("x", np.array([0.0, 1.0, 1.0, 0.0], np.float32))])
    assert b.tolist() == [0.0, 1.0, 1.0, 0.0]
    (m,) = run_node("Multinomial", [("x", np.log(np.array([[0.0, 1.0], [1.0, 0.0]], np.float32) + 1e-30))],
                    sample_size=5)
    assert m.dtype == np.int32 and m.tolist() == [[1] * 5, [0] * 5]


def test_bitcast():
    (y,) = run_node("BitCast", [("x", np.array([1.0], np.float32))], to=TP.INT32, opset=26)
    assert y.tolist() == [0x3F800000]
    (z,) = run_node("BitCast", [("x", dtypes.from_int(np.array([-1]), dtypes.int4))], to=TP.UINT4,
                    opset=26)
    assert dtypes.to_int(z).tolist() == [15]


def test_errors_name_the_node():
    with pytest.raises(RuntimeFailure, match="Bernoulli.*\\[0, 1\\]"):
        run_node("Bernoulli", [("x", np.array([1.5], np.float32))])
    with pytest.raises(ModelError, match="RandomUniform.*dtype"):
        run_node("RandomUniform", [], shape=[2], dtype=TP.INT32)
    with pytest.raises(RuntimeFailure, match="BitCast.*widths must match"):
        run_node("BitCast", [("x", np.array([1.0], np.float32))], to=TP.INT16, opset=26)

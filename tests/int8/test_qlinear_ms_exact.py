"""com.microsoft QLinearSoftmax and QLinearAveragePool equal onnxruntime's kernels bit for bit
(its table-driven softmax with the in-order float32 row sum; the pool's zero point added before
rounding), uint8 and int8, across axes and opsets."""
import numpy as np
import pytest

from ._ort import helper, numpy_helper, ort  # noqa: F401

import tinyinfer  # noqa: E402

from onnx import TensorProto  # noqa: E402

MS = "com.microsoft"
_T = {np.uint8: TensorProto.UINT8, np.int8: TensorProto.INT8}


def _model(op, dt, shape, attrs, xs, xz, ys, yz, opset=13):
    inits = [numpy_helper.from_array(np.float32(xs), "xs"), numpy_helper.from_array(dt(xz), "xz"),
             numpy_helper.from_array(np.float32(ys), "ys"), numpy_helper.from_array(dt(yz), "yz")]
    n = helper.make_node(op, ["x", "xs", "xz", "ys", "yz"], ["y"], domain=MS, **attrs)
    g = helper.make_graph([n], "g", [helper.make_tensor_value_info("x", _T[dt], shape)],
                          [helper.make_tensor_value_info("y", _T[dt], None)], inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", opset),
                                               helper.make_opsetid(MS, 1)],
                             ir_version=8).SerializeToString()


def _both(b, x):
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    want = ort.InferenceSession(b, so, providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]
    got = tinyinfer.InferenceSession(b).run(None, {"x": x})[0]
    return got, want


@pytest.mark.parametrize("dt", [np.uint8, np.int8])
@pytest.mark.parametrize("shape,axis,opset", [((40, 6625), -1, 13), ((3, 8, 40), -1, 13),
                                              ((3, 8, 40), 1, 13), ((2, 5, 7), 1, 12),
                                              ((4, 300), 1, 12)])
@pytest.mark.parametrize("ys", [1 / 256, 1 / 255, 0.003])
def test_qlinear_softmax_equals_onnxruntime(dt, shape, axis, opset, ys):
    rng = np.random.default_rng(len(shape) * 7 + axis)
    info = np.iinfo(dt)
    x = rng.integers(info.min, info.max + 1, shape).astype(dt)
    b = _model("QLinearSoftmax", dt, list(shape), dict(axis=axis, opset=opset), 0.07,
               3, ys, 0 if dt is np.uint8 else -128, opset=opset)
    got, want = _both(b, x)
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("dt", [np.uint8, np.int8])
@pytest.mark.parametrize("attrs", [dict(kernel_shape=[3, 2], strides=[3, 2]),
                                   dict(kernel_shape=[3, 3], strides=[1, 1], pads=[1, 1, 1, 1]),
                                   dict(kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1],
                                        count_include_pad=1)])
def test_qlinear_average_pool_equals_onnxruntime(dt, attrs):
    rng = np.random.default_rng(3)
    info = np.iinfo(dt)
    x = rng.integers(info.min, info.max + 1, (2, 5, 12, 11)).astype(dt)
    for xs, ys, yz in ((0.05, 0.05, 1), (0.02, 0.031, 7), (0.1, 0.05, -3)):
        b = _model("QLinearAveragePool", dt, [2, 5, 12, 11], attrs, xs, 3, ys,
                   yz if dt is np.int8 else yz + 128)
        got, want = _both(b, x)
        assert got.dtype == want.dtype and got.shape == want.shape
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("dt", [np.uint8, np.int8])
@pytest.mark.parametrize("shape", [(40, 6625), (64, 64), (4097, 1)])
def test_qlinear_softmax_kernel_equals_numpy_twin(monkeypatch, dt, shape):
    """kernels/qlookup_int8.qlookup_softmax_* == QLinearSoftmax's NumPy rows (Numba absent)."""
    from tinyinfer.ops.qlinear_ms import QLinearSoftmax
    rng = np.random.default_rng(shape[0])
    info = np.iinfo(dt)
    x = rng.integers(info.min, info.max + 1, shape).astype(dt)
    b = _model("QLinearSoftmax", dt, list(shape), dict(axis=-1, opset=13), 0.05, 3, 1 / 256,
               0 if dt is np.uint8 else -128)
    got, want = _both(b, x)
    np.testing.assert_array_equal(got, want)
    monkeypatch.setattr(QLinearSoftmax, "_kernel", staticmethod(lambda *a: None))
    twin = tinyinfer.InferenceSession(b).run(None, {"x": x})[0]
    np.testing.assert_array_equal(twin, want)

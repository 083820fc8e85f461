"""Reductions, ArgMax/ArgMin, CumSum/CumProd and TopK on values checked by hand."""
import numpy as np
import pytest

pytest.importorskip("onnx")
from tinyinfer.errors import ModelError, RuntimeFailure  # noqa: E402

from mathops_helpers import run  # noqa: E402

X = np.array([[1, 2, 3], [4, 5, 6]], np.float32)


def test_reduce_axes_attribute_and_input():
    (a,) = run("ReduceSum", [X], opset=11, axes=[1], keepdims=0)
    (b,) = run("ReduceSum", [X, np.array([1], np.int64)], opset=13, keepdims=0)
    np.testing.assert_array_equal(a, [6, 15])
    np.testing.assert_array_equal(b, [6, 15])
    (m,) = run("ReduceMean", [X, np.array([0], np.int64)], opset=18)
    assert m.shape == (1, 3) and m.dtype == np.float32
    np.testing.assert_array_equal(m, [[2.5, 3.5, 4.5]])


def test_reduce_kinds():
    k = dict(opset=13, axes=[1], keepdims=0)
    np.testing.assert_allclose(run("ReduceL2", [X], **k)[0], [14 ** 0.5, 77 ** 0.5])
    np.testing.assert_allclose(run("ReduceProd", [X], **k)[0], [6, 120])
    np.testing.assert_allclose(run("ReduceLogSumExp", [np.zeros((1, 4), np.float32)], **k)[0],
                               [np.log(4)])
    np.testing.assert_allclose(run("ReduceSumSquare", [X], **k)[0], [14, 77])


def test_empty_axes_and_empty_set():
    np.testing.assert_array_equal(run("ReduceSum", [X], opset=11)[0], [[21]])  # all axes
    empty = np.array([], np.int64)
    (same,) = run("ReduceSum", [X, empty], opset=13, noop_with_empty_axes=1)
    np.testing.assert_array_equal(same, X)
    z = np.zeros((2, 0), np.float32)
    one = np.array([1], np.int64)
    assert run("ReduceProd", [z, one], opset=18)[0].tolist() == [[1], [1]]
    assert run("ReduceMax", [z, one], opset=18)[0].tolist() == [[-np.inf], [-np.inf]]


def test_reduce_bad_axis_names_node():
    with pytest.raises(RuntimeFailure, match=r'node "n1" \(ReduceMax\).*axes=3'):
        run("ReduceMax", [X, np.array([3], np.int64)], opset=18)  # axes known only at run time
    with pytest.raises(ModelError, match=r'node "n1" \(ReduceMax\).*axes=-3'):
        run("ReduceMax", [X], opset=13, axes=[-3])  # an attribute: caught when loading


def test_argmax_ties_and_select_last():
    x = np.array([[1, 3, 3]], np.float32)
    np.testing.assert_array_equal(run("ArgMax", [x], axis=1)[0], [[1]])
    np.testing.assert_array_equal(run("ArgMax", [x], axis=1, select_last_index=1)[0], [[2]])
    (y,) = run("ArgMin", [x], axis=1, keepdims=0)
    assert y.dtype == np.int64 and y.tolist() == [0]


def test_cumsum_and_cumprod():
    x = np.array([1, 2, 3], np.float32)
    ax = np.array(0, np.int32)
    np.testing.assert_array_equal(run("CumSum", [x, ax])[0], [1, 3, 6])
    np.testing.assert_array_equal(run("CumSum", [x, ax], exclusive=1, reverse=1)[0], [5, 3, 0])
    np.testing.assert_array_equal(run("CumProd", [x, ax], opset=26, exclusive=1)[0], [1, 1, 2])


def test_topk_stable_ties():
    x = np.array([2, 5, 5, 1], np.float32)
    v, i = run("TopK", [x, np.array([3], np.int64)], n_out=2)
    np.testing.assert_array_equal(v, [5, 5, 2])
    np.testing.assert_array_equal(i, [1, 2, 0])
    v, i = run("TopK", [x, np.array([2], np.int64)], n_out=2, largest=0)
    np.testing.assert_array_equal(i, [3, 0])
    with pytest.raises(RuntimeFailure, match=r'node "n1" \(TopK\).*k=9'):
        run("TopK", [x, np.array([9], np.int64)], n_out=2)

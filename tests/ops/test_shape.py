"""Shape ops on values checked by hand: Constant, Shape, Reshape, Squeeze/Unsqueeze, Transpose,
Concat, Split, Slice, Expand, Tile, Pad, DepthToSpace, Range, ConstantOfShape."""
import numpy as np
import pytest

pytest.importorskip("onnx")
from onnx import helper, TensorProto  # noqa: E402

from tinyinfer import dtypes  # noqa: E402
from tinyinfer.errors import RuntimeFailure  # noqa: E402

from shape_helpers import run  # noqa: E402

X = np.arange(6, dtype=np.float32).reshape(2, 3)   # [[0 1 2] [3 4 5]]
i64 = lambda *v: np.array(v, dtype=np.int64)  # noqa: E731


def test_constant_kinds():
    assert run("Constant", [], value_ints=[1, 2])[0].dtype == np.int64
    (f,) = run("Constant", [], value_float=2.5)
    assert f.shape == () and f.dtype == np.float32 and f == 2.5
    (t,) = run("Constant", [], value=helper.make_tensor("v", TensorProto.INT32, [2], [7, 8]))
    assert t.tolist() == [7, 8] and t.dtype == np.int32


def test_shape_start_end_and_size():
    x = np.zeros((2, 3, 4), np.float32)
    assert run("Shape", [x])[0].tolist() == [2, 3, 4]
    assert run("Shape", [x], start=-2)[0].tolist() == [3, 4]
    assert run("Shape", [x], start=1, end=10)[0].tolist() == [3, 4]
    assert run("Size", [x])[0] == 24


def test_reshape_zero_and_minus_one():
    x = np.zeros((2, 3, 4), np.float32)
    assert run("Reshape", [x, i64(0, -1)])[0].shape == (2, 12)
    assert run("Reshape", [np.zeros((0, 3), np.float32), i64(3, 0)], allowzero=1)[0].shape == (3, 0)


def test_reshape_bad_size_names_node():
    with pytest.raises(RuntimeFailure, match=r'node "n1" \(Reshape\).*cannot reshape'):
        run("Reshape", [X, i64(4, -1)])


def test_squeeze_unsqueeze_flatten_transpose():
    x = np.zeros((1, 3, 1), np.float32)
    assert run("Squeeze", [x])[0].shape == (3,)
    assert run("Squeeze", [x, i64(-1)])[0].shape == (1, 3)
    assert run("Squeeze", [x], opset=11, axes=[0])[0].shape == (3, 1)
    assert run("Unsqueeze", [X, i64(0, 3)])[0].shape == (1, 2, 3, 1)
    assert run("Flatten", [np.zeros((2, 3, 4), np.float32)], axis=2)[0].shape == (6, 4)
    np.testing.assert_array_equal(run("Transpose", [X])[0], [[0, 3], [1, 4], [2, 5]])
    with pytest.raises(RuntimeFailure, match=r'node "n1" \(Squeeze\).*size is 3'):
        run("Squeeze", [x, i64(1)])


def test_concat_split():
    np.testing.assert_array_equal(run("Concat", [X, X[:, :1]], axis=1)[0],
                                  [[0, 1, 2, 0], [3, 4, 5, 3]])
    a, b = run("Split", [np.arange(5, dtype=np.float32)], n_out=2, opset=18, num_outputs=2)
    assert a.tolist() == [0, 1, 2] and b.tolist() == [3, 4]
    a, b = run("Split", [np.arange(5, dtype=np.float32), i64(1, 4)], n_out=2, opset=13)
    assert a.tolist() == [0] and b.tolist() == [1, 2, 3, 4]


def test_slice_negative_steps_and_clamping():
    x = np.arange(10, dtype=np.float32)
    assert run("Slice", [x, i64(-1), i64(-100), i64(0), i64(-3)])[0].tolist() == [9, 6, 3, 0]
    assert run("Slice", [x, i64(8), i64(1000)])[0].tolist() == [8, 9]
    assert run("Slice", [x], opset=9, starts=[2], ends=[4])[0].tolist() == [2, 3]
    with pytest.raises(RuntimeFailure, match=r'node "n1" \(Slice\).*step must not be zero'):
        run("Slice", [x, i64(0), i64(3), i64(0), i64(0)])


def test_expand_tile_pad():
    assert run("Expand", [np.array([[1], [2]], np.float32), i64(2, 3)])[0].tolist() == \
        [[1, 1, 1], [2, 2, 2]]
    assert run("Tile", [np.array([1, 2], np.float32), i64(2)])[0].tolist() == [1, 2, 1, 2]
    x = np.array([1, 2, 3], np.float32)
    assert run("Pad", [x, i64(1, 2), np.array(9, np.float32)])[0].tolist() == [9, 1, 2, 3, 9, 9]
    assert run("Pad", [x, i64(2, 1)], mode="reflect")[0].tolist() == [3, 2, 1, 2, 3, 2]
    assert run("Pad", [x, i64(1, 1)], mode="edge")[0].tolist() == [1, 1, 2, 3, 3]
    assert run("Pad", [x, i64(1, 2)], mode="wrap")[0].tolist() == [3, 1, 2, 3, 1, 2]
    assert run("Pad", [x, i64(-1, 1)])[0].tolist() == [2, 3, 0]


def test_output_budget_refused_naming_node():
    with pytest.raises(RuntimeFailure, match=r'node "n1" \(Expand\).*limit of 2\*\*31'):
        run("Expand", [np.zeros(1, np.float32), i64(1 << 20, 1 << 20)])
    with pytest.raises(RuntimeFailure, match=r'node "n1" \(ConstantOfShape\).*2\*\*31'):
        run("ConstantOfShape", [i64(1 << 16, 1 << 16)])
    with pytest.raises(RuntimeFailure, match=r'node "n1" \(Range\).*2\*\*31'):
        run("Range", [np.array(0, np.int64), np.array(1 << 40, np.int64), np.array(1, np.int64)])


def test_range_and_constant_of_shape():
    assert run("Range", [np.array(5, np.int32), np.array(0, np.int32), np.array(-2, np.int32)])[0].tolist() == [5, 3, 1]
    (z,) = run("ConstantOfShape", [i64(2, 1)])
    assert z.dtype == np.float32 and z.tolist() == [[0], [0]]


def test_depth_to_space_round_trip():
    x = np.arange(8, dtype=np.float32).reshape(1, 4, 1, 2)
    (y,) = run("DepthToSpace", [x], blocksize=2)
    # DCR: y[0, 0, i, 2j + k] = x[0, 2i + k, 0, j]
    np.testing.assert_array_equal(y[0, 0], [[0, 2, 1, 3], [4, 6, 5, 7]])
    np.testing.assert_array_equal(run("SpaceToDepth", [y], blocksize=2)[0], x)


def test_shape_ops_keep_tagged_dtypes():
    x = np.arange(6, dtype=np.uint16).view(dtypes.bfloat16).reshape(2, 3)
    from tinyinfer.registry import lookup
    T = lookup("Transpose", "", 21)(None, perm=[1, 0])
    y = T.run(x)
    assert y.dtype == dtypes.bfloat16 and y.shape == (3, 2)

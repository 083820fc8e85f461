"""MaxPool, AveragePool, LpPool, global pools and MaxUnpool on values checked by hand."""
import numpy as np
import pytest

pytest.importorskip("onnx")
from tinyinfer.errors import ModelError, RuntimeFailure  # noqa: E402

from winnorm_helpers import f32, run  # noqa: E402

X44 = f32(np.arange(16).reshape(1, 1, 4, 4))


def test_maxpool_with_indices_row_and_column_major():
    y, i = run("MaxPool", [X44], n_out=2, kernel_shape=[2, 2], strides=[2, 2])
    np.testing.assert_array_equal(y, f32([[[[5, 7], [13, 15]]]]))
    np.testing.assert_array_equal(i, [[[[5, 7], [13, 15]]]])
    assert i.dtype == np.int64
    # column major: index = w * H + h; 7 sits at (h=1, w=3) -> 13
    _, i = run("MaxPool", [X44], n_out=2, kernel_shape=[2, 2], strides=[2, 2], storage_order=1)
    np.testing.assert_array_equal(i, [[[[5, 13], [7, 15]]]])


def test_maxpool_indices_count_batch_and_channel():
    x = np.stack([X44[0], -X44[0]])  # (2, 1, 4, 4): second sample's max is its first element
    _, i = run("MaxPool", [x], n_out=2, kernel_shape=[4, 4])
    np.testing.assert_array_equal(i.reshape(-1), [15, 16 + 0])


def test_maxpool_uint8_pads_with_lowest_value():
    x = np.array([[[0, 200, 7]]], np.uint8)
    (y,) = run("MaxPool", [x], kernel_shape=[2], pads=[1, 1])
    np.testing.assert_array_equal(y, np.array([[[0, 200, 200, 7]]], np.uint8))
    assert y.dtype == np.uint8


def test_maxpool_int8_lowest_value_index_points_inside_the_input():
    x = np.array([[[-128, -128]]], np.int8)  # equal to the padding value
    y, i = run("MaxPool", [x], n_out=2, kernel_shape=[2], pads=[1, 0])
    np.testing.assert_array_equal(y, [[[-128, -128]]])
    np.testing.assert_array_equal(i, [[[0, 0]]])  # never a padded position


def test_pool_ceil_mode_adds_a_last_window():
    x = f32([[[1, 2, 3, 4, 5]]])
    (y,) = run("AveragePool", [x], kernel_shape=[2], strides=[2])
    np.testing.assert_array_equal(y, f32([[[1.5, 3.5]]]))
    (y,) = run("AveragePool", [x], kernel_shape=[2], strides=[2], ceil_mode=1)
    np.testing.assert_array_equal(y, f32([[[1.5, 3.5, 5]]]))
    (y,) = run("MaxPool", [x], kernel_shape=[2], strides=[2], ceil_mode=1)
    np.testing.assert_array_equal(y, f32([[[2, 4, 5]]]))


def test_averagepool_count_include_pad():
    x = f32([[[[1, 2], [3, 4]]]])
    (y,) = run("AveragePool", [x], kernel_shape=[3, 3], pads=[1, 1, 1, 1])
    np.testing.assert_allclose(y, np.full((1, 1, 2, 2), 2.5, np.float32))
    (y,) = run("AveragePool", [x], kernel_shape=[3, 3], pads=[1, 1, 1, 1], count_include_pad=1)
    np.testing.assert_allclose(y, np.full((1, 1, 2, 2), 10 / 9, np.float32))


def test_averagepool_dilations():
    x = f32([[[1, 2, 3, 4, 5]]])
    (y,) = run("AveragePool", [x], kernel_shape=[2], dilations=[2], opset=19)
    np.testing.assert_allclose(y, f32([[[2, 3, 4]]]))


def test_lppool_and_global_pools():
    (y,) = run("LpPool", [f32([[[3, 4, 0]]])], kernel_shape=[2], p=2)
    np.testing.assert_allclose(y, f32([[[5, 4]]]))
    x = f32([[[[1, 2], [3, 6]]]])
    np.testing.assert_allclose(run("GlobalAveragePool", [x])[0], f32([[[[3]]]]))
    np.testing.assert_allclose(run("GlobalMaxPool", [x])[0], f32([[[[6]]]]))
    np.testing.assert_allclose(run("GlobalLpPool", [x], p=1)[0], f32([[[[12]]]]))


def test_maxunpool_puts_values_back():
    x, i = f32([[[[5, 7], [13, 15]]]]), np.array([[[[5, 7], [13, 15]]]], np.int64)
    (y,) = run("MaxUnpool", [x, i], kernel_shape=[2, 2], strides=[2, 2])
    expect = np.zeros(16, np.float32)
    expect[[5, 7, 13, 15]] = [5, 7, 13, 15]
    np.testing.assert_array_equal(y, expect.reshape(1, 1, 4, 4))


def test_pool_kernel_rank_mismatch_names_node():
    with pytest.raises(ModelError, match=r'node "poolA" \(MaxPool\).*spatial axes'):
        run("MaxPool", [X44], name="poolA", kernel_shape=[2])


def test_pool_kernel_larger_than_input_names_node():
    with pytest.raises(RuntimeFailure, match=r'node "poolB" \(AveragePool\).*larger'):
        run("AveragePool", [X44], name="poolB", kernel_shape=[5, 5])


def test_maxunpool_bad_index_names_node():
    x, i = f32([[[[1]]]]), np.array([[[[99]]]], np.int64)
    with pytest.raises(RuntimeFailure, match=r'node "unpool" \(MaxUnpool\).*indices'):
        run("MaxUnpool", [x, i], name="unpool", kernel_shape=[2, 2])


def test_pool_strides_length_checked_at_load_names_node():
    from winnorm_helpers import session
    with pytest.raises(ModelError, match=r'node "poolC" \(MaxPool\).*strides=\[1, 1, 1\]'):
        session("MaxPool", [X44], name="poolC", kernel_shape=[2, 2], strides=[1, 1, 1])

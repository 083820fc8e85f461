"""Conv, ConvInteger, ConvTranspose, DeformConv: values checked by hand."""
import numpy as np
import pytest

pytest.importorskip("onnx")
from tinyinfer.errors import ModelError, RuntimeFailure  # noqa: E402

from winnorm_helpers import f32, run, session  # noqa: E402

X33 = f32(np.arange(9).reshape(1, 1, 3, 3))  # [[0 1 2] [3 4 5] [6 7 8]]
ONES22 = np.ones((1, 1, 2, 2), np.float32)


def test_conv_2x2_sums_each_window():
    (y,) = run("Conv", [X33, ONES22, f32([1])])
    # windows: 0+1+3+4, 1+2+4+5, 3+4+6+7, 4+5+7+8, plus bias 1
    np.testing.assert_array_equal(y, f32([[[[9, 13], [21, 25]]]]))
    assert y.dtype == np.float32


def test_conv_pads_and_strides():
    (y,) = run("Conv", [X33, ONES22], pads=[1, 1, 1, 1], strides=[2, 2])
    # window origins (-1,-1) (-1,1) (1,-1) (1,1): only in-range taps count
    np.testing.assert_array_equal(y, f32([[[[0, 1 + 2], [3 + 6, 4 + 5 + 7 + 8]]]]))


def test_conv_same_upper_keeps_size():
    (y,) = run("Conv", [X33, ONES22], auto_pad="SAME_UPPER")
    assert y.shape == (1, 1, 3, 3)
    assert y[0, 0, 2, 2] == 8  # last window holds x[2,2] and padding
    (z,) = run("Conv", [X33, ONES22], auto_pad="SAME_LOWER")
    assert z[0, 0, 0, 0] == 0  # first window holds padding and x[0,0]


def test_conv_1d_dilation():
    x = f32([[[1, 2, 4, 8, 16]]])
    (y,) = run("Conv", [x, f32([[[1, -1]]])], dilations=[2])
    np.testing.assert_array_equal(y, f32([[[1 - 4, 2 - 8, 4 - 16]]]))


def test_conv_depthwise_and_grouped():
    x = np.concatenate([X33, 10 * X33], axis=1)  # 2 channels
    w = np.stack([ONES22[0], 2 * ONES22[0]])  # (2, 1, 2, 2)
    (y,) = run("Conv", [x, w], group=2)
    np.testing.assert_array_equal(y[0, 0], f32([[8, 12], [20, 24]]))
    np.testing.assert_array_equal(y[0, 1], 20 * f32([[8, 12], [20, 24]]))
    # group=1 with the same channels summed
    (z,) = run("Conv", [x, np.ones((1, 2, 2, 2), np.float32)])
    np.testing.assert_array_equal(z[0, 0], 11 * f32([[8, 12], [20, 24]]))


def test_conv_3d_and_strided_matches_direct_sum():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 4, 5, 6, 7)).astype(np.float32)
    w = rng.standard_normal((6, 2, 3, 2, 3)).astype(np.float32)
    (y,) = run("Conv", [x, w], group=2, strides=[2, 1, 2], pads=[1, 0, 1, 0, 1, 1])
    xp = np.pad(x, ((0, 0), (0, 0), (1, 0), (0, 1), (1, 1)))
    ref = np.zeros_like(y)
    for m in range(6):
        g = m // 3
        for o in np.ndindex(*y.shape[2:]):
            patch = xp[:, 2 * g:2 * g + 2, 2 * o[0]:2 * o[0] + 3, o[1]:o[1] + 2, 2 * o[2]:2 * o[2] + 3]
            ref[(slice(None), m) + o] = (patch * w[m]).sum(axis=(1, 2, 3, 4))
    np.testing.assert_allclose(y, ref, rtol=1e-5, atol=1e-5)


def test_conv_integer_subtracts_zero_points():
    x = np.array([[[[2, 3], [4, 5]]]], np.uint8)
    w = np.array([[[[1]]]], np.uint8)
    (y,) = run("ConvInteger", [x, w, np.array(2, np.uint8), np.array(0, np.uint8)])
    np.testing.assert_array_equal(y, np.array([[[[0, 1], [2, 3]]]], np.int32))
    assert y.dtype == np.int32


def test_conv_transpose_1d_strides_and_output_padding():
    x, w = f32([[[1, 2]]]), f32([[[1, 1, 1]]])
    (y,) = run("ConvTranspose", [x, w])
    np.testing.assert_array_equal(y, f32([[[1, 3, 3, 2]]]))
    (y,) = run("ConvTranspose", [x, w], strides=[2])
    np.testing.assert_array_equal(y, f32([[[1, 1, 3, 2, 2]]]))
    (y,) = run("ConvTranspose", [x, w, f32([10])], strides=[2], output_padding=[1])
    np.testing.assert_array_equal(y, f32([[[11, 11, 13, 12, 12, 10]]]))
    (y,) = run("ConvTranspose", [x, w], strides=[2], pads=[1, 1])
    np.testing.assert_array_equal(y, f32([[[1, 3, 2]]]))


def test_deform_conv_zero_offset_is_conv_and_half_offset_interpolates():
    x = f32([[[[1, 2, 3]]]])
    w = f32([[[[1]]]])
    (y,) = run("DeformConv", [x, w, np.zeros((1, 2, 1, 3), np.float32)], opset=19)
    np.testing.assert_array_equal(y, x)
    off = np.zeros((1, 2, 1, 3), np.float32)
    off[0, 1] = 0.5  # move every tap half a pixel right; outside the image reads 0
    (y,) = run("DeformConv", [x, w, off], opset=19)
    np.testing.assert_allclose(y, f32([[[[1.5, 2.5, 1.5]]]]))


def test_conv_channel_mismatch_names_node():
    x = np.zeros((1, 3, 4, 4), np.float32)
    w = np.zeros((2, 2, 3, 3), np.float32)
    with pytest.raises(ModelError, match=r'node "convA" \(Conv\).*3 channels'):
        session("Conv", [x, w], name="convA")


def test_conv_kernel_larger_than_input_names_node():
    x = np.zeros((1, 1, 2, 2), np.float32)
    w = np.zeros((1, 1, 3, 3), np.float32)
    with pytest.raises(RuntimeFailure, match=r'node "convB" \(Conv\).*larger than the padded'):
        run("Conv", [x, w], name="convB")


def test_conv_bad_auto_pad_names_node():
    with pytest.raises(ModelError, match=r'node "convC" \(Conv\).*auto_pad'):
        run("Conv", [X33, ONES22], name="convC", auto_pad="SAME")


def test_conv_huge_pads_refused_before_allocating():
    with pytest.raises(RuntimeFailure, match=r'node "convD" \(Conv\).*elements'):
        run("Conv", [X33, ONES22], name="convD", pads=[2**20] * 4)


def test_conv_pads_length_checked_at_load_names_node():
    with pytest.raises(ModelError, match=r'node "convE" \(Conv\).*pads=\[1, 1\]'):
        session("Conv", [X33, ONES22], name="convE", pads=[1, 1])

"""Image-geometry ops on values checked by hand: Resize, Upsample, GridSample, AffineGrid,
Col2Im, CenterCropPad, NonMaxSuppression, RoiAlign, MaxRoiPool."""
import numpy as np
import pytest

pytest.importorskip("onnx")
from tinyinfer.errors import ModelError, RuntimeFailure  # noqa: E402

from shape_helpers import run  # noqa: E402

f32 = lambda *v: np.array(v, dtype=np.float32)  # noqa: E731
IMG = np.array([[[[1, 2], [3, 4]]]], np.float32)  # (1, 1, 2, 2)


def test_resize_nearest_asymmetric_floor_like_ppocr():
    (y,) = run("Resize", [IMG, None, f32(1, 1, 2, 2)], mode="nearest",
               coordinate_transformation_mode="asymmetric", nearest_mode="floor")
    np.testing.assert_array_equal(y[0, 0], [[1, 1, 2, 2], [1, 1, 2, 2], [3, 3, 4, 4], [3, 3, 4, 4]])


def test_resize_linear_align_corners_and_half_pixel():
    x = f32(0, 10).reshape(1, 2)
    (a,) = run("Resize", [x, None, None, np.array([1, 3], np.int64)], mode="linear",
               coordinate_transformation_mode="align_corners")
    np.testing.assert_allclose(a, [[0, 5, 10]])
    # half_pixel, scale 2: x = (y + 0.5) / 2 - 0.5 -> -0.25, 0.25, 0.75, 1.25 (clamped at the edges)
    (h,) = run("Resize", [x, None, f32(1, 2)], mode="linear")
    np.testing.assert_allclose(h, [[0, 2.5, 7.5, 10]])


def test_resize_tf_crop_extrapolation_and_upsample():
    x = f32(0, 10).reshape(1, 2)
    (t,) = run("Resize", [x, f32(0, -1, 1, 1), None, np.array([1, 3], np.int64)], mode="linear",
               coordinate_transformation_mode="tf_crop_and_resize", extrapolation_value=7.0)
    np.testing.assert_allclose(t, [[7, 0, 10]])
    (u,) = run("Upsample", [f32(1, 2).reshape(1, 2), f32(1, 2)], opset=9)
    np.testing.assert_array_equal(u, [[1, 1, 2, 2]])


def test_resize_bad_mode_names_node():
    with pytest.raises(ModelError, match=r'node "n1" \(Resize\).*mode'):
        run("Resize", [IMG, None, f32(1, 1, 2, 2)], mode="area")


def test_grid_sample_and_affine_grid():
    # identity theta with align_corners=1 samples the pixel corners exactly
    (g,) = run("AffineGrid", [np.array([[[1, 0, 0], [0, 1, 0]]], np.float32), np.array([1, 1, 2, 2], np.int64)],
               align_corners=1)
    np.testing.assert_allclose(g[0], [[[-1, -1], [1, -1]], [[-1, 1], [1, 1]]])
    (y,) = run("GridSample", [IMG, g], align_corners=1)
    np.testing.assert_allclose(y, IMG)
    (c,) = run("GridSample", [IMG, np.zeros((1, 1, 1, 2), np.float32)], align_corners=1)
    assert np.isclose(c[0, 0, 0, 0], 2.5)                       # the centre averages all four
    (z,) = run("GridSample", [IMG, np.full((1, 1, 1, 2), 3.0, np.float32)], mode="nearest")
    assert z[0, 0, 0, 0] == 0                                    # zeros padding outside


def test_col2im_adds_overlaps():
    # 1 channel, 1x3 image, 1x2 blocks, stride 1: two blocks overlapping in the middle pixel
    x = np.array([[[1, 10], [2, 20]]], np.float32)                # (N=1, C*2=2, L=2)
    (y,) = run("Col2Im", [x, np.array([1, 3], np.int64), np.array([1, 2], np.int64)])
    np.testing.assert_array_equal(y[0, 0], [[1, 12, 20]])


def test_center_crop_pad():
    x = np.arange(5, dtype=np.float32)
    assert run("CenterCropPad", [x, np.array([3], np.int64)])[0].tolist() == [1, 2, 3]
    assert run("CenterCropPad", [x[:2], np.array([5], np.int64)])[0].tolist() == [0, 0, 1, 0, 0]


def test_nms_and_roi_ops():
    boxes = np.array([[[0, 0, 1, 1], [0, 0.1, 1, 1.1], [0, 2, 1, 3]]], np.float32)
    scores = np.array([[[0.9, 0.8, 0.7]]], np.float32)
    (sel,) = run("NonMaxSuppression", [boxes, scores, np.array([3], np.int64), f32(0.5)])
    assert sel.tolist() == [[0, 0, 0], [0, 0, 2]]
    x = np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4)
    (p,) = run("MaxRoiPool", [x, f32(0, 0, 0, 3, 3).reshape(1, 5)], pooled_shape=[2, 2])
    np.testing.assert_array_equal(p[0, 0], [[5, 7], [13, 15]])
    # one sample at the roi centre (1.5, 1.5) interpolates x there: 1.5 * 4 + 1.5 = 7.5
    (r,) = run("RoiAlign", [x, f32(1, 1, 3, 3).reshape(1, 4), np.array([0], np.int64)],
               sampling_ratio=1)
    assert np.isclose(r[0, 0, 0, 0], 7.5)
    with pytest.raises(RuntimeFailure, match=r'node "n1" \(RoiAlign\).*batch_indices'):
        run("RoiAlign", [x, f32(1, 1, 3, 3).reshape(1, 4), np.array([4], np.int64)])

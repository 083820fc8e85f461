"""kernels/resize2d_f32.resize2d_f32_nearest against ops/resize.py's NumPy reference (axis by
axis np.take), through the op, for every nearest rule and coordinate mode."""
import numpy as np
import pytest

from tinyinfer import ir, kernels
from tinyinfer.ops.resize import Resize

needs_numba = pytest.mark.skipif(not kernels.available(), reason="Numba kernels unavailable")


def both(monkeypatch, x, scales=None, sizes=None, **attrs):
    def run():
        op = Resize(ir.Node("Resize", ("x", "roi", "scales", "sizes"), ("y",)), **attrs)
        op.opset = 13
        return op.run(x, None, scales, sizes)
    y = run()
    with monkeypatch.context() as m:
        m.setenv("TINYINFER_IMPL", "reference")
        return y, run()


SCALES = [(2.0, 2.0), (8.0, 8.0), (1.0, 3.0), (0.5, 0.5), (1.7, 0.6), (1.0, 1.0)]


@needs_numba
@pytest.mark.parametrize("scale", SCALES)
@pytest.mark.parametrize("mode", ["round_prefer_floor", "round_prefer_ceil", "floor", "ceil"])
@pytest.mark.parametrize("ctm", ["half_pixel", "asymmetric", "align_corners",
                                 "pytorch_half_pixel"])
def test_nearest_kernel_matches_reference(monkeypatch, scale, mode, ctm):
    x = np.random.default_rng(0).standard_normal((2, 3, 5, 7)).astype(np.float32)
    y, ref = both(monkeypatch, x, scales=np.array([1, 1, *scale], np.float32),
                  mode="nearest", nearest_mode=mode, coordinate_transformation_mode=ctm)
    assert y.shape == ref.shape and y.dtype == np.float32
    np.testing.assert_array_equal(y, ref)


@needs_numba
@pytest.mark.parametrize("size", [(1, 1), (1, 9), (10, 14), (3, 16), (17, 1)])
def test_nearest_kernel_sizes_and_read_only(monkeypatch, size):
    x = np.random.default_rng(1).standard_normal((1, 2, 4, 8)).astype(np.float32)[:, :, :, ::2]
    x.flags.writeable = False
    y, ref = both(monkeypatch, x, sizes=np.array([1, 2, *size], np.int64), mode="nearest")
    assert y.shape == (1, 2, *size)
    np.testing.assert_array_equal(y, ref)


@needs_numba
def test_nearest_changing_channels_stays_on_reference(monkeypatch):
    x = np.random.default_rng(2).standard_normal((1, 2, 3, 3)).astype(np.float32)
    y, ref = both(monkeypatch, x, scales=np.array([1, 2, 2, 2], np.float32), mode="nearest")
    np.testing.assert_array_equal(y, ref)


@needs_numba
@pytest.mark.parametrize("scale", [(2.0, 2.0), (4.0, 4.0), (1.7, 0.6), (0.5, 3.0), (1.0, 2.0)])
@pytest.mark.parametrize("ctm", ["half_pixel", "asymmetric", "align_corners",
                                 "pytorch_half_pixel", "half_pixel_symmetric"])
def test_linear_kernel_matches_reference(monkeypatch, scale, ctm):
    """resize2d_f32_linear: the same taps and float64 sums as the axis-by-axis reference (db_det's
    x4 half_pixel map); an unchanged axis stays on the reference."""
    x = np.random.default_rng(3).standard_normal((2, 3, 5, 7)).astype(np.float32)
    x[0, 0, 0, 0] = np.inf
    y, ref = both(monkeypatch, x, scales=np.array([1, 1, *scale], np.float32),
                  mode="linear", coordinate_transformation_mode=ctm)
    assert y.shape == ref.shape and y.dtype == np.float32
    np.testing.assert_array_equal(y, ref)


@needs_numba
@pytest.mark.parametrize("size", [(1, 1), (1, 9), (10, 14), (17, 1), (184 * 4, 23)])
def test_linear_kernel_sizes_and_read_only(monkeypatch, size):
    x = np.random.default_rng(4).standard_normal((1, 2, 4, 8)).astype(np.float32)[:, :, :, ::2]
    x.flags.writeable = False
    y, ref = both(monkeypatch, x, sizes=np.array([1, 2, *size], np.int64), mode="linear")
    assert y.shape == (1, 2, *size)
    np.testing.assert_array_equal(y, ref)

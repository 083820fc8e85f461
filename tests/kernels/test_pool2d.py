"""Pool kernels (kernels/pool2d_f32.py) against ops/pool.py's NumPy reference, through the ops."""
import numpy as np
import pytest

from tinyinfer import ir, kernels
from tinyinfer.ops.pool import AveragePool, MaxPool

needs_numba = pytest.mark.skipif(not kernels.available(), reason="Numba kernels unavailable")


def both(monkeypatch, cls, x, **attrs):
    """(kernel result, reference result) of one pool op on x."""
    op = cls(ir.Node(cls.__name__, ("x",), ("y",)), **attrs)
    y = op.run(x)
    with monkeypatch.context() as m:
        m.setenv("TINYINFER_IMPL", "reference")
        ref = cls(ir.Node(cls.__name__, ("x",), ("y",)), **attrs).run(x)
    return y, ref


GEOMETRIES = [
    dict(kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]),
    dict(kernel_shape=[3, 3], strides=[1, 1], pads=[1, 1, 1, 1]),
    dict(kernel_shape=[2, 2], strides=[2, 2]),
    dict(kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1),
    dict(kernel_shape=[5, 5], strides=[1, 1], pads=[2, 2, 2, 2]),
    dict(kernel_shape=[3, 2], strides=[2, 1], pads=[0, 1, 2, 0], dilations=[2, 1]),
    dict(kernel_shape=[4, 4], strides=[3, 3], pads=[2, 2, 2, 2], ceil_mode=1),  # all-pad corners
]


@needs_numba
@pytest.mark.parametrize("wd", [1, 2, 7, 8, 9, 16, 17])
@pytest.mark.parametrize("geo", GEOMETRIES)
def test_maxpool(monkeypatch, wd, geo):
    x = np.random.default_rng(wd).standard_normal((2, 3, 7, wd)).astype(np.float32)
    if wd + sum(geo.get("pads", [0] * 4)[1::2]) < geo["kernel_shape"][1]:
        pytest.skip("the kernel does not fit the padded width")
    y, ref = both(monkeypatch, MaxPool, x, **geo)
    assert y.shape == ref.shape and y.dtype == np.float32
    np.testing.assert_array_equal(y, ref)


@needs_numba
@pytest.mark.parametrize("wd", [1, 2, 7, 8, 9, 16, 17])
@pytest.mark.parametrize("geo", GEOMETRIES)
@pytest.mark.parametrize("include", [0, 1])
def test_averagepool(monkeypatch, wd, geo, include):
    x = np.random.default_rng(wd).standard_normal((2, 3, 7, wd)).astype(np.float32)
    if wd + sum(geo.get("pads", [0] * 4)[1::2]) < geo["kernel_shape"][1]:
        pytest.skip("the kernel does not fit the padded width")
    with np.errstate(invalid="ignore", divide="ignore"):
        y, ref = both(monkeypatch, AveragePool, x, count_include_pad=include, **geo)
    assert y.shape == ref.shape and y.dtype == np.float32
    np.testing.assert_allclose(y, ref, rtol=1e-6, atol=1e-6)


@needs_numba
def test_maxpool_nan_and_read_only(monkeypatch):
    x = np.random.default_rng(0).standard_normal((1, 2, 5, 6)).astype(np.float32)
    x[0, 0, 1, 1] = np.nan
    x.flags.writeable = False
    y, ref = both(monkeypatch, MaxPool, x, kernel_shape=[2, 2], strides=[1, 1])
    np.testing.assert_array_equal(y, ref)  # NaN positions agree too (assert_array_equal: NaN == NaN)
    assert np.isnan(y[0, 0, 0, 0])


@needs_numba
@pytest.mark.parametrize("stride", [1, 2, 3])
def test_maxpool_nan_every_stride(monkeypatch, stride):
    """The select-based max loops (stride 1, 2 and general) keep NaN as np.maximum does."""
    x = np.random.default_rng(stride).standard_normal((1, 2, 9, 17)).astype(np.float32)
    x[0, 0, 2, ::4] = np.nan
    x[0, 1, :, 5] = -np.inf
    y, ref = both(monkeypatch, MaxPool, x, kernel_shape=[3, 3], strides=[stride, stride],
                  pads=[1, 1, 1, 1])
    np.testing.assert_array_equal(y, ref)
    assert np.isnan(y).any()

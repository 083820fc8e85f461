"""kernels/elementwise_f32.batchnorm_f32_nchw against ops/batch_norm.py's NumPy reference."""
import numpy as np
import pytest

from tinyinfer import ir, kernels
from tinyinfer.ops.batch_norm import BatchNormalization

needs_numba = pytest.mark.skipif(not kernels.available(), reason="Numba kernels unavailable")


def make(**attrs):
    node = ir.Node("BatchNormalization", ("x", "s", "b", "m", "v"), ("y",))
    op = BatchNormalization(node, **attrs)
    op.opset = 15
    return op


def params(c, rng, dtype=np.float32):
    return (rng.standard_normal(c).astype(dtype), rng.standard_normal(c).astype(dtype),
            rng.standard_normal(c).astype(dtype), rng.random(c).astype(dtype) + 0.1)


@needs_numba
@pytest.mark.parametrize("shape", [(1, 1, 1), (2, 3, 1, 1), (1, 5, 7, 9), (2, 4, 8, 16),
                                   (1, 3, 17), (1, 2, 3, 4, 5), (1, 0, 4, 4), (0, 3, 2, 2)])
def test_batchnorm_kernel_matches_reference(monkeypatch, shape):
    rng = np.random.default_rng(sum(shape))
    x = rng.standard_normal(shape).astype(np.float32)
    p = params(shape[1], rng)
    y = make(epsilon=1e-3).run(x, *p)
    with monkeypatch.context() as m:
        m.setenv("TINYINFER_IMPL", "reference")
        ref = make(epsilon=1e-3).run(x, *p)
    assert y.shape == ref.shape and y.dtype == np.float32
    np.testing.assert_array_equal(y, ref)


@needs_numba
def test_batchnorm_kernel_read_only_strided_and_float64_params(monkeypatch):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 4, 6, 10)).astype(np.float32)[:, :, :, ::2]  # not contiguous
    x.flags.writeable = False
    p = params(4, rng, np.float64)
    y = make().run(x, *p)
    with monkeypatch.context() as m:
        m.setenv("TINYINFER_IMPL", "reference")
        ref = make().run(x, *p)
    np.testing.assert_array_equal(y, ref)


@needs_numba
@pytest.mark.parametrize("s", [1, 7, 8, 9, 16, 17])
@pytest.mark.parametrize("mul,add,act", [(1, 1, "Relu"), (1, 0, ""), (0, 1, "Relu"), (0, 0, "Relu")])
def test_fused_batchnorm_kernel_matches_reference(monkeypatch, s, mul, add, act):
    from tinyinfer.ops.batch_norm import FusedBatchNorm
    rng = np.random.default_rng(s)
    x = rng.standard_normal((2, 3, s)).astype(np.float32)
    x[0, 0, 0] = -np.inf
    x[1, 2, -1] = np.nan
    p = params(3, rng)
    k = rng.standard_normal((3, 1)).astype(np.float32) if mul else None
    d = rng.standard_normal((1, 3, 1)).astype(np.float32) if add else None

    def go():
        node = ir.Node("FusedBatchNorm", ("x", "s", "b", "m", "v", "k", "d"), ("y",))
        return FusedBatchNorm(node, epsilon=1e-3, activation=act).run(x, *p, k, d)
    y = go()
    with monkeypatch.context() as m:
        m.setenv("TINYINFER_IMPL", "reference")
        ref = go()
    np.testing.assert_array_equal(y, ref)

"""FusedConv through the kernels (epilogue inside: bias, residual, activation) vs its reference."""
import numpy as np
import pytest

from tinyinfer import ir, kernels
from tinyinfer.ops.fused_conv import FusedConv

ACTS = [("", {}), ("Relu", {}), ("LeakyRelu", {"alpha": 0.1}), ("Clip", {"min": 0.0, "max": 6.0}),
        ("Clip", {"max": 1.0}), ("HardSigmoid", {"alpha": 0.2, "beta": 0.5}), ("HardSwish", {}),
        ("Sigmoid", {}), ("Swish", {"alpha": 1.702}), ("Tanh", {})]
LAYERS = [  # (C, M, group, k, stride, pad)
    (8, 8, 8, 3, 1, 1),    # depthwise
    (6, 4, 1, 3, 2, 1),    # dense 3x3
    (6, 9, 1, 1, 1, 0),    # 1x1
    (6, 9, 3, 1, 1, 0),    # grouped 1x1
    (6, 6, 2, 3, 1, 1),    # grouped 3x3
]


def make(act, attrs, c, m, g, k, s, p):
    node = ir.Node("FusedConv", ("x", "w", "b", "z"), ("y",), domain="ai.tinyinfer")
    return FusedConv(node, activation=act, group=g, strides=[s, s], pads=[p] * 4, **attrs)


@pytest.mark.parametrize("act,attrs", ACTS)
@pytest.mark.parametrize("layer", LAYERS)
@pytest.mark.parametrize("residual", [False, True])
def test_fused_conv_matches_reference(monkeypatch, act, attrs, layer, residual):
    c, m, g, k, s, p = layer
    rng = np.random.default_rng(len(act) + 7 * c + m)
    x = (rng.standard_normal((2, c, 9, 11)) * 3).astype(np.float32)
    w = rng.standard_normal((m, c // g, k, k)).astype(np.float32)
    w.flags.writeable = False  # model weights are read-only: never written, packed once
    b = rng.standard_normal(m).astype(np.float32)
    oh, ow = (9 + 2 * p - k) // s + 1, (11 + 2 * p - k) // s + 1
    z = rng.standard_normal((2, m, oh, ow)).astype(np.float32) if residual else None
    op = make(act, attrs, *layer)
    y = op.run(x, w, b, z)
    y2 = op.run(x, w, b, z)  # second run: packed weights from the cache
    with monkeypatch.context() as mp:
        mp.setenv("TINYINFER_IMPL", "reference")
        ref = make(act, attrs, *layer).run(x, w, b, z)
    assert y.shape == ref.shape and y.dtype == np.float32
    np.testing.assert_allclose(y, ref, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(y, y2)
    if kernels.available():
        assert op._variants, "the fast path was not taken"


def test_broadcast_residual_uses_the_reference_epilogue():
    x = np.ones((1, 2, 4, 4), np.float32)
    w = np.ones((3, 2, 1, 1), np.float32)
    z = np.arange(3, dtype=np.float32).reshape(1, 3, 1, 1)  # broadcast over H, W
    y = make("Relu", {}, 2, 3, 1, 1, 1, 0).run(x, w, None, z)
    np.testing.assert_array_equal(y, (2 + z) * np.ones((1, 3, 4, 4), np.float32))


@pytest.mark.parametrize("act,attrs", ACTS)
@pytest.mark.parametrize("residual", [False, True])
def test_epilogue_rounds_like_the_reference(act, attrs, residual):
    # same conv output in: the kernel epilogue's float32 steps equal the NumPy reference's
    from tinyinfer.kernels import conv2d
    if kernels.impl_choice() == "reference":
        pytest.skip("TINYINFER_IMPL=reference: no kernel epilogue")
    op = make(act, attrs, 4, 4, 1, 1, 1, 0)
    rng = np.random.default_rng(3)
    y = (rng.standard_normal((2, 4, 37)) * 4).astype(np.float32)
    b = rng.standard_normal(4).astype(np.float32)
    z = rng.standard_normal((2, 4, 37)).astype(np.float32) if residual else None
    ref = y + b.reshape(1, -1, 1)
    ref = op.epilogue(ref + z if residual else ref)
    code, a0, a1 = op._fast_act or (0, 0.0, 0.0)
    out = y.copy()
    conv2d._epilogue(out, b, code, a0, a1, z)
    if code == 0:  # Sigmoid, Swish, Tanh: FusedConv applies NumPy's after the kernel
        out = op.epilogue(out)
    np.testing.assert_array_equal(out, ref)


@pytest.mark.parametrize("n", [0, 1, 7, 8, 9, 16, 17, 1000])
@pytest.mark.parametrize("mode", [1, 2, 3])
def test_scale_shift_kernel_equals_numpy_steps(n, mode):
    """act_f32_scale_shift: x * s, then + t, each rounded to float32 as np.multiply/np.add."""
    from tinyinfer import kernels
    if not kernels.available():
        pytest.skip("Numba kernels unavailable")
    rng = np.random.default_rng(n)
    x = (rng.standard_normal(n) * 10).astype(np.float32)
    if n >= 4:
        x[:4] = [np.inf, -np.inf, np.nan, -0.0]
    s, t = np.float32(0.7310586), np.float32(-0.123)
    want = x.copy()
    if mode & 1:
        want = np.multiply(want, s)
    if mode & 2:
        want = np.add(want, t)
    kernels.get("act_f32_scale_shift")(x, s, t, mode)
    np.testing.assert_array_equal(x, want)

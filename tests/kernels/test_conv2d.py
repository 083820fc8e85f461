"""Conv kernels against the reference (ops/conv.conv_nd) at edge and tile-boundary sizes."""
import numpy as np
import pytest

from tinyinfer import kernels
from tinyinfer.kernels import conv2d
from tinyinfer.kernels.elementwise_f32 import apply_act
from tinyinfer.ops import _window as W
from tinyinfer.ops.conv import conv_nd

needs_numba = pytest.mark.skipif(not kernels.available(), reason="Numba kernels unavailable")


def reference(x, w, b, group, k, s, d, pads):
    win = W.resolve(None, "NOTSET", x.shape[2:], k, s, d, pads)
    y = conv_nd(W.pad_spatial(x, win.begin, win.end), w, win, group)
    if b is not None:
        y = y + b.reshape(1, -1, 1, 1)
    return y, win


def check(n, c, h, wd, m, group, k, s, d, pads, bias=True, want=None, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, c, h, wd)).astype(np.float32)
    w = rng.standard_normal((m, c // group) + tuple(k)).astype(np.float32)
    b = rng.standard_normal(m).astype(np.float32) if bias else None
    ref, win = reference(x, w, b, group, list(k), list(s), list(d), list(pads))
    variant = conv2d.choose(x.shape, w.shape, group, win)
    if want is not None:
        assert variant == want
    y = conv2d.run(variant, x, conv2d.pack(variant, w, group), b, win)
    assert y.shape == ref.shape and y.dtype == np.float32
    np.testing.assert_allclose(y, ref, rtol=1e-5, atol=1e-4)


# widths just below, at and above the 8- and 16-lane vector widths, and tiny ones
WIDTHS = [1, 2, 7, 8, 9, 15, 16, 17, 33]


@needs_numba
@pytest.mark.parametrize("wd", WIDTHS)
@pytest.mark.parametrize("k,s,d,pads", [
    ((3, 3), (1, 1), (1, 1), (1, 1, 1, 1)),
    ((3, 3), (2, 2), (1, 1), (1, 1, 1, 1)),
    ((5, 5), (1, 1), (1, 1), (2, 2, 2, 2)),
    ((5, 5), (2, 2), (1, 1), (2, 2, 2, 2)),
    ((3, 3), (1, 1), (2, 2), (2, 2, 2, 2)),
    ((3, 2), (2, 1), (1, 1), (0, 1, 2, 0)),   # asymmetric pads, non-square kernel
    ((1, 1), (1, 1), (1, 1), (0, 0, 0, 0)),
    ((3, 3), (2, 2), (1, 1), (1, 1, 0, 0)),   # stride-2 3 taps without end pads (SAME_UPPER)
    ((3, 3), (2, 2), (1, 1), (0, 1, 2, 2)),   # ... and with extra end pads (outputs past x)
])
def test_depthwise(wd, k, s, d, pads):
    if wd + pads[1] + pads[3] < (k[1] - 1) * d[1] + 1:
        pytest.skip("the kernel does not fit the padded width")
    check(2, 5, 6, wd, 5, 5, k, s, d, pads, want="dwconv2d_f32_nchw")


@needs_numba
@pytest.mark.parametrize("mult", [2, 3])
def test_depthwise_channel_multiplier(mult):
    check(1, 4, 9, 11, 4 * mult, 4, (3, 3), (1, 1), (1, 1), (1, 1, 1, 1), want="dwconv2d_f32_nchw")


@needs_numba
def test_depthwise_kernel_larger_than_padded_rows_partly():
    # taps that fall entirely outside the input on some rows/columns
    check(1, 3, 2, 3, 3, 3, (5, 5), (1, 1), (1, 1), (2, 2, 2, 2), bias=False)


@needs_numba
@pytest.mark.parametrize("wd", [1, 7, 8, 9, 17])
@pytest.mark.parametrize("c,k,s,d,pads", [
    (3, (3, 3), (2, 2), (1, 1), (1, 1, 1, 1)),
    (8, (3, 3), (1, 1), (1, 1), (1, 1, 1, 1)),
    (5, (2, 3), (1, 2), (2, 1), (1, 0, 0, 2)),
    (4, (3, 3), (1, 1), (1, 1), (0, 0, 0, 0)),
    (6, (1, 1), (2, 2), (1, 1), (0, 0, 0, 0)),   # strided 1x1 goes through im2col
])
def test_gemm(wd, c, k, s, d, pads):
    if wd + pads[1] + pads[3] < (k[1] - 1) * d[1] + 1:
        pytest.skip("the kernel does not fit the padded width")
    check(2, c, 7, wd, 6, 1, k, s, d, pads, want="conv2d_f32_gemm")


@needs_numba
@pytest.mark.parametrize("tile_bytes", [1, 4 * 27 * 5 * 3, 4 * 27 * 5 * 4 + 4])
def test_gemm_row_tiles(monkeypatch, tile_bytes):
    # 1 row per tile, 3 rows per tile (remainder tile), and just over 4 rows
    monkeypatch.setattr(conv2d, "TILE_BYTES", tile_bytes)
    check(1, 3, 10, 10, 4, 1, (3, 3), (2, 2), (1, 1), (1, 1, 1, 1), want="conv2d_f32_gemm")


@needs_numba
@pytest.mark.parametrize("wd", [1, 2, 7, 8, 9, 17])
@pytest.mark.parametrize("c,m,g,k,d,pads", [
    (32, 8, 1, (3, 3), (1, 1), (1, 1, 1, 1)),
    (32, 32, 1, (3, 3), (1, 1), (0, 0, 0, 0)),     # no pads: OW = W - 2
    (40, 16, 1, (5, 5), (1, 1), (2, 2, 2, 2)),
    (33, 5, 1, (3, 2), (1, 1), (0, 1, 2, 0)),      # asymmetric pads, non-square kernel
    (32, 7, 1, (3, 3), (2, 2), (2, 2, 2, 2)),      # dilated
    (64, 12, 2, (3, 3), (1, 1), (1, 1, 1, 1)),     # grouped
])
def test_taps(wd, c, m, g, k, d, pads):
    if wd + pads[1] + pads[3] < (k[1] - 1) * d[1] + 1:
        pytest.skip("the kernel does not fit the padded width")
    check(2, c, 6, wd, m, g, k, (1, 1), d, pads, want="conv2d_f32_taps")
    check(1, c, 6, wd, m, g, k, (1, 1), d, pads, bias=False, want="conv2d_f32_taps")


@needs_numba
@pytest.mark.parametrize("tile_bytes", [1, 4 * 9 * 8 * 12 * 3, 4 * 9 * 8 * 12 * 4 + 4, 1 << 30])
def test_taps_row_tiles(monkeypatch, tile_bytes):
    # 1 padded row per GEMM, 3 (remainder tile), just over 4, and the whole image at once
    monkeypatch.setattr(conv2d, "TAP_TILE_BYTES", tile_bytes)
    check(1, 32, 10, 10, 8, 1, (3, 3), (1, 1), (1, 1), (1, 1, 1, 1), want="conv2d_f32_taps")


def test_taps_choice():
    """Taps only where measured faster: stride 1, deep enough input, not more outputs."""
    def pick(c, m, k=3, s=1, g=1):
        win = W.resolve(None, "NOTSET", (20, 20), [k, k], [s, s], [1, 1], [k // 2] * 4)
        return conv2d.choose((1, c, 20, 20), (m, c // g, k, k), g, win)
    if not kernels.available():
        pytest.skip("Numba kernels unavailable")
    assert pick(96, 24) == "conv2d_f32_taps"
    assert pick(96, 24, s=2) == pick(16, 24) == pick(64, 128) == pick(256, 256) == "conv2d_f32_gemm"


@pytest.mark.parametrize("hw", [(1, 1), (3, 5), (8, 8)])
def test_1x1_gemm(hw):
    if kernels.impl_choice() == "reference":
        pytest.skip("TINYINFER_IMPL=reference")
    check(2, 7, hw[0], hw[1], 9, 1, (1, 1), (1, 1), (1, 1), (0, 0, 0, 0), want="conv2d_f32_1x1")
    check(1, 7, hw[0], hw[1], 9, 1, (1, 1), (1, 1), (1, 1), (0, 0, 0, 0), bias=False)


@needs_numba
@pytest.mark.parametrize("wd", [1, 8, 9, 17])
@pytest.mark.parametrize("c,m,g,k,s,pads", [
    (8, 6, 2, (3, 3), (1, 1), (1, 1, 1, 1)),
    (12, 12, 3, (3, 3), (2, 2), (1, 1, 1, 1)),
    (6, 9, 3, (1, 1), (2, 2), (0, 0, 0, 0)),   # strided grouped 1x1 goes through im2col
])
def test_grouped_gemm(wd, c, m, g, k, s, pads):
    check(2, c, 7, wd, m, g, k, s, (1, 1), pads, want="conv2d_f32_gemm")


@pytest.mark.parametrize("g", [2, 3])
def test_grouped_1x1(g):
    if kernels.impl_choice() == "reference":
        pytest.skip("TINYINFER_IMPL=reference")
    check(2, 6 * g // 2, 5, 9, 4 * g, g, (1, 1), (1, 1), (1, 1), (0, 0, 0, 0),
          want="conv2d_f32_1x1")


def test_depthwise_1x1_is_not_a_gemm():
    win = W.resolve(None, "NOTSET", (8, 8), [1, 1], [1, 1], [1, 1], [0, 0, 0, 0])
    assert conv2d.choose((1, 8, 8, 8), (8, 1, 1, 1), 8, win) in (None, "dwconv2d_f32_nchw")


def act_reference(v, act, a0, a1):
    v = v.astype(np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        return {0: v, 1: np.maximum(v, 0), 2: np.clip(v, a0, a1),
                3: np.clip(a0 * v + a1, 0, 1), 4: v * np.clip(v / 6 + 0.5, 0, 1),
                5: 1 / (1 + np.exp(-v)), 6: np.where(v >= 0, v, a0 * v),
                7: v / (1 + np.exp(-a0 * v)), 8: np.tanh(v),
                9: v * np.clip(v / 6 + 0.5, 0, 1) * a0 + a1}[act]


@needs_numba
@pytest.mark.parametrize("act,a0,a1", [(0, 0, 0), (1, 0, 0), (2, 0, 6), (3, 0.2, 0.5), (4, 0, 0),
                                       (5, 0, 0), (6, 0.1, 0), (7, 1.0, 0), (7, 1.702, 0),
                                       (8, 0, 0), (2, -np.inf, np.inf), (9, 0.7310586, -0.123)])
def test_epilogues(act, a0, a1):
    rng = np.random.default_rng(act)
    x = (rng.standard_normal((2, 3, 6, 17)) * 5).astype(np.float32)
    x[0, 0, 0, :4] = [-3, 3, 0, 1e3]
    w = rng.standard_normal((3, 1, 3, 3)).astype(np.float32)
    b = rng.standard_normal(3).astype(np.float32)
    ref, win = reference(x, w, b, 3, [3, 3], [1, 1], [1, 1], [1, 1, 1, 1])
    z = rng.standard_normal((2, 3, 6, 17)).astype(np.float32)
    w1 = rng.standard_normal((3, 3, 1, 1)).astype(np.float32)
    w32 = rng.standard_normal((3, 32, 3, 3)).astype(np.float32)
    x32 = rng.standard_normal((2, 32, 6, 17)).astype(np.float32)
    for variant, ww, g, pads in (("dwconv2d_f32_nchw", w, 3, [1] * 4),
                                 ("conv2d_f32_gemm", None, 1, [1] * 4),
                                 ("conv2d_f32_taps", w32, 1, [1] * 4),
                                 ("conv2d_f32_1x1", w1, 1, [0] * 4)):
        if ww is None:
            ww = rng.standard_normal((3, 3, 3, 3)).astype(np.float32)
        k = list(ww.shape[2:])
        xv = x32 if ww is w32 else x
        ref, win = reference(xv, ww, b, g, k, [1, 1], [1, 1], pads)
        assert conv2d.choose(xv.shape, ww.shape, g, win) == variant
        wp = conv2d.pack(variant, ww, g)
        y = conv2d.run(variant, xv, wp, b, win, act, a0, a1)
        np.testing.assert_allclose(y, act_reference(ref, act, a0, a1), rtol=1e-5, atol=1e-5)
        for bias in (b, None):  # with a residual: act((conv + b) + z)
            r = ref if bias is not None else ref - b.reshape(1, -1, 1, 1)
            y = conv2d.run(variant, xv, wp, bias, win, act, a0, a1, z)
            np.testing.assert_allclose(y, act_reference(r + z, act, a0, a1), rtol=1e-5, atol=1e-5)
    # the plain-Python definition of the epilogue agrees too
    assert abs(apply_act(np.float32(-2.0), act, a0, a1) - act_reference(np.array(-2.0), act, a0, a1)) < 1e-6


def test_read_only_inputs():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((1, 3, 8, 8)).astype(np.float32)
    ref, win = reference(x, np.ones((4, 3, 3, 3), np.float32), None, 1, [3, 3], [1, 1], [1, 1],
                         [1, 1, 1, 1])
    x.flags.writeable = False
    w = np.ones((4, 3, 3, 3), np.float32)
    w.flags.writeable = False
    v = conv2d.choose(x.shape, w.shape, 1, win)
    if v is not None:
        wp = conv2d.pack(v, w)
        np.testing.assert_allclose(conv2d.run(v, x, wp, None, win), ref, rtol=1e-5, atol=1e-4)
        assert not w.flags.writeable and (w == 1).all()

"""Integer kernels (kernels/qgemm_int8.py via kernels/qlinear_int8.py) vs their NumPy twins and
the NumPy reference in ops/qlinear.py: packings and GEMM at sizes just below, at and above the
MR-row, W-column and 2/4-wide K units (both the int16-pair and the u8 x s8 quad kernels),
convolutions (1x1 and im2col), depthwise with strides/pads/dilations/multipliers, uint8 and
int8; plus one run under NUMBA_BOUNDSCHECK=1."""
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

pytest.importorskip("numba")
from tinyinfer import kernels  # noqa: E402
from tinyinfer.ir import Node  # noqa: E402
from tinyinfer.ops.qlinear import QLinearConv, QLinearMatMul  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _node(op):
    return Node(op_type=op, inputs=(), outputs=("y",), name="k", domain="", attributes={})


def _conv(x, w, attrs, xt, wt, pc, seed, reference):
    rng = np.random.default_rng(seed)
    m = w.shape[0]
    shape = (m,) if pc else ()
    op = QLinearConv(_node("QLinearConv"), **attrs)
    ws = rng.uniform(0.001, 0.05, shape).astype(np.float32)
    wz = (np.zeros(shape, wt) if wt is np.int8 else rng.integers(60, 190, shape).astype(wt))
    args = (x, np.float32(0.02), np.asarray(xt(7)), w, ws, wz, np.float32(0.11),
            np.asarray(xt(3)), rng.integers(-3000, 3000, m).astype(np.int32))
    from tinyinfer.registry import InputInfo
    op.prepare(InputInfo("x"), InputInfo("s"), InputInfo("z"), InputInfo("w", const=w))
    if reference:
        op._variant = None
    return op.run(*args), op._variant


def _kinds():
    from tinyinfer.kernels import qlinear_int8 as K
    return ["s16", "u8s8"] if K.isa() == "avx512vnni" else ["s16"]


@pytest.mark.skipif(not kernels.available(), reason="kernels unavailable")
@pytest.mark.parametrize("kind", ["s16", "u8s8"])
@pytest.mark.parametrize("xt", [np.uint8, np.int8])
@pytest.mark.parametrize("m,k,s", [(1, 1, 1), (3, 3, 15), (4, 4, 16), (5, 5, 17), (7, 7, 31),
                                   (8, 8, 32), (9, 9, 33), (17, 33, 65), (13, 130, 100)])
def test_gemm_kernel_equals_twin(kind, xt, m, k, s):
    from tinyinfer.kernels import qlinear_int8 as K
    if kind not in _kinds():
        pytest.skip("no AVX512-VNNI here: the u8 x s8 kernel is not used")
    rng = np.random.default_rng(m * 1000 + k * 10 + s)
    xi = np.iinfo(xt)
    w = rng.integers(-128, 128, (m, k)).astype(np.int8)
    b = rng.integers(xi.min, xi.max + 1, (s, k)).astype(xt)
    zx = xt(rng.integers(xi.min, xi.max + 1))
    if kind == "u8s8":
        pk = K.pack_weights(w, np.zeros(m, np.int8))
        assert pk.kind == "u8s8"
    else:
        pk = K.Packed("s16", K.pack_rows(w, np.int8(3)), None, m, k)
    for bsrc in (b, np.asfortranarray(b)):  # rows, and a transposed view as 1x1 convs pass
        bp = K.pack_cols(pk, bsrc, zx)
        np.testing.assert_array_equal(bp, K.pack_cols_np(b, zx, pk.a32.shape[1], K.block(), kind))
    b0 = rng.integers(-5000, 5000, m).astype(np.int32)
    bias = pk.bias_for(b0, zx, xt)  # u8s8: the zero point's share taken off
    mult = rng.uniform(1e-4, 2e-3, m).astype(np.float32)
    for out_t in (np.uint8, np.int8, np.int32):
        got, want = np.empty((m, s), out_t), np.empty((m, s), out_t)
        K.gemm(pk, bp, bias, mult, 5 if out_t is np.uint8 else -3, got)
        K.gemm_np(pk, bp, bias, mult, 5 if out_t is np.uint8 else -3, want)
        np.testing.assert_array_equal(got, want)
    # and both equal the definition: sum (x - zx)(w - wz) + bias, requantised
    wz = 0 if kind == "u8s8" else 3
    acc = ((b.astype(np.int64) - int(zx)) @ (w.astype(np.int64) - wz).T).T
    got = np.empty((m, s), np.int32)
    K.gemm(pk, bp, bias, mult, 0, got)
    np.testing.assert_array_equal(got, (acc + b0[:, None]).astype(np.int32))


SIZES = [(1, 31, 1, 1), (2, 32, 1, 1), (1, 33, 1, 1), (1, 3, 3, 3), (2, 7, 3, 5), (1, 16, 1, 3),
         (1, 5, 1, 1), (2, 9, 1, 1)]


@pytest.mark.skipif(not kernels.available(), reason="kernels unavailable")
@pytest.mark.parametrize("i", range(len(SIZES)))
@pytest.mark.parametrize("xt,wt", [(np.uint8, np.int8), (np.int8, np.int8), (np.uint8, np.uint8)])
def test_im2col_gemm_equals_reference(i, xt, wt):
    n, c, kh, kw = SIZES[i]
    rng = np.random.default_rng(i)
    xi, wi = np.iinfo(xt), np.iinfo(wt)
    m = (1, 4, 5, 17)[i % 4]
    x = rng.integers(xi.min, xi.max + 1, (n, c, 7 + i, 9 + 2 * i)).astype(xt)
    w = rng.integers(wi.min, wi.max + 1, (m, c, kh, kw)).astype(wt)
    attrs = dict(strides=[1 + i % 2, 1 + (i // 2) % 2], pads=[kh // 2, kw // 2, 0, kw // 2],
                 dilations=[1, 1 + (i == 4)])
    if i >= 6:  # pointwise: the columns are x itself (kernels/qlinear_int8.qconv2d)
        attrs = dict(strides=[1, 1], pads=[0, 0, 0, 0])
    a, v = _conv(x, w, attrs, xt, wt, i % 2 == 0, i, False)
    b, _ = _conv(x, w, attrs, xt, wt, i % 2 == 0, i, True)
    assert v == "qconv2d_im2col"
    np.testing.assert_array_equal(a, b)


@pytest.mark.skipif(not kernels.available(), reason="kernels unavailable")
@pytest.mark.parametrize("k,s,mult,sw,d", [(3, 1, 1, 1, 1), (3, 2, 1, 1, 1), (5, 1, 2, 1, 1),
                                           (5, 2, 1, 1, 1), (1, 1, 1, 1, 1), (3, 1, 1, 2, 1),
                                           (5, 1, 1, 1, 2), (3, 2, 2, 2, 2), (2, 1, 1, 3, 1)])
@pytest.mark.parametrize("xt", [np.uint8, np.int8])
def test_depthwise_equals_reference(k, s, mult, sw, d, xt):
    rng = np.random.default_rng(k * 10 + s)
    c = 6
    xi = np.iinfo(xt)
    x = rng.integers(xi.min, xi.max + 1, (2, c, 5 + k * d, 31 + s)).astype(xt)
    w = rng.integers(-128, 128, (c * mult, 1, k, k)).astype(np.int8)
    attrs = dict(group=c, strides=[s, sw], pads=[k // 2, k // 2, k // 2, 0], dilations=[d, d])
    a, v = _conv(x, w, attrs, xt, np.int8, True, k, False)
    b, _ = _conv(x, w, attrs, xt, np.int8, True, k, True)
    assert v == "qconv2d_dw"
    np.testing.assert_array_equal(a, b)


@pytest.mark.skipif(not kernels.available(), reason="kernels unavailable")
@pytest.mark.parametrize("kdim", [1, 31, 32, 33, 200])
@pytest.mark.parametrize("const_b", [True, False])
def test_qlinearmatmul_kernel_equals_reference(kdim, const_b):
    rng = np.random.default_rng(kdim)
    a = rng.integers(0, 256, (2, 5, kdim)).astype(np.uint8)
    b = rng.integers(-128, 128, (kdim, 7)).astype(np.int8)
    args = (a, np.float32(0.03), np.asarray(np.uint8(9)), b,
            rng.uniform(0.001, 0.05, 7).astype(np.float32), np.zeros(7, np.int8),
            np.float32(0.7), np.asarray(np.uint8(1)))
    op = QLinearMatMul(_node("QLinearMatMul"))
    y = op.run(*args)
    assert op._bpack[2] is not None  # the kernel ran
    ref = QLinearMatMul(_node("QLinearMatMul"))
    ref._fast = lambda *a_: None
    np.testing.assert_array_equal(y, ref.run(*args))


def test_kernels_under_boundscheck(tmp_path):
    pytest.importorskip("numba")
    code = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {ROOT!r})
        import pytest
        sys.exit(pytest.main(["-q", "-p", "no:cacheprovider", {os.path.abspath(__file__)!r},
                              "-k", "not boundscheck"]))
    """)
    env = dict(os.environ, NUMBA_BOUNDSCHECK="1", NUMBA_CACHE_DIR=str(tmp_path), TINYINFER_IMPL="")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                       timeout=900)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]


@pytest.mark.parametrize("forced", ["avx2", "avx512", "generic"])
def test_other_instruction_sets(tmp_path, forced):
    """The micro-kernel variants this CPU would not pick (one it can run: AVX2 / AVX512-BW
    without VNNI / plain vector IR) give the same results."""
    from tinyinfer.kernels import qlinear_int8 as K
    host = K.isa()
    if forced != "generic" and not (host.startswith("avx512") or (forced == "avx2" and
                                                                  host == "avx2")):
        pytest.skip(f"this CPU ({host}) cannot run {forced} code")
    code = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {ROOT!r})
        from tinyinfer.kernels import qlinear_int8
        qlinear_int8._ISA = {forced!r}
        import pytest
        sys.exit(pytest.main(["-q", "-p", "no:cacheprovider", {os.path.abspath(__file__)!r},
                              "-k", "not boundscheck and not other_instruction"]))
    """)
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path), TINYINFER_IMPL="")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                       timeout=900)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]


@pytest.mark.skipif(not kernels.available(), reason="kernels unavailable")
@pytest.mark.parametrize("n", [4095, 4096, 4097, 70000])
@pytest.mark.parametrize("xt,tt", [(np.uint8, np.uint8), (np.int8, np.int8), (np.int8, np.uint8),
                                   (np.uint8, np.float32), (np.int8, np.float64)])
def test_lookup_kernel_equals_take(n, xt, tt):
    from tinyinfer.ops.qlinear_lookup import QLinearLookup
    rng = np.random.default_rng(n)
    xi = np.iinfo(xt)
    x = rng.integers(xi.min, xi.max + 1, (2, n)).astype(xt)
    table = (rng.uniform(-300, 300, 256) if tt in (np.float32, np.float64)
             else rng.integers(0, 256, 256)).astype(tt)
    op = QLinearLookup(_node("QLinearLookup"))
    for xv in (x, x[:, ::-1], np.broadcast_to(x[:1], x.shape)):  # contiguous, strided, read-only
        y = op.run(xv, table)
        assert y.dtype == table.dtype and y.shape == xv.shape
        np.testing.assert_array_equal(y, np.take(table, xv.view(np.uint8)))


@pytest.mark.skipif(not kernels.available(), reason="kernels unavailable")
@pytest.mark.parametrize("tile_bytes", [1, 3000, 1 << 19])
@pytest.mark.parametrize("wt", [np.int8, np.uint8])
def test_im2col_row_tiles_equal_reference(monkeypatch, tile_bytes, wt):
    """Outputs computed a few rows at a time (the tile is a strided slice of y) are the same."""
    from tinyinfer.kernels import qlinear_int8 as K
    monkeypatch.setattr(K, "TILE_BYTES", tile_bytes)
    rng = np.random.default_rng(tile_bytes)
    wi = np.iinfo(wt)
    x = rng.integers(0, 256, (2, 5, 13, 11)).astype(np.uint8)
    w = rng.integers(wi.min, wi.max + 1, (6, 5, 3, 3)).astype(wt)
    attrs = dict(strides=[1, 1], pads=[1, 1, 1, 1])
    a, v = _conv(x, w, attrs, np.uint8, wt, True, 1, False)
    b, _ = _conv(x, w, attrs, np.uint8, wt, True, 1, True)
    assert v == "qconv2d_im2col"
    np.testing.assert_array_equal(a, b)


@pytest.mark.skipif(not kernels.available(), reason="kernels unavailable")
@pytest.mark.parametrize("case", ["pointwise", "im2col", "depthwise", "depthwise_s2"])
@pytest.mark.parametrize("xt,wt,tt", [(np.uint8, np.int8, np.uint8), (np.int8, np.int8, np.int8),
                                      (np.uint8, np.uint8, np.int8), (np.int8, np.int8, np.uint8)])
def test_conv_lookup_equals_conv_then_take(case, xt, wt, tt):
    """QLinearConvLookup (a lookup applied in the kernels' epilogue) == QLinearConv + table[y]."""
    from tinyinfer.ops.qlinear import QLinearConvLookup
    from tinyinfer.registry import InputInfo
    rng = np.random.default_rng(len(case))
    xi, wi = np.iinfo(xt), np.iinfo(wt)
    c, m = 6, (6 if case.startswith("depthwise") else 9)
    attrs = {"pointwise": {}, "im2col": dict(pads=[1, 1, 1, 1], strides=[2, 1]),
             "depthwise": dict(group=c, pads=[1, 1, 1, 1]),
             "depthwise_s2": dict(group=c, pads=[1, 0, 1, 2], strides=[1, 2])}[case]
    k = 1 if case == "pointwise" else 3
    x = rng.integers(xi.min, xi.max + 1, (2, c, 9, 37)).astype(xt)
    w = rng.integers(wi.min, wi.max + 1, (m, 1 if "group" in attrs else c, k, k)).astype(wt)
    table = rng.integers(0, 256, 256).astype(np.uint8).view(tt)
    args = (x, np.float32(0.02), np.asarray(xt(7)), w,
            rng.uniform(0.001, 0.05, m).astype(np.float32),
            np.zeros(m, wt) if wt is np.int8 else rng.integers(60, 190, m).astype(wt),
            np.float32(0.11), np.asarray(xt(3)), rng.integers(-3000, 3000, m).astype(np.int32))
    fused = QLinearConvLookup(_node("QLinearConvLookup"), **attrs)
    fused.prepare(InputInfo("x"), InputInfo("s"), InputInfo("z"), InputInfo("w", const=w))
    plain = QLinearConv(_node("QLinearConv"), **attrs)
    plain.prepare(InputInfo("x"), InputInfo("s"), InputInfo("z"), InputInfo("w", const=w))
    plain._variant = None  # the NumPy reference
    assert fused._variant is not None
    y = fused.run(*args, table)
    want = np.take(table, plain.run(*args).view(np.uint8))
    assert y.dtype == want.dtype == tt
    np.testing.assert_array_equal(y, want)


@pytest.mark.skipif(not kernels.available(), reason="kernels unavailable")
@pytest.mark.parametrize("at,bt", [(np.uint8, np.uint8), (np.int8, np.int8), (np.int8, np.uint8),
                                   (np.uint8, np.int8)])
@pytest.mark.parametrize("bshape", [(3, 40, 200), (200,), (3, 1, 200)])
def test_pair_lookup_kernel_equals_direct(at, bt, bshape):
    """QLinearAdd/QLinearMul through the 65536-pair table kernel == the direct float formula,
    broadcast and read-only operands included."""
    from tinyinfer.ops.qlinear_ms import QLinearAdd, QLinearMul, _span
    rng = np.random.default_rng(len(bshape))
    ai, bi = np.iinfo(at), np.iinfo(bt)
    a = rng.integers(ai.min, ai.max + 1, (3, 40, 200)).astype(at)
    b = rng.integers(bi.min, bi.max + 1, bshape).astype(bt)
    b.flags.writeable = False
    for cls in (QLinearAdd, QLinearMul):
        op = cls(_node(cls.__name__))
        args = (np.float32(0.03), np.asarray(at(3)), b, np.float32(0.05), np.asarray(bt(-1 if bt is
                np.int8 else 200)), np.float32(0.07), np.asarray(at(5)))
        y = op.run(a, *args)
        assert op.__dict__.get("_table") is not None  # the pair table (and its kernel) ran
        want = op._direct(a, b, np.float32(0.03), 3, np.float32(0.05), int(args[4]),
                          np.float32(0.07), 5, np.dtype(at))
        assert y.dtype == want.dtype and y.shape == want.shape
        np.testing.assert_array_equal(y, want)


@pytest.mark.skipif(not kernels.available(), reason="kernels unavailable")
@pytest.mark.parametrize("g,cg,mpg,k,s,sw,d,hw", [
    (4, 8, 8, 1, 1, 1, 1, (4, 4)), (4, 8, 32, 1, 1, 1, 1, (8, 8)), (4, 16, 16, 1, 1, 1, 1, (1, 1)),
    (2, 3, 5, 3, 1, 1, 1, (7, 9)), (3, 2, 1, 3, 2, 1, 1, (6, 11)), (2, 4, 3, 5, 1, 2, 2, (9, 8)),
    (2, 2, 2, 2, 2, 3, 1, (5, 13)), (8, 2, 4, 1, 2, 2, 1, (5, 5)),
    (1, 16, 16, 3, 1, 1, 1, (70, 64)), (1, 3, 5, 3, 1, 1, 1, (64, 66)), (2, 3, 4, 3, 1, 1, 1, (64, 33))])
@pytest.mark.parametrize("xt", [np.uint8, np.int8])
def test_grouped_equals_twin_and_reference(g, cg, mpg, k, s, sw, d, hw, xt):
    """Grouped convs with C/group > 1 (ShuffleNet's 1x1 group convs, and 3x3 / 5x5 with
    strides, dilation and asymmetric pads) and group-1 convs with few output channels (M <= 16,
    stride 1; planes above GP_CHUNK sums): the plane kernel == its NumPy twin == the reference."""
    from tinyinfer.kernels import qlinear_int8 as K
    rng = np.random.default_rng(g * 100 + cg * 10 + k)
    c, m = g * cg, g * mpg
    xi = np.iinfo(xt)
    x = rng.integers(xi.min, xi.max + 1, (2, c) + hw).astype(xt)
    w = rng.integers(-128, 128, (m, cg, k, k)).astype(np.int8)
    attrs = dict(group=g, strides=[s, sw], pads=[k // 2, k // 2, 0, k // 2], dilations=[d, d])
    a, v = _conv(x, w, attrs, xt, np.int8, True, k, False)
    b, _ = _conv(x, w, attrs, xt, np.int8, True, k, True)
    assert v == ("qconv2d_im2col" if g == 1 else "qconv2d_grouped")
    np.testing.assert_array_equal(a, b)
    if g == 1:  # chosen per run from the plane size (ops/qlinear.PLANE_MIN_HW)
        op = QLinearConv(_node("QLinearConv"), **attrs)
        from tinyinfer.registry import InputInfo
        op.prepare(InputInfo("x"), InputInfo("s"), InputInfo("z"), InputInfo("w", const=w))
        _ = op.run(x, np.float32(0.02), np.asarray(xt(7)), w, np.float32(0.01), np.int8(0),
                   np.float32(0.11), np.asarray(xt(3)))
        assert op._hit[3][0] == "qconv2d_grouped"
    # the twin from the same arguments the kernel got
    op = QLinearConv(_node("QLinearConv"), **attrs)
    win = op.geometry(x.shape, w.shape)
    mult = rng.uniform(1e-4, 2e-3, m).astype(np.float32)
    bias = rng.integers(-3000, 3000, m).astype(np.int32)
    wq = K.pack_grouped(w, np.zeros(m, np.int8))
    got = K.qconv2d("qconv2d_grouped", x, 5, wq, w.shape, bias, mult, 3, np.dtype(xt), win)
    want = K.qconv2d_grouped_np(x, 5, wq, bias, mult, 3, np.dtype(xt), win, g)
    np.testing.assert_array_equal(got, want)


@pytest.mark.skipif(not kernels.available(), reason="kernels unavailable")
@pytest.mark.parametrize("n", [1, 15, 16, 17, 255, 256, 257, 4099])
@pytest.mark.parametrize("dt", [np.uint8, np.int8])
def test_quantize_kernel_equals_twin(n, dt):
    """QuantizeLinear per tensor: the one-pass kernel == the NumPy float32 steps, with ties
    (k + 0.5) * s, saturation, +-inf and values beyond 2**24."""
    from tinyinfer.ops.quantize_linear import _quantize_bytes, quantize_bytes_np
    rng = np.random.default_rng(n)
    s = np.float32(0.037)
    x = (rng.integers(-300, 300, n) + 0.5).astype(np.float32) * s
    x[::3] = rng.normal(0, 6, x[::3].shape).astype(np.float32)
    x[:4] = np.array([np.inf, -np.inf, 3e9, -3e9], np.float32)[:min(4, n)]
    lo, hi = (0, 255) if dt is np.uint8 else (-128, 127)
    for zp in (0, 3, 128 if dt is np.uint8 else -7):
        args = (s, np.float32(zp), np.float32(lo), np.float32(hi), np.dtype(dt))
        got = _quantize_bytes(x.reshape(1, -1), *args)
        want = quantize_bytes_np(x.reshape(1, -1), *args)
        assert got.dtype == want.dtype == dt and got.shape == (1, n)
        np.testing.assert_array_equal(got, want)

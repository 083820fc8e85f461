"""Integer kernels (kernels/qgemm_int8.py via kernels/qlinear_int8.py) vs the NumPy reference
in ops/qlinear.py, at sizes just below, at and above the 32-wide K padding, depthwise with
strides/pads/multipliers, uint8 and int8; plus one run under NUMBA_BOUNDSCHECK=1."""
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


SIZES = [(1, 31, 1, 1), (2, 32, 1, 1), (1, 33, 1, 1), (1, 3, 3, 3), (2, 7, 3, 5), (1, 16, 1, 3)]


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
    a, v = _conv(x, w, attrs, xt, wt, i % 2 == 0, i, False)
    b, _ = _conv(x, w, attrs, xt, wt, i % 2 == 0, i, True)
    assert v == "qconv2d_im2col"
    np.testing.assert_array_equal(a, b)


@pytest.mark.skipif(not kernels.available(), reason="kernels unavailable")
@pytest.mark.parametrize("k,s,mult", [(3, 1, 1), (3, 2, 1), (5, 1, 2), (5, 2, 1), (1, 1, 1)])
@pytest.mark.parametrize("xt", [np.uint8, np.int8])
def test_depthwise_equals_reference(k, s, mult, xt):
    rng = np.random.default_rng(k * 10 + s)
    c = 6
    xi = np.iinfo(xt)
    x = rng.integers(xi.min, xi.max + 1, (2, c, 5 + k, 31 + s)).astype(xt)
    w = rng.integers(-128, 128, (c * mult, 1, k, k)).astype(np.int8)
    attrs = dict(group=c, strides=[s, 1], pads=[k // 2, k // 2, k // 2, 0])
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

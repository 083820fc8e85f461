"""ConvTranspose with stride == kernel (kernels/conv_transpose2d_f32.py and its NumPy twin in
ops/conv_transpose.py) against the definition, written as loops here."""
import numpy as np
import pytest

from tinyinfer import ir, kernels
from tinyinfer.ops.conv_transpose import ConvTranspose

needs_numba = pytest.mark.skipif(not kernels.available(), reason="Numba kernels unavailable")


def definition(x, w, b, strides, pads, out_pad=(0, 0), group=1):
    """full[n, m, i*s + t, j*s + u] += x[n, c, i, j] * w[c, m', t, u], cropped by pads, + b."""
    n, c, h, wd = x.shape
    _, mg, kh, kw = w.shape
    sh, sw = strides
    fh, fw = (h - 1) * sh + kh + out_pad[0], (wd - 1) * sw + kw + out_pad[1]
    full = np.zeros((n, mg * group, fh, fw))
    cg = c // group
    for ci in range(c):
        g = ci // cg
        for t in range(kh):
            for u in range(kw):
                for mi in range(mg):
                    full[:, g * mg + mi, t:t + (h - 1) * sh + 1:sh, u:u + (wd - 1) * sw + 1:sw] += \
                        x[:, ci].astype(np.float64) * w[ci, mi, t, u]
    y = full[:, :, pads[0]:fh - pads[2], pads[1]:fw - pads[3]]
    if b is not None:
        y = y + b.reshape(1, -1, 1, 1)
    return y


CASES = [  # (x shape, w shape, strides, pads, group, bias)
    ((1, 3, 1, 1), (3, 2, 2, 2), [2, 2], [0, 0, 0, 0], 1, True),
    ((2, 4, 5, 7), (4, 3, 2, 2), [2, 2], [0, 0, 0, 0], 1, True),
    ((1, 4, 8, 9), (4, 3, 2, 2), [2, 2], [0, 0, 0, 0], 1, False),
    ((1, 2, 3, 17), (2, 5, 3, 3), [3, 3], [1, 0, 2, 1], 1, True),   # cropped
    ((1, 4, 4, 16), (4, 1, 2, 3), [2, 3], [0, 0, 0, 0], 2, True),   # groups, kh != kw
    ((1, 6, 3, 3), (6, 2, 1, 1), [1, 1], [0, 0, 0, 0], 3, True),    # 1x1 stride 1
]


@pytest.mark.parametrize("impl", ["", "reference"])
@pytest.mark.parametrize("case", CASES)
def test_tiled_convtranspose_matches_definition(monkeypatch, impl, case):
    if impl == "" and not kernels.available():
        pytest.skip("Numba kernels unavailable")
    monkeypatch.setenv("TINYINFER_IMPL", impl)
    xs, ws, strides, pads, group, bias = case
    rng = np.random.default_rng(sum(xs))
    x = rng.standard_normal(xs).astype(np.float32)
    w = rng.standard_normal(ws).astype(np.float32)
    w.flags.writeable = False
    b = rng.standard_normal(ws[1] * group).astype(np.float32) if bias else None
    if b is not None:
        b.flags.writeable = False
    op = ConvTranspose(ir.Node("ConvTranspose", ("x", "w", "b"), ("y",)), strides=strides,
                       pads=pads, group=group)
    y = op.run(x, w, b)
    ref = definition(x, w, b, strides, pads, group=group)
    assert y.shape == ref.shape and y.dtype == np.float32 and y.flags.c_contiguous
    np.testing.assert_allclose(y, ref, rtol=1e-5, atol=1e-5)


@needs_numba
def test_tiled_kernel_equals_numpy_twin(monkeypatch):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 8, 9, 33)).astype(np.float32)
    w = rng.standard_normal((8, 4, 2, 2)).astype(np.float32)
    b = rng.standard_normal(4).astype(np.float32)
    node = ir.Node("ConvTranspose", ("x", "w", "b"), ("y",))
    y = ConvTranspose(node, strides=[2, 2]).run(x, w, b)
    monkeypatch.setenv("TINYINFER_IMPL", "reference")
    np.testing.assert_array_equal(y, ConvTranspose(node, strides=[2, 2]).run(x, w, b))

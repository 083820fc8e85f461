"""Single-node integer models: tinyinfer's integer outputs equal onnxruntime's exactly."""
import numpy as np
import pytest

from ._ort import run_both, single_node

CASES = []
for t in range(48):
    xt = (np.uint8, np.int8)[t % 2]
    wt = np.int8 if xt is np.int8 else (np.int8, np.uint8)[(t // 2) % 2]
    CASES.append((t, xt, wt))


def _conv_params(rng, t, xt, wt):
    g = (1, 2, 4)[t % 3]
    c = 4 * g
    m = 4 * g if t % 5 else c
    if t % 7 == 0:
        g = c = m = 8  # depthwise
    k, s = (1, 3, 5)[t % 3], (1, 2)[(t // 3) % 2]
    xi, wi = np.iinfo(xt), np.iinfo(wt)
    x = rng.integers(xi.min, xi.max + 1, (1 + t % 2, c, 9, 11)).astype(xt)
    w = rng.integers(wi.min, wi.max + 1, (m, c // g, k, k)).astype(wt)
    pc = t % 3 == 0  # per-channel weight scales and zero points
    shape = (m,) if pc else ()
    wz = np.zeros(shape, wt) if wt is np.int8 else rng.integers(60, 190, shape).astype(wt)
    attrs = dict(group=g, strides=[s, s], pads=[k // 2, 1, k // 2, 0])
    return x, w, pc, shape, wz, attrs


@pytest.mark.parametrize("t,xt,wt", CASES)
def test_qlinearconv_equals_onnxruntime(t, xt, wt):
    rng = np.random.default_rng(t)
    x, w, pc, shape, wz, attrs = _conv_params(rng, t, xt, wt)
    xi = np.iinfo(xt)
    m = w.shape[0]
    consts = dict(x_scale=np.float32(0.02), x_zero_point=np.asarray(xt(rng.integers(xi.min // 2, xi.max // 2))),
                  w=w, w_scale=rng.uniform(0.001, 0.05, shape).astype(np.float32), w_zero_point=wz,
                  y_scale=np.float32(rng.uniform(0.05, 0.5)), y_zero_point=np.asarray(xt(3)),
                  B=rng.integers(-5000, 5000, m).astype(np.int32) if t % 4 else None)
    a, b = run_both(single_node("QLinearConv", {"x": x}, consts, {"y": xt}, attrs), {"x": x})
    np.testing.assert_array_equal(a[0], b[0])


@pytest.mark.parametrize("t,xt,wt", CASES[:24])
def test_convinteger_equals_onnxruntime(t, xt, wt):
    if xt is np.int8:
        pytest.skip("onnxruntime's ConvInteger takes uint8 x only")
    rng = np.random.default_rng(100 + t)
    x, w, pc, shape, wz, attrs = _conv_params(rng, t, xt, wt)
    if pc:
        wz = wz.reshape(-1)[:1].reshape(())  # onnxruntime: per-tensor w_zero_point
    consts = dict(w=w, x_zero_point=np.asarray(xt(rng.integers(0, 200))), w_zero_point=wz)
    a, b = run_both(single_node("ConvInteger", {"x": x}, consts, {"y": np.int32}, attrs), {"x": x})
    np.testing.assert_array_equal(a[0], b[0])


@pytest.mark.parametrize("t,xt,wt", CASES[:24])
def test_qlinearmatmul_equals_onnxruntime(t, xt, wt):
    rng = np.random.default_rng(200 + t)
    xi, wi = np.iinfo(xt), np.iinfo(wt)
    batch = (2,) if t % 2 else ()
    a_ = rng.integers(xi.min, xi.max + 1, batch + (5, 37 + t)).astype(xt)
    b_ = rng.integers(wi.min, wi.max + 1, (37 + t, 7)).astype(wt)
    pc = t % 3 == 0
    shape = (7,) if pc else ()
    bz = np.zeros(shape, wt) if wt is np.int8 else rng.integers(60, 190, shape).astype(wt)
    consts = dict(a_scale=np.float32(0.03), a_zero_point=np.asarray(xt(rng.integers(xi.min // 2, xi.max // 2))),
                  b=b_, b_scale=rng.uniform(0.001, 0.05, shape).astype(np.float32), b_zero_point=bz,
                  y_scale=np.float32(rng.uniform(0.5, 2.0)), y_zero_point=np.asarray(xt(1)))
    a, b = run_both(single_node("QLinearMatMul", {"a": a_}, consts, {"y": xt}), {"a": a_})
    np.testing.assert_array_equal(a[0], b[0])


@pytest.mark.parametrize("t,xt,wt", CASES[:24])
def test_matmulinteger_equals_onnxruntime(t, xt, wt):
    rng = np.random.default_rng(300 + t)
    xi, wi = np.iinfo(xt), np.iinfo(wt)
    a_ = rng.integers(xi.min, xi.max + 1, (3, 6, 40 + t)).astype(xt)
    b_ = rng.integers(wi.min, wi.max + 1, (40 + t, 9)).astype(wt)
    consts = dict(b=b_, a_zero_point=np.asarray(xt(rng.integers(xi.min // 2, xi.max // 2))),
                  b_zero_point=np.asarray(wt(0 if wt is np.int8 else 128)))
    a, b = run_both(single_node("MatMulInteger", {"a": a_}, consts, {"y": np.int32}), {"a": a_})
    np.testing.assert_array_equal(a[0], b[0])

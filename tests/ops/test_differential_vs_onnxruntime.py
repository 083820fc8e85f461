"""Differential tests against onnxruntime on random shapes and attributes (hypothesis), for ops
the project's models use and that other op files do not already cover this way: Resize,
LayerNormalization, Softmax/LogSoftmax, MatMul and Gemm.

Where onnxruntime deviates from the ONNX spec the case is kept out of the strategy and the
deviation is recorded next to it.
"""
import numpy as np
import pytest

ort = pytest.importorskip("onnxruntime")
hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from onnx import TensorProto, helper  # noqa: E402

import tinyinfer  # noqa: E402

SETTINGS = settings(max_examples=40, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])


def run_both(node, inputs, opset, consts=(), out_type=TensorProto.FLOAT):
    """One-node model; ``inputs`` are fed, ``consts`` become initializers."""
    ins = [helper.make_tensor_value_info(n, helper.np_dtype_to_tensor_dtype(a.dtype), a.shape)
           for n, a in inputs]
    inits = [helper.make_tensor(n, helper.np_dtype_to_tensor_dtype(a.dtype), a.shape, a.reshape(-1).tolist())
             for n, a in consts]
    outs = [helper.make_tensor_value_info(o, out_type, None) for o in node.output if o]
    g = helper.make_graph([node], "g", ins, outs, inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)], ir_version=8)
    data = m.SerializeToString()
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    feeds = dict(inputs)
    ref = ort.InferenceSession(data, so, providers=["CPUExecutionProvider"]).run(None, feeds)
    got = tinyinfer.InferenceSession(data).run(None, feeds)
    return got, ref


def assert_close(got, ref, rtol=1e-4, atol=1e-5):
    for g, r in zip(got, ref):
        assert g.shape == r.shape and g.dtype == r.dtype
        np.testing.assert_allclose(g, r, rtol=rtol, atol=atol)


@st.composite
def resize_cases(draw):
    mode = draw(st.sampled_from(["nearest", "linear", "cubic"]))
    coord = draw(st.sampled_from(["half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric"]
                                 + (["tf_crop_and_resize"] if False else [])))
    nearest_mode = draw(st.sampled_from(["round_prefer_floor", "round_prefer_ceil", "floor", "ceil"]))
    n, c = draw(st.integers(1, 2)), draw(st.integers(1, 3))
    h, w = draw(st.integers(2, 9)), draw(st.integers(2, 9))
    use_sizes = draw(st.booleans())
    if use_sizes:
        oh, ow = draw(st.integers(1, 17)), draw(st.integers(1, 17))
        target = ("sizes", np.array([n, c, oh, ow], np.int64))
    else:
        sh = draw(st.sampled_from([0.5, 0.75, 1.0, 1.5, 2.0, 3.0]))
        sw = draw(st.sampled_from([0.5, 0.75, 1.0, 1.5, 2.0, 3.0]))
        target = ("scales", np.array([1, 1, sh, sw], np.float32))
    seed = draw(st.integers(0, 2 ** 16))
    return mode, coord, nearest_mode, (n, c, h, w), target, seed


@SETTINGS
@given(resize_cases())
def test_resize(case):
    mode, coord, nearest_mode, shape, (kind, value), seed = case
    x = np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
    inputs = ["x", "", "scales", ""] if kind == "scales" else ["x", "", "", "sizes"]
    node = helper.make_node("Resize", inputs, ["y"], mode=mode, coordinate_transformation_mode=coord,
                            nearest_mode=nearest_mode)
    got, ref = run_both(node, [("x", x)], 19, consts=[(kind, value)])
    assert_close(got, ref)


@SETTINGS
@given(st.integers(1, 4), st.lists(st.integers(1, 7), min_size=1, max_size=4), st.integers(0, 2 ** 16),
       st.sampled_from([1e-5, 1e-3]), st.booleans())
def test_layer_normalization(axis_pick, shape, seed, eps, with_bias):
    rank = len(shape)
    axis = (axis_pick % rank) - (rank if axis_pick % 2 else 0)  # positive and negative axes
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape).astype(np.float32) * 3 + 1
    norm_shape = tuple(shape[axis:])
    scale = rng.standard_normal(norm_shape).astype(np.float32)
    ins = [("x", x), ("scale", scale)]
    names = ["x", "scale"]
    if with_bias:
        ins.append(("bias", rng.standard_normal(norm_shape).astype(np.float32)))
        names.append("bias")
    node = helper.make_node("LayerNormalization", names, ["y"], axis=axis, epsilon=eps)
    got, ref = run_both(node, ins, 17)
    assert_close(got, ref)


@SETTINGS
@given(st.lists(st.integers(1, 6), min_size=1, max_size=4), st.integers(-4, 3), st.integers(0, 2 ** 16),
       st.sampled_from(["Softmax", "LogSoftmax"]), st.sampled_from([11, 13]))
def test_softmax(shape, axis, seed, op, opset):
    axis = axis % len(shape) - (len(shape) if axis < 0 else 0)
    x = (np.random.default_rng(seed).standard_normal(shape) * 10).astype(np.float32)
    got, ref = run_both(helper.make_node(op, ["x"], ["y"], axis=axis), [("x", x)], opset)
    assert_close(got, ref)


@SETTINGS
@given(st.lists(st.integers(1, 5), min_size=0, max_size=2), st.integers(1, 9), st.integers(1, 9),
       st.integers(1, 9), st.integers(0, 3), st.integers(0, 2 ** 16))
def test_matmul_broadcasting(batch, m, k, n, vec, seed):
    rng = np.random.default_rng(seed)
    a_shape = (*batch, m, k) if vec != 1 else (k,)
    b_shape = (k, n) if vec == 2 else ((*batch[1:], k, n) if vec != 3 else (k,))
    a = rng.standard_normal(a_shape).astype(np.float32)
    b = rng.standard_normal(b_shape).astype(np.float32)
    got, ref = run_both(helper.make_node("MatMul", ["a", "b"], ["y"]), [("a", a), ("b", b)], 13)
    assert_close(got, ref)


@SETTINGS
@given(st.integers(1, 9), st.integers(1, 9), st.integers(1, 9), st.booleans(), st.booleans(),
       st.sampled_from([1.0, 0.5, -2.0]), st.sampled_from([1.0, 0.0, 0.25]),
       st.sampled_from(["none", "scalar", "row", "col", "full"]), st.integers(0, 2 ** 16))
def test_gemm(m, k, n, ta, tb, alpha, beta, c_kind, seed):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((k, m) if ta else (m, k)).astype(np.float32)
    b = rng.standard_normal((n, k) if tb else (k, n)).astype(np.float32)
    inputs = [("a", a), ("b", b)]
    names = ["a", "b"]
    c_shape = {"scalar": (1,), "row": (n,), "col": (m, 1), "full": (m, n)}.get(c_kind)
    if c_shape:
        inputs.append(("c", rng.standard_normal(c_shape).astype(np.float32)))
        names.append("c")
    node = helper.make_node("Gemm", names, ["y"], alpha=alpha, beta=beta, transA=int(ta), transB=int(tb))
    got, ref = run_both(node, inputs, 13)
    assert_close(got, ref)

"""Conv, ConvTranspose and the windowed pools against onnxruntime on random shapes (hypothesis).

Known, deliberate differences are kept out of the strategies and written down here:
  * pools with auto_pad SAME_* and dilation > 1: onnxruntime sizes the padding with the undilated
    kernel; tinyinfer follows the spec (output = ceil(input / stride), pad from the dilated kernel);
  * ConvTranspose with auto_pad SAME_* and a kernel smaller than the stride: onnxruntime clamps
    the total padding at 0 and returns a shorter output; tinyinfer returns input * stride as the
    spec says (the extra positions hold only the bias);
  * pools with auto_pad SAME_* and a kernel smaller than the stride: onnxruntime fails with
    "padding values must be non-negative"; tinyinfer pads by max(0, ...) as the spec's formula;
  * a kernel larger than the padded input: onnxruntime returns an empty or partial output,
    tinyinfer raises RuntimeFailure naming the node.
"""
import numpy as np
import pytest

pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
hyp = pytest.importorskip("hypothesis")
from hypothesis import given, settings, strategies as st  # noqa: E402
from onnx import TensorProto, helper  # noqa: E402

import tinyinfer  # noqa: E402


def _both(op, inputs, attrs, n_out=1):
    names = [f"x{i}" for i in range(len(inputs))]
    node = helper.make_node(op, names, [f"y{i}" for i in range(n_out)], name="n", **attrs)
    gin = [helper.make_tensor_value_info(n, helper.np_dtype_to_tensor_dtype(a.dtype), a.shape)
           for n, a in zip(names, inputs)]
    gout = [helper.make_tensor_value_info(f"y{i}", TensorProto.INT64 if i else TensorProto.FLOAT,
                                          None) for i in range(n_out)]
    model = helper.make_model(helper.make_graph([node], "g", gin, gout), ir_version=9,
                              opset_imports=[helper.make_opsetid("", 19)])
    data, feeds = model.SerializeToString(), dict(zip(names, inputs))
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    ref = ort.InferenceSession(data, so, providers=["CPUExecutionProvider"]).run(None, feeds)
    out = tinyinfer.InferenceSession(data).run(None, feeds)
    for r, o in zip(ref, out):
        assert r.shape == o.shape and r.dtype == o.dtype
        np.testing.assert_allclose(o, r, rtol=1e-4, atol=1e-4)


@st.composite
def geometry(draw, allow_dilated_same=True):
    nsp = draw(st.integers(1, 3))
    k = [draw(st.integers(1, 3)) for _ in range(nsp)]
    s = [draw(st.integers(1, 3)) for _ in range(nsp)]
    d = [draw(st.integers(1, 2)) for _ in range(nsp)]
    sp = [draw(st.integers((ki - 1) * di + 1, 8)) for ki, di in zip(k, d)]
    auto_pad = draw(st.sampled_from(["NOTSET", "NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"]))
    attrs = {"strides": s}
    if auto_pad == "NOTSET":
        attrs["pads"] = [draw(st.integers(0, ki - 1)) for ki in k * 2]
    else:
        attrs["auto_pad"] = auto_pad
    if auto_pad == "NOTSET" or allow_dilated_same:
        attrs["dilations"] = d
    return sp, k, attrs


SETTINGS = settings(max_examples=40, deadline=None, derandomize=True)


@SETTINGS
@given(geometry(allow_dilated_same=False), st.integers(1, 3), st.integers(1, 3),
       st.integers(1, 3), st.integers(0, 2**31))
def test_conv(geo, group, cg, mg, seed):
    sp, k, attrs = geo
    rng = np.random.default_rng(seed)
    x = rng.standard_normal([2, group * cg] + sp).astype(np.float32)
    w = rng.standard_normal([group * mg, cg] + k).astype(np.float32)
    b = rng.standard_normal(group * mg).astype(np.float32)
    _both("Conv", [x, w, b], dict(attrs, group=group))


@SETTINGS
@given(geometry(), st.integers(1, 3), st.integers(1, 3), st.integers(0, 2**31))
def test_conv_transpose(geo, group, mg, seed):
    sp, k, attrs = geo
    if attrs.get("auto_pad", "").startswith("SAME"):
        k = [max(ki, si) for ki, si in zip(k, attrs["strides"])]  # keep total padding >= 0
    rng = np.random.default_rng(seed)
    x = rng.standard_normal([1, group * 2] + sp).astype(np.float32)
    w = rng.standard_normal([group * 2, mg] + k).astype(np.float32)
    _both("ConvTranspose", [x, w], dict(attrs, group=group))


@SETTINGS
@given(geometry(allow_dilated_same=False), st.sampled_from(["MaxPool", "AveragePool", "LpPool"]),
       st.booleans(), st.booleans(), st.integers(0, 2**31))
def test_pools(geo, op, ceil_mode, flag, seed):
    sp, k, attrs = geo
    if attrs.get("auto_pad", "").startswith("SAME"):  # onnxruntime rejects a negative SAME pad
        k = [max(ki, si) for ki, si in zip(k, attrs["strides"])]
        sp = [max(n, ki) for n, ki in zip(sp, k)]
    attrs = dict(attrs, kernel_shape=k)
    if "pads" in attrs and ceil_mode:
        attrs["ceil_mode"] = 1
    if op == "AveragePool":
        attrs["count_include_pad"] = int(flag)
    n_out = 2 if op == "MaxPool" and flag and len(sp) <= 3 and "dilations" not in attrs else 1
    x = np.random.default_rng(seed).standard_normal([2, 3] + sp).astype(np.float32)
    _both(op, [x], attrs, n_out)

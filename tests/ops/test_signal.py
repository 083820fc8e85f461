"""DFT, STFT, windows and MelWeightMatrix: values checked by hand."""
import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper  # noqa: E402

import tinyinfer  # noqa: E402
from tinyinfer.errors import RuntimeFailure  # noqa: E402

F, I64 = TensorProto.FLOAT, TensorProto.INT64


def run(op_type, inputs, opset=20, n_out=1, **attrs):
    names = [n if v is not None else "" for n, v in inputs]
    node = helper.make_node(op_type, names, [f"y{i}" for i in range(n_out)], name="sig", **attrs)
    ins = [helper.make_tensor_value_info(n, helper.np_dtype_to_tensor_dtype(v.dtype), v.shape)
           for n, v in inputs if v is not None]
    outs = [helper.make_tensor_value_info(f"y{i}", TensorProto.UNDEFINED, None) for i in range(n_out)]
    model = helper.make_model(helper.make_graph([node], "g", ins, outs),
                              opset_imports=[helper.make_opsetid("", opset)], ir_version=9)
    feeds = {n: v for n, v in inputs if v is not None}
    return tinyinfer.InferenceSession(model.SerializeToString()).run(None, feeds)


def test_dft_of_1_0_0_0_is_all_ones_and_of_1_1_1_1_is_4_at_dc():
    x = np.array([[1, 0, 0, 0], [1, 1, 1, 1]], np.float32).reshape(2, 4, 1)
    (y,) = run("DFT", [("x", x)], opset=17, axis=1)
    np.testing.assert_allclose(y[0], [[1, 0]] * 4, atol=1e-6)
    np.testing.assert_allclose(y[1], [[4, 0], [0, 0], [0, 0], [0, 0]], atol=1e-6)


def test_dft_onesided_and_inverse_roundtrip_opset20():
    x = np.array([1, 2, 3, 4], np.float32).reshape(1, 4, 1)
    (half,) = run("DFT", [("x", x), ("n", None), ("axis", np.array(1))], onesided=1)
    # X[0] = 10, X[1] = -2 + 2i, X[2] = -2
    np.testing.assert_allclose(half[0], [[10, 0], [-2, 2], [-2, 0]], atol=1e-5)
    (full,) = run("DFT", [("x", x), ("n", None), ("axis", np.array(1))])
    (back,) = run("DFT", [("x", full), ("n", None), ("axis", np.array(1))], inverse=1)
    np.testing.assert_allclose(back[0], [[1, 0], [2, 0], [3, 0], [4, 0]], atol=1e-5)


def test_dft_on_the_re_im_axis_names_the_node():
    x = np.zeros((1, 4, 2), np.float32)
    with pytest.raises(RuntimeFailure, match='node "sig" \\(DFT\\).*axis=2 is out of range'):
        run("DFT", [("x", x), ("n", None), ("axis", np.array(2))])


def test_stft_frames_of_a_constant_signal():
    # signal of ones, frame 4, step 2: 3 frames, each has DC = 4 and nothing else
    x = np.ones((1, 8, 1), np.float32)
    (y,) = run("STFT", [("x", x), ("step", np.array(2)), ("w", None), ("len", np.array(4))],
               opset=17)
    assert y.shape == (1, 3, 3, 2)
    np.testing.assert_allclose(y[0, :, 0], [[4, 0]] * 3, atol=1e-6)
    np.testing.assert_allclose(y[0, :, 1:], 0, atol=1e-6)


def test_windows_by_hand():
    size = np.array(4)
    # periodic N = 4: n = 0..3 -> cos(2 pi n / 4) = 1, 0, -1, 0
    (hann,) = run("HannWindow", [("n", size)], opset=17)
    np.testing.assert_allclose(hann, [0, 0.5, 1, 0.5], atol=1e-7)
    (hamm,) = run("HammingWindow", [("n", size)], opset=17)
    np.testing.assert_allclose(hamm, [4 / 46, 25 / 46, 1, 25 / 46], atol=1e-6)
    (black,) = run("BlackmanWindow", [("n", size)], opset=17, periodic=0, output_datatype=TensorProto.DOUBLE)
    # symmetric N = 3: n = 0..3 -> cos(2 pi n / 3) = 1, -1/2, -1/2, 1; cos(4 pi n / 3) = 1, -1/2, -1/2, 1
    np.testing.assert_allclose(black, [0, 0.63, 0.63, 0], atol=1e-12)
    assert black.dtype == np.float64


def test_mel_weight_matrix_shape_and_rows():
    (w,) = run("MelWeightMatrix", [("m", np.array(8, np.int32)), ("n", np.array(16, np.int32)),
                                   ("r", np.array(8192, np.int32)), ("lo", np.array(0, np.float32)),
                                   ("hi", np.array(4096, np.float32))], opset=17)
    assert w.shape == (9, 8) and w.dtype == np.float32
    assert set(np.unique(w)) <= {0.0, 1.0}

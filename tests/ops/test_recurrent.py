"""RNN, GRU, LSTM: hand-checked values, error wording, and LSTM/GRU against onnxruntime."""
import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
from onnx import helper  # noqa: E402

import tinyinfer  # noqa: E402
from tinyinfer.errors import ModelError, RuntimeFailure  # noqa: E402


def single_node_model(op_type, inputs, outputs, opset=22, **attrs):
    """A one-node model; ``inputs`` is [(name, array or None)], absent ones become ''."""
    names = [n if a is not None else "" for n, a in inputs]
    while names and not names[-1]:
        names.pop()
    node = helper.make_node(op_type, names, outputs, name="rec", **attrs)
    graph_inputs = [helper.make_tensor_value_info(
        n, helper.np_dtype_to_tensor_dtype(a.dtype), a.shape) for n, a in inputs if a is not None]
    elem = helper.np_dtype_to_tensor_dtype(inputs[0][1].dtype)
    graph_outputs = [helper.make_tensor_value_info(o, elem, None) for o in outputs if o]
    graph = helper.make_graph([node], "g", graph_inputs, graph_outputs)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], ir_version=10)
    feeds = {n: a for n, a in inputs if a is not None}
    return model, feeds


def run(op_type, inputs, outputs, **attrs):
    model, feeds = single_node_model(op_type, inputs, outputs, **attrs)
    return tinyinfer.InferenceSession(model.SerializeToString()).run(None, feeds)


f32 = lambda *v: np.array(v, dtype=np.float32)  # noqa: E731


def test_rnn_relu_by_hand():
    # h1 = relu(0.5 * 1) = 0.5;  h2 = relu(0.5 * 2 + 1 * 0.5) = 1.5
    X = f32(1, 2).reshape(2, 1, 1)
    W, R = f32(0.5).reshape(1, 1, 1), f32(1.0).reshape(1, 1, 1)
    Y, Y_h = run("RNN", [("X", X), ("W", W), ("R", R)], ["Y", "Y_h"], hidden_size=1,
                 activations=["Relu"])
    np.testing.assert_allclose(Y.reshape(-1), [0.5, 1.5])
    np.testing.assert_allclose(Y_h.reshape(-1), [1.5])


def test_rnn_reverse_and_affine_alpha_beta():
    # reverse: h(t=1) = 2*(0.5*2) + 1 = 3, then h(t=0) = 2*(0.5*1 + 1*3) + 1 = 8
    X = f32(1, 2).reshape(2, 1, 1)
    W, R = f32(0.5).reshape(1, 1, 1), f32(1.0).reshape(1, 1, 1)
    Y, Y_h = run("RNN", [("X", X), ("W", W), ("R", R)], ["Y", "Y_h"], hidden_size=1,
                 direction="reverse", activations=["Affine"], activation_alpha=[2.0],
                 activation_beta=[1.0])
    np.testing.assert_allclose(Y.reshape(-1), [8, 3])
    np.testing.assert_allclose(Y_h.reshape(-1), [8])


def test_gru_zero_weights_halves_the_state():
    # W = R = B = 0: z = r = 0.5 and h~ = tanh(0) = 0, so H_t = 0.5 * H_{t-1}
    T, N, H = 3, 2, 2
    X = np.ones((T, N, 1), np.float32)
    W, R = np.zeros((1, 3 * H, 1), np.float32), np.zeros((1, 3 * H, H), np.float32)
    h0 = np.ones((1, N, H), np.float32)
    for lbr in (0, 1):
        Y, Y_h = run("GRU", [("X", X), ("W", W), ("R", R), ("B", None), ("sequence_lens", None),
                             ("initial_h", h0)], ["Y", "Y_h"], hidden_size=H,
                     linear_before_reset=lbr)
        np.testing.assert_allclose(Y[:, 0, 0, 0], [0.5, 0.25, 0.125])
        np.testing.assert_allclose(Y_h, np.full((1, N, H), 0.125))


def test_lstm_zero_weights_and_sequence_lens_and_layout():
    # W = R = B = 0: i = f = o = 0.5, c~ = 0, so C_t = 0.5 C_{t-1} and H_t = 0.5 tanh(C_t)
    T, N, H = 3, 2, 1
    X = np.ones((T, N, 1), np.float32)
    W, R = np.zeros((1, 4 * H, 1), np.float32), np.zeros((1, 4 * H, H), np.float32)
    c0 = np.ones((1, N, H), np.float32)
    lens = np.array([3, 1], np.int32)
    inputs = [("X", X), ("W", W), ("R", R), ("B", None), ("sequence_lens", lens),
              ("initial_h", None), ("initial_c", c0)]
    Y, Y_h, Y_c = run("LSTM", inputs, ["Y", "Y_h", "Y_c"], hidden_size=H)
    c = np.array([0.5, 0.25, 0.125])
    np.testing.assert_allclose(Y[:, 0, 0, 0], 0.5 * np.tanh(c), rtol=1e-6)
    np.testing.assert_allclose(Y[:, 0, 1, 0], [0.5 * np.tanh(0.5), 0, 0], rtol=1e-6)  # stops at 1
    np.testing.assert_allclose(Y_c.reshape(-1), [0.125, 0.5])
    np.testing.assert_allclose(Y_h.reshape(-1), 0.5 * np.tanh([0.125, 0.5]), rtol=1e-6)
    # layout=1: the same numbers, batch first
    inputs[0] = ("X", X.transpose(1, 0, 2).copy())
    inputs[6] = ("initial_c", c0.transpose(1, 0, 2).copy())
    Yb, Y_hb, Y_cb = run("LSTM", inputs, ["Y", "Y_h", "Y_c"], hidden_size=H, layout=1)
    np.testing.assert_allclose(Yb, Y.transpose(2, 0, 1, 3))
    np.testing.assert_allclose(Y_cb, Y_c.transpose(1, 0, 2))


def test_lstm_only_requested_outputs():
    X = np.ones((2, 1, 1), np.float32)
    W, R = np.zeros((1, 4, 1), np.float32), np.zeros((1, 4, 1), np.float32)
    (Y_c,) = run("LSTM", [("X", X), ("W", W), ("R", R)], ["", "", "Y_c"], hidden_size=1)
    assert Y_c.shape == (1, 1, 1)


def test_hidden_size_mismatch_names_the_node():
    X = np.ones((2, 1, 3), np.float32)
    W, R = np.zeros((1, 4, 3), np.float32), np.zeros((1, 4, 4), np.float32)
    with pytest.raises((ModelError, RuntimeFailure), match=r'node "rec" \(RNN\).*hidden_size=5'):
        run("RNN", [("X", X), ("W", W), ("R", R)], ["Y"], hidden_size=5)


def test_bad_direction_and_sequence_lens_name_the_node():
    X = np.ones((2, 1, 1), np.float32)
    W, R = np.zeros((1, 3, 1), np.float32), np.zeros((1, 3, 1), np.float32)
    with pytest.raises(ModelError, match=r'node "rec" \(GRU\).*direction=\'sideways\''):
        run("GRU", [("X", X), ("W", W), ("R", R)], ["Y"], hidden_size=1, direction="sideways")
    with pytest.raises(RuntimeFailure, match=r'node "rec" \(GRU\).*sequence_lens \[3\]'):
        run("GRU", [("X", X), ("W", W), ("R", R), ("B", None),
                    ("sequence_lens", np.array([3], np.int32))], ["Y"], hidden_size=1)


# -- against onnxruntime ---------------------------------------------------------------------
ort = pytest.importorskip("onnxruntime")
hyp = pytest.importorskip("hypothesis")
from hypothesis import given, settings, strategies as st  # noqa: E402


def _ort(model, feeds):
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return sess.run(None, feeds)


@st.composite
def recurrent_case(draw, op_type):
    G = {"LSTM": 4, "GRU": 3, "RNN": 1}[op_type]
    T, N, I, H = (draw(st.integers(1, 4)) for _ in range(4))
    direction = draw(st.sampled_from(["forward", "reverse", "bidirectional"]))
    D = 2 if direction == "bidirectional" else 1
    seed = draw(st.integers(0, 2 ** 31))
    rng = np.random.default_rng(seed)
    r = lambda *s: rng.standard_normal(s).astype(np.float32)  # noqa: E731
    attrs = dict(hidden_size=H, direction=direction)
    inputs = [("X", r(T, N, I)), ("W", r(D, G * H, I)), ("R", r(D, G * H, H)),
              ("B", r(D, 2 * G * H) if draw(st.booleans()) else None),
              ("sequence_lens", rng.integers(0, T + 1, N).astype(np.int32)
               if draw(st.booleans()) else None),
              ("initial_h", r(D, N, H) if draw(st.booleans()) else None)]
    if op_type == "LSTM":
        inputs += [("initial_c", r(D, N, H) if draw(st.booleans()) else None),
                   ("P", r(D, 3 * H) if draw(st.booleans()) else None)]
        if draw(st.booleans()):
            attrs["input_forget"] = 1
    if op_type == "GRU" and draw(st.booleans()):
        attrs["linear_before_reset"] = 1
    if draw(st.booleans()):
        attrs["clip"] = draw(st.sampled_from([0.5, 1.0, 3.0]))
    if draw(st.booleans()):
        per_dir = {"LSTM": ["HardSigmoid", "Tanh", "Relu"], "GRU": ["Sigmoid", "LeakyRelu"],
                   "RNN": ["Sigmoid"]}[op_type]
        attrs["activations"] = per_dir * D
    # onnxruntime deviates from the spec for layout=1 (batch-first): its CPU kernels reject it
    # ("Batchwise recurrent operations (layout == 1) are not supported"), so only layout=0 here;
    # layout=1 is covered by the hand test above and the onnx backend tests (*_batchwise).
    outputs = ["Y", "Y_h", "Y_c"] if op_type == "LSTM" else ["Y", "Y_h"]
    return single_node_model(op_type, inputs, outputs, **attrs)


@pytest.mark.parametrize("op_type", ["LSTM", "GRU", "RNN"])
def test_against_onnxruntime(op_type):
    @settings(max_examples=40, deadline=None)
    @given(recurrent_case(op_type))
    def check(case):
        model, feeds = case
        expected = _ort(model, feeds)
        got = tinyinfer.InferenceSession(model.SerializeToString()).run(None, feeds)
        for e, g in zip(expected, got):
            np.testing.assert_allclose(g, e, rtol=1e-4, atol=1e-5)

    check()

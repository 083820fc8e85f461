"""Attention and its relatives (RotaryEmbedding, TensorScatter, LinearAttention,
CausalConvWithState): hand-checked values, error wording, Attention against onnxruntime."""
import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
from onnx import helper  # noqa: E402

import tinyinfer  # noqa: E402
from tinyinfer.errors import ModelError, RuntimeFailure  # noqa: E402


def single_node_model(op_type, inputs, outputs, opset=23, **attrs):
    """A one-node model; ``inputs`` is [(name, array or None)], absent ones become ''."""
    names = [n if a is not None else "" for n, a in inputs]
    while names and not names[-1]:
        names.pop()
    node = helper.make_node(op_type, names, outputs, name="att", **attrs)
    graph_inputs = [helper.make_tensor_value_info(
        n, helper.np_dtype_to_tensor_dtype(a.dtype), a.shape) for n, a in inputs if a is not None]
    elem = helper.np_dtype_to_tensor_dtype(inputs[0][1].dtype)
    graph_outputs = [helper.make_tensor_value_info(o, elem, None) for o in outputs if o]
    graph = helper.make_graph([node], "g", graph_inputs, graph_outputs)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], ir_version=10)
    return model, {n: a for n, a in inputs if a is not None}


def run(op_type, inputs, outputs, opset=23, **attrs):
    model, feeds = single_node_model(op_type, inputs, outputs, opset, **attrs)
    return tinyinfer.InferenceSession(model.SerializeToString()).run(None, feeds)


def qkv(q_len=1, kv_len=3):
    """Q = K = 0 make all scores equal: Y averages the visible rows of V = [[1, 0], [2, 0], ...]."""
    Q = np.zeros((1, 1, q_len, 2), np.float32)
    K = np.zeros((1, 1, kv_len, 2), np.float32)
    V = np.stack([np.arange(1, kv_len + 1), np.zeros(kv_len)], -1).astype(np.float32)[None, None]
    return Q, K, V


def test_uniform_scores_average_v():
    Q, K, V = qkv()
    (Y,) = run("Attention", [("Q", Q), ("K", K), ("V", V)], ["Y"])
    np.testing.assert_allclose(Y.reshape(-1), [2, 0])


def test_causal_bool_mask_and_fully_masked_row():
    Q, K, V = qkv(q_len=3, kv_len=3)
    (Y,) = run("Attention", [("Q", Q), ("K", K), ("V", V)], ["Y"], is_causal=1)
    np.testing.assert_allclose(Y[0, 0, :, 0], [1, 1.5, 2])  # rows see 1, 2, 3 keys
    mask = np.array([[False, False, False], [True, False, True], [True, True, True]])
    Y, P = run("Attention", [("Q", Q), ("K", K), ("V", V), ("attn_mask", mask)],
               ["Y", "", "", "P"], qk_matmul_output_mode=3)
    np.testing.assert_allclose(Y[0, 0, :, 0], [0, 2, 2])  # a row with no key gives 0, not NaN
    np.testing.assert_allclose(P[0, 0, 1], [0.5, 0, 0.5])


def test_past_key_value_and_causal_offset():
    Q, K, V = qkv(q_len=1, kv_len=1)
    past_k = np.zeros((1, 1, 2, 2), np.float32)
    past_v = np.array([[[[1, 0], [2, 0]]]], np.float32)
    Y, pk, pv = run("Attention", [("Q", Q), ("K", K), ("V", V), ("attn_mask", None),
                                  ("past_key", past_k), ("past_value", past_v)],
                    ["Y", "present_key", "present_value"], is_causal=1)
    # the single new query sits after the two cached keys, so it sees all three: mean(1, 2, 1)
    np.testing.assert_allclose(pv[0, 0, :, 0], [1, 2, 1])
    assert pk.shape == (1, 1, 3, 2)
    np.testing.assert_allclose(Y.reshape(-1), [4 / 3, 0], rtol=1e-6)


def test_gqa_3d_scale_and_raw_scores():
    # 3-D inputs, 2 query heads sharing 1 KV head; scale=1 so scores are plain dot products
    Q = np.array([[[1, 0, 0, 1]]], np.float32)          # (1, 1, 2 heads * 2)
    K = np.array([[[1, 0], [0, 1]]], np.float32)        # (1, 2 keys, 1 head * 2)
    V = np.array([[[10, 0], [0, 10]]], np.float32)
    Y, S = run("Attention", [("Q", Q), ("K", K), ("V", V)], ["Y", "", "", "S"], scale=1.0,
               q_num_heads=2, kv_num_heads=1)
    np.testing.assert_allclose(S[0, :, 0], [[1, 0], [0, 1]])
    e = np.exp(1) / (np.exp(1) + 1)
    np.testing.assert_allclose(Y.reshape(-1), [10 * e, 10 * (1 - e), 10 * (1 - e), 10 * e],
                               rtol=1e-6)


def test_attention_errors_name_the_node():
    Q = np.zeros((1, 2, 4), np.float32)
    with pytest.raises(ModelError, match=r'node "att" \(Attention\).*q_num_heads'):
        run("Attention", [("Q", Q), ("K", Q), ("V", Q)], ["Y"])
    Q, K, V = qkv()
    with pytest.raises(RuntimeFailure, match=r'node "att" \(Attention\).*nonpad_kv_seqlen \[7\]'):
        run("Attention", [("Q", Q), ("K", K), ("V", V), ("attn_mask", None), ("past_key", None),
                          ("past_value", None), ("nonpad_kv_seqlen", np.array([7]))], ["Y"],
            opset=24)


def test_rotary_embedding_rotates_pairs():
    # one head of size 2 at positions 0 and 1: (x1, x2) -> (cos x1 - sin x2, sin x1 + cos x2)
    X = np.array([1, 0, 1, 0], np.float32).reshape(1, 1, 2, 2)
    theta = 0.5
    cos = np.cos([[0.0], [theta]]).astype(np.float32)
    sin = np.sin([[0.0], [theta]]).astype(np.float32)
    pos = np.array([[0, 1]], np.int64)
    (Y,) = run("RotaryEmbedding", [("X", X), ("cos", cos), ("sin", sin), ("pos", pos)], ["Y"])
    np.testing.assert_allclose(Y.reshape(2, 2), [[1, 0], [np.cos(theta), np.sin(theta)]],
                               rtol=1e-6)
    with pytest.raises(RuntimeFailure, match=r'node "att" \(RotaryEmbedding\).*position_ids'):
        run("RotaryEmbedding", [("X", X), ("cos", cos), ("sin", sin),
                                ("pos", np.array([[0, 5]], np.int64))], ["Y"])


def test_tensor_scatter_linear_and_circular():
    cache = np.zeros((2, 4, 1), np.float32)
    update = np.array([[[1], [2]], [[3], [4]]], np.float32)
    idx = np.array([1, 3])
    (Y,) = run("TensorScatter", [("c", cache), ("u", update), ("i", idx)], ["Y"], opset=24,
               mode="circular")
    np.testing.assert_array_equal(Y[..., 0], [[0, 1, 2, 0], [4, 0, 0, 3]])
    with pytest.raises(RuntimeFailure, match=r'node "att" \(TensorScatter\).*cache length 4'):
        run("TensorScatter", [("c", cache), ("u", update), ("i", idx)], ["Y"], opset=24)


def test_linear_attention_single_step():
    # T = 1, empty state, linear rule: S = k v^T, o = scale * (q . k) v
    q = np.array([[[1, 2]]], np.float32)
    k = np.array([[[3, 4]]], np.float32)
    v = np.array([[[5, 6]]], np.float32)
    y, S = run("LinearAttention", [("q", q), ("k", k), ("v", v)], ["y", "S"], opset=27,
               q_num_heads=1, kv_num_heads=1, update_rule="linear", scale=0.5)
    np.testing.assert_allclose(S[0, 0], [[15, 18], [20, 24]])
    np.testing.assert_allclose(y.reshape(-1), [0.5 * 11 * 5, 0.5 * 11 * 6])
    with pytest.raises(ModelError, match=r'node "att" \(LinearAttention\).*needs decay'):
        run("LinearAttention", [("q", q), ("k", k), ("v", v)], ["y", "S"], opset=27,
            q_num_heads=1, kv_num_heads=1, update_rule="gated")


def test_causal_conv_with_state():
    # kernel [1, 1] sums each value with its predecessor; the state carries the last value
    x = np.array([[[1, 2, 3]]], np.float32)
    w = np.array([[[1, 1]]], np.float32)
    past = np.array([[[10]]], np.float32)
    y, state = run("CausalConvWithState", [("x", x), ("w", w), ("b", None), ("past", past)],
                   ["y", "state"], opset=27)
    np.testing.assert_allclose(y.reshape(-1), [11, 3, 5])
    np.testing.assert_allclose(state.reshape(-1), [3])
    with pytest.raises(RuntimeFailure, match=r'node "att" \(CausalConvWithState\).*past_state'):
        run("CausalConvWithState", [("x", x), ("w", w), ("b", None),
                                    ("past", np.zeros((1, 1, 2), np.float32))], ["y", "s"],
            opset=27)


# -- Attention against onnxruntime -----------------------------------------------------------
ort = pytest.importorskip("onnxruntime")
pytest.importorskip("hypothesis")
from hypothesis import given, settings, strategies as st  # noqa: E402


@st.composite
def attention_case(draw):
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 31)))
    r = lambda *s: rng.standard_normal(s).astype(np.float32)  # noqa: E731
    B, kv_heads, group = draw(st.integers(1, 2)), draw(st.integers(1, 2)), draw(st.integers(1, 3))
    Hq = kv_heads * group
    Sq, Skv, past = draw(st.integers(1, 4)), draw(st.integers(1, 4)), draw(st.integers(0, 3))
    D, Dv = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    three_d = draw(st.booleans())
    attrs = {}
    if draw(st.booleans()):
        attrs["is_causal"] = 1
        # onnxruntime aligns the causal mask to the bottom-right of past + new keys (offset =
        # total - q_seq); the spec uses offset = past_seq. They agree when kv_seq == q_seq.
        Skv = Sq if past else Skv
    if three_d:
        Q, K, V = r(B, Sq, Hq * D), r(B, Skv, kv_heads * D), r(B, Skv, kv_heads * Dv)
        attrs.update(q_num_heads=Hq, kv_num_heads=kv_heads)
    else:
        Q, K, V = r(B, Hq, Sq, D), r(B, kv_heads, Skv, D), r(B, kv_heads, Skv, Dv)
    T = past + Skv
    mask = None
    kind = draw(st.sampled_from(["none", "float", "bool"]))
    if kind != "none":
        shape = draw(st.sampled_from([(Sq, T), (B, 1, Sq, T), (B, Hq, Sq, T)]))
        mask = r(*shape) if kind == "float" else rng.random(shape) > 0.3
    if draw(st.booleans()):
        attrs["scale"] = draw(st.sampled_from([0.1, 1.0, 2.5]))
    if draw(st.booleans()):
        attrs["softcap"] = draw(st.sampled_from([1.0, 5.0]))
    inputs = [("Q", Q), ("K", K), ("V", V), ("attn_mask", mask),
              ("past_key", r(B, kv_heads, past, D) if past else None),
              ("past_value", r(B, kv_heads, past, Dv) if past else None)]
    outputs = ["Y", "present_key", "present_value"] if past else ["Y"]
    mode = draw(st.sampled_from([None, 0, 1, 2, 3]))
    if mode is not None:
        outputs = ["Y", "present_key" if past else "", "present_value" if past else "", "S"]
        attrs["qk_matmul_output_mode"] = mode
    return single_node_model("Attention", inputs, outputs, 23, **attrs), kind, mode, attrs


@settings(max_examples=150, deadline=None)
@given(attention_case())
def test_attention_against_onnxruntime(case):
    (model, feeds), kind, mode, attrs = case
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    expected = sess.run(None, feeds)
    got = tinyinfer.InferenceSession(model.SerializeToString()).run(None, feeds)
    for e, g in zip(expected, got):
        # onnxruntime masks with the lowest finite float (-3.4e38) where the spec says -inf;
        # that shows in qk_matmul_output mode 2
        e = np.where(e < -1e38, -np.inf, e)
        np.testing.assert_allclose(g, e, rtol=1e-4, atol=1e-5)


def test_flex_attention_score_mod_graph():
    # score_mod multiplies every score by 0, so softmax is uniform and Y averages V
    from onnx import TensorProto, numpy_helper

    s_in = helper.make_tensor_value_info("s", TensorProto.FLOAT, None)
    s_out = helper.make_tensor_value_info("s2", TensorProto.FLOAT, None)
    zero = numpy_helper.from_array(np.array(0, np.float32), "zero")
    score_mod = helper.make_graph([helper.make_node("Mul", ["s", "zero"], ["s2"])], "mod",
                                  [s_in], [s_out], [zero])
    Q = np.ones((1, 1, 1, 2), np.float32)
    K = np.array([[[[5, 0], [0, 1]]]], np.float32)
    V = np.array([[[[2, 0], [4, 0]]]], np.float32)
    node = helper.make_node("FlexAttention", ["Q", "K", "V"], ["Y"], name="flex",
                            domain="ai.onnx.preview", score_mod=score_mod)
    graph = helper.make_graph(
        [node], "g", [helper.make_tensor_value_info(n, TensorProto.FLOAT, None) for n in "QKV"],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, None)])
    model = helper.make_model(graph, ir_version=10, opset_imports=[
        helper.make_opsetid("", 26), helper.make_opsetid("ai.onnx.preview", 1)])
    (Y,) = tinyinfer.InferenceSession(model.SerializeToString()).run(None, dict(Q=Q, K=K, V=V))
    np.testing.assert_allclose(Y.reshape(-1), [3, 0])
    with pytest.raises(RuntimeFailure, match=r'node "flex" \(ai.onnx.preview.FlexAttention\)'):
        tinyinfer.InferenceSession(model.SerializeToString()).run(
            None, dict(Q=Q, K=K, V=V[:, :, :1]))


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2 ** 31), st.booleans(), st.booleans(), st.sampled_from([0, 2, 4]),
       st.integers(1, 3), st.integers(1, 3), st.integers(1, 3))
def test_rotary_embedding_against_onnxruntime(seed, three_d, interleaved, rot_dim, B, H, S):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((B, H, S, 4)).astype(np.float32)
    attrs = dict(interleaved=int(interleaved), rotary_embedding_dim=rot_dim)
    if three_d:
        X = X.reshape(B, S, H * 4)  # only the layout differs; the test just needs some 3-D data
        attrs["num_heads"] = H
    half = (rot_dim or 4) // 2
    cos = rng.standard_normal((6, half)).astype(np.float32)
    sin = rng.standard_normal((6, half)).astype(np.float32)
    pos = rng.integers(0, 6, (B, S)).astype(np.int64)
    model, feeds = single_node_model("RotaryEmbedding", [("X", X), ("cos", cos), ("sin", sin),
                                                         ("pos", pos)], ["Y"], 23, **attrs)
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    (expected,) = sess.run(None, feeds)
    (got,) = tinyinfer.InferenceSession(model.SerializeToString()).run(None, feeds)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)

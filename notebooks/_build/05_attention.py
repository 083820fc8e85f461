# %% [markdown]
# # 05 · Attention
#
# **At the end of this notebook you will be able to** compute scaled dot-product attention and
# multi-head attention step by step in NumPy, check both against tinyinfer's `Attention` op
# (ONNX opset 23), find the self-attention inside a real text recogniser — the project's own
# [models/attn_rec](../models/attn_rec/CARD.md), a conv stem and three transformer blocks written out
# as MatMul/Softmax nodes — capture its attention weights with `sess.run(..., capture=...)`, show that
# those nodes compute exactly the `Attention` op, and plot where each column of a text line looks.
#
# Source files explained here: [tinyinfer/ops/attention.py](../tinyinfer/ops/attention.py) (the op:
# masks, KV cache, grouped heads), [tinyinfer/verify/capture.py](../tinyinfer/verify/capture.py)
# (`capture="all"`) and [tinyinfer/ocr/pipeline.py](../tinyinfer/ocr/pipeline.py) (`norm_line`, the
# recogniser's input). The recogniser was trained on this machine by `models/attn_rec/build.py`.

# %%
import os
import numpy as np
import matplotlib.pyplot as plt
from onnx import helper, TensorProto
from nbsetup import MODELS, render_line
import tinyinfer
rng = np.random.default_rng(0)

# %% [markdown]
# ## 1. Scaled dot-product attention
# Each of `n` queries asks "which of the `m` keys match me?". With queries `Q: (n, d)`, keys
# `K: (m, d)` and values `V: (m, dv)`:
#
# ```
# S = Q K^T / sqrt(d)          (n, m)  similarity of every query with every key
# P = softmax(S) over keys     (n, m)  each row sums to 1: the attention weights
# Y = P V                      (n, dv) each output row is a weighted mean of the values
# ```
# Dividing by `sqrt(d)` keeps the scores' spread independent of `d`, so the softmax does not saturate.

# %%
def softmax(s, axis=-1):
    e = np.exp(s - s.max(axis=axis, keepdims=True))       # minus the max: no overflow, same result
    return e / e.sum(axis=axis, keepdims=True)

def sdpa(q, k, v, causal=False):
    s = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    if causal:                                            # query i sees keys j <= i only
        s = np.where(np.tril(np.ones(s.shape[-2:], bool)), s, -np.inf)
    p = softmax(s)
    return p @ v, p

n, m, d = 6, 6, 8
q, k, v = (rng.standard_normal((n if i == 0 else m, d)).astype(np.float32) for i in range(3))
y, p = sdpa(q, k, v)
print("Y", y.shape, "| rows of P sum to", p.sum(1).round(6))
s = q @ k.T
print(f"score std without scaling {s.std():.2f}, with 1/sqrt(d) {(s / np.sqrt(d)).std():.2f}")

# %% [markdown]
# ## 2. Checked against the Attention op
# ONNX added `Attention` in opset 23. With 4-D inputs `Q: (batch, heads, q_seq, head)`,
# `K, V: (batch, heads, kv_seq, head)` it is exactly the formula above, per batch and head;
# `is_causal=1` adds the triangular mask, `qk_matmul_output_mode=3` also returns `P`.

# %%
def attention_session(**attrs):
    node = helper.make_node("Attention", ["Q", "K", "V"], ["Y", "", "", "P"], qk_matmul_output_mode=3, **attrs)
    g = helper.make_graph([node], "attention",
                          [helper.make_tensor_value_info(x, TensorProto.FLOAT, None) for x in "QKV"],
                          [helper.make_tensor_value_info(x, TensorProto.FLOAT, None) for x in ("Y", "P")])
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 23)]); model.ir_version = 10
    return tinyinfer.InferenceSession(model.SerializeToString())

feeds = {"Q": q[None, None], "K": k[None, None], "V": v[None, None]}   # batch 1, one head
for causal in (0, 1):
    Y, P = attention_session(is_causal=causal).run(None, feeds)
    y_np, p_np = sdpa(q, k, v, causal=bool(causal))
    print(f"is_causal={causal}: max |Y - numpy| {np.abs(Y[0, 0] - y_np).max():.1e}, "
          f"max |P - numpy| {np.abs(P[0, 0] - p_np).max():.1e}")
fig, axes = plt.subplots(1, 2, figsize=(5, 2.2))
for ax, causal in zip(axes, (0, 1)):
    ax.imshow(attention_session(is_causal=causal).run(None, feeds)[1][0, 0], cmap="Blues", vmin=0)
    ax.set_title(f"P, is_causal={causal}"); ax.set_xlabel("key"); ax.set_ylabel("query")
plt.tight_layout(); plt.show()

# %% [markdown]
# ## 3. Multi-head attention
# A transformer layer does not attend once with the full width `d_model`: it projects the tokens
# `X: (seq, d_model)` to queries, keys and values, splits each into `h` heads of `d_model / h`
# features, attends in every head separately (each head can look for something different), joins
# the heads again and mixes them with an output projection:
#
# ```
# Q = X Wq,  K = X Wk,  V = X Wv                    (seq, d_model)
# head_i = softmax(Q_i K_i^T / sqrt(d_head)) V_i    Q_i = the i-th block of d_head columns
# Y = concat(head_1 … head_h) Wo
# ```
# The op covers the middle line. In its 3-D form it takes `(batch, seq, heads*head)` and splits the
# heads itself when given `q_num_heads` and `kv_num_heads`.

# %%
seq, d_model, heads = 10, 24, 4
X = rng.standard_normal((seq, d_model)).astype(np.float32)
Wq, Wk, Wv, Wo = ((rng.standard_normal((d_model, d_model)) / np.sqrt(d_model)).astype(np.float32) for _ in range(4))

def multi_head_numpy(X, heads):
    Q, K, V = X @ Wq, X @ Wk, X @ Wv
    split = lambda A: A.reshape(seq, heads, -1).transpose(1, 0, 2)     # (heads, seq, d_head)
    Yh, P = sdpa(split(Q), split(K), split(V))
    return Yh.transpose(1, 0, 2).reshape(seq, d_model) @ Wo, P

Y_np, P_np = multi_head_numpy(X, heads)
sess3 = attention_session(q_num_heads=heads, kv_num_heads=heads)
Y3, P3 = sess3.run(None, {"Q": (X @ Wq)[None], "K": (X @ Wk)[None], "V": (X @ Wv)[None]})
print("op output", Y3.shape, "(batch, seq, heads*head); weights", P3.shape, "(batch, heads, q, k)")
print(f"max |Y - numpy| after Wo: {np.abs(Y3[0] @ Wo - Y_np).max():.1e};  max |P - numpy|: {np.abs(P3[0] - P_np).max():.1e}")

# %% [markdown]
# ## 4. Attention inside a text recogniser
# The project's attention recogniser turns a 48-pixel-high text line into a sequence of feature
# columns, one per 4 pixels of width, adds sinusoidal positions, and runs three transformer blocks of
# four heads over that sequence before the CTC head (notebook 06). The exporter wrote each head out
# as plain nodes: `Softmax(MatMul(q · scale, kᵀ))`, then `MatMul(·, v)`; the build named each
# Softmax output `attn/block{b}/head{h}` and listed the names in the model's `attention` metadata
# entry, so one `capture=` call returns every map.

# %%
from tinyinfer.ocr.pipeline import norm_line
REC = os.path.join(MODELS, "attn_rec", "attn_rec.onnx")
TEXT = "SN 4F7K-2291 PN 7741/0032-B"
line = render_line(TEXT)
x = norm_line(np.repeat(line[:, :, None], 3, 2), 48, int(48 * max(320 / 48, line.shape[1] / 48)))[None]
sess = tinyinfer.InferenceSession(REC)
names = sess.get_modelmeta().custom_metadata_map["attention"].splitlines()
outs, values = sess.run(None, {"x": x}, capture="all")
from tinyinfer.ocr import ctc
chars = ctc.load_characters(sess.get_modelmeta().custom_metadata_map)
print("read:", repr(ctc.greedy(outs[0][0], chars).text))
print(len(names), "attention maps, e.g.", names[0], values[names[0]].shape, "(batch, query token, key token)")
print("input", x.shape, "-> CTC probabilities", outs[0].shape)

# %% [markdown]
# Are these nodes the `Attention` op? Walk one step back and one step forward from the first map:
# its Softmax reads `MatMul(Mul(q, scale), Transpose(k))`, and `MatMul(P, v)` reads it. Feed the
# captured `q, k, v` to a one-node `Attention` model and compare with the captured tensors.

# %%
nodes = sess.model.graph.nodes
producer = {o: n for n in nodes for o in n.outputs}
def qkv_of(name):
    """The captured q, k, v, the scale and the Softmax / P·V nodes behind one attention map."""
    sm = producer[name]
    qk = producer[sm.inputs[0]]                              # MatMul(q * scale, k^T)
    mul, kt = producer[qk.inputs[0]], producer[qk.inputs[1]]
    pv = next(n for n in nodes if n.op_type == "MatMul" and n.inputs[0] == name)
    scale = float(np.ravel(values[mul.inputs[1]] if mul.inputs[1] in values
                           else sess.model.graph.initializers[mul.inputs[1]])[0])
    return values[mul.inputs[0]], values[kt.inputs[0]], values[pv.inputs[1]], scale, sm, pv

q_r, k_r, v_r, scale, sm, pv = qkv_of(names[0])
print(f"{sm.op_type} {sm.name}: q {q_r.shape}, k {k_r.shape}, v {v_r.shape}; scale {scale:.6f} = "
      f"1/sqrt({q_r.shape[-1]}) = {1 / np.sqrt(q_r.shape[-1]):.6f}")
Y_op, P_op = attention_session().run(None, {"Q": q_r[:, None], "K": k_r[:, None], "V": v_r[:, None]})
print(f"Attention op vs the model's own nodes: max |P diff| {np.abs(P_op[:, 0] - values[names[0]]).max():.1e}, "
      f"max |Y diff| {np.abs(Y_op[:, 0] - values[pv.outputs[0]]).max():.1e}")

# %% [markdown]
# ### Attention maps over the image
# Token `t` stands for the 4-pixel strip `[4t, 4t + 4)` of the resized line. First the
# tokens × tokens maps of every head (rows: queries, columns: keys):

# %%
blocks = sorted({n.split("/")[1] for n in names})
P = np.stack([np.stack([values[f"attn/{b}/head{h}"][0] for h in range(4)]) for b in blocks])   # (3, 4, T, T)
P1, P2 = P[0], P[1]
T, W = P.shape[-1], x.shape[3]
fig, axes = plt.subplots(len(blocks), 4, figsize=(7, 5.2))
for b in range(len(blocks)):
    for h in range(4):
        axes[b, h].imshow(P[b, h], cmap="viridis", interpolation="nearest"); axes[b, h].set_axis_off()
        axes[b, h].set_title(f"block {b} head {h}", fontsize=7)
plt.tight_layout(); plt.show()
ent = lambda A: float((-(A * np.log(A + 1e-12)).sum(-1)).mean())
print("mean entropy of a row per block:", [round(ent(P[b]), 2) for b in range(len(blocks))],
      f"nats (one key: 0, uniform over {T} tokens: {np.log(T):.2f})")

# %% [markdown]
# A bright diagonal means each token looks at its neighbours; vertical stripes mean that many
# queries look at the *same* keys. Put that on the image: for each key column, the attention it
# receives (mean over heads and queries), and the weights of the query in the middle of the line.

# %%
img = (x[0, 0] + 1) / 2                                       # the resized line, back to [0, 1]
ink = np.array([(img[:, 4 * t:4 * t + 4] < 0.5).mean() for t in range(T)])   # dark pixels per token
xs = np.arange(T) * 4 + 2
fig, (a1, a2) = plt.subplots(2, 1, figsize=(8, 2.8), sharex=True, gridspec_kw={"height_ratios": [1, 1.6]})
a1.imshow(img, cmap="gray", extent=[0, W, 48, 0], aspect="auto"); a1.set_yticks([])
a1.axvline(xs[T // 2], color="r", lw=0.8, ls="--")
for b in range(len(blocks)):
    a2.plot(xs, P[b].mean((0, 1)), ".-", lw=0.8, ms=3, label=f"block {b}: received")
a2.plot(xs, P1[:, T // 2].mean(0), "r-", lw=0.8, label=f"block 0: query token {T // 2} (dashed line)")
a2.set_xlabel("pixel column of the resized line"); a2.set_ylabel("weight"); a2.legend(fontsize=7)
plt.tight_layout(); plt.show()
for b in range(len(blocks)):
    r = P[b].mean((0, 1))
    print(f"block {b}: correlation of attention received with ink per column {np.corrcoef(r, ink)[0, 1]:+.2f}; "
          f"most attended tokens {sorted(np.argsort(r)[::-1][:5].tolist())}")

# %% [markdown]
# Unlike a convolution's, these weights depend on the input: render another text and the maps change
# (try it). A convolution sees a fixed neighbourhood; here every column can gather from anywhere on
# the line, and the printed correlation says whether the heads favour columns with ink or the gaps
# between characters. The entropy measures how spread the weights are — 0 when a query reads one
# key, `ln T` when it reads all alike.
#
# ## Exercises
# Each exercise has an answer cell and a checking cell. The committed notebook holds our solution so
# that it runs green: **replace our solution with yours** and re-run the checking cell.
#
# 1. Compute the attention weights of block 1, head 0 (`P2[0]`) yourself from its captured `q` and
#    `k` (follow the nodes back from `attn/block1/head0` as in section 4).
# 2. For each head of block 0, find the key token that query token `T // 2` attends to most; how
#    many heads put it within ±1 token of the query?
# 3. Add a causal mask to your NumPy multi-head attention (`sdpa(..., causal=True)` per head) and check
#    its weights against the op with `is_causal=1`.

# %%
# --- your answers (replace our solution with yours) ---
q2, k2, _, scale2, _, _ = qkv_of("attn/block1/head0")
my_P2 = softmax(q2 * scale2 @ np.swapaxes(k2, -1, -2))[0]
argmax_keys = P1[:, T // 2].argmax(-1)
near = int(np.sum(np.abs(argmax_keys - T // 2) <= 1))
split = lambda A: A.reshape(seq, heads, -1).transpose(1, 0, 2)
_, my_causal_P = sdpa(split(X @ Wq), split(X @ Wk), split(X @ Wv), causal=True)

# %%
# --- check ---
assert np.abs(my_P2 - P2[0]).max() < 1e-5
assert near == sum(abs(int(P1[h, T // 2].argmax()) - T // 2) <= 1 for h in range(P1.shape[0]))
_, Pc = attention_session(q_num_heads=heads, kv_num_heads=heads, is_causal=1).run(
    None, {"Q": (X @ Wq)[None], "K": (X @ Wk)[None], "V": (X @ Wv)[None]})
assert np.abs(Pc[0] - my_causal_P).max() < 1e-5 and np.all(np.triu(my_causal_P[0], 1) == 0)
print(f"all checks passed: block 1 head 0 weights recomputed ({np.abs(my_P2 - P2[0]).max():.1e}); "
      f"{near} of {P1.shape[0]} heads look within ±1 token of query {T // 2}; causal masks agree")

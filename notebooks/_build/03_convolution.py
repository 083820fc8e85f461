# %% [markdown]
# # 03 · Convolution, from loops to Numba
#
# **At the end of this notebook you will be able to** write a 2-D convolution as plain loops,
# rewrite it as im2col + one matrix product, count its multiply-accumulates (MACs), explain why
# MobileNet's depthwise-separable blocks and ShuffleNet's grouped convolutions with a channel shuffle
# are cheap, and measure all of it against tinyinfer's Conv.
#
# Source files explained here: [tinyinfer/ops/conv.py](../tinyinfer/ops/conv.py) (the NumPy reference —
# the spec), [tinyinfer/kernels/conv2d.py](../tinyinfer/kernels/conv2d.py) (which fast variant a layer
# gets) and [tinyinfer/kernels/conv2d_f32.py](../tinyinfer/kernels/conv2d_f32.py) (the Numba loops),
# [tinyinfer/ops/channel_shuffle.py](../tinyinfer/ops/channel_shuffle.py).

# %%
import os, time
import numpy as np
import matplotlib.pyplot as plt
from nbsetup import MODELS
import tinyinfer
from onnx import helper, TensorProto, numpy_helper

from tinyinfer.kernels import set_threads
set_threads(1)          # one thread for Numba and BLAS: steadier timings on a shared machine
rng = np.random.default_rng(0)

def conv_session(w, group=1, stride=1, pad=1, reference=False):
    """A one-node ONNX model: y = Conv(x, w) — run by tinyinfer."""
    m, cg, kh, kw = w.shape
    g = helper.make_graph(
        [helper.make_node("Conv", ["x", "w"], ["y"], group=group, strides=[stride, stride], pads=[pad] * 4)],
        "conv", [helper.make_tensor_value_info("x", TensorProto.FLOAT, None)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        initializer=[numpy_helper.from_array(w, "w")])
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]); model.ir_version = 8
    if reference:                   # TINYINFER_IMPL=reference: the NumPy spec, no Numba kernel
        os.environ["TINYINFER_IMPL"] = "reference"
    try:
        sess = tinyinfer.InferenceSession(model.SerializeToString())
        sess.run(None, {"x": np.zeros((1, cg * group, kh + 2, kw + 2), np.float32)})  # picks the kernel now
    finally:
        os.environ.pop("TINYINFER_IMPL", None)
    return lambda x: sess.run(None, {"x": x})[0]

def best_time(fn, *args, repeat=5):
    t = []
    for _ in range(repeat):
        t0 = time.perf_counter(); fn(*args); t.append(time.perf_counter() - t0)
    return min(t)

# %% [markdown]
# ## 1. Seven loops
# ONNX Conv is a cross-correlation: `y[n, m, i, j] = Σ_c Σ_u Σ_v x_pad[n, c, i*s + u, j*s + v] · w[m, c, u, v]`
# for `x: (N, C, H, W)` and `w: (M, C, kh, kw)`. Output size: `O = (H + 2p - k) // s + 1`.

# %%
def conv_loops(x, w, stride=1, pad=1):
    n_, c_, h, wd = x.shape
    m_, _, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    oh, ow = (h + 2 * pad - kh) // stride + 1, (wd + 2 * pad - kw) // stride + 1
    y = np.zeros((n_, m_, oh, ow), np.float32)
    for n in range(n_):
        for m in range(m_):
            for i in range(oh):
                for j in range(ow):
                    acc = 0.0
                    for c in range(c_):
                        for u in range(kh):
                            for v in range(kw):
                                acc += xp[n, c, i * stride + u, j * stride + v] * w[m, c, u, v]
                    y[n, m, i, j] = acc
    return y

x = rng.standard_normal((1, 3, 8, 8)).astype(np.float32)
w = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
y_loops = conv_loops(x, w)
y_tiny = conv_session(w)(x)
print("shapes", y_loops.shape, y_tiny.shape, " max |diff|", np.abs(y_loops - y_tiny).max())

# %% [markdown]
# ## 2. im2col + GEMM
# Each output pixel reads a `C·kh·kw` patch. Copy every patch into a column of a matrix (*im2col*),
# and the whole convolution becomes **one matrix product** `(M, C·kh·kw) @ (C·kh·kw, OH·OW)` — which
# BLAS does at close to the CPU's peak. The price is memory: the column matrix is `kh·kw` times the
# input. tinyinfer's `conv2d_f32_gemm` variant builds it in row tiles of ~4 MB with a Numba loop.

# %%
def conv_im2col(x, w, stride=1, pad=1):
    n_, c_, h, wd = x.shape
    m_, _, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    win = np.lib.stride_tricks.sliding_window_view(xp, (kh, kw), axis=(2, 3))[:, :, ::stride, ::stride]
    oh, ow = win.shape[2:4]                                    # win: (N, C, OH, OW, kh, kw)
    cols = win.transpose(0, 1, 4, 5, 2, 3).reshape(n_, c_ * kh * kw, oh * ow)   # (N, C*kh*kw, OH*OW)
    return (w.reshape(m_, -1) @ cols).reshape(n_, m_, oh, ow)  # (M, C*kh*kw) @ cols

print("im2col vs loops max |diff|", np.abs(conv_im2col(x, w) - y_loops).max())
cols_bytes = lambda c, h, k: c * k * k * h * h * 4
print(f"columns for a 64-channel 56x56 input, 3x3: {cols_bytes(64, 56, 3) / 2**20:.1f} MB vs input {64 * 56 * 56 * 4 / 2**20:.2f} MB")

# %% [markdown]
# ## 3. Timings: loops, im2col, tinyinfer's reference and its Numba kernel
# MACs = `N·M·OH·OW·C·kh·kw`. We time growing layers; the pure-Python loops only on the smallest.

# %%
sizes = [(4, 8, 8), (8, 16, 16), (16, 32, 32), (32, 64, 32)]       # (C, M, H=W)
rows = []
for c, m, h in sizes:
    xx = rng.standard_normal((1, c, h, h)).astype(np.float32)
    ww = rng.standard_normal((m, c, 3, 3)).astype(np.float32)
    macs = m * h * h * c * 9
    fast, ref = conv_session(ww), conv_session(ww, reference=True)
    assert np.allclose(fast(xx), ref(xx), atol=1e-3)
    t_loops = best_time(conv_loops, xx, ww, repeat=1) if macs < 100_000 else np.nan
    rows.append((macs, t_loops, best_time(conv_im2col, xx, ww), best_time(ref, xx), best_time(fast, xx)))
rows = np.array(rows)
print(f"{'MACs':>10s} {'loops':>10s} {'im2col':>10s} {'reference':>10s} {'tinyinfer':>10s}   (ms)")
for r in rows:
    print(f"{int(r[0]):>10,d} " + " ".join(f"{v * 1e3:10.3f}" for v in r[1:]))
plt.figure(figsize=(6, 3))
for k, label in enumerate(["Python loops", "im2col + GEMM (NumPy)", "tinyinfer reference", "tinyinfer (Numba/BLAS)"]):
    plt.loglog(rows[:, 0], rows[:, 1 + k] * 1e3, "o-", label=label)
plt.xlabel("MACs"); plt.ylabel("ms"); plt.legend(fontsize=7); plt.title("3x3 convolution"); plt.tight_layout(); plt.show()
print("GMAC/s of tinyinfer on the largest layer:", round(rows[-1, 0] / rows[-1, 4] / 1e9, 2))

# %% [markdown]
# ## 4. Depthwise and grouped convolution
# With `group=g`, the input channels split into `g` groups and each output channel only sees the
# `C/g` channels of its group: `w: (M, C/g, kh, kw)`, MACs divided by `g`. **Depthwise** is the extreme
# `g = C = M`: one `kh×kw` filter per channel, no mixing across channels. MobileNet follows it with a
# **pointwise** 1×1 convolution that mixes channels. Depthwise-separable costs
# `H·W·C·(k² + M)` instead of `H·W·C·M·k²`, a ratio of `1/M + 1/k²` (≈ 1/8 for 3×3, M = 64).

# %%
C, M, H = 32, 64, 32
xx = rng.standard_normal((1, C, H, H)).astype(np.float32)
dense = rng.standard_normal((M, C, 3, 3)).astype(np.float32)
dw = rng.standard_normal((C, 1, 3, 3)).astype(np.float32)
pw = rng.standard_normal((M, C, 1, 1)).astype(np.float32)
grouped = rng.standard_normal((M, C // 4, 3, 3)).astype(np.float32)
run_dense, run_dw = conv_session(dense), conv_session(dw, group=C)
run_pw, run_g4 = conv_session(pw, pad=0), conv_session(grouped, group=4)
macs = {"dense 3x3": H * H * M * C * 9, "grouped g=4": H * H * M * C * 9 // 4,
        "depthwise 3x3": H * H * C * 9, "pointwise 1x1": H * H * M * C}
times = {"dense 3x3": best_time(run_dense, xx), "grouped g=4": best_time(run_g4, xx),
         "depthwise 3x3": best_time(run_dw, xx), "pointwise 1x1": best_time(run_pw, xx)}
for k in macs:
    print(f"{k:15s} {macs[k]:>11,d} MACs  {times[k] * 1e3:7.3f} ms  {macs[k] / times[k] / 1e9:6.2f} GMAC/s")
sep = macs["depthwise 3x3"] + macs["pointwise 1x1"]
print(f"separable / dense MACs = {sep / macs['dense 3x3']:.3f}   (1/M + 1/k^2 = {1 / M + 1 / 9:.3f})")
fig, (a1, a2) = plt.subplots(1, 2, figsize=(8, 2.4))
a1.barh(list(macs), list(macs.values())); a1.set_title("MACs"); a1.set_xscale("log")
a2.barh(list(times), [t * 1e3 for t in times.values()]); a2.set_title("ms (tinyinfer)"); a2.set_yticks([])
plt.tight_layout(); plt.show()

# %% [markdown]
# Depthwise convolution does little arithmetic per byte it reads, so its GMAC/s is far lower than a
# dense layer's: it is memory bound. That is why tinyinfer runs it with direct loops
# (`dwconv2d_f32_nchw` in [kernels/conv2d_f32.py](../tinyinfer/kernels/conv2d_f32.py)) rather than
# im2col, and a 1x1 layer as a plain GEMM with no im2col at all (`conv2d_f32_1x1`).

# %% [markdown]
# ## 5. The MobileNet width multiplier
# MobileNet scales every layer's channel count by a width multiplier α. A pointwise layer's MACs are
# `H·W·C·M`, both proportional to α, so cost falls as **α²**. The bundled digits model's layers:

# %%
from tinyinfer.onnx import load_model
digits = load_model(os.path.join(MODELS, "digits_mobilenet", "digits_mobilenet.onnx"))
feeds = {"image": np.zeros((1, 1, 8, 8), np.float32)}
sess = tinyinfer.InferenceSession(os.path.join(MODELS, "digits_mobilenet", "digits_mobilenet.onnx"))
_, vals = sess.run(None, feeds, capture="all")
layers = []
for n in digits.graph.nodes:
    if n.op_type == "Conv":
        wt = digits.graph.initializers[n.inputs[1]]
        oh, ow = vals[n.outputs[0]].shape[2:]
        layers.append((wt.shape, oh * ow))
def total_macs(alpha):
    tot = 0
    for k, ((m, cg, kh, kw), hw) in enumerate(layers):
        depthwise = cg == 1 and k > 0
        mm = max(1, round(m * alpha))
        cc = 1 if depthwise else (cg if k == 0 else max(1, round(cg * alpha)))
        tot += hw * mm * cc * kh * kw
    return tot
alphas = np.array([0.25, 0.5, 0.75, 1.0, 1.5, 2.0])
macs_a = np.array([total_macs(a) for a in alphas])
plt.figure(figsize=(5, 2.6)); plt.plot(alphas, macs_a, "o-", label="conv MACs")
plt.plot(alphas, macs_a[3] * alphas ** 2, "--", label="α² × MACs(1)")
plt.xlabel("width multiplier α"); plt.legend(); plt.title("digits_mobilenet, scaled"); plt.tight_layout(); plt.show()
print("MACs at α=1:", total_macs(1.0))

# %% [markdown]
# ## 6. Channel shuffle
# Grouped 1×1 convolutions save MACs but cut information flow: group `i` of the next layer only sees
# group `i` of this one. ShuffleNet interleaves the channels between the two: with `C = g·k`,
# `y[:, j·g + i] = x[:, i·k + j]` — a reshape to `(N, g, k, H, W)`, a transpose to `(N, k, g, H, W)`,
# and a reshape back. tinyinfer fuses that Reshape→Transpose→Reshape pattern into one
# `ai.tinyinfer.ChannelShuffle` op ([ops/channel_shuffle.py](../tinyinfer/ops/channel_shuffle.py)).

# %%
def shuffle_model(c, g):
    node = helper.make_node("ChannelShuffle", ["x"], ["y"], domain="ai.tinyinfer", group=g)
    gr = helper.make_graph([node], "shuffle", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, c, 1, 1])],
                           [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, c, 1, 1])])
    mo = helper.make_model(gr, opset_imports=[helper.make_opsetid("", 13), helper.make_opsetid("ai.tinyinfer", 1)])
    mo.ir_version = 8
    return tinyinfer.InferenceSession(mo.SerializeToString())
c, g = 12, 3
xs = np.arange(c, dtype=np.float32).reshape(1, c, 1, 1)
(ys,) = shuffle_model(c, g).run(None, {"x": xs})
print("in :", xs.ravel().astype(int).tolist()); print("out:", ys.ravel().astype(int).tolist())
fig, ax = plt.subplots(figsize=(6, 1.6))
for i in range(c):
    j = int(np.where(ys.ravel() == i)[0][0])
    ax.plot([i, j], [1, 0], color=plt.cm.tab10(i // (c // g)))
ax.set_yticks([0, 1], ["after", "before"]); ax.set_xticks(range(c)); ax.set_title(f"channel shuffle, C={c}, g={g} (colour = group)")
plt.tight_layout(); plt.show()

# %% [markdown]
# ## Exercises
# The committed notebook holds our solution so that it runs green: **replace our solution with
# yours** and re-run the checking cell.
#
# 1. `out_size(h, k, s, p, d)`: the output length of a convolution with dilation `d`.
# 2. `separable_macs(h, w, c, m, k)`: MACs of a depthwise k×k (stride 1, same padding) + pointwise block.
# 3. `my_shuffle(x, g)` in NumPy, equal to tinyinfer's ChannelShuffle.

# %%
# --- your answers (replace our solution with yours) ---
def out_size(h, k, s=1, p=0, d=1):
    return (h + 2 * p - d * (k - 1) - 1) // s + 1

def separable_macs(h, w, c, m, k):
    return h * w * c * k * k + h * w * c * m

def my_shuffle(x, g):
    n, c, hh, ww = x.shape
    return x.reshape(n, g, c // g, hh, ww).transpose(0, 2, 1, 3, 4).reshape(n, c, hh, ww)

# %%
# --- check ---
for (h, k, s, p, d) in [(8, 3, 1, 1, 1), (9, 3, 2, 1, 1), (16, 3, 1, 2, 2), (7, 5, 3, 0, 1)]:
    xq = np.zeros((1, 1, h, h), np.float32)
    g_ = helper.make_graph([helper.make_node("Conv", ["x", "w"], ["y"], strides=[s, s], pads=[p] * 4, dilations=[d, d])],
                           "c", [helper.make_tensor_value_info("x", TensorProto.FLOAT, None)],
                           [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
                           initializer=[numpy_helper.from_array(np.ones((1, 1, k, k), np.float32), "w")])
    mo = helper.make_model(g_, opset_imports=[helper.make_opsetid("", 13)]); mo.ir_version = 8
    assert tinyinfer.InferenceSession(mo.SerializeToString()).run(None, {"x": xq})[0].shape[2] == out_size(h, k, s, p, d)
assert separable_macs(32, 32, 32, 64, 3) == macs["depthwise 3x3"] + macs["pointwise 1x1"]
xq = rng.standard_normal((1, 24, 1, 1)).astype(np.float32)
assert np.array_equal(my_shuffle(xq, 4), shuffle_model(24, 4).run(None, {"x": xq})[0])
print("all checks passed")

# %% [markdown]
# # 04 · Quantisation: float32 → int8, bit for bit
#
# **At the end of this notebook you will be able to** map floats to int8 with a scale and a zero
# point, say when per-channel scales beat a per-tensor scale, compute an integer convolution with an
# int32 accumulator and requantise it (rounding half to even, saturating) exactly as tinyinfer and
# onnxruntime do, and trade model size against accuracy with `converters/`.
#
# Source files explained here: [tinyinfer/ops/quant_common.py](../tinyinfer/ops/quant_common.py)
# (the one requantisation rule), [tinyinfer/ops/qlinear.py](../tinyinfer/ops/qlinear.py)
# (QLinearConv, QLinearMatMul), [tinyinfer/ops/quantize_linear.py](../tinyinfer/ops/quantize_linear.py)
# and the offline quantiser [converters/quantize.py](../converters/quantize.py).

# %%
import os
import numpy as np
import matplotlib.pyplot as plt
from nbsetup import MODELS
import tinyinfer
from onnx import helper, TensorProto, numpy_helper
rng = np.random.default_rng(0)

# %% [markdown]
# ## 1. The affine mapping
# `q = saturate(round(x / scale) + zero_point)` and back `x̂ = (q - zero_point) · scale`. For uint8
# over a range `[lo, hi]` (widened to contain 0, so that 0.0 — padding, ReLU zeros — is exact):
# `scale = (hi - lo) / 255`, `zero_point = round(-lo / scale)`. The rounding is *half to even*
# (`np.rint`), as ONNX QuantizeLinear specifies.

# %%
def qparams_uint8(lo, hi):
    lo, hi = min(lo, 0.0), max(hi, 0.0)
    scale = np.float32((hi - lo) / 255)
    return scale, np.uint8(np.clip(np.rint(-lo / scale), 0, 255))

def quantize(x, scale, zp, lo=0, hi=255, dtype=np.uint8):
    return np.clip(np.rint(x / scale) + zp, lo, hi).astype(dtype)

def dequantize(q, scale, zp):
    return (q.astype(np.float32) - np.float32(zp)) * scale

x = np.linspace(-1.0, 3.0, 2001, dtype=np.float32)
s, z = qparams_uint8(-1.0, 3.0)
xq = dequantize(quantize(x, s, z), s, z)
print(f"scale {s:.6f}  zero point {z}   max error {np.abs(x - xq).max():.6f} = scale/2 = {s / 2:.6f}")
fig, (a1, a2) = plt.subplots(1, 2, figsize=(8, 2.4))
a1.plot(x, xq); a1.set_title("x → dequantize(quantize(x))"); a2.plot(x, x - xq); a2.set_title("error (sawtooth, ±scale/2)")
plt.tight_layout(); plt.show()

# %% [markdown]
# ## 2. Per tensor or per channel?
# Weights are quantised symmetrically to int8 (zero point 0, `scale = max|w| / 127`). One scale for
# the whole tensor must cover the largest output channel; channels with small weights then use only a
# few of the 255 levels. Per-channel scales (one per output channel, `axis=0`) fix that. On the
# digits model's first pointwise layer:

# %%
from tinyinfer.onnx import load_model
MODEL = os.path.join(MODELS, "digits_mobilenet", "digits_mobilenet.onnx")
digits = load_model(MODEL)
convs = [n for n in digits.graph.nodes if n.op_type == "Conv"]
w = digits.graph.initializers[convs[2].inputs[1]]                 # (32, 16, 1, 1)
def sym_int8(w, scale):
    return np.clip(np.rint(w / scale), -127, 127) * scale
s_tensor = np.abs(w).max() / 127
s_channel = np.abs(w).reshape(len(w), -1).max(1).reshape(-1, 1, 1, 1) / 127
err_t = np.abs(sym_int8(w, s_tensor) - w).reshape(len(w), -1).mean(1)
err_c = np.abs(sym_int8(w, s_channel) - w).reshape(len(w), -1).mean(1)
plt.figure(figsize=(7, 2.4)); i = np.arange(len(w))
plt.bar(i - 0.2, err_t, 0.4, label="per tensor"); plt.bar(i + 0.2, err_c, 0.4, label="per channel")
plt.xlabel("output channel"); plt.ylabel("mean |w - ŵ|"); plt.legend(); plt.title(f"{convs[2].name}: weight error")
plt.tight_layout(); plt.show()
print(f"mean error per tensor {err_t.mean():.2e}, per channel {err_c.mean():.2e}")

# %% [markdown]
# ## 3. QLinearConv by hand, bit for bit
# A quantised convolution never dequantises. With `x = sx (qx - zx)` and `w = sw (qw - zw)`:
#
# `y = sx·sw · Σ (qx - zx)(qw - zw) + bias`, so `qy = zy + (sx·sw / sy) · (acc + qbias)`
#
# 1. **accumulate in int32**: `acc = Σ (qx - zx)(qw - zw) + qbias` — exact integer arithmetic
#    (an int8·int8 product fits in 16 bits; thousands of them still fit in 32);
# 2. **requantise**: multiply by `M = sx·sw/sy` (float32), round half to even, add `zy`, saturate to
#    the output type. tinyinfer does exactly onnxruntime's sequence (`requantize` in
#    [quant_common.py](../tinyinfer/ops/quant_common.py)): `float32(acc) * float32 multiplier`, so the
#    result matches bit for bit.
#
# A QLinearConv with uint8 activations and per-channel int8 weights:

# %%
N, C, M, H, K = 1, 8, 6, 10, 3
xf = rng.standard_normal((N, C, H, H)).astype(np.float32)
wf = rng.standard_normal((M, C, K, K)).astype(np.float32) * rng.uniform(0.1, 1.0, (M, 1, 1, 1)).astype(np.float32)
bf = rng.standard_normal(M).astype(np.float32)
x_scale, x_zp = qparams_uint8(xf.min(), xf.max())
qx = quantize(xf, x_scale, x_zp)
w_scale = (np.abs(wf).reshape(M, -1).max(1) / 127).astype(np.float32)          # (M,) per channel
qw = np.clip(np.rint(wf / w_scale.reshape(-1, 1, 1, 1)), -127, 127).astype(np.int8)
w_zp = np.zeros(M, np.int8)
qb = np.rint(bf / (x_scale * w_scale)).astype(np.int32)                          # bias scale = sx*sw, zp 0
y_scale, y_zp = np.float32(0.1), np.uint8(128)

g = helper.make_graph(
    [helper.make_node("QLinearConv", ["x", "xs", "xz", "w", "ws", "wz", "ys", "yz", "b"], ["y"], pads=[1] * 4)],
    "qconv", [helper.make_tensor_value_info("x", TensorProto.UINT8, [N, C, H, H])],
    [helper.make_tensor_value_info("y", TensorProto.UINT8, None)],
    initializer=[numpy_helper.from_array(a, n) for a, n in [
        (np.array(x_scale, np.float32), "xs"), (np.array(x_zp, np.uint8), "xz"), (qw, "w"), (w_scale, "ws"),
        (w_zp, "wz"), (np.array(y_scale, np.float32), "ys"), (np.array(y_zp, np.uint8), "yz"), (qb, "b")]])
qmodel = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]); qmodel.ir_version = 8
(y_tiny,) = tinyinfer.InferenceSession(qmodel.SerializeToString()).run(None, {"x": qx})

# by hand: im2col in int64, the integer GEMM, then requantisation
xp = np.pad(qx.astype(np.int64) - int(x_zp), ((0, 0), (0, 0), (1, 1), (1, 1)))   # pad with zx: 0 after subtracting
cols = np.lib.stride_tricks.sliding_window_view(xp, (K, K), axis=(2, 3))          # (N, C, H, W, K, K)
cols = cols.transpose(0, 1, 4, 5, 2, 3).reshape(N, C * K * K, H * H)
acc = (qw.astype(np.int64).reshape(M, -1) @ cols).reshape(N, M, H, H) + qb.reshape(1, M, 1, 1)
assert np.abs(acc).max() < 2 ** 31
acc = acc.astype(np.int32)                                                        # the int32 accumulator
multiplier = (np.float32(x_scale) * w_scale / y_scale).astype(np.float32)          # float32, in that order
scaled = acc.astype(np.float32) * multiplier.reshape(1, M, 1, 1)                   # float32(acc) * M
y_hand = np.clip(np.rint(scaled) + int(y_zp), 0, 255).astype(np.uint8)           # half to even, saturate
print("bit for bit equal:", np.array_equal(y_hand, y_tiny), "  accumulator range", acc.min(), acc.max())
print("saturated outputs:", int(np.sum((y_hand == 0) | (y_hand == 255))), "of", y_hand.size)

# %% [markdown]
# How close is that to the float convolution? The rounding errors of the inputs and weights add up
# over the C·k·k = 72 products of each output, so expect a few output steps (`y_scale`) — plus
# saturation wherever the float result leaves the range the output scale can represent:

# %%
from tinyinfer.ops.quant_common import requantize
assert np.array_equal(requantize(acc, multiplier.reshape(1, M, 1, 1), y_zp, np.uint8), y_hand)
conv_f = (wf.reshape(M, -1) @ np.lib.stride_tricks.sliding_window_view(
    np.pad(xf, ((0, 0), (0, 0), (1, 1), (1, 1))), (K, K), axis=(2, 3)).transpose(0, 1, 4, 5, 2, 3).reshape(N, C * K * K, -1)
          ).reshape(N, M, H, H) + bf.reshape(1, M, 1, 1)
y_deq = dequantize(y_hand, y_scale, y_zp)
plt.figure(figsize=(4, 3)); plt.scatter(conv_f.ravel(), y_deq.ravel(), s=2)
plt.xlabel("float conv"); plt.ylabel("dequantised QLinearConv"); plt.title("flat ends = saturation"); plt.tight_layout(); plt.show()
inside = (y_hand > 0) & (y_hand < 255)
print(f"max error where not saturated: {np.abs(conv_f - y_deq)[inside].max():.4f} (y_scale = {y_scale})")

# %% [markdown]
# ## 4. Size against accuracy for a real model
# `converters.quantize` rewrites an ONNX file offline: static QDQ or QOperator (activations and weights
# in int8, calibrated on sample inputs), weights-only int8 or int4 (blocked), per-channel or not.
# Every variant here runs in tinyinfer; we measure file size and held-out accuracy.

# %%
import tempfile, io, contextlib
from converters import quantize as convert_quantize
data = np.load(os.path.join(MODELS, "digits_mobilenet", "heldout.npz"))
xh, yh = data["x"], data["y"]
calib = {"image": xh[:64]}
variants = {
    "float32": None,
    "int8 static QDQ, per channel": dict(calibrate=calib, format="qdq"),
    "int8 static QDQ, per tensor": dict(calibrate=calib, format="qdq", per_channel=False),
    "int8 QOperator": dict(calibrate=calib, format="qoperator"),
    "int8 weights only": dict(weights_only=True),
    "int4 weights only (block 32)": dict(bits=4),
}
results = {}
with tempfile.TemporaryDirectory() as tmp:
    for name, opts in variants.items():
        path = MODEL
        if opts is not None:
            path = os.path.join(tmp, "q.onnx")
            with contextlib.redirect_stdout(io.StringIO()):
                convert_quantize(MODEL, path, quiet=True, **opts)
        (lg,) = tinyinfer.InferenceSession(path).run(None, {"image": xh})
        results[name] = (os.path.getsize(path) / 1024, float(np.mean(lg.argmax(1) == yh)))
for name, (kb, acc_) in results.items():
    print(f"{name:30s} {kb:6.1f} KB   accuracy {acc_:.2%}")
plt.figure(figsize=(6, 3))
for name, (kb, acc_) in results.items():
    plt.scatter(kb, acc_ * 100); plt.annotate(name, (kb, acc_ * 100), fontsize=7, xytext=(3, 3), textcoords="offset points")
plt.xlabel("file size (KB)"); plt.ylabel("held-out accuracy (%)"); plt.title("digits_mobilenet, quantised")
plt.tight_layout(); plt.show()

# %% [markdown]
# ## Exercises
# The committed notebook holds our solution so that it runs green: **replace our solution with
# yours** and re-run the checking cell.
#
# 1. `qparams_int8_symmetric(w)`: per-output-channel scales for int8 weights (zero point 0, range ±127).
# 2. What does requantisation give for `acc = [5, 15, 25, -5, 40000]`, `multiplier = 0.1`, `zero_point = 3`
#    into uint8? (Mind the half-to-even rounding and saturation.)
# 3. The largest number of int8×uint8 products (each at most 128·255 in magnitude after zero points)
#    that an int32 accumulator can sum without any risk of overflow.

# %%
# --- your answers (replace our solution with yours) ---
def qparams_int8_symmetric(w):
    return (np.abs(w).reshape(len(w), -1).max(1) / 127).astype(np.float32)

answer_2 = np.array([3, 5, 5, 3, 255], np.uint8)      # rint(0.5)=0, rint(1.5)=2, rint(2.5)=2, rint(-0.5)=-0; 4000 saturates
answer_3 = (2 ** 31 - 1) // (128 * 255)

# %%
# --- check ---
assert np.allclose(qparams_int8_symmetric(wf), w_scale)
assert np.array_equal(answer_2, requantize(np.array([5, 15, 25, -5, 40000], np.int32), np.float32(0.1), np.uint8(3), np.uint8))
assert answer_3 * 128 * 255 <= 2 ** 31 - 1 < (answer_3 + 1) * 128 * 255
print("all checks passed; an int32 accumulator is safe for", answer_3, "products")

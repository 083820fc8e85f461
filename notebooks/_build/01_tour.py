# %% [markdown]
# # 01 · A tour of tinyinfer
#
# **At the end of this notebook you will be able to** load an ONNX model with tinyinfer, run it on
# real data, read what is inside the graph (inputs, opsets, op histogram, parameter sizes), time it,
# and run the OCR pipeline on a text line.
#
# Source files met here: [tinyinfer/session.py](../tinyinfer/session.py) (the `InferenceSession`),
# [tinyinfer/summary.py](../tinyinfer/summary.py) (`tinyinfer info`),
# [tinyinfer/bench.py](../tinyinfer/bench.py) (`tinyinfer bench`),
# [tinyinfer/ocr/pipeline.py](../tinyinfer/ocr/pipeline.py) (the OCR pipeline) and the model card
# folder [models/digits_mobilenet/](../models/digits_mobilenet/).
# Everything runs offline on a CPU; no cell downloads anything.

# %%
import os, time
import numpy as np
import matplotlib.pyplot as plt
from nbsetup import ROOT, MODELS, render_line     # puts this checkout's tinyinfer on sys.path
import tinyinfer
print("tinyinfer", tinyinfer.__version__, "from", os.path.relpath(os.path.dirname(tinyinfer.__file__), ROOT))
print("models/ holds:", sorted(d for d in os.listdir(MODELS) if os.path.isdir(os.path.join(MODELS, d))))

# %% [markdown]
# ## 1. Run a classifier
# `models/digits_mobilenet` is a small MobileNet-style network trained on scikit-learn's 8×8 digit
# scans. Its API is onnxruntime's: `InferenceSession(path)`, then `run(output_names, feeds)`.

# %%
MODEL = os.path.join(MODELS, "digits_mobilenet", "digits_mobilenet.onnx")
sess = tinyinfer.InferenceSession(MODEL)
print("inputs ", [(a.name, a.type, a.shape) for a in sess.get_inputs()])
print("outputs", [(a.name, a.type, a.shape) for a in sess.get_outputs()])
data = np.load(os.path.join(MODELS, "digits_mobilenet", "heldout.npz"))
x, y = data["x"], data["y"]
(logits,) = sess.run(None, {"image": x})
pred = logits.argmax(1)
print(f"held-out accuracy: {np.mean(pred == y):.2%} on {len(y)} images never seen in training")

# %%
fig, axes = plt.subplots(1, 10, figsize=(8, 1.3))
for ax, i in zip(axes, range(10)):
    ax.imshow(x[i, 0], cmap="gray"); ax.set_axis_off()
    ax.set_title(f"{pred[i]}" + ("" if pred[i] == y[i] else f" ({y[i]})"), fontsize=9)
fig.suptitle("held-out digits and the model's answers", fontsize=9); plt.show()

# %% [markdown]
# ## 2. Look inside the graph
# `tinyinfer.onnx.load_model` decodes the file into frozen dataclasses (`Model`, `Graph`, `Node`,
# see [tinyinfer/ir.py](../tinyinfer/ir.py)). `format_summary` is what `tinyinfer info MODEL` prints.

# %%
from tinyinfer.onnx import load_model
from tinyinfer.summary import format_summary, summarize
model = load_model(MODEL)
print(format_summary(model, os.path.relpath(MODEL, ROOT)))

# %%
s = summarize(model)
inits = model.graph.initializers
fig, (a1, a2) = plt.subplots(1, 2, figsize=(9, 3))
ops, counts = zip(*s.op_counts.most_common())
a1.barh(ops[::-1], counts[::-1]); a1.set_title("op histogram (nodes per op type)")
names = sorted(inits, key=lambda k: inits[k].size)
a2.barh([n[-22:] for n in names], [inits[n].size for n in names]); a2.set_xscale("log")
a2.set_title("parameters per weight tensor (log)"); a2.tick_params(axis="y", labelsize=6)
plt.tight_layout(); plt.show()

# %% [markdown]
# Every `Conv` node carries its attributes; the ones with `group` equal to the number of input
# channels are *depthwise* (notebook 03 explains why MobileNet is built from them).

# %%
for n in model.graph.nodes:
    if n.op_type == "Conv":
        w = inits[n.inputs[1]]
        print(f"{n.name:12s} weight {str(w.shape):16s} group={n.attributes.get('group', 1):<3d}"
              f" strides={list(n.attributes.get('strides', [1, 1]))}")

# %% [markdown]
# ## 3. Time it
# [tinyinfer/bench.py](../tinyinfer/bench.py) loads the model, runs it once cold, warms up, then
# reports the median of timed runs (the same as `tinyinfer bench MODEL --shape image=1x1x8x8`).

# %%
from tinyinfer.bench import bench, format_bench
for batch in (1, 64):
    r = bench(MODEL, shapes={"image": (batch, 1, 8, 8)}, runs=10, warmup=2)
    med = r.timings[0].stat("median")
    print(f"batch {batch:3d}: median {med * 1e3:7.2f} ms  = {med * 1e6 / batch:8.1f} µs per image")
print(); print(format_bench(r))

# %% [markdown]
# Every model folder in `models/` follows the same pattern (build script, card, ONNX files). What is
# there right now:

# %%
import glob
for path in sorted(glob.glob(os.path.join(MODELS, "*", "*.onnx"))):
    s_ = summarize(load_model(path))
    print(f"{os.path.relpath(path, MODELS):45s} {s_.parameters:>10,} parameters {s_.nodes:5d} nodes "
          f"{os.path.getsize(path) / 1024:8.1f} KB")

# %% [markdown]
# ## 4. The OCR pipeline
# [tinyinfer/ocr/pipeline.py](../tinyinfer/ocr/pipeline.py) chains up to three models, with the
# conventions of PP-OCR: DB text **det**ection, an optional direction **cls**assifier and CTC
# **rec**ognition. The project trains its own: [models/db_det](../models/db_det/CARD.md) finds text
# lines, [models/crnn_digits](../models/crnn_digits/CARD.md) (conv + LSTM) reads digit lines and
# [models/attn_rec](../models/attn_rec/CARD.md) (conv + transformer) reads alphanumeric ones. First
# one line given directly (`det="none"`), read by the int8 CRNN:

# %%
from tinyinfer.ocr import OCR
line = render_line("4929 1234 5678 9012")
ocr = OCR(det="none", cls="none", rec=os.path.join(MODELS, "crnn_digits", "crnn_digits.int8.onnx"))
result = ocr(np.repeat(line[:, :, None], 3, axis=2))       # (H, W, 3) BGR, like OpenCV
print("first run (includes compiling the Numba kernels it needs, unless cached):",
      {k: f"{v * 1e3:.0f} ms" for k, v in result["timings"].items()})
result = ocr(np.repeat(line[:, :, None], 3, axis=2))
for l in result["lines"]:
    print(repr(l["text"]), "score", round(l["score"], 3))
print("second run:", {k: f"{v * 1e3:.0f} ms" for k, v in result["timings"].items()})
plt.figure(figsize=(6, 1)); plt.imshow(line, cmap="gray"); plt.axis("off"); plt.title(result["lines"][0]["text"]); plt.show()

# %% [markdown]
# Each character comes with its own confidence and the frame where CTC put it (notebook 06 opens
# that up). Now a small page: the detector's output is a per-pixel text probability map, turned
# into boxes by [tinyinfer/ocr/det.py](../tinyinfer/ocr/det.py) (`db_boxes`); each box is cut out
# and read by the attention recogniser.

# %%
page = np.full((150, 440), 255, np.uint8)
for row, text in ((10, "INVOICE 2026-0315"), (58, "TOTAL DUE 42.50"), (104, "METER 01234.5 KWH")):
    l = render_line(text, height=40, size=24); page[row:row + 40, 10:10 + l.shape[1]] = l
bgr = np.repeat(page[:, :, None], 3, 2)
ocr_page = OCR(det=os.path.join(MODELS, "db_det", "db_det.int8.onnx"), cls="none",
               rec=os.path.join(MODELS, "attn_rec", "attn_rec.int8.onnx"))
res = ocr_page(bgr)
print("first run:", {k: f"{v * 1e3:.0f} ms" for k, v in res["timings"].items()})
res = ocr_page(bgr)
for l in res["lines"]:
    print(f"{l['text']!r:24s} score {l['score']:.3f}  box {np.round(l['box']).astype(int).tolist()}")
print("second run:", {k: f"{v * 1e3:.0f} ms" for k, v in res["timings"].items()})
from tinyinfer.ocr import det as D
xd = D.det_input(bgr)
(prob,) = ocr_page.det.run(None, {ocr_page.det.get_inputs()[0].name: xd})
fig, (a1, a2) = plt.subplots(1, 2, figsize=(9, 1.8))
a1.imshow(page, cmap="gray")
for l in res["lines"]:
    b = np.asarray(l["box"]); a1.plot(*np.vstack([b, b[:1]]).T, "r-", lw=0.8)
a2.imshow(prob[0, 0], cmap="magma"); a2.set_title(f"DB probability map {prob.shape[2:]}")
for a in (a1, a2): a.set_axis_off()
plt.show()

# %% [markdown]
# ## Exercises
# Each exercise has an answer cell and a checking cell. The committed notebook holds our solution so
# that it runs green: **replace our solution with yours** and re-run the checking cell.
#
# 1. How many of the model's `Conv` nodes are depthwise (`group` = input channels = output channels)?
# 2. Compute the total number of parameters from `model.graph.initializers` yourself.
# 3. Which digit class does the model get wrong most often on the held-out set?

# %%
# --- your answers (replace our solution with yours) ---
depthwise = sum(1 for n in model.graph.nodes if n.op_type == "Conv"
                and n.attributes.get("group", 1) > 1 and inits[n.inputs[1]].shape[1] == 1)
total_params = sum(a.size for a in model.graph.initializers.values())
wrong = y[pred != y]
most_missed = int(np.bincount(wrong, minlength=10).argmax()) if len(wrong) else None

# %%
# --- check ---
assert depthwise == sum(1 for n in model.graph.nodes if n.op_type == "Conv"
                        and inits[n.inputs[1]].shape[1] == 1 and n.attributes.get("group", 1) == inits[n.inputs[1]].shape[0])
assert total_params == summarize(model).parameters
errs = np.bincount(y[pred != y], minlength=10)
assert most_missed is None or errs[most_missed] == errs.max()
print("all checks passed:", depthwise, "depthwise convs,", total_params, "parameters, most missed:", most_missed)

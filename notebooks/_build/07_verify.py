# %% [markdown]
# # 07 · Verifying another runtime, node by node
#
# **At the end of this notebook you will be able to** compare every intermediate tensor of a real
# model between tinyinfer and another runtime, tell *local* error (a node disagrees on identical
# inputs) from *accumulated* error (it inherits a difference from upstream), and pin a disagreement
# on one node and one formula — here onnx's own `ReferenceEvaluator` on PP-OCR's direction
# classifier, whose BatchNormalization uses `momentum` where the spec says it must not.
#
# Source files explained here: [tinyinfer/verify/core.py](../tinyinfer/verify/core.py) (`verify`),
# [tinyinfer/verify/capture.py](../tinyinfer/verify/capture.py) (`sess.run(..., capture="all")`),
# [tinyinfer/verify/explain.py](../tinyinfer/verify/explain.py) (the BatchNormalization test),
# [tinyinfer/ops/batch_norm.py](../tinyinfer/ops/batch_norm.py). The command-line twin is
# `tinyinfer verify MODEL --against reference`.

# %%
import os
import numpy as np
import matplotlib.pyplot as plt
from nbsetup import ppocr_dir
import tinyinfer
from tinyinfer.verify.core import verify
from tinyinfer.verify.report import format_report
MODEL = os.path.join(ppocr_dir(), "ch_ppocr_mobile_v2.0_cls_infer.onnx")   # from the installed wheel
x = np.random.default_rng(0).uniform(-1, 1, (1, 3, 48, 192)).astype(np.float32)

# %% [markdown]
# ## 1. Capture every intermediate
# `run(..., capture="all")` returns, next to the outputs, every value the graph computes — no graph
# surgery. (Verification runs the graph *as written*, without tinyinfer's fusion passes, so every
# value name of the file exists on both sides.)

# %%
from tinyinfer.verify.core import plain_session
sess = plain_session(MODEL)
outs, values = sess.run(None, {"x": x}, capture="all")
print(len(values), "values captured; output", outs[0].round(4))
names = [n.outputs[0] for n in sess.model.graph.nodes if n.op_type != "Constant"][:6]   # the first computed values
for n in names:
    print(f"  {n:32s} {str(values[n].shape):18s} mean {values[n].mean():+.4f}")

# %% [markdown]
# ## 2. Against onnxruntime: agreement

# %%
r_ort = verify(MODEL, "onnxruntime", {"x": x})
print("first divergence:", r_ort["first_divergence"])
print("compared", r_ort["compared"], "tensors; worst max |diff| over all nodes:",
      f"{max(m['max_abs'] or 0 for row in r_ort['nodes'] for m in row['accumulated'].values()):.2e}")

# %% [markdown]
# ## 3. Against onnx's ReferenceEvaluator: a divergence
# The two errors of every row: **accumulated** (each runtime ran alone) and **local** (tinyinfer's
# node was fed the *other side's* inputs). A node that only inherits error agrees locally.

# %%
r_ref = verify(MODEL, "reference", {"x": x})
print(format_report(r_ref)[:2500])

# %%
rows = r_ref["nodes"]
acc = [max(m["max_abs"] or 0 for m in row["accumulated"].values()) for row in rows]
loc = [max((m["max_abs"] or 0) for m in row["local"].values()) if row["local"] else np.nan for row in rows]
first = r_ref["first_divergence"]
k = next(i for i, row in enumerate(rows) if row["node"] == first["node"])
plt.figure(figsize=(8, 2.8))
plt.semilogy(np.maximum(acc, 1e-9), ".-", label="accumulated", lw=0.8)
plt.semilogy(np.maximum(loc, 1e-9), ".", label="local", ms=4)
plt.axvline(k, color="r", ls="--", lw=0.8); plt.text(k + 1, 1e-2, first["node"], color="r", fontsize=8)
plt.axhline(1e-4, color="gray", lw=0.5); plt.xlabel("node (run order)"); plt.ylabel("max |diff| (floor 1e-9)")
plt.legend(fontsize=8); plt.title("tinyinfer vs ReferenceEvaluator, cls model"); plt.tight_layout(); plt.show()

# %% [markdown]
# Everything before the first BatchNormalization agrees exactly; from it on, the accumulated error
# stays large while the local error of most later nodes is back to ~0: they only inherit it. Every
# BatchNormalization node shows local error of its own.
#
# ## 4. The formula behind it
# BatchNormalization-9 (this model has opset 11) at inference: `y = scale · (x - mean) / sqrt(var + ε) + B`
# with the **stored** `mean` and `var`. `momentum` only describes how training updates those running
# statistics. The ReferenceEvaluator, when `momentum` is present, normalises with
# `mean·momentum + batch_mean·(1 - momentum)` (likewise var). Recompute both from the captured tensors:

# %%
node = next(s.node for s in r_ref["_steps"] if s.node.name == first["node"])
xin, scale, bias, mean, var = (values[n] if n in values else sess.model.graph.initializers[n] for n in node.inputs)
eps, mom = node.attributes.get("epsilon", 1e-5), node.attributes.get("momentum", 0.9)
shape = (1, -1, 1, 1)
def bn(m, v):
    return scale.reshape(shape) * (xin - m.reshape(shape)) / np.sqrt(v.reshape(shape) + eps) + bias.reshape(shape)
spec = bn(mean, var)
bm, bv = xin.mean(axis=(0, 2, 3)), xin.var(axis=(0, 2, 3))
momentum_version = bn(mean * mom + bm * (1 - mom), var * mom + bv * (1 - mom))
theirs = r_ref["_theirs"][node.outputs[0]]
print(f"spec formula      vs tinyinfer: {np.abs(spec - values[node.outputs[0]]).max():.2e}")
print(f"momentum formula  vs ReferenceEvaluator: {np.abs(momentum_version - theirs).max():.2e}")
print(f"tinyinfer vs ReferenceEvaluator: {np.abs(values[node.outputs[0]] - theirs).max():.2e}")

# %%
from tinyinfer.verify.explain import explain_divergence
print(explain_divergence(r_ref))

# %% [markdown]
# ## Exercises
# The committed notebook holds our solution so that it runs green: **replace our solution with
# yours** and re-run the checking cell.
#
# 1. From `r_ref["nodes"]`, list the nodes whose accumulated error exceeds tolerance but whose
#    local error does not (they only inherit error). How many are there?
# 2. Which op types have a *local* disagreement?
# 3. Run `verify` with your own input: a constant image of zeros. Does the first divergence move?

# %%
# --- your answers (replace our solution with yours) ---
inherit = [row["node"] for row in rows if row["local"]
           and not all(m["ok"] for m in row["accumulated"].values())
           and all(m["ok"] for m in row["local"].values())]
local_ops = sorted({row["op"] for row in rows if row["local"] and not all(m["ok"] for m in row["local"].values())})
r_zero = verify(MODEL, "reference", {"x": np.zeros_like(x)})
zero_first = r_zero["first_divergence"]["node"] if r_zero["first_divergence"] else None

# %%
# --- check ---
n_inherit = sum(1 for row in rows if row["local"] and not all(m["ok"] for m in row["accumulated"].values())
                and all(m["ok"] for m in row["local"].values()))
assert len(inherit) == n_inherit
assert local_ops == ["BatchNormalization"], local_ops
assert zero_first == (r_zero["first_divergence"] or {}).get("node")
print(f"all checks passed: {n_inherit} nodes only inherit error; local disagreement only in {local_ops}; "
      f"zeros input: first divergence {zero_first}")

# %% [markdown]
# # 06 · LSTM and CTC: reading a line of text
#
# **At the end of this notebook you will be able to** write an LSTM cell in NumPy and check it
# against tinyinfer's `LSTM` op, explain how CTC turns a recogniser's per-frame class probabilities
# into text, tell greedy (best path), frame beam and prefix beam decoding apart — including a case
# where they disagree — and read a card number end to end with the OCR pipeline, with a confidence
# and a position for every character.
#
# Source files explained here: [tinyinfer/ops/lstm.py](../tinyinfer/ops/lstm.py) (the cell
# equations), [tinyinfer/ops/\_recurrent.py](../tinyinfer/ops/_recurrent.py) (the time loop,
# directions, layouts), [tinyinfer/ocr/ctc.py](../tinyinfer/ocr/ctc.py) (the three decoders) and
# [tinyinfer/ocr/pipeline.py](../tinyinfer/ocr/pipeline.py) (`OCR`). The recogniser is the project's
# own CRNN, [models/crnn_digits](../models/crnn_digits/CARD.md): a conv stack, a bidirectional LSTM
# and CTC over 13 classes, trained on this machine on rendered digit lines (nothing is downloaded).

# %%
import itertools, time
import numpy as np
import matplotlib.pyplot as plt
from onnx import helper, TensorProto, numpy_helper
import os
from nbsetup import MODELS, render_line
import tinyinfer
from tinyinfer.onnx import load_model
from tinyinfer.ocr import OCR, ctc
from tinyinfer.ocr.pipeline import norm_line
CRNN = os.path.join(MODELS, "crnn_digits", "crnn_digits.onnx")
rng = np.random.default_rng(0)

# %% [markdown]
# ## 1. The LSTM cell, in NumPy
# An LSTM reads a sequence `X_1 … X_T` and carries two states: the hidden state `H` (its output) and
# the cell state `C` (its memory). ONNX stacks the weights of the four gates in the order
# **i, o, f, c** (input, output, forget, cell candidate): `W` is `(dirs, 4H, input)`, `R` is
# `(dirs, 4H, H)`, and `B` holds `Wb` then `Rb`, `(dirs, 8H)`. One step:
#
# ```
# i = σ(X_t Wi^T + H Ri^T + Wbi + Rbi)          how much of the candidate to write
# f = σ(X_t Wf^T + H Rf^T + Wbf + Rbf)          how much of the old memory to keep
# c = tanh(X_t Wc^T + H Rc^T + Wbc + Rbc)        the candidate
# C = f ⊙ C + i ⊙ c
# o = σ(X_t Wo^T + H Ro^T + Wbo + Rbo)          how much of the memory to show
# H = o ⊙ tanh(C)
# ```

# %%
def sigmoid(x):
    return 1 / (1 + np.exp(-x))

def lstm_numpy(X, W, R, B, reverse=False):
    """X: (T, batch, input); W, R, B for one direction -> Y (T, batch, H), H_T, C_T and the gates."""
    hidden = R.shape[-1]
    Wb, Rb = B[:4 * hidden], B[4 * hidden:]
    h = np.zeros((X.shape[1], hidden), np.float32); c = np.zeros_like(h)
    Y, trace = np.zeros((X.shape[0], X.shape[1], hidden), np.float32), []
    for t in (range(X.shape[0] - 1, -1, -1) if reverse else range(X.shape[0])):
        z = X[t] @ W.T + h @ R.T + Wb + Rb                      # (batch, 4H): all four gates at once
        i, o, f, g = (z[:, k * hidden:(k + 1) * hidden] for k in range(4))
        i, o, f, g = sigmoid(i), sigmoid(o), sigmoid(f), np.tanh(g)
        c = f * c + i * g
        h = o * np.tanh(c)
        Y[t] = h
        trace.append(dict(i=i, f=f, o=o, C=c))
    return Y, h, c, trace

T, batch, n_in, hidden = 12, 1, 3, 5
X = rng.standard_normal((T, batch, n_in)).astype(np.float32)
W = (rng.standard_normal((1, 4 * hidden, n_in)) * 0.6).astype(np.float32)
R = (rng.standard_normal((1, 4 * hidden, hidden)) * 0.6).astype(np.float32)
B = (rng.standard_normal((1, 8 * hidden)) * 0.3).astype(np.float32)
Y_np, h_np, c_np, gates = lstm_numpy(X, W[0], R[0], B[0])
print("Y", Y_np.shape, " H_T", h_np.shape, " C_T", c_np.shape)

# %% [markdown]
# ## 2. The same cell as one ONNX node
# A one-node model `Y, Y_h, Y_c = LSTM(X, W, R, B)`, run by tinyinfer. `Y` has a `dirs` axis:
# `(T, dirs, batch, H)`.

# %%
def lstm_session(W, R, B, direction="forward"):
    node = helper.make_node("LSTM", ["X", "W", "R", "B"], ["Y", "Y_h", "Y_c"],
                            hidden_size=R.shape[-1], direction=direction)
    g = helper.make_graph([node], "lstm", [helper.make_tensor_value_info("X", TensorProto.FLOAT, None)],
                          [helper.make_tensor_value_info(n, TensorProto.FLOAT, None) for n in ("Y", "Y_h", "Y_c")],
                          initializer=[numpy_helper.from_array(a, n) for a, n in ((W, "W"), (R, "R"), (B, "B"))])
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 14)]); model.ir_version = 8
    return tinyinfer.InferenceSession(model.SerializeToString())

Y, Y_h, Y_c = lstm_session(W, R, B).run(None, {"X": X})
print("Y  ", Y.shape, "max |diff|", np.abs(Y[:, 0] - Y_np).max())
print("Y_h", Y_h.shape, "max |diff|", np.abs(Y_h[0] - h_np).max())
print("Y_c", Y_c.shape, "max |diff|", np.abs(Y_c[0] - c_np).max())

# %%
fig, axes = plt.subplots(1, 4, figsize=(9, 1.9), sharey=True)
for ax, k in zip(axes, ("i", "f", "o", "C")):
    a = np.stack([g[k][0] for g in gates], 1)                   # (hidden, T)
    im = ax.imshow(a, cmap="viridis" if k != "C" else "RdBu_r", aspect="auto",
                   vmin=0 if k != "C" else -np.abs(a).max(), vmax=1 if k != "C" else np.abs(a).max())
    ax.set_title({"i": "input gate i", "f": "forget gate f", "o": "output gate o", "C": "cell state C"}[k])
    ax.set_xlabel("time step")
axes[0].set_ylabel("hidden unit"); plt.tight_layout(); plt.show()

# %% [markdown]
# Gates live in (0, 1): they are soft switches. Where `f` stays near 1 and `i` near 0, a unit keeps
# its memory `C` unchanged across steps — that is what lets an LSTM carry information over long
# sequences. tinyinfer's [lstm.py](../tinyinfer/ops/lstm.py) adds what the spec allows on top:
# peepholes `P`, `clip`, `input_forget`, other activations; [\_recurrent.py](../tinyinfer/ops/_recurrent.py)
# runs the loop for `direction="reverse"` and `"bidirectional"`, `layout=1` and `sequence_lens`.
#
# ## 3. The same equations inside a real recogniser
# The project's CRNN turns a 48-pixel-high line into a sequence: its conv stack reduces every 4-pixel
# column strip to a 96-number feature vector, and a **bidirectional** LSTM (64 units each way) reads
# that sequence left to right and right to left. We capture the LSTM node's input and output from a
# real run (`capture=`) and recompute both directions with `lstm_numpy` from the node's own weights.

# %%
model = load_model(CRNN)
node = next(n for n in model.graph.nodes if n.op_type == "LSTM")
weights = model.graph.initializers
Wl, Rl, Bl = (weights[name] for name in node.inputs[1:4])
print(f"{node.name}: hidden_size {node.attributes['hidden_size']}, direction {node.attributes['direction']!r}")
print("W", Wl.shape, " R", Rl.shape, " B", Bl.shape, "  (directions, 4 gates x hidden, inputs)")

CARD = "4929 1234 5678 9012"
line = render_line(CARD)
sess = tinyinfer.InferenceSession(CRNN)
width = max(320, int(48 * line.shape[1] / line.shape[0]))          # as OCR.recognise sizes a line
x_line = norm_line(np.repeat(line[:, :, None], 3, 2), 48, width)[None]  # (1, 3, 48, width) in [-1, 1]
(_, captured) = sess.run(None, {"x": x_line}, capture=[node.inputs[0], node.outputs[0]])
X_real, Y_real = captured[node.inputs[0]], captured[node.outputs[0]]     # (T, 1, 96), (T, 2, 1, 64)
Y_fwd, _, _, _ = lstm_numpy(X_real, Wl[0], Rl[0], Bl[0])
Y_bwd, _, _, _ = lstm_numpy(X_real, Wl[1], Rl[1], Bl[1], reverse=True)
print("frames T =", X_real.shape[0], " LSTM output", Y_real.shape)
print("forward  max |numpy - tinyinfer|", np.abs(Y_fwd[:, 0] - Y_real[:, 0, 0]).max())
print("backward max |numpy - tinyinfer|", np.abs(Y_bwd[:, 0] - Y_real[:, 1, 0]).max())

# %%
fig, (a1, a2) = plt.subplots(2, 1, figsize=(8, 3.2), gridspec_kw={"height_ratios": [1, 2]})
a1.imshow(x_line[0, 0], cmap="gray", aspect="auto"); a1.set_axis_off(); a1.set_title("the line as the CRNN sees it")
a2.imshow(np.concatenate([Y_real[:, 0, 0], Y_real[:, 1, 0]], 1).T, aspect="auto", cmap="RdBu_r", vmin=-1, vmax=1)
a2.axhline(63.5, color="k", lw=0.8); a2.set_ylabel("hidden unit\n(fwd | bwd)"); a2.set_xlabel("frame (4 px of the line)")
plt.tight_layout(); plt.show()

# %% [markdown]
# Each column of the lower plot is what the classifier on top sees for one 4-pixel strip: the
# forward half has read everything to its left, the backward half everything to its right. A
# linear layer and a softmax turn each column into probabilities over the 13 classes — one
# probability per character class per **frame**. CTC reads those.
#
# ## 4. CTC on a toy example: why best path is not most probable text
# CTC adds a **blank** class (index 0). A *path* picks one class per frame; it *collapses* to text by
# merging repeats and then dropping blanks: `a a ∅ b b` → `ab`, `a ∅ a` → `aa`. The probability of
# a text is the **sum** over all paths that collapse to it.
#
# * **greedy** takes the argmax per frame (the single best path) and collapses it;
# * **frame beam** (`beam_search`) keeps the `width` best paths — still paths;
# * **prefix beam** (`prefix_beam`) keeps the `width` best *texts*, summing the paths that lead to
#   each (the update rules are in its docstring).
#
# Two frames, classes {blank, a}, each frame 60 % blank, 40 % `a`:

# %%
chars = ["blank", "a"]
toy = np.array([[0.6, 0.4], [0.6, 0.4]])
def collapse(path):
    return "".join(chars[c] for k, c in enumerate(path) if c and (k == 0 or path[k - 1] != c))
texts = {}
for path in itertools.product(range(2), repeat=len(toy)):
    p = np.prod([toy[t, c] for t, c in enumerate(path)])
    texts[collapse(path)] = texts.get(collapse(path), 0) + p
    print(f"path {path} -> {collapse(path)!r:5s} p = {p:.2f}")
print("text probabilities:", {k: round(float(v), 2) for k, v in texts.items()})
print("greedy     :", repr(ctc.greedy(toy, chars).text))
print("frame beam :", repr(ctc.beam_search(toy, chars, width=4).text))
print("prefix beam:", repr(ctc.prefix_beam(toy, chars, width=4).text))

# %% [markdown]
# The single best path is blank-blank (0.36), so greedy and frame beam return the empty text, but
# three paths spell `a` and together they weigh 0.64: prefix beam returns `a`. On a confident
# recogniser the two rarely differ; when they do, prefix beam is the one that maximises the text's
# probability. Its other use is **constraints**: `allowed` characters, a `lexicon`, a `regex`.
#
# ## 5. Real probabilities: a card number
# `OCR(det="none", cls="none", rec=CRNN)` treats the whole image as one text line. The `trace` dict
# collects the recogniser's output: `(T, 13)` probabilities — the blank first, then the model's
# `character` metadata entry (`0`–`9`, `.`), then a space.

# %%
ocr = OCR(det="none", cls="none", rec=CRNN)
trace = {}
result = ocr(line, trace=trace)
probs = trace["logits"][0]
print("image", line.shape, "-> probabilities", probs.shape, "(frames × classes)")
print("pipeline read:", repr(result["lines"][0]["text"]), "score", round(result["lines"][0]["score"], 4))
for name, fn in (("greedy", lambda: ctc.greedy(probs, ocr.characters)),
                 ("frame beam", lambda: ctc.beam_search(probs, ocr.characters, width=8)),
                 ("prefix beam", lambda: ctc.prefix_beam(probs, ocr.characters, width=8))):
    t0 = time.perf_counter(); d = fn(); dt = time.perf_counter() - t0
    print(f"{name:12s} {d.text!r:24s} score {d.score:.4f}  {dt * 1e3:7.2f} ms")

# %% [markdown]
# ### The alignment
# Rows: the blank and the characters that occur in the text; columns: frames. Each frame covers a
# fixed strip of the image (the recogniser downsamples the width by 4), so the plot sits under the
# image it reads. Greedy's kept frames are marked: each character is emitted in one frame and the
# blank fills the rest.

# %%
d = ctc.greedy(probs, ocr.characters)
rows = [0] + sorted({ocr.characters.index(c) for c in CARD})
labels = ["∅" if r == 0 else ("␣" if ocr.characters[r] == " " else ocr.characters[r]) for r in rows]
x_in = 48 * line.shape[1] / line.shape[0]                      # the line's width after resizing to 48 high
fig, (a1, a2) = plt.subplots(2, 1, figsize=(8, 3.6), gridspec_kw={"height_ratios": [1, 2.2]})
a1.imshow(line, cmap="gray", extent=[0, x_in, 48, 0]); a1.set_xlim(0, probs.shape[0] * 4); a1.set_axis_off()
a1.set_title("input line (48 px high) and its CTC alignment")
a2.imshow(probs[:, rows].T, aspect="auto", cmap="Greys", extent=[0, probs.shape[0] * 4, len(rows) - 0.5, -0.5])
for ch, p, f in d.chars:
    a2.plot((f + 0.5) * 4, rows.index(ocr.characters.index(ch)), "r.", ms=5)
a2.set_yticks(range(len(rows)), labels); a2.set_xlabel("frame × 4 (pixels of the resized line)")
plt.tight_layout(); plt.show()

# %% [markdown]
# ### When the image is bad
# Add strong noise and the reading can go wrong. Each character's confidence is the probability of
# the emitted class at its frame; the two best classes of a frame show what the model hesitated
# between. Whether the wrong character is also the least confident one is worth checking, not
# assuming:

# %%
noisy = np.clip(line + np.random.default_rng(2).normal(0, 50, line.shape), 0, 255).astype(np.uint8)
tr = {}
r = ocr(noisy, trace=tr)
pn = tr["logits"][0]
dn = ctc.prefix_beam(pn, ocr.characters, width=8, allowed="0123456789 ")
print("read:", repr(dn.text), " truth:", repr(CARD))
conf = sorted(dn.chars, key=lambda c: c[1])
print("three least confident characters:", [(c, round(p, 2), f"frame {f}") for c, p, f in conf[:3]])
for k, (ch, p, f) in enumerate(dn.chars):
    if len(dn.text) == len(CARD) and ch != CARD[k]:
        top2 = np.argsort(pn[f])[::-1][:2]
        print(f"wrong: {ch!r} for {CARD[k]!r} at frame {f}, confidence {p:.2f} (rank "
              f"{[c[2] for c in conf].index(f) + 1} of {len(conf)} from the least confident); frame's top two:",
              [(ocr.characters[j], round(float(pn[f, j]), 2)) for j in top2])
fig, ax = plt.subplots(figsize=(6, 0.9))
ax.imshow(noisy, cmap="gray", extent=[0, x_in, 48, 0]); ax.set_axis_off()
for ch, p, f in dn.chars:
    ax.text((f + 0.5) * 4, -4, ch, ha="center", fontsize=8, color="r" if p < 0.9 else "g")
ax.set_title("σ = 50 noise; red: confidence below 0.9", fontsize=8, pad=12); plt.show()

# %% [markdown]
# A constraint such as `allowed="0123456789 "` or `regex=r"\d{4} \d{4} \d{4} \d{4}"` rules out
# impossible characters, but cannot fix a digit read as another digit — and, as here, the model can
# be confidently wrong, so a confidence threshold would not catch it either. A checksum can: card
# numbers end in a Luhn check digit.
#
# ## Exercises
# Each exercise has an answer cell and a checking cell. The committed notebook holds our solution so
# that it runs green: **replace our solution with yours** and re-run the checking cell.
#
# 1. For a 3-frame toy table `toy3` (below), enumerate all paths, sum the probability of each text, and
#    give the most probable text.
# 2. Change `lstm_numpy` so that it runs backwards (`reverse=True`) and check it against a tinyinfer
#    LSTM node with `direction="reverse"`.
# 3. Decode the clean card's `probs` with prefix beam and `regex=r"\d{4} \d{4} \d{4} \d{4}"`; store the text.

# %%
toy3 = np.array([[0.5, 0.3, 0.2], [0.4, 0.3, 0.3], [0.5, 0.2, 0.3]])       # classes: blank, a, b
chars3 = ["blank", "a", "b"]
# --- your answers (replace our solution with yours) ---
def most_probable_text(table, names):
    acc = {}
    for path in itertools.product(range(table.shape[1]), repeat=len(table)):
        text = "".join(names[c] for k, c in enumerate(path) if c and (k == 0 or path[k - 1] != c))
        acc[text] = acc.get(text, 0) + np.prod([table[t, c] for t, c in enumerate(path)])
    return max(acc, key=acc.get)
best3 = most_probable_text(toy3, chars3)
Yr_np, _, _, _ = lstm_numpy(X, W[0], R[0], B[0], reverse=True)
Yr = lstm_session(W, R, B, direction="reverse").run(None, {"X": X})[0]
card_regex = ctc.prefix_beam(probs, ocr.characters, width=16, regex=r"\d{4} \d{4} \d{4} \d{4}").text

# %%
# --- check ---
import re
assert best3 == ctc.prefix_beam(toy3, chars3, width=16, floor=0).text, best3
assert np.abs(Yr[:, 0] - Yr_np).max() < 1e-5
assert re.fullmatch(r"\d{4} \d{4} \d{4} \d{4}", card_regex) and card_regex == CARD
print(f"all checks passed: most probable text {best3!r}; reverse LSTM agrees "
      f"({np.abs(Yr[:, 0] - Yr_np).max():.1e}); regex decoding {card_regex!r}")

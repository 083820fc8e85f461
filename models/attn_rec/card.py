"""Model card of models/attn_rec: `python models/attn_rec/card.py` rewrites CARD.md."""
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import textgen  # noqa: E402
import zoo  # noqa: E402

NAME = "attn_rec"
TITLE = "attn_rec — attention line recogniser (conv stem + transformer encoder + CTC)"
DESCRIPTION = ("Reads one alphanumeric line — serial and part numbers, licence-plate-like codes, IBAN-like "
               "groups, dates, short upper-case words — from a text-line crop with a small transformer "
               "encoder over a conv stem. Same input and output conventions as PP-OCR rec models, so it "
               "plugs into `tinyinfer ocr IMAGE --det none --cls none --rec models/attn_rec/attn_rec.int8.onnx`; "
               "the character list is the ONNX `character` metadata entry. Each head's attention "
               "probabilities are an ONNX value of their own, `attn/block{b}/head{h}` (b = 0..2, h = 0..3, "
               "shape (N, T, T); listed in the metadata entry `attention`), in the fp32 and the int8 file: "
               "`sess.run(None, {'x': x}, capture=['attn/block0/head0'])` returns them for plotting.")
TASK = "text-line recognition, CTC over 41 classes (blank, 0–9, A–Z, '-', '.', '/', space)"
FP32, INT8 = "attn_rec.onnx", "attn_rec.int8.onnx"
BENCH_SHAPE = "x=1x3x48x320"
METRIC = "line accuracy (held-out fonts)"
SEED = 4321          # noise seed for the held-out lines
ATTN_NAMES = [f"attn/block{b}/head{h}" for b in range(3) for h in range(4)]
HELDOUT = ("`heldout.npz`: 400 lines rendered in the font families DejaVu Sans Mono and STIX General, "
           "never used in training, stored before noise; Gaussian noise is added with seed 4321 when "
           "loaded; a line counts only if the greedy CTC text equals the truth exactly")
QUANTIZE = ("tinyinfer-convert quantize attn_rec.onnx -o attn_rec.int8.onnx --format qoperator "
            "--calibrate calib.npz --keep-names")
DATA = """Rendered with Pillow (`models/textgen.py` for the line images, `alnum_line` in
`build.py` for the texts): licence-plate-like codes (`AB-123-CD`, `KA 01 AB 1234`), serial numbers
(`SN 4F7K-2291`, `S/N …`), part numbers (`PN 7741/0032-B`), IBAN-like groups (`DE89 3704 0044 …`),
dates and versions (`2024-03-15`, `15.03.2024`, `V2.1.3`), short upper-case words with or without a
number, and random alphanumeric groups; font sizes 20–43 px, letter spacing, margins,
flat/gradient/speckled/dark backgrounds, ink colours, ±1.5° rotation, blur, lines scaled to height
48 (at most 640 wide) and zero-padded to the batch width (≥ 320, any width).
Mixed letter/digit groups never use I, O or Q (as in VINs and many serial schemes: many fonts draw
them like 1 and 0); words and letter-only groups use all 26 letters.
Training fonts: the training families (DejaVu Sans and Serif, Computer Modern incl. cmtt10,
Liberation Sans/Narrow/Serif/Mono, FreeSans/Serif/Mono). Phase 1: a pool of 14,000 lines rendered
once (seed 0) whose mixed groups use all 26 letters; phase 2: 10,000 lines (seed 1) in the
deployed alphabet; each batch draws 32 lines of similar width from the pool with fresh Gaussian
sensor noise. Held out: 400 lines (seed 1234) in DejaVu Sans Mono and STIX General (4 styles each),
never seen in training."""
ARCH = """```
x (N, 3, 48, W) in [-1, 1] -> mean over colour                            (1 × 48 × W)
 -> Conv 3×3 s2 32 -> Conv 3×3 s2 48 -> Conv 3×3 s(2,1) 64 -> Conv 3×5 s(2,1) 96
 -> Conv 3×3 96 (no vertical padding), each + BN + ReLU                   (96 × 1 × T), T = ceil(W/4)
 -> (N, T, 96) + sinusoidal positions computed in the graph from T (Range, Sin, Cos)
 -> 3 × pre-norm transformer block:
      x + Linear(concat_h softmax(q_h k_hᵀ / √24) v_h),  4 heads of 24, q/k/v from one Linear 96 -> 288
      x + Linear 192 -> ReLU -> Linear 96                  (LayerNorm before each)
 -> LayerNorm -> Linear 96 -> 41 -> softmax
 -> probs (N, T, 41): class 0 = CTC blank, 1..39 = `character` metadata, 40 = space
```
Each head is written out in ONNX as Slice (of the fused QKV MatMul) -> MatMul(q, kᵀ) -> Softmax ->
MatMul(·, v); the Softmax outputs are named `attn/block{b}/head{h}`, shape (N, T, T), row t = how
output step t weighs the T steps (metadata entry `attention` lists the twelve names).
Trained by `python models/attn_rec/build.py`: CTC loss (zero_infinity), AdamW (weight decay 0.01),
two one-cycle phases of batches of 32 lines of similar width: 2,000 steps at peak lr 2e-3, then
800 steps at peak lr 1e-3, one thread. W is a dynamic axis: `tinyinfer ocr` feeds width 48 × the
line's aspect ratio (at least 320).

int8 (static QOperator, `build.compress`): activation ranges calibrated on 64 lines in training fonts
(`calib.npz` = `build.calibration()`, seed 99); the stem convs become QLinearConv, the weight MatMuls
(QKV, output projections, MLP, classifier) MatMulInteger on int8 weights with float rescale; the
attention MatMuls q·kᵀ and ·v, LayerNorm and the Softmaxes stay float. `--keep-names` keeps the
value names, so the attention maps are captured from the int8 file by the same names."""


def heldout():
    z = np.load(os.path.join(HERE, "heldout.npz"))
    return textgen.unstack_lines(z["lines"], z["widths"], SEED), [str(t) for t in z["texts"]]


def inputs(n=None):
    lines, _ = heldout()
    lines = lines[:n] if n else lines
    w = max(320, max(im.shape[1] for im in lines))
    return textgen.to_input(lines, w)


def feeds():
    return {"x": np.zeros((1, 3, 48, 320), np.float32)}


def batches(batch=50):
    """(indices, x) for the held-out lines in batches of similar width (zoo.line_batches)."""
    return zoo.line_batches(heldout()[0], batch)


def evaluate(path):
    lines, texts = heldout()
    return zoo.line_accuracy(path, lines, texts)


if __name__ == "__main__":
    zoo.write_card(sys.modules[__name__])

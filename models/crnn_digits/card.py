"""Model card of models/crnn_digits: `python models/crnn_digits/card.py` rewrites CARD.md."""
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import textgen  # noqa: E402
import zoo  # noqa: E402

NAME = "crnn_digits"
TITLE = "crnn_digits — CRNN digit-line recogniser (conv + BiLSTM + CTC)"
DESCRIPTION = ("Reads one line of digits — card numbers, meter readings, digit groups — from a text-line "
               "crop. Same input and output conventions as PP-OCR rec models, so it plugs into "
               "`tinyinfer ocr IMAGE --det none --rec models/crnn_digits/crnn_digits.int8.onnx`; the "
               "character list is the ONNX `character` metadata entry.")
TASK = "text-line recognition, CTC over 13 classes (blank, 0–9, '.', space)"
FP32, INT8 = "crnn_digits.onnx", "crnn_digits.int8.onnx"
BENCH_SHAPE = "x=1x3x48x320"
METRIC = "line accuracy (held-out fonts)"
SEED = 4321          # noise seed for the held-out lines
HELDOUT = ("`heldout.npz`: 400 lines rendered in the font families DejaVu Sans Mono and STIX General, "
           "never used in training, stored before noise; Gaussian noise is added with seed 4321 when "
           "loaded; a line counts only if the greedy CTC text equals the truth exactly")
QUANTIZE = ("tinyinfer-convert quantize crnn_digits.onnx --dynamic (int8 per-channel weights: Conv and LSTM "
            "weights stored as int8 + DequantizeLinear, the classifier MatMul as DynamicQuantizeLinear + "
            "MatMulInteger)")
DATA = """Rendered with Pillow (`models/textgen.py`): card numbers (4×4, 4-6-5, unbroken),
meter readings (`01234.5`, `123.45`, 4–8 digits) and digit groups; font sizes 20–43 px, letter
spacing, margins, flat/gradient/speckled/dark backgrounds, ink colours, ±1.5° rotation, blur,
lines scaled to height 48 (at most 512 wide) and zero-padded to the batch width (≥ 320).
Training, stage 1: a pool of 20,000 lines rendered once (seed 0) in the training families of
`models/zoo.py` (DejaVu Sans and DejaVu Serif, Computer Modern incl. the typewriter cmtt10,
Liberation Sans/Narrow/Serif/Mono, GNU FreeSans/Serif/Mono: 46 files); each batch draws 32 lines of
similar width from it with fresh Gaussian sensor noise. Stage 2: a fresh pool of 20,000 lines
(seed 1), every other one with its text shrunk to 50–100 % inside the 48-px line (padded with the
line's edge grey) — small glyphs, as from fonts with tall line metrics or loose boxes. Held out:
400 lines (seed 1234) in DejaVu Sans Mono and STIX General (4 styles each), never seen in training."""
ARCH = """```
x (N, 3, 48, W) in [-1, 1] -> mean over colour                            (1 × 48 × W)
 -> Conv 3×3 s2 32 -> Conv 3×3 s2 48 -> Conv 3×3 s(2,1) 64 -> Conv 3×5 s(2,1) 96
 -> Conv 3×3 96 (no vertical padding), each + BN + ReLU                   (96 × 1 × W/4)
    one CTC step per 4 px, each seeing 39 px of the line
 -> f (W/4, N, 96) -> bidirectional LSTM, 64 per direction -> h (W/4, N, 128)
 -> Linear over [h, f] 224 -> 13 -> softmax
 -> probs (N, W/4, 13): class 0 = CTC blank, 1..11 = `character` metadata, 12 = space
```
Trained by `python models/crnn_digits/build.py`: CTC loss (zero_infinity), AdamW, one-cycle,
batches of 32 lines of similar width, one thread; stage 1 2,500 batches at lr 2e-3 (seed 0),
stage 2 1,600 batches at lr 5e-4 (seed 1). Measured on this machine, its 2 cores shared with 4–9
other busy processes (load average 5–9): stage 1 45 s rendering + 2,474 s training (0.99 s per
batch), stage 2 102 s + 1,210 s (0.76 s per batch), 64 min in all — over the 30-minute budget on
this contended machine.
W is a dynamic axis: `tinyinfer ocr` feeds width 48 × the line's aspect ratio
(at least 320)."""


def heldout():
    z = np.load(os.path.join(HERE, "heldout.npz"))
    return textgen.unstack_lines(z["lines"], z["widths"], SEED), [str(t) for t in z["texts"]]


def inputs(n=None):
    lines, _ = heldout()
    lines = lines[:n] if n else lines
    w = max(320, max(im.shape[1] for im in lines))
    return textgen.to_input(lines, (w + 3) // 4 * 4)


def feeds():
    return {"x": np.zeros((1, 3, 48, 320), np.float32)}


def evaluate(path):
    """Greedy CTC over the held-out lines in batches of similar width, each padded to its batch's
    widest line (at least 320, a multiple of 4: the conv stack's stride)."""
    lines, texts = heldout()
    return zoo.line_accuracy(path, lines, texts, multiple=4)


if __name__ == "__main__":
    zoo.write_card(sys.modules[__name__])

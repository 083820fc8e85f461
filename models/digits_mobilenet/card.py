"""Model card of models/digits_mobilenet: `python models/digits_mobilenet/card.py` rewrites CARD.md."""
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import zoo  # noqa: E402

NAME = "digits_mobilenet"
TITLE = "digits_mobilenet — MobileNet-style handwritten digit classifier"
DESCRIPTION = ("Classifies 8×8 grey scans of handwritten digits into 0–9. Labels are in the ONNX "
               "`labels` metadata entry (`tinyinfer classify IMAGE --model models/digits_mobilenet`).")
TASK = "image classification, 10 classes (digits 0–9)"
FP32, INT8 = "digits_mobilenet.onnx", "digits_mobilenet.int8.onnx"
BENCH_SHAPE = "image=1x1x8x8"
METRIC = "test accuracy"
HELDOUT = "`heldout.npz`, a stratified 20 % of scikit-learn's digits never used in training"
QUANTIZE = ("tinyinfer-convert quantize digits_mobilenet.onnx --format qoperator --calibrate <128 training images> "
            "(QLinearConv, per-channel int8 weights, uint8 activations)")
DATA = """scikit-learn's bundled `digits` set: 1,797 real 8×8 scans (UCI optdigits, 16 grey
levels), pixels scaled to [0, 1]. 20 % of each class (seeded) is held out (`heldout.npz`, 355
images); training uses the rest, with random shifts of up to one pixel."""
ARCH = """Width multiplier α = 1.0 on every channel count; hard-swish activations.

```
x (N, 1, 8, 8) -> Conv 3×3 16 + BN + HardSwish
 -> 3 × depthwise-separable block: DW 3×3 (stride 1, 2, 2) + BN + HardSwish, PW 1×1 + BN + HardSwish
    channels 32, 64, 96
 -> GlobalAveragePool -> Gemm -> logits (N, 10)
```
Trained by `python models/digits_mobilenet/build.py` (AdamW, one-cycle, 120 epochs, seed 0, about a
minute on 2 cores). Exercises depthwise convolution (group = C) and, in int8, QLinearConv."""


def heldout():
    z = np.load(os.path.join(HERE, "heldout.npz"))
    return z["x"], z["y"]


def feeds():
    return {"image": heldout()[0][:1]}


def evaluate(path):
    from tinyinfer import InferenceSession

    x, y = heldout()
    (logits,) = InferenceSession(path).run(None, {"image": x})
    return int((logits.argmax(1) == y).sum()), int(len(y))


if __name__ == "__main__":
    zoo.write_card(sys.modules[__name__])

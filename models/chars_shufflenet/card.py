"""Model card of models/chars_shufflenet: `python models/chars_shufflenet/card.py` rewrites CARD.md."""
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import zoo  # noqa: E402

NAME = "chars_shufflenet"
TITLE = "chars_shufflenet — ShuffleNet-style printed character classifier"
DESCRIPTION = ("Classifies a 32×32 grey crop of one printed character into 0–9 A–Z. Labels are in the "
               "ONNX `labels` metadata entry (`tinyinfer classify IMAGE --model models/chars_shufflenet`; "
               "dark ink on a light background is inverted automatically). Most remaining errors are DejaVu Sans "
               "Mono's `O` read as `0`. That font marks its zero with a dot and draws O as a plain narrow oval: "
               "ink width / height 0.63–0.71, inside the range of the training fonts' zeros (0.54–0.83) and "
               "narrower than every training O but cmtt10's (0.67; the others 0.73–1.08), so in isolation its O "
               "has the proportions of a zero (`python models/chars_shufflenet/card.py --aspect` prints them).")
TASK = "image classification, 36 classes (0–9, A–Z)"
FP32, INT8 = "chars_shufflenet.onnx", "chars_shufflenet.int8.onnx"
BENCH_SHAPE = "image=1x1x32x32"
METRIC = "test accuracy (held-out fonts)"
SEED = 4321
HELDOUT = ("`heldout.npz`: 1,152 characters (36 × 8 font files × 4) rendered in the font families "
           "DejaVu Sans Mono and STIX General, never used in training, stored before noise; Gaussian "
           "noise is added with seed 4321 when loaded")
QUANTIZE = ("tinyinfer-convert quantize chars_shufflenet.onnx --format qoperator --calibrate <256 rendered "
            "training characters> (QLinearConv for grouped and depthwise convolutions)")
DATA = """Rendered with Pillow (`build.py` render_train): 8 epochs of 24,000 characters rendered
afresh each epoch, 0–9 A–Z in turn, drawn at twice the size (font size 18–28 px) with the glyph's
advance box centred (so `0` and `O` keep their widths), strokes thickened by half a pixel (1 in 4),
x-scale 0.85–1.15, shear ±0.25 (1 in 2), rotation ±8°, shifts of ±2 px, area-downsampled, blur,
contrast 0–70 → 160–255, Gaussian noise (σ up to 12) redrawn every epoch. Training fonts (46 files):
DejaVu Sans and DejaVu Serif (all styles, condensed), Computer Modern (cmr10, cmb10, cmss10, cmti10,
cmtt10), Liberation Sans/Sans Narrow/Serif/Mono and GNU FreeSans/FreeSerif/FreeMono (all styles).
Held out: DejaVu Sans Mono and STIX General, rendered by `render_char` (size 20–26 px, ±2 px,
rotation ±6°, blur, contrast)."""
ARCH = """ShuffleNet v1 units with groups G = 4 on the 1×1 convolutions.

```
x (N, 1, 32, 32) in [0, 1], ink bright -> Conv 3×3 s2 32 + BN + ReLU                 (16 × 16)
 -> unit s2 32 -> 128 -> 2 × unit s1 128                                             (8 × 8)
 -> unit s2 128 -> 256 -> 2 × unit s1 256                                            (4 × 4)
    unit: GConv 1×1 (G=4) + BN + ReLU -> channel shuffle (Reshape, Transpose, Reshape)
          -> DW 3×3 + BN -> GConv 1×1 (G=4) + BN -> add input (s1) | concat AvgPool (s2) -> ReLU
 -> GlobalAveragePool -> Gemm -> logits (N, 36)
```
Trained by `python models/chars_shufflenet/build.py` (AdamW, one-cycle, 8 epochs, label smoothing 0.1, seed 0,
one thread).
Exercises grouped convolution with channel shuffle (fused by tinyinfer's ChannelShuffle pass)."""


def heldout():
    z = np.load(os.path.join(HERE, "heldout.npz"))
    rng = np.random.default_rng(SEED)
    x = z["x"]
    sig = rng.uniform(0, 10.0, (len(x), 1, 1)).astype(np.float32)
    a = x.astype(np.float32) + rng.normal(0, 1, x.shape).astype(np.float32) * sig
    return (np.clip(a + 0.5, 0, 255).astype(np.uint8).astype(np.float32) / 255)[:, None], z["y"]


def feeds():
    return {"image": heldout()[0][:1]}


def evaluate(path):
    from tinyinfer import InferenceSession

    x, y = heldout()
    (logits,) = InferenceSession(path).run(None, {"image": x})
    return int((logits.argmax(1) == y).sum()), int(len(y))


def aspect():
    """Ink width / height of 0 and O at 64 px in every training and held-out font file."""
    from PIL import Image, ImageDraw, ImageFont

    for split in ("train", "heldout"):
        for f in zoo.fonts(split):
            font, r = ImageFont.truetype(f, 64), []
            for c in "0O":
                im = Image.new("L", (128, 128), 0)
                ImageDraw.Draw(im).text((20, 10), c, fill=255, font=font)
                ys, xs = np.nonzero(np.asarray(im) > 128)
                r.append((xs.max() - xs.min() + 1) / (ys.max() - ys.min() + 1))
            print(f"{split:8s} {os.path.basename(f):36s} 0 {r[0]:.3f}  O {r[1]:.3f}")


if __name__ == "__main__":
    if "--aspect" in sys.argv:
        aspect()
    else:
        zoo.write_card(sys.modules[__name__])

"""Build the MobileNet-style digit classifier: train on scikit-learn's `digits` (real 8×8 scans),
export to ONNX, write held-out data and sample inputs with golden outputs.

    python models/digits_mobilenet/build.py          (needs: pip install torch==2.13.0 scikit-learn onnx)
    python models/digits_mobilenet/build.py --compress-only    int8 + CARD.md from the fp32 model

Architecture (width multiplier ALPHA scales every channel count):
    x (N, 1, 8, 8) in [0, 1]
    Conv 3×3, 16α, BN, HardSwish
    3 × depthwise-separable block: DW 3×3 (stride 1, 2, 2) + BN + HardSwish, PW 1×1 + BN + HardSwish
    GlobalAveragePool → Gemm → logits (N, 10)
Seeded and deterministic; about a minute on 2 cores.
"""
import json
import os

import numpy as np
import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
SEED = 0
ALPHA = 1.0
EPOCHS = 120


def split():
    from sklearn.datasets import load_digits

    d = load_digits()
    x = (d.images / 16.0).astype(np.float32)[:, None]  # (1797, 1, 8, 8)
    y = d.target.astype(np.int64)
    rng = np.random.default_rng(SEED)
    test = np.zeros(len(y), bool)
    for c in range(10):  # stratified: 20 % of each class held out
        idx = np.flatnonzero(y == c)
        test[rng.choice(idx, size=len(idx) // 5, replace=False)] = True
    return x[~test], y[~test], x[test], y[test]


def block(cin, cout, stride):
    return nn.Sequential(
        nn.Conv2d(cin, cin, 3, stride, 1, groups=cin, bias=False), nn.BatchNorm2d(cin), nn.Hardswish(),
        nn.Conv2d(cin, cout, 1, bias=False), nn.BatchNorm2d(cout), nn.Hardswish())


class DigitsMobileNet(nn.Module):
    def __init__(self, alpha=ALPHA):
        super().__init__()
        c = [max(8, int(round(k * alpha))) for k in (16, 32, 64, 96)]
        self.features = nn.Sequential(
            nn.Conv2d(1, c[0], 3, 1, 1, bias=False), nn.BatchNorm2d(c[0]), nn.Hardswish(),
            block(c[0], c[1], 1), block(c[1], c[2], 2), block(c[2], c[3], 2),
            nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.classifier = nn.Linear(c[3], 10)

    def forward(self, x):
        return self.classifier(self.features(x))


def train(model, x, y):
    torch.manual_seed(SEED)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, 3e-3, total_steps=EPOCHS * ((len(x) + 63) // 64))
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    g = torch.Generator().manual_seed(SEED)
    for epoch in range(EPOCHS):
        model.train()
        perm = torch.randperm(len(xt), generator=g)
        for i in range(0, len(xt), 64):
            idx = perm[i:i + 64]
            xb = xt[idx]
            # augmentation: shift by up to one pixel
            dx, dy = torch.randint(-1, 2, (2,), generator=g).tolist()
            xb = torch.roll(xb, shifts=(dy, dx), dims=(2, 3))
            loss = nn.functional.cross_entropy(model(xb), yt[idx], label_smoothing=0.05)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
    model.eval()
    return model


def main():
    torch.manual_seed(SEED)
    torch.use_deterministic_algorithms(True)
    xtr, ytr, xte, yte = split()
    model = train(DigitsMobileNet(), xtr, ytr)
    with torch.no_grad():
        acc = (model(torch.from_numpy(xte)).argmax(1).numpy() == yte).mean()
    print(f"torch held-out accuracy: {acc:.4f} on {len(yte)} images")

    path = os.path.join(HERE, "digits_mobilenet.onnx")
    torch.onnx.export(model, (torch.from_numpy(xte[:1]),), path, input_names=["image"],
                      output_names=["logits"], dynamic_axes={"image": {0: "N"}, "logits": {0: "N"}},
                      opset_version=13, dynamo=False)
    import onnx

    m = onnx.load(path)
    onnx.helper.set_model_props(m, {"labels": json.dumps([str(i) for i in range(10)]),
                                    "preprocess": "grayscale 8x8, ink bright, x = pixel / 255 (scans: value / 16)"})
    m.doc_string = "MobileNet-style digit classifier trained on scikit-learn digits (tinyinfer models/)."
    onnx.save(m, path)
    np.savez_compressed(os.path.join(HERE, "heldout.npz"), x=xte, y=yte)
    sample = xte[:8]
    with torch.no_grad():
        golden = model(torch.from_numpy(sample)).numpy()
    np.savez(os.path.join(HERE, "golden.npz"), image=sample, logits=golden)
    print("wrote", path, os.path.getsize(path), "bytes")
    compress()
    bundle()


def compress():
    """int8 (QOperator: QLinearConv, tinyinfer's integer kernels) calibrated on 128 training-set
    images (kept as calib.npz, also used by models/compression.py), then the model card (accuracy
    measured with tinyinfer)."""
    import sys

    sys.path.insert(0, os.path.join(HERE, ".."))
    import zoo

    xtr = split()[0]
    np.savez_compressed(os.path.join(HERE, "calib.npz"), image=xtr[:128])
    zoo.quantize_int8(os.path.join(HERE, "digits_mobilenet.onnx"), os.path.join(HERE, "digits_mobilenet.int8.onnx"),
                      {"image": xtr[:128]}, format="qoperator")
    zoo.write_card(zoo.load_card("digits_mobilenet"))


def bundle():
    """Copy the model into the package (tinyinfer/data) with a few held-out digits as 32×32 PNGs,
    for `tinyinfer demo`."""
    import shutil

    from PIL import Image

    data = os.path.join(HERE, "..", "..", "tinyinfer", "data")
    os.makedirs(data, exist_ok=True)
    shutil.copy(os.path.join(HERE, "digits_mobilenet.onnx"), data)
    held = np.load(os.path.join(HERE, "heldout.npz"))
    x, y = held["x"], held["y"]
    for digit in (0, 3, 5, 7, 9):
        i = int(np.flatnonzero(y == digit)[0])
        img = np.kron(np.round(x[i, 0] * 255).astype(np.uint8), np.ones((4, 4), np.uint8))
        Image.fromarray(img, "L").save(os.path.join(data, f"digit_{digit}.png"), optimize=False)


if __name__ == "__main__":
    import sys

    if "--bundle-only" in sys.argv:
        bundle()
    elif "--compress-only" in sys.argv:      # int8 + card from the committed fp32 model
        compress()
    else:
        main()

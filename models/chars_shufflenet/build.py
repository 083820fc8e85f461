"""Build the ShuffleNet-style printed-character classifier: 0-9 A-Z rendered with Pillow in the
training font families with augmentation, tested on font families held out from training
(models/zoo.py: TRAIN_FAMILIES / HELDOUT_FAMILIES).

    python models/chars_shufflenet/build.py     (pip install torch==2.13.0 onnx pillow matplotlib)
    python models/chars_shufflenet/build.py --compress-only    int8 + CARD.md from the fp32 model

Architecture (ShuffleNet v1 units, groups G = 4 on the 1×1 convolutions):
    x (N, 1, 32, 32) in [0, 1], ink bright
    Conv 3×3 s2 32 + BN + ReLU                                      (16 × 16)
    stage 2: unit s2 (32 -> 128, concat with AvgPool), 2 units s1  (8 × 8)
    stage 3: unit s2 (128 -> 256), 2 units s1                      (4 × 4)
    unit: GConv 1×1 (G) + BN + ReLU -> channel shuffle -> DW 3×3 + BN -> GConv 1×1 (G) + BN,
          then add the input (s1) or concat AvgPool 3×3 s2 of it (s2); ReLU
    GlobalAveragePool -> Gemm -> logits (N, 36)
Trained on 8 × 24,000 characters rendered afresh each epoch in the training families with wider
augmentation than the held-out renders (render_train). Seeded and deterministic (one thread);
13 minutes (781 s, 4.5 min of CPU time) on the shared 2-core build machine.
"""
import json
import math
import os
import random
import sys
import time

import numpy as np
import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import zoo  # noqa: E402

SEED = 0
CLASSES = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
G = 4
N_TRAIN = int(os.environ.get("CHARS_N", 24000))      # rendered afresh every epoch
EPOCHS = int(os.environ.get("CHARS_EPOCHS", 8))
S = 32
STEM = int(os.environ.get("CHARS_STEM", 32))
STAGES = json.loads(os.environ.get("CHARS_STAGES", "[[128, 3], [256, 3]]"))   # (channels, units) at 8x8, 4x4


def render_char(c, font_path, rng, clean=False):
    """(32, 32) uint8, ink bright on dark, before noise: font size 20-26 px, the glyph's advance
    box centred (so 0 and O keep their widths), shifted, turned, blurred, varied contrast."""
    from PIL import Image, ImageDraw, ImageFilter, ImageFont

    size = rng.randrange(20, 27)
    font = ImageFont.truetype(font_path, size)
    im = Image.new("L", (64, 64), 0)
    d = ImageDraw.Draw(im)
    asc, desc = font.getmetrics()
    w = font.getlength(c)
    x = 32 - w / 2 + rng.uniform(-2, 2)
    y = 32 - (asc + desc) / 2 + rng.uniform(-2, 2)
    d.text((x, y), c, fill=255, font=font)
    if rng.random() < 0.7:
        im = im.rotate(rng.uniform(-6, 6), resample=Image.BILINEAR)
    if rng.random() < 0.4:
        im = im.filter(ImageFilter.GaussianBlur(rng.uniform(0.2, 0.9)))
    a = np.asarray(im.crop((16, 16, 48, 48)), np.float32) / 255
    lo, hi = rng.uniform(0, 60), rng.uniform(170, 255)
    return np.clip(lo + (hi - lo) * a + 0.5, 0, 255).astype(np.uint8)


_FONTS = {}


def _font(path, size):
    from PIL import ImageFont

    if (path, size) not in _FONTS:
        _FONTS[path, size] = ImageFont.truetype(path, size)
    return _FONTS[path, size]


def render_train(c, font_path, rng):
    """(32, 32) uint8 training character, ink bright, before noise; wider augmentation than the
    held-out renders (render_char): drawn at twice the size (font size 18-28 px) with the advance
    box centred, strokes thickened by half a pixel (1 in 4), scaled in x 0.85-1.15, sheared
    +-0.25 (1 in 2), turned +-8 deg, shifted +-2 px, area-downsampled, blurred, varied contrast."""
    from PIL import Image, ImageDraw, ImageFilter

    size = rng.randrange(18, 29)
    f = _font(font_path, 2 * size)
    im = Image.new("L", (128, 128), 0)
    d = ImageDraw.Draw(im)
    asc, desc = f.getmetrics()
    w = f.getlength(c)
    sw = 1 if rng.random() < 0.25 else 0
    d.text((64 - w / 2, 64 - (asc + desc) / 2), c, fill=255, font=f, stroke_width=sw, stroke_fill=255)
    sx = rng.uniform(0.85, 1.15)
    sh = rng.uniform(-0.25, 0.25) if rng.random() < 0.5 else 0.0
    th = math.radians(rng.uniform(-8, 8)) if rng.random() < 0.8 else 0.0
    tx, ty = rng.uniform(-4, 4), rng.uniform(-4, 4)
    # output -> input map: p_in = A^-1 (p_out - centre - t) + centre, A = R @ Shear @ Scale
    ca, sa = math.cos(th), math.sin(th)
    A = np.array([[ca, -sa], [sa, ca]]) @ np.array([[1, sh], [0, 1]]) @ np.diag([sx, 1.0])
    Ai = np.linalg.inv(A)
    off = np.array([64.0, 64.0]) - Ai @ np.array([64.0 + tx, 64.0 + ty])
    im = im.transform((128, 128), Image.AFFINE, (Ai[0, 0], Ai[0, 1], off[0], Ai[1, 0], Ai[1, 1], off[1]),
                      resample=Image.BILINEAR)
    im = im.crop((32, 32, 96, 96)).resize((32, 32), Image.BOX)
    if rng.random() < 0.4:
        im = im.filter(ImageFilter.GaussianBlur(rng.uniform(0.2, 1.0)))
    a = np.asarray(im, np.float32) / 255
    lo, hi = rng.uniform(0, 70), rng.uniform(160, 255)
    return np.clip(lo + (hi - lo) * a + 0.5, 0, 255).astype(np.uint8)


def add_noise(imgs, seed, sigma_max=10.0):
    rng = np.random.default_rng(seed)
    sig = rng.uniform(0, sigma_max, (len(imgs), 1, 1)).astype(np.float32)
    a = imgs.astype(np.float32) + rng.normal(0, 1, imgs.shape).astype(np.float32) * sig
    return np.clip(a + 0.5, 0, 255).astype(np.uint8)


def make_set(fonts, n, seed, render=None):
    """n characters, 0-9 A-Z in turn, the font changing every 36; held-out sets use render_char."""
    render = render or render_char
    rng = random.Random(seed)
    y = np.array([i % len(CLASSES) for i in range(n)], np.int64)
    x = np.stack([render(CLASSES[k], fonts[(i // len(CLASSES)) % len(fonts)], rng) for i, k in enumerate(y)])
    return x, y


def shuffle(x, g):
    n, c, h, w = x.shape
    return x.reshape(n, g, c // g, h, w).transpose(1, 2).reshape(n, c, h, w)


class Unit(nn.Module):
    def __init__(self, cin, cout, stride, g=G):
        super().__init__()
        self.stride, self.g = stride, g
        out = cout - cin if stride == 2 else cout
        mid = cout // 4
        self.a = nn.Sequential(nn.Conv2d(cin, mid, 1, groups=g, bias=False), nn.BatchNorm2d(mid), nn.ReLU())
        self.b = nn.Sequential(nn.Conv2d(mid, mid, 3, stride, 1, groups=mid, bias=False), nn.BatchNorm2d(mid),
                               nn.Conv2d(mid, out, 1, groups=g, bias=False), nn.BatchNorm2d(out))
        self.pool = nn.AvgPool2d(3, 2, 1) if stride == 2 else None

    def forward(self, x):
        y = self.b(shuffle(self.a(x), self.g))
        y = torch.cat([self.pool(x), y], 1) if self.stride == 2 else x + y
        return torch.relu(y)


class CharsShuffleNet(nn.Module):
    def __init__(self, stem=STEM, stages=STAGES):
        super().__init__()
        layers, c = [nn.Conv2d(1, stem, 3, 2, 1, bias=False), nn.BatchNorm2d(stem), nn.ReLU()], stem
        for cout, n in stages:
            layers += [Unit(c, cout, 2)] + [Unit(cout, cout, 1) for _ in range(n - 1)]
            c = cout
        self.features = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.classifier = nn.Linear(c, len(CLASSES))

    def forward(self, x):
        return self.classifier(self.features(x))


def train(fonts):
    """EPOCHS passes over N_TRAIN characters rendered afresh each epoch (render_train, seed
    SEED + 100 + epoch) with Gaussian noise (sigma up to 12) redrawn each epoch."""
    torch.manual_seed(SEED)
    torch.set_num_threads(1)
    model = CharsShuffleNet()
    steps = EPOCHS * (N_TRAIN // 128)
    opt = torch.optim.AdamW(model.parameters(), lr=4e-3, weight_decay=5e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, 4e-3, total_steps=steps, pct_start=0.15)
    g = torch.Generator().manual_seed(SEED)
    t0 = time.time()
    for epoch in range(EPOCHS):
        x, y = make_set(fonts, N_TRAIN, SEED + 100 + epoch, render_train)
        xn = torch.from_numpy(add_noise(x, SEED + epoch, 12.0).astype(np.float32) / 255)[:, None]
        yt = torch.from_numpy(y)
        perm = torch.randperm(N_TRAIN, generator=g)
        model.train()
        for i in range(0, N_TRAIN - 127, 128):
            idx = perm[i:i + 128]
            loss = nn.functional.cross_entropy(model(xn[idx]), yt[idx], label_smoothing=0.1)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
        print(f"epoch {epoch} loss {loss.item():.4f} {time.time() - t0:.0f}s", flush=True)
    model.eval()
    return model


def main():
    t0 = time.time()
    xte, yte = make_set(zoo.fonts("heldout"), len(CLASSES) * 8 * 4, 1234)   # 4 per char and font
    np.savez_compressed(os.path.join(HERE, "heldout.npz"), x=xte, y=yte)
    model = train(zoo.fonts("train"))
    with torch.no_grad():
        xe = torch.from_numpy(add_noise(xte, 4321).astype(np.float32) / 255)[:, None]
        acc = (model(xe).argmax(1).numpy() == yte).mean()
    print(f"torch held-out accuracy {acc:.4f}", flush=True)
    path = os.path.join(HERE, "chars_shufflenet.onnx")
    torch.onnx.export(model, (xe[:1],), path, input_names=["image"], output_names=["logits"],
                      dynamic_axes={"image": {0: "N"}, "logits": {0: "N"}}, opset_version=13, dynamo=False)
    zoo.set_metadata(path, {"labels": json.dumps(list(CLASSES)), "ink": "bright",
                            "preprocess": "grayscale 32x32, ink bright, x = pixel / 255"},
                     "ShuffleNet-style printed character classifier (0-9 A-Z) built by tinyinfer models/chars_shufflenet.")
    with torch.no_grad():
        np.savez(os.path.join(HERE, "golden.npz"), image=xe[:8].numpy(), logits=model(xe[:8]).numpy())
    compress()
    print(f"built in {time.time() - t0:.0f}s", flush=True)


def compress():
    sys.path.insert(0, HERE)
    import card

    cal = make_set(zoo.fonts("train"), 256, SEED, render_train)[0]
    np.savez_compressed(os.path.join(HERE, "calib.npz"), image=(cal[:128].astype(np.float32) / 255)[:, None])
    zoo.quantize_int8(os.path.join(HERE, "chars_shufflenet.onnx"), os.path.join(HERE, "chars_shufflenet.int8.onnx"),
                      {"image": (cal.astype(np.float32) / 255)[:, None]}, format="qoperator")
    zoo.write_card(card)


if __name__ == "__main__":
    if "--compress-only" in sys.argv:
        compress()
    else:
        main()

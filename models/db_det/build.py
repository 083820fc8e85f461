"""Build the small DB-style text detector: a depthwise-separable encoder with a feature pyramid
predicting a text probability map, trained on pages rendered here (text lines on varied
backgrounds) in the training font families; tested on pages in held-out font families.

    python models/db_det/build.py        (pip install torch==2.13.0 onnx pillow matplotlib)
    python models/db_det/build.py --compress-only    int8 + CARD.md from the fp32 model

Input and output follow PP-OCR det models, so `tinyinfer ocr IMAGE --det models/db_det/...`
works with tinyinfer.ocr.det (det_input scales the short side up to 736 and rounds to 32, so a
300-400 px page reaches the model at about twice its size):
    x (N, 3, H, W) in [-1, 1], H and W multiples of 32
    -> mean over colour -> AvgPool 2×2 (pages are rendered at half the det input's scale)
    (scales below relative to the pooled page)
    -> Conv 3×3 s2 16 -> DW-sep 16 (c1, 1/2) -> DW-sep s2 32 (c2) -> s2 48 (c3) -> s2 64 (c4, 1/16)
    -> 2 residual DW-sep blocks with dilation 2 and 4 (context: word gaps of large text)
    -> FPN: 1×1 laterals to 32, nearest ×2 and add, down to 1/4 -> Conv 3×3 32→16
    -> nearest ×2 + 1×1 lateral of c1 (1/2) -> Conv 3×3 16 -> Conv 1×1 1
    -> bilinear ×4 -> sigmoid -> probability map (N, 1, H, W)
Targets are DB shrink maps: each line's box (ink box grown by card.PAD = 0.35 × its height on
each side, so crops carry a margin as recognisers expect) shrunk by d such that DB's unclip
(distance = area * 1.6 / perimeter) grows it back to the box. Loss: BCE over the positives
and the 3× as many hardest negatives, + dice. Seeded; STEPS batches of BATCH pages generated
on the fly, one thread; checkpoints every 100 steps to $DET_CKPT (default /tmp/db_det_ckpt.pt; resumed when present
with the same STEPS, so delete it to train afresh). 13.6 min on the build machine (2 cores
shared with other jobs, load ~8): 12.6 min training, the rest evaluation and card.
"""
import os
import random
import sys
import time

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)
import card  # noqa: E402
import textgen  # noqa: E402
import zoo  # noqa: E402

SEED = 0
STEPS = int(os.environ.get("DET_STEPS", 2000))
BATCH = 8
CROP = 192
SIZES = (10, 44)          # font sizes in render pixels (half the det input's scale)
N_HELDOUT = 30
UNCLIP = 1.6
CKPT = os.environ.get("DET_CKPT", "/tmp/db_det_ckpt.pt")


def dwsep(cin, cout, stride):
    return nn.Sequential(
        nn.Conv2d(cin, cin, 3, stride, 1, groups=cin, bias=False), nn.BatchNorm2d(cin), nn.ReLU(),
        nn.Conv2d(cin, cout, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU())


class Context(nn.Module):
    """Residual depthwise-separable block with a dilated 3×3 (wider context at 1/16 scale)."""

    def __init__(self, c, dilation):
        super().__init__()
        self.f = nn.Sequential(
            nn.Conv2d(c, c, 3, 1, dilation, dilation=dilation, groups=c, bias=False), nn.BatchNorm2d(c), nn.ReLU(),
            nn.Conv2d(c, c, 1, bias=False), nn.BatchNorm2d(c))

    def forward(self, x):
        return F.relu(x + self.f(x))


def cbr(cin, cout):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU())


class Body(nn.Module):
    """Page at rendering scale (N, 1, h, w), h, w multiples of 16 -> logits (N, 1, h/2, w/2)."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, 16, 3, 2, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU(),
                                  dwsep(16, 16, 1))
        self.c2, self.c3, self.c4 = dwsep(16, 32, 2), dwsep(32, 48, 2), dwsep(48, 64, 2)
        self.ctx = nn.Sequential(Context(64, 2), Context(64, 4))   # lines' word gaps bridged
        self.l2, self.l3, self.l4 = nn.Conv2d(32, 32, 1), nn.Conv2d(48, 32, 1), nn.Conv2d(64, 32, 1)
        self.mid = cbr(32, 16)
        self.l1 = nn.Conv2d(16, 16, 1)
        self.head = nn.Sequential(cbr(16, 16), nn.Conv2d(16, 1, 1))

    def forward(self, x):
        c1 = self.stem(x)
        c2 = self.c2(c1)
        c3 = self.c3(c2)
        c4 = self.ctx(self.c4(c3))
        p = self.l4(c4)
        p = self.l3(c3) + F.interpolate(p, scale_factor=2.0, mode="nearest")
        p = self.l2(c2) + F.interpolate(p, scale_factor=2.0, mode="nearest")
        p = self.l1(c1) + F.interpolate(self.mid(p), scale_factor=2.0, mode="nearest")
        return self.head(p)                                          # (N, 1, h/2, w/2)


class Exported(nn.Module):
    def __init__(self, body):
        super().__init__()
        self.body = body

    def forward(self, x):                                           # (N, 3, H, W) in [-1, 1]
        g = F.avg_pool2d(x.mean(1, keepdim=True) * 0.5 + 0.5, 2)    # grey [0, 1], half scale
        y = self.body(g)                                            # (N, 1, H/4, W/4)
        return torch.sigmoid(F.interpolate(y, scale_factor=4.0, mode="bilinear", align_corners=False))


def shrink_d(w, h, r=UNCLIP):
    """d with unclip(shrunk box) == box: (w-2d)(h-2d) * r / (2(w-2d + h-2d)) == d (bisection)."""
    lo, hi = 0.0, min(w, h) / 2 - 0.5
    for _ in range(40):
        d = (lo + hi) / 2
        a, b = w - 2 * d, h - 2 * d
        if a * b * r / (2 * (a + b)) > d:
            lo = d
        else:
            hi = d
    return lo


def target(boxes, h, w):
    """Shrink map (h, w) and a mask of pixels near line boxes but outside the shrunk ones."""
    t = np.zeros((h, w), np.float32)
    for b in boxes:
        x0, y0, x1, y1 = card.line_box(b)      # ink box grown by card.PAD × height
        d = shrink_d(x1 - x0, y1 - y0)
        a0, b0 = int(round(x0 + d)), int(round(y0 + d))
        a1, b1 = int(round(x1 - d)), int(round(y1 - d))
        t[max(b0, 0):max(b1, b0 + 1), max(a0, 0):max(a1, a0 + 1)] = 1
    return t


def batch(rng, fonts, n=BATCH, size=CROP):
    xs, ts = [], []
    nrng = np.random.default_rng(rng.randrange(1 << 30))
    for _ in range(n):
        img, boxes = textgen.render_page(rng, fonts, size, size, max_lines=8, sizes=SIZES)
        xs.append(textgen.add_noise(img, nrng).astype(np.float32) / 255)
        ts.append(target(boxes, size, size))
    return torch.from_numpy(np.stack(xs)[:, None]), torch.from_numpy(np.stack(ts)[:, None])


def loss_fn(body, x, t):
    logit = F.interpolate(body(x), scale_factor=2.0, mode="bilinear", align_corners=False)
    p = torch.sigmoid(logit)
    bce = F.binary_cross_entropy_with_logits(logit, t, reduction="none")
    pos = t > 0.5
    npos = int(pos.sum())
    neg = bce[~pos]
    k = min(neg.numel(), max(3 * npos, 1000))
    hard = neg.topk(k).values.sum()                                  # DB's OHEM: 3 negatives per positive
    bce = (bce[pos].sum() + hard) / (npos + k)
    dice = 1 - (2 * (p * t).sum() + 1) / (p.sum() + t.sum() + 1)
    return bce + dice, bce, dice


def train():
    torch.manual_seed(SEED)
    torch.set_num_threads(1)
    rng = random.Random(SEED)
    fonts = zoo.fonts("train")
    body = Body()
    opt = torch.optim.AdamW(body.parameters(), lr=4e-3, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, 4e-3, total_steps=STEPS, pct_start=0.1)
    start = 0
    if os.path.isfile(CKPT):
        ck = torch.load(CKPT, weights_only=False)
        if ck["steps"] == STEPS:
            body.load_state_dict(ck["body"])
            opt.load_state_dict(ck["opt"])
            sched.load_state_dict(ck["sched"])
            rng.setstate(ck["rng"])
            torch.set_rng_state(ck["torch_rng"])
            start = ck["step"]
            print(f"resumed from {CKPT} at step {start}", flush=True)
    t0 = time.time()
    for step in range(start, STEPS):
        x, t = batch(rng, fonts)
        body.train()
        loss, bce, dice = loss_fn(body, x, t)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if step % 50 == 0 or step == STEPS - 1:
            print(f"step {step} loss {loss.item():.4f} bce {bce.item():.4f} dice {dice.item():.4f} "
                  f"{time.time() - t0:.0f}s", flush=True)
        if (step + 1) % 100 == 0 or step == STEPS - 1:
            torch.save({"steps": STEPS, "step": step + 1, "body": body.state_dict(), "opt": opt.state_dict(),
                        "sched": sched.state_dict(), "rng": rng.getstate(), "torch_rng": torch.get_rng_state()},
                       CKPT)
    body.eval()
    return body


def heldout_set(seed=2024, n=N_HELDOUT):
    """Pages in held-out fonts, 320-416 × 320-416 pixels, stored before noise; ink boxes."""
    rng = random.Random(seed)
    fonts = zoo.fonts("heldout")
    pages, boxes = [], []
    for _ in range(n):
        w, h = rng.randrange(320, 417, 32), rng.randrange(320, 417, 32)
        img, b = textgen.render_page(rng, fonts, w, h, max_lines=8, sizes=(12, 27))
        pages.append(img)
        boxes.append(b)
    H, W = max(p.shape[0] for p in pages), max(p.shape[1] for p in pages)
    arr = np.zeros((n, H, W), np.uint8)
    for i, p in enumerate(pages):
        arr[i, :p.shape[0], :p.shape[1]] = p
    sizes = np.array([p.shape for p in pages], np.int32)
    flat = np.array([(i, *bx) for i, b in enumerate(boxes) for bx in b], np.int32)
    return arr, sizes, flat


SAMPLE_LINES = ((30, "5521 0098 7734 1206", 3), (100, "00731.6", 4), (170, "2026 0315", 0))


def sample_page():
    """sample_page.png, as models/demo_data.py draws the demo page: 384×256 light grey, three
    digit lines at 26 px in held-out fonts, light noise. Returns the lines' ink boxes."""
    from PIL import Image, ImageDraw, ImageFont

    fonts = zoo.fonts("heldout")
    page = Image.new("L", (384, 256), 235)
    d = ImageDraw.Draw(page)
    boxes = []
    for y, text, f in SAMPLE_LINES:
        font = ImageFont.truetype(fonts[f], 26)
        d.text((24, y), text, fill=20, font=font)
        boxes.append(d.textbbox((24, y), text, font=font))
    img = textgen.add_noise(np.asarray(page), np.random.default_rng(31), 4)
    Image.fromarray(img).save(os.path.join(HERE, "sample_page.png"))
    return boxes


def export(body):
    ex = Exported(body).eval()
    path = os.path.join(HERE, "db_det.onnx")
    torch.onnx.export(ex, (torch.zeros(1, 3, 736, 736),), path, input_names=["x"], output_names=["maps"],
                      dynamic_axes={"x": {0: "N", 2: "H", 3: "W"}, "maps": {0: "N", 2: "H", 3: "W"}},
                      opset_version=13, dynamo=False)
    zoo.set_metadata(path, {"preprocess": "tinyinfer.ocr.det.det_input (short side 736, multiples of 32, "
                                          "(x/255-0.5)/0.5)",
                            "postprocess": "tinyinfer.ocr.det.db_boxes (thresh 0.3, box 0.5, unclip 1.6)"},
                     "Small DB-style text detector built by tinyinfer models/db_det.")
    return ex


def main():
    t0 = time.time()
    body = train()
    arr, sizes, flat = heldout_set()
    np.savez_compressed(os.path.join(HERE, "heldout.npz"), pages=arr, sizes=sizes, boxes=flat)
    print("sample page ink boxes:", sample_page(), flush=True)
    ex = export(body)
    from tinyinfer.ocr import det as D
    from tinyinfer.ocr.pipeline import load_image

    x = D.det_input(load_image(os.path.join(HERE, "sample_page.png")))[:, :, 64:160, 32:288].copy()  # line 1
    with torch.no_grad():
        y = ex(torch.from_numpy(x)).numpy()
    np.savez_compressed(os.path.join(HERE, "golden.npz"), x=x, maps=y)
    compress()
    print(f"build took {time.time() - t0:.0f} s", flush=True)


def compress():
    zoo.quantize_int8(os.path.join(HERE, "db_det.onnx"), os.path.join(HERE, "db_det.int8.onnx"),
                      {"x": card.calibration()}, format="qoperator")
    zoo.write_card(card)


if __name__ == "__main__":
    if "--compress-only" in sys.argv:
        compress()
    else:
        main()

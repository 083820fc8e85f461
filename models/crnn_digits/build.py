"""Build the CRNN digit-line recogniser: conv stack + bidirectional LSTM + CTC, trained on lines
rendered here (card numbers, meter readings, digit groups) in the training font families, tested
on lines in font families it never saw (models/zoo.py: TRAIN_FAMILIES / HELDOUT_FAMILIES).

    python models/crnn_digits/build.py        (pip install torch==2.13.0 onnx pillow matplotlib)
    python models/crnn_digits/build.py --compress-only    int8 + CARD.md from the fp32 model
    CRNN_CKPT=/tmp/crnn.pt python models/crnn_digits/build.py    checkpoints every 100 steps, resumes
    python models/crnn_digits/build.py --stage1-only S1.pt; ... --stage1 S1.pt    the two stages apart

Input and output follow PP-OCR rec models, so `tinyinfer ocr --rec models/crnn_digits/...` works:
    x (N, 3, 48, W) in [-1, 1] (tinyinfer.ocr.pipeline.norm_line), W a multiple of 4
    -> mean over colour -> Conv 3×3 s2 32 -> Conv 3×3 s2 48 -> Conv 3×3 s(2,1) 64
       -> Conv 3×5 s(2,1) 96 -> Conv 3×3 (no vertical padding) 96 (each + BN + ReLU) -> (N, 96, 1, W/4) -> (W/4, N, 96)
    -> BiLSTM 2 × 64 -> Linear over [LSTM out 128, conv features 96] -> 13 -> softmax (N, W/4, 13)
    classes: 0 = CTC blank, then the `character` metadata entry ("0".."9", "."), then space.
Seeded, two stages (one thread): STEPS batches of BATCH lines of similar width from a pool of POOL
lines rendered once in the training fonts (seed 0), fresh sensor noise per batch; then FT_STEPS
batches at a lower rate from a fresh pool (seed 1) in which every other line has its text shrunk
inside the 48-px line (`shrink`: the held-out STIX General, with its tall line metrics, renders
small glyphs: stage 1 alone read 76 % of its lines, 88 % of all held-out lines).
"""
import os
import random
import sys
import time

import numpy as np
import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import textgen  # noqa: E402
import zoo  # noqa: E402

SEED = 0
CHARS = "0123456789."
CLASSES = ["blank"] + list(CHARS) + [" "]
STEPS = int(os.environ.get("CRNN_STEPS", 2500))
POOL = int(os.environ.get("CRNN_POOL", 20000))
FT_STEPS = int(os.environ.get("CRNN_FT_STEPS", 1600))
FT_LR = 5e-4
SKIP = int(os.environ.get("CRNN_SKIP", 1))      # classifier also sees the conv features (not only the LSTM's)
BATCH = 32
LR = 2e-3
MAX_W = 512
MIN_W = 320
N_HELDOUT = 400


def cbr(cin, cout, k, s, p):
    return [nn.Conv2d(cin, cout, k, s, p, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]


class CRNN(nn.Module):
    def __init__(self, n_classes=len(CLASSES), hidden=64):
        super().__init__()
        self.cnn = nn.Sequential(
            *cbr(1, 32, 3, 2, 1),            # 24 x W/2
            *cbr(32, 48, 3, 2, 1),           # 12 x W/4
            *cbr(48, 64, 3, (2, 1), 1),      # 6
            *cbr(64, 96, (3, 5), (2, 1), (1, 2)),   # 3
            *cbr(96, 96, 3, 1, (0, 1)))             # 1; horizontal receptive field 39 px
        self.rnn = nn.LSTM(96, hidden, bidirectional=True)
        self.skip = SKIP
        self.fc = nn.Linear(2 * hidden + (96 if SKIP else 0), n_classes)

    def forward(self, x):                      # (N, 3, 48, W)
        f = self.cnn(x.mean(1, keepdim=True))  # (N, 96, 1, W/4)
        f = f.squeeze(2).permute(2, 0, 1)      # (T, N, 96)
        h, _ = self.rnn(f)                     # (T, N, 128)
        if self.skip:
            h = torch.cat([h, f], -1)          # (T, N, 224)
        return self.fc(h)                      # (T, N, C) logits


class Exported(nn.Module):
    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, x):
        return self.m(x).softmax(-1).permute(1, 0, 2)   # (N, T, C) probabilities


def pool(rng, fonts, n):
    texts = [textgen.digit_line(rng) for _ in range(n)]
    imgs = [textgen.render_line(t, rng.choice(fonts), rng) for t in texts]
    arr, widths = textgen.stack_lines(imgs, MAX_W)
    return arr, widths, texts


def make_batch(arr, widths, idx, nrng):
    w = int(max(MIN_W, widths[idx].max()))
    w = (w + 15) // 16 * 16
    lines = [textgen.add_noise(arr[i, :, :widths[i]], nrng) for i in idx]
    return textgen.to_input(lines, w)


def encode(texts):
    idx = {c: i for i, c in enumerate(CLASSES)}
    flat = [idx[c] for t in texts for c in t]
    return torch.tensor(flat, dtype=torch.long), torch.tensor([len(t) for t in texts], dtype=torch.long)


def heldout_set(seed=1234, n=N_HELDOUT):
    rng = random.Random(seed)
    fonts = zoo.fonts("heldout")
    texts = [textgen.digit_line(rng) for _ in range(n)]
    imgs = [textgen.render_line(t, fonts[i % len(fonts)], rng) for i, t in enumerate(texts)]
    arr, widths = textgen.stack_lines(imgs, MAX_W)
    return arr, widths, np.array(texts)


def greedy(probs):
    out = []
    for p in probs.argmax(-1):
        s, prev = [], 0
        for k in p:
            if k != prev and k != 0:
                s.append(CLASSES[k])
            prev = k
        out.append("".join(s))
    return out


def shrink(img, rng):
    """Smaller text in the same 48-px line: scale by 0.5-1, pad back to 48 rows with the median grey
    of the line's top and bottom rows (fonts with tall ascent/descent metrics, loose detector boxes)."""
    from PIL import Image

    s = rng.uniform(0.5, 1.0)
    h, w = max(8, round(textgen.HEIGHT * s)), max(1, round(img.shape[1] * s))
    small = np.asarray(Image.fromarray(img).resize((w, h), Image.BILINEAR))
    top = rng.randrange(0, textgen.HEIGHT - h + 1)
    out = np.empty((textgen.HEIGHT, w), np.uint8)
    out[:top] = np.median(small[0])
    out[top + h:] = np.median(small[-1])
    out[top:top + h] = small
    return out


def fit(model, arr, widths, texts, steps, lr, nrng, ck, tag):
    """AdamW + one-cycle over `steps` batches of BATCH lines of similar width from a pool."""
    n = len(texts)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, lr, total_steps=steps, pct_start=0.1)
    ctc = nn.CTCLoss(blank=0, zero_infinity=True)
    order = np.argsort(widths, kind="stable")   # batches of similar widths: less padding, faster
    t0 = time.time()
    first = 0
    if ck and os.path.isfile(ck):                # resume after a crash (RNG streams restart: not bit-reproducible)
        st = torch.load(ck)
        model.load_state_dict(st["model"])
        opt.load_state_dict(st["opt"])
        sched.load_state_dict(st["sched"])
        first = st["step"] + 1
        print(f"{tag}: resumed from {ck} at step {first}", flush=True)
    for step in range(first, steps):
        start = int(nrng.integers(0, n - 4 * BATCH + 1))
        idx = order[start + nrng.choice(4 * BATCH, BATCH, replace=False)]
        x = make_batch(arr, widths, idx, nrng)
        bt = [texts[i] for i in idx]
        model.train()
        logits = model(torch.from_numpy(x))
        tgt, tl = encode(bt)
        il = torch.full((len(bt),), logits.shape[0], dtype=torch.long)
        loss = ctc(logits.log_softmax(-1), tgt, il, tl)
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        sched.step()
        if ck and step % 100 == 99:     # resumable notes for slow machines
            torch.save({"step": step, "model": model.state_dict(), "opt": opt.state_dict(),
                        "sched": sched.state_dict()}, ck + ".tmp")
            os.replace(ck + ".tmp", ck)
        if step % 50 == 0 or step == steps - 1:
            acc = np.mean([a == b for a, b in zip(greedy(logits.detach().permute(1, 0, 2).numpy()), bt)])
            print(f"{tag} step {step} loss {loss.item():.4f} batch line acc {acc:.3f} {time.time() - t0:.0f}s",
                  flush=True)
    model.eval()
    return model


def train():
    """Stage 1: STEPS batches from a pool of POOL lines (seed 0)."""
    torch.manual_seed(SEED)
    torch.set_num_threads(int(os.environ.get("CRNN_THREADS", 1)))   # 2 threads thrash when the other core is busy
    rng = random.Random(SEED)
    nrng = np.random.default_rng(SEED)
    t0 = time.time()
    arr, widths, texts = pool(rng, zoo.fonts("train"), POOL)
    print(f"rendered {POOL} lines in {time.time() - t0:.0f}s", flush=True)
    return fit(CRNN(), arr, widths, texts, STEPS, LR, nrng, os.environ.get("CRNN_CKPT"), "stage 1")


def train_small_text(model):
    """Stage 2: FT_STEPS batches at a lower rate from a fresh pool of POOL lines (seed 1), half of
    them with the text shrunk inside the line (`shrink`)."""
    torch.manual_seed(SEED + 1)
    torch.set_num_threads(int(os.environ.get("CRNN_THREADS", 1)))
    rng = random.Random(SEED + 1)
    nrng = np.random.default_rng(SEED + 1)
    t0 = time.time()
    fonts = zoo.fonts("train")
    texts = [textgen.digit_line(rng) for _ in range(POOL)]
    imgs = [textgen.render_line(t, rng.choice(fonts), rng) for t in texts]
    imgs = [shrink(im, rng) if i % 2 else im for i, im in enumerate(imgs)]
    arr, widths = textgen.stack_lines(imgs, MAX_W)
    print(f"rendered {POOL} lines in {time.time() - t0:.0f}s", flush=True)
    ck = os.environ.get("CRNN_CKPT")
    return fit(model, arr, widths, texts, FT_STEPS, FT_LR, nrng, ck and ck + ".stage2", "stage 2")


def main():
    if "--from" in sys.argv:                     # export a model trained earlier by --train-only
        model = CRNN()
        st = torch.load(sys.argv[sys.argv.index("--from") + 1])
        model.load_state_dict(st.get("model", st))      # a state dict or a CRNN_CKPT checkpoint
        model.eval()
    else:
        t0 = time.time()
        if "--stage1" in sys.argv:               # stage 1 trained earlier by --stage1-only
            model = CRNN()
            model.load_state_dict(torch.load(sys.argv[sys.argv.index("--stage1") + 1]))
        else:
            model = train()
            print(f"stage 1: trained {STEPS} steps in {time.time() - t0:.0f}s", flush=True)
            if "--stage1-only" in sys.argv:
                torch.save(model.state_dict(), sys.argv[sys.argv.index("--stage1-only") + 1])
                return
        t1 = time.time()
        model = train_small_text(model)
        print(f"stage 2: trained {FT_STEPS} steps in {time.time() - t1:.0f}s; "
              f"training took {time.time() - t0:.0f}s", flush=True)
        if "--train-only" in sys.argv:
            torch.save(model.state_dict(), sys.argv[sys.argv.index("--train-only") + 1])
            return
    arr, widths, texts = heldout_set()
    np.savez_compressed(os.path.join(HERE, "heldout.npz"), lines=arr, widths=widths, texts=texts)
    path = os.path.join(HERE, "crnn_digits.onnx")
    ex = Exported(model).eval()
    x0 = torch.zeros(1, 3, 48, 320)
    torch.onnx.export(ex, (x0,), path, input_names=["x"], output_names=["probs"],
                      dynamic_axes={"x": {0: "N", 3: "W"}, "probs": {0: "N", 1: "T"}},
                      opset_version=14, dynamo=False)
    zoo.set_metadata(path, {"character": "\n".join(CHARS),
                            "preprocess": "tinyinfer.ocr norm_line: height 48, (x/255-0.5)/0.5, right zero pad"},
                     "CRNN digit-line recogniser (conv + BiLSTM + CTC) built by tinyinfer models/crnn_digits.")
    golden(ex)
    sample()
    import card

    with torch.no_grad():
        got = greedy(ex(torch.from_numpy(card.inputs())).numpy())
    print(f"torch held-out line accuracy: {np.mean([a == b for a, b in zip(got, card.heldout()[1])]):.4f}")
    compress()


def golden(ex):
    """Sample inputs (8 held-out lines) with PyTorch's outputs as the golden reference."""
    import card

    x = card.inputs(8)
    with torch.no_grad():
        p = ex(torch.from_numpy(x)).numpy()
    np.savez_compressed(os.path.join(HERE, "golden.npz"), x=x, probs=p)


SAMPLE = "4539 1488 0343 6467"


def sample():
    """sample_line.png: a card number rendered in a held-out font, for the `tinyinfer ocr` test."""
    from PIL import Image

    rng = random.Random(7)
    img = textgen.render_line(SAMPLE, zoo.fonts("heldout")[1], rng, size=32)
    img = textgen.add_noise(img, np.random.default_rng(7), 4)
    Image.fromarray(img).save(os.path.join(HERE, "sample_line.png"))


def compress():
    """int8: dynamic quantisation of the LSTM and MatMul weights (converters.quantize dynamic=True)."""
    import card

    zoo.quantize_int8(os.path.join(HERE, "crnn_digits.onnx"), os.path.join(HERE, "crnn_digits.int8.onnx"),
                      {}, dynamic=True)
    zoo.write_card(card)


if __name__ == "__main__":
    sys.path.insert(0, HERE)
    if "--sample-only" in sys.argv:
        sample()
    elif "--compress-only" in sys.argv:
        compress()
    else:
        main()

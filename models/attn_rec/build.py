"""Build the attention line recogniser: conv stem + transformer encoder (multi-head self-attention)
+ CTC, for alphanumeric lines (serial and part numbers, licence-plate-like codes, IBAN-like groups,
dates, short upper-case words), trained on lines rendered here in the training font families and
tested on lines in font families it never saw (models/zoo.py: TRAIN_FAMILIES / HELDOUT_FAMILIES).

    python models/attn_rec/build.py                 (pip install torch==2.13.0 onnx pillow matplotlib)
    python models/attn_rec/build.py --compress-only  int8 + CARD.md from the fp32 model
    python models/attn_rec/build.py --export-only SD.pt   export + int8 + CARD.md from trained weights

Input and output follow PP-OCR rec models, so `tinyinfer ocr --rec models/attn_rec/...` works:
    x (N, 3, 48, W) in [-1, 1] (tinyinfer.ocr.pipeline.norm_line), any W (T = ceil(W / 4))
    -> mean over colour -> conv stem (5 × Conv + BN + ReLU, horizontal receptive field 39 px)
       -> (N, T, 96) + sinusoidal positions (computed in the graph from T: any width)
    -> 3 pre-norm transformer blocks: LayerNorm -> 4-head self-attention (per head: Slice of a
       fused QKV MatMul, MatMul q·kᵀ, Softmax, MatMul ·v) -> LayerNorm -> MLP 96-192-96
    -> LayerNorm -> Linear -> softmax (N, T, 41)
    classes: 0 = CTC blank, then the `character` metadata entry (0-9 A-Z - . /), then space.

Attention maps: each head's attention probabilities are an ONNX value of its own, named
`attn/block{b}/head{h}` (b < 3, h < 4), shape (N, T, T), row t = how output step t weighs the T
steps; the int8 model keeps the names. With tinyinfer:

    probs, caps = sess.run(None, {"x": x}, capture=["attn/block0/head0", ...])

Training (seeded, one thread) runs two one-cycle phases (PHASES): 2,000 steps at peak lr 2e-3 on
lines whose mixed letter/digit groups use all 26 letters, then 800 steps at peak lr 1e-3 on the
deployed code alphabet (mixed groups without I, O, Q; words and letter-only groups keep them). Each
phase renders its pool of lines once; batches of BATCH lines of similar width are drawn from it with
fresh sensor noise.
"""
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
import textgen  # noqa: E402
import zoo  # noqa: E402

SEED = 0
CHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-./"
CLASSES = ["blank"] + list(CHARS) + [" "]
UPPER_ALL = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
CODE_LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"    # mixed letter/digit groups skip I, O, Q (as VINs do)
D_MODEL, HEADS, BLOCKS, FFN = 96, 4, 3, 192
# two one-cycle phases: (steps, peak lr, pool size, letters of mixed groups, seed)
PHASES = [(int(os.environ.get("ATTN_STEPS", 2000)), 2e-3, 14000, UPPER_ALL, 0),
          (int(os.environ.get("ATTN_STEPS2", 800)), 1e-3, 10000, CODE_LETTERS, 1)]
BATCH = 32
MAX_W = 640
MIN_W = 320
N_HELDOUT = 400
ATTN_NAMES = [f"attn/block{b}/head{h}" for b in range(BLOCKS) for h in range(HEADS)]

# ---------------------------------------------------------------- text

UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
WORDS = ("INVOICE TOTAL AMOUNT ACCOUNT NUMBER BALANCE DATE METER SERIAL MODEL POWER VOLTAGE ENERGY "
         "CUSTOMER ADDRESS STREET CITY STATION PRICE PAID DUE CARD VALID THRU REFERENCE CODE ORDER ITEM "
         "QTY WEIGHT BATCH LOT EXP MFG TYPE PART NO REF BOX PALLET ROUTE GATE SEAT FLIGHT ZONE DOCK "
         "BERLIN PARIS LONDON OSLO MADRID ROMA WIEN ZURICH PRAHA TOKYO LAGOS QUEBEC KYIV").split()


def _d(rng, n):
    return "".join(rng.choice("0123456789") for _ in range(n))


def _a(rng, n):
    return "".join(rng.choice(UPPER) for _ in range(n))


def _x(rng, n, p_digit=0.5, letters=CODE_LETTERS):
    """A mixed letter/digit group; in the deployed alphabet (CODE_LETTERS), like VINs and many
    serial schemes, it never uses I, O or Q, which many fonts draw like 1 and 0."""
    return "".join(rng.choice("0123456789") if rng.random() < p_digit else rng.choice(letters)
                   for _ in range(n))


def alnum_line(rng: random.Random, letters: str = CODE_LETTERS) -> str:
    """One alphanumeric line: serials, plates, part numbers, IBAN-like groups, dates, words.
    `letters`: the letters of mixed letter/digit groups."""
    k = rng.random()
    if k < 0.16:                                              # licence-plate-like
        f = rng.randrange(5)
        s = [f"{_a(rng, 2)}-{_d(rng, 3)}-{_a(rng, 2)}", f"{_a(rng, 2)} {_d(rng, 2)} {_a(rng, 2)} {_d(rng, 4)}",
             f"{_a(rng, rng.randrange(1, 4))} {_a(rng, 2)} {_d(rng, rng.randrange(1, 5))}",
             f"{_a(rng, 2)}{_d(rng, 2)} {_a(rng, 3)}", f"{_d(rng, 3)}-{_a(rng, 3)}"][f]
    elif k < 0.34:                                            # serial numbers
        g = "-".join(_x(rng, rng.randrange(3, 6), letters=letters) for _ in range(rng.randrange(1, 4)))
        s = rng.choice(["SN ", "S/N ", "SER. ", "", ""]) + g
    elif k < 0.48:                                            # part numbers
        s = (rng.choice(["PN ", "P/N ", "ART. ", "REF ", ""]) + _d(rng, rng.randrange(2, 6))
             + rng.choice(["/", "-", "."]) + _d(rng, rng.randrange(2, 5))
             + (rng.choice(["-", "."]) + _a(rng, rng.randrange(1, 3)) if rng.random() < 0.5 else ""))
    elif k < 0.6:                                             # IBAN-like groups
        n = rng.randrange(3, 6)
        groups = [_a(rng, 2) + _d(rng, 2)] + [_x(rng, 4, 0.8, letters=letters) for _ in range(n)]
        s = " ".join(groups) + (" " + _d(rng, rng.randrange(1, 4)) if rng.random() < 0.5 else "")
    elif k < 0.7:                                             # dates, times, versions
        y, m_, d = rng.randrange(1990, 2040), rng.randrange(1, 13), rng.randrange(1, 29)
        s = rng.choice([f"{y}-{m_:02d}-{d:02d}", f"{d:02d}.{m_:02d}.{y}", f"{m_:02d}/{d:02d}/{y % 100:02d}",
                        f"V{rng.randrange(10)}.{rng.randrange(20)}.{rng.randrange(100)}",
                        f"EXP {m_:02d}/{y}", f"LOT {_x(rng, 6, 0.7, letters=letters)}"])
    elif k < 0.85:                                            # short upper-case words (+ a number)
        s = " ".join(rng.choice(WORDS) for _ in range(rng.randrange(1, 4)))
        if rng.random() < 0.4:
            s += " " + rng.choice([_d(rng, rng.randrange(1, 6)), f"{_d(rng, rng.randrange(1, 4))}.{_d(rng, 2)}",
                                   "NO. " + _d(rng, rng.randrange(2, 6))])
    else:                                                     # random alphanumeric groups
        s = rng.choice([" ", "-", "/", "."]).join(_x(rng, rng.randrange(1, 6), rng.uniform(0.2, 0.8), letters)
                                                 for _ in range(rng.randrange(1, 5)))
    return s


# ---------------------------------------------------------------- model

def cbr(cin, cout, k, s, p):
    return [nn.Conv2d(cin, cout, k, s, p, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]


class Attention(nn.Module):
    """Multi-head self-attention written out head by head, so that ONNX shows each head as
    Slice -> MatMul(q, kᵀ) -> Softmax -> MatMul(·, v) and each head's probabilities are a value."""

    def __init__(self, d, heads):
        super().__init__()
        self.d, self.heads, self.dh = d, heads, d // heads
        self.qkv = nn.Linear(d, 3 * d)
        self.out = nn.Linear(d, d)
        self.maps = None                     # filled when record=True (for plots in torch)

    def forward(self, x, record=False):      # (N, T, d)
        qkv = self.qkv(x)                    # (N, T, 3d)
        d, dh = self.d, self.dh
        heads, maps = [], []
        for h in range(self.heads):
            q = qkv[..., h * dh:(h + 1) * dh] * (1.0 / math.sqrt(dh))     # (N, T, dh)
            k = qkv[..., d + h * dh:d + (h + 1) * dh]
            v = qkv[..., 2 * d + h * dh:2 * d + (h + 1) * dh]
            a = torch.matmul(q, k.transpose(1, 2)).softmax(-1)           # (N, T, T)
            maps.append(a)
            heads.append(torch.matmul(a, v))                             # (N, T, dh)
        if record:
            self.maps = torch.stack(maps, 1).detach()                    # (N, heads, T, T)
        return self.out(torch.cat(heads, -1))


class Block(nn.Module):
    def __init__(self, d, heads, ffn):
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.attn = Attention(d, heads)
        self.mlp = nn.Sequential(nn.Linear(d, ffn), nn.ReLU(), nn.Linear(ffn, d))

    def forward(self, x, record=False):
        x = x + self.attn(self.ln1(x), record)
        return x + self.mlp(self.ln2(x))


def positions(t, d):
    """Sinusoidal positions (T, d), computed from T in the graph (Range, Sin, Cos): any width."""
    pos = torch.arange(t, dtype=torch.float32).unsqueeze(1)                         # (T, 1)
    inv = torch.exp(torch.arange(0, d, 2, dtype=torch.float32) * (-math.log(10000.0) / d))  # (d/2,)
    ang = pos * inv                                                                 # (T, d/2)
    return torch.cat([ang.sin(), ang.cos()], 1)                                      # (T, d)


class AttnRec(nn.Module):
    def __init__(self, n_classes=len(CLASSES), d=D_MODEL, heads=HEADS, blocks=BLOCKS, ffn=FFN):
        super().__init__()
        self.d = d
        self.cnn = nn.Sequential(
            *cbr(1, 32, 3, 2, 1),            # 24 x W/2
            *cbr(32, 48, 3, 2, 1),           # 12 x W/4
            *cbr(48, 64, 3, (2, 1), 1),      # 6
            *cbr(64, 96, (3, 5), (2, 1), (1, 2)),   # 3
            *cbr(96, d, 3, 1, (0, 1)))              # 1; horizontal receptive field 39 px
        self.blocks = nn.ModuleList([Block(d, heads, ffn) for _ in range(blocks)])
        self.ln = nn.LayerNorm(d)
        self.fc = nn.Linear(d, n_classes)

    def forward(self, x, record=False):        # (N, 3, 48, W)
        f = self.cnn(x.mean(1, keepdim=True))  # (N, d, 1, T)
        f = f.squeeze(2).transpose(1, 2)       # (N, T, d)
        f = f + positions(f.shape[1], self.d)
        for b in self.blocks:
            f = b(f, record)
        return self.fc(self.ln(f))             # (N, T, C) logits


class Exported(nn.Module):
    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, x):
        return self.m(x).softmax(-1)           # (N, T, C) probabilities


# ---------------------------------------------------------------- data

def render(texts, fonts, rng, font_of=None):
    imgs = []
    for i, t in enumerate(texts):
        f = fonts[font_of(i)] if font_of else rng.choice(fonts)
        im = textgen.render_line(t, f, rng)
        if im.shape[1] > MAX_W:
            from PIL import Image
            im = np.asarray(Image.fromarray(im).resize((MAX_W, textgen.HEIGHT), Image.BILINEAR))
        imgs.append(im)
    return imgs


def make_batch(imgs, idx, nrng):
    w = int(max(MIN_W, max(imgs[i].shape[1] for i in idx)))
    w = w + int(nrng.integers(0, 4))                 # any width, as tinyinfer ocr feeds them
    lines = [textgen.add_noise(imgs[i], nrng) for i in idx]
    return textgen.to_input(lines, w)


def encode(texts):
    idx = {c: i for i, c in enumerate(CLASSES)}
    flat = [idx[c] for t in texts for c in t]
    return torch.tensor(flat, dtype=torch.long), torch.tensor([len(t) for t in texts], dtype=torch.long)


def heldout_set(seed=1234, n=N_HELDOUT):
    rng = random.Random(seed)
    fonts = zoo.fonts("heldout")
    texts = [alnum_line(rng) for _ in range(n)]
    imgs = render(texts, fonts, rng, font_of=lambda i: i % len(fonts))
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


def train(model=None, phase=0):
    """One one-cycle phase of PHASES on a freshly rendered, seeded pool; phase 0 starts from a new
    model, phase 1 continues `model`."""
    steps, lr, pool, letters, seed = PHASES[phase]
    torch.manual_seed(seed)
    torch.set_num_threads(int(os.environ.get("ATTN_THREADS", 1)))   # the machine is shared
    rng = random.Random(seed)
    nrng = np.random.default_rng(seed)
    t0 = time.time()
    texts = [alnum_line(rng, letters) for _ in range(pool)]
    imgs = render(texts, zoo.fonts("train"), rng)
    print(f"phase {phase}: rendered {pool} lines in {time.time() - t0:.0f}s", flush=True)
    model = model or AttnRec()
    print(f"{sum(p.numel() for p in model.parameters()):,} parameters", flush=True)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-2)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, lr, total_steps=steps, pct_start=0.08)
    ctc = nn.CTCLoss(blank=0, zero_infinity=True)
    widths = np.array([im.shape[1] for im in imgs])
    order = np.argsort(widths, kind="stable")   # batches of similar widths: less padding, faster
    ckpt = os.environ.get("ATTN_CKPT")
    start_step = 0
    if ckpt and os.path.isfile(ckpt) and torch.load(ckpt).get("phase", 0) == phase:
        s = torch.load(ckpt)
        model.load_state_dict(s["model"]), opt.load_state_dict(s["opt"]), sched.load_state_dict(s["sched"])
        start_step = s["step"] + 1
        nrng = np.random.default_rng(seed + start_step)
        print(f"resumed at step {start_step}", flush=True)
    t0 = time.time()
    for step in range(start_step, steps):
        start = int(nrng.integers(0, pool - 4 * BATCH + 1))
        idx = order[start + nrng.choice(4 * BATCH, BATCH, replace=False)]
        x = make_batch(imgs, idx, nrng)
        bt = [texts[i] for i in idx]
        model.train()
        logits = model(torch.from_numpy(x)).permute(1, 0, 2)   # (T, N, C)
        tgt, tl = encode(bt)
        il = torch.full((len(bt),), logits.shape[0], dtype=torch.long)
        loss = ctc(logits.log_softmax(-1), tgt, il, tl)
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 2.0)
        opt.step()
        sched.step()
        if ckpt and step % 100 == 99:     # resumable
            torch.save({"phase": phase, "step": step, "model": model.state_dict(), "opt": opt.state_dict(),
                        "sched": sched.state_dict()}, ckpt)
        if step % 50 == 0 or step == steps - 1:
            acc = np.mean([a == b for a, b in zip(greedy(logits.detach().permute(1, 0, 2).numpy()), bt)])
            print(f"phase {phase} step {step} loss {loss.item():.4f} batch line acc {acc:.3f} "
                  f"{time.time() - t0:.0f}s", flush=True)
    model.eval()
    return model


# ---------------------------------------------------------------- export

def name_attention(path):
    """Give each head's attention probabilities (the Softmax outputs other than the last) the
    value names ATTN_NAMES, in block and head order."""
    import onnx

    m = onnx.load(path)
    soft = [n for n in m.graph.node if n.op_type == "Softmax"]
    assert len(soft) == len(ATTN_NAMES) + 1 and soft[-1].output[0] == "probs", [n.output for n in soft]
    ren = {n.output[0]: new for n, new in zip(soft, ATTN_NAMES)}
    for n in m.graph.node:
        for i, v in enumerate(n.input):
            if v in ren:
                n.input[i] = ren[v]
        for i, v in enumerate(n.output):
            if v in ren:
                n.output[i] = ren[v]
    for vi in m.graph.value_info:
        if vi.name in ren:
            vi.name = ren[vi.name]
    onnx.save(m, path)


def export(model, path):
    ex = Exported(model).eval()
    x0 = torch.zeros(1, 3, 48, 320)
    torch.onnx.export(ex, (x0,), path, input_names=["x"], output_names=["probs"],
                      dynamic_axes={"x": {0: "N", 3: "W"}, "probs": {0: "N", 1: "T"}},
                      opset_version=17, dynamo=False)
    name_attention(path)
    zoo.set_metadata(path, {"character": "\n".join(CHARS),
                            "preprocess": "tinyinfer.ocr norm_line: height 48, (x/255-0.5)/0.5, right zero pad",
                            "attention": "\n".join(ATTN_NAMES)},
                     "Attention line recogniser (conv stem + transformer encoder + CTC) built by tinyinfer "
                     "models/attn_rec. Per-head attention probabilities (N, T, T): values " + ", ".join(ATTN_NAMES))
    return ex


def main(weights=None):
    """Train (or load `weights`, a state dict saved from train()), then export and compress."""
    t_start = time.time()
    if weights:
        model = AttnRec()
        model.load_state_dict(torch.load(weights))
        model.eval()
    else:
        model = train()
        for phase in range(1, len(PHASES)):
            model = train(model, phase)
    arr, widths, texts = heldout_set()
    np.savez_compressed(os.path.join(HERE, "heldout.npz"), lines=arr, widths=widths, texts=texts)
    ex = export(model, os.path.join(HERE, "attn_rec.onnx"))
    golden(ex)
    sample()
    import card

    with torch.no_grad():
        got, truth = [], card.heldout()[1]
        for part, x in card.batches():
            got += [a == truth[i] for i, a in zip(part, greedy(ex(torch.from_numpy(x)).numpy()))]
    print(f"torch held-out line accuracy: {np.mean(got):.4f}")
    compress()
    print(f"build took {time.time() - t_start:.0f}s")


def golden(ex):
    """Sample inputs (4 held-out lines) with PyTorch's outputs as the golden reference."""
    import card

    x = card.inputs(4)
    with torch.no_grad():
        p = ex(torch.from_numpy(x)).numpy()
    np.savez_compressed(os.path.join(HERE, "golden.npz"), x=x, probs=p)


SAMPLE = "SN 4F7K-2291-X09"


def sample():
    """sample_line.png: a serial number rendered in a held-out font, for the `tinyinfer ocr` test."""
    from PIL import Image

    rng = random.Random(7)
    img = textgen.render_line(SAMPLE, zoo.fonts("heldout")[0], rng, size=32)
    img = textgen.add_noise(img, np.random.default_rng(7), 4)
    Image.fromarray(img).save(os.path.join(HERE, "sample_line.png"))


def calibration(n=64):
    """Training-font lines (not held-out) for static int8 calibration."""
    rng = random.Random(99)
    texts = [alnum_line(rng) for _ in range(n)]
    imgs = render(texts, zoo.fonts("train"), rng)
    w = max(MIN_W, max(im.shape[1] for im in imgs))
    return textgen.to_input([textgen.add_noise(im, np.random.default_rng(i)) for i, im in enumerate(imgs)], w)


def compress(mode=None):
    """int8 via tinyinfer-convert quantize, keeping the value names (the attention maps): static
    QOperator (QLinearConv, MatMulInteger) calibrated on 64 training-font lines by default;
    ATTN_QUANT=dynamic or qdq for the alternatives."""
    import card

    src, dst = os.path.join(HERE, "attn_rec.onnx"), os.path.join(HERE, "attn_rec.int8.onnx")
    mode = mode or os.environ.get("ATTN_QUANT", "qoperator")
    if mode == "dynamic":
        zoo.quantize_int8(src, dst, {}, dynamic=True, keep_names=True)
    else:
        zoo.quantize_int8(src, dst, {"x": calibration()}, format=mode, keep_names=True)
    zoo.write_card(card)


if __name__ == "__main__":
    sys.path.insert(0, HERE)
    if "--sample-only" in sys.argv:
        sample()
    elif "--compress-only" in sys.argv:
        compress()
    elif "--export-only" in sys.argv:                     # --export-only STATE_DICT.pt
        main(sys.argv[sys.argv.index("--export-only") + 1])
    else:
        main()

"""What every model in models/ shares: fonts split by family, figures for the model cards
(parameters, MACs, sizes, accuracy measured with tinyinfer, latency from `tinyinfer bench`),
and the card text itself.

    python models/<name>/card.py            (re)write models/<name>/CARD.md
    pytest tests/models/test_zoo.py          recompute every figure and compare with the card

A model folder's card.py defines NAME, TITLE, TASK, DATA, ARCH, FP32, INT8, BENCH_SHAPE,
METRIC, `feeds()` (one input for counting MACs), and `evaluate(path) -> (hits, total)`.
Everything but the latency line is recomputed by the test; latency is a measurement, printed
with the command that produced it.
"""
from __future__ import annotations

import glob
import importlib.util
import json
import os
import re
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

MODELS = ["digits_mobilenet", "crnn_digits", "db_det", "chars_shufflenet", "attn_rec"]

# ---------------------------------------------------------------- fonts

FONT_DIRS = ["/usr/share/fonts"]


def _mpl_fonts():
    spec = importlib.util.find_spec("matplotlib")
    if spec is None or not spec.origin:
        return []
    return sorted(glob.glob(os.path.join(os.path.dirname(spec.origin), "mpl-data", "fonts", "ttf", "*.ttf")))


def _all_fonts():
    seen, out = set(), []
    for f in sorted(glob.glob(os.path.join(FONT_DIRS[0], "**", "*.ttf"), recursive=True)) + _mpl_fonts():
        b = os.path.basename(f)
        if b not in seen:
            seen.add(b)
            out.append(f)
    return out


# family -> file-name patterns; Latin text with digits and capitals. Training covers sans, serif,
# typewriter and monospace designs (Debian fonts-dejavu-core, fonts-liberation, fonts-freefont-ttf,
# and matplotlib's Computer Modern); the held-out families are never used in training.
TRAIN_FAMILIES = {
    "DejaVu Sans": r"DejaVuSans(-Bold|-Oblique|-BoldOblique|Condensed|Condensed-Bold|Condensed-Oblique)?\.ttf",
    "DejaVu Serif": r"DejaVuSerif(-Bold|-Italic|-BoldItalic|Condensed|Condensed-Bold)?\.ttf",
    "Computer Modern": r"cm(r10|b10|ss10|ti10|tt10)\.ttf",
    "Liberation": r"Liberation(Sans|SansNarrow|Serif|Mono)-(Regular|Bold|Italic|BoldItalic)\.ttf",
    "GNU FreeFont": r"Free(Sans|Serif|Mono)(Bold|Oblique|Italic|BoldOblique|BoldItalic)?\.ttf",
}
HELDOUT_FAMILIES = {
    "DejaVu Sans Mono": r"DejaVuSansMono(-Bold|-Oblique|-BoldOblique)?\.ttf",
    "STIX General": r"STIXGeneral(Bol|Italic|BolIta)?\.ttf",
}


def fonts(split: str):
    """Font files of the 'train' or 'heldout' families (held-out families never seen in training).
    Raises if a family is missing, so a build never silently trains on fewer fonts
    (apt install fonts-dejavu-core fonts-liberation fonts-freefont-ttf; pip install matplotlib)."""
    fam = TRAIN_FAMILIES if split == "train" else HELDOUT_FAMILIES
    files = _all_fonts()
    out = []
    for name, pat in fam.items():
        got = [f for f in files if re.fullmatch(pat, os.path.basename(f))]
        if not got:
            raise RuntimeError(f"no {split} fonts of the family {name!r} found (apt install fonts-dejavu-core "
                               "fonts-liberation fonts-freefont-ttf; pip install matplotlib)")
        out += got
    return out


# ---------------------------------------------------------------- figures

def params(path: str) -> int:
    """Number of stored weight elements (initializers) of an ONNX file."""
    from tinyinfer.onnx import load_model

    return int(sum(np.asarray(a).size for a in load_model(path).graph.initializers.values()))


def macs(path: str, feeds: dict) -> int:
    """Multiply-accumulates of one run on `feeds`, from tinyinfer's profiler (Conv, MatMul, Gemm:
    FLOPs / 2) plus LSTM cells: T * N * directions * 4H * (I + H)."""
    from tinyinfer.session import InferenceSession, SessionOptions

    with tempfile.TemporaryDirectory() as tmp:
        opts = SessionOptions(enable_profiling=True, profile_file_prefix=os.path.join(tmp, "p"))
        sess = InferenceSession(path, opts)
        sess.run(None, feeds)
        with open(sess.end_profiling()) as f:
            trace = json.load(f)
    total = 0
    for e in trace:
        a = e.get("args", {})
        op = a.get("op_name")
        if op in ("Conv", "FusedConv", "ConvTranspose", "MatMul", "Gemm"):
            total += a.get("flops", 0) // 2
        elif op == "LSTM":
            x, w, r = a["input_shapes"][:3]       # X (T, N, I), W (D, 4H, I), R (D, 4H, H)
            total += x[0] * x[1] * w[0] * w[1] * (w[2] + r[2])
    return int(total)


def line_batches(lines, batch: int = 50, multiple: int = 1):
    """(indices, x) for text-line images (H=48 grey arrays) in batches of similar width, each
    padded to its batch's widest line (at least 320, rounded up to `multiple`), as textgen.to_input
    makes recogniser inputs."""
    from textgen import to_input

    order = sorted(range(len(lines)), key=lambda i: (lines[i].shape[1], i))
    for k in range(0, len(order), batch):
        part = order[k:k + batch]
        w = max(320, max(lines[i].shape[1] for i in part))
        yield part, to_input([lines[i] for i in part], (w + multiple - 1) // multiple * multiple)


def read_lines(path: str, lines, batch: int = 50, multiple: int = 1) -> list:
    """Greedy CTC texts of `lines` read by the recogniser at `path` with tinyinfer (characters
    from its `character` metadata, tinyinfer.ocr.ctc)."""
    from tinyinfer import InferenceSession
    from tinyinfer.ocr import ctc

    sess = InferenceSession(path)
    chars = ctc.load_characters(sess.get_modelmeta().custom_metadata_map)
    out = [None] * len(lines)
    for part, x in line_batches(lines, batch, multiple):
        (p,) = sess.run(None, {sess.get_inputs()[0].name: x})
        for i, row in zip(part, p):
            out[i] = ctc.decode(row, chars, "greedy").text
    return out


def line_accuracy(path: str, lines, texts, multiple: int = 1) -> tuple:
    """(lines read exactly, lines) — the recognisers' held-out metric."""
    got = read_lines(path, lines, multiple=multiple)
    return sum(a == b for a, b in zip(got, texts)), len(texts)


def latency(path: str, shape: str, runs: int = 50) -> str:
    """Median of `python -m tinyinfer bench PATH --shape SHAPE --runs N --threads 1`."""
    cmd = [sys.executable, "-m", "tinyinfer", "bench", path, "--shape", shape, "--runs", str(runs),
           "--threads", "1"]
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=True).stdout
    med = re.search(r"^median\s+([\d.]+) ms", out, re.M).group(1)
    return f"{med} ms"


def kb(n: int) -> str:
    return f"{n:,} bytes ({n / 1024:.1f} KB)"


def figures(card) -> dict:
    d = os.path.join(HERE, card.NAME)
    fp32, int8 = os.path.join(d, card.FP32), os.path.join(d, card.INT8)
    f = {"params": params(fp32), "macs": macs(fp32, card.feeds()),
         "size_fp32": os.path.getsize(fp32), "size_int8": os.path.getsize(int8)}
    f["acc_fp32"] = card.evaluate(fp32)
    f["acc_int8"] = card.evaluate(int8)
    for k, fn in getattr(card, "EXTRA", {}).items():
        f[k] = fn()
    return f


def pct(hits_total) -> str:
    h, t = hits_total
    return f"{100.0 * h / t:.2f} % ({h}/{t})"


def render(card, f: dict, lat: dict) -> str:
    rel = f"models/{card.NAME}"
    rows = [
        ("task", card.TASK),
        ("parameters", f"{f['params']:,}"),
        ("MACs per input", f"{f['macs']:,} (at {card.BENCH_SHAPE.split('=')[1]})"),
        (f"size fp32 (`{card.FP32}`)", kb(f["size_fp32"])),
        (f"size int8 (`{card.INT8}`)", kb(f["size_int8"])),
        (f"{card.METRIC} fp32", pct(f["acc_fp32"])),
        (f"{card.METRIC} int8", pct(f["acc_int8"])),
    ]
    for k, label in getattr(card, "EXTRA_LABELS", {}).items():
        rows.append((label, f[k]))
    rows += [("latency fp32 (median, 1 thread)", lat["fp32"]),
             ("latency int8 (median, 1 thread)", lat["int8"])]
    table = "\n".join(f"| {a} | {b} |" for a, b in rows)
    return f"""# {card.TITLE}

{card.DESCRIPTION}

| figure | value |
|---|---|
{table}

## Data

{card.DATA}

## Architecture

{card.ARCH}

## How the figures were produced

Written by `python {rel}/card.py`; `pytest tests/models/test_zoo.py` recomputes every figure
above except latency from the committed files and held-out data and compares the card text.
Accuracy is measured with tinyinfer (`{card.METRIC}` on held-out data: {card.HELDOUT}).
Parameters are the initializer elements of the fp32 file; MACs come from tinyinfer's profiler
(Conv/MatMul/Gemm FLOPs / 2, plus LSTM cells). The int8 file was made by
`{card.QUANTIZE}`.
Latency is a measurement on the build machine, not asserted by tests:
`python -m tinyinfer bench {rel}/<file> --shape {card.BENCH_SHAPE} --runs 50 --threads 1`.
"""


LAT_RE = re.compile(r"^\| latency (fp32|int8) \(median, 1 thread\) \| (.*) \|$", re.M)


def write_card(card) -> str:
    d = os.path.join(HERE, card.NAME)
    lat = {k: latency(os.path.join(d, getattr(card, k.upper())), card.BENCH_SHAPE) for k in ("fp32", "int8")}
    text = render(card, figures(card), lat)
    with open(os.path.join(d, "CARD.md"), "w") as fh:
        fh.write(text)
    print(text)
    return text


def check_card(card) -> tuple:
    """(expected text, committed text): the card regenerated from recomputed figures, with the
    committed latency lines, and the committed card."""
    with open(os.path.join(HERE, card.NAME, "CARD.md")) as fh:
        committed = fh.read()
    lat = dict(LAT_RE.findall(committed))
    return render(card, figures(card), lat), committed


def load_card(name: str):
    spec = importlib.util.spec_from_file_location(f"card_{name}", os.path.join(HERE, name, "card.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def set_metadata(path: str, props: dict, doc: str) -> None:
    """Add metadata_props to an ONNX file (build scripts only: imports onnx)."""
    import onnx

    m = onnx.load(path)
    old = {p.key: p.value for p in m.metadata_props}
    old.update(props)
    del m.metadata_props[:]
    onnx.helper.set_model_props(m, old)
    m.doc_string = doc
    onnx.save(m, path)


def quantize_int8(src: str, dst: str, calib: dict, **kw) -> None:
    """int8 with tinyinfer-convert, keeping the source model's metadata."""
    import onnx

    from converters import quantize

    with tempfile.TemporaryDirectory() as tmp:
        cal = os.path.join(tmp, "calib.npz")
        np.savez(cal, **calib)
        quantize(src, dst, cal if calib else None, quiet=True, **kw)
    m, q = onnx.load(src), onnx.load(dst)
    del q.metadata_props[:]
    onnx.helper.set_model_props(q, {p.key: p.value for p in m.metadata_props})
    q.doc_string = m.doc_string + " int8 by tinyinfer-convert quantize."
    onnx.save(q, dst)


# ---------------------------------------------------------------- models/README.md

README_HEAD = """# models/ — tinyinfer's own models

Trained on this machine from data that is real (scikit-learn's digit scans) or rendered here with
Pillow, exported to ONNX with PyTorch, compressed with `tinyinfer-convert quantize`, measured with
tinyinfer. Each folder holds `build.py` (seeded; `pip install ".[train]"`), `card.py` and the
`CARD.md` it writes, the fp32 and int8 ONNX files, held-out data and `golden.npz` (sample inputs
with PyTorch's outputs). `pytest tests/models/test_zoo.py` recomputes every card figure (latency
excepted) and this table from the committed files; CI never retrains.

Fonts are split by family: training uses DejaVu Sans, DejaVu Serif, Computer Modern (incl. the
typewriter cmtt10), Liberation (Sans, Sans Narrow, Serif, Mono) and GNU FreeFont (Sans, Serif, Mono);
held-out sets use DejaVu Sans Mono and STIX General only (`zoo.py`; Debian's fonts-dejavu-core,
fonts-liberation and fonts-freefont-ttf, and the fonts matplotlib ships). Builds refuse to run with a
family missing. [COMPRESSION.md](COMPRESSION.md): what quantize, prune and lowrank do to each model.

"""
COLUMNS = ["parameters", "MACs per input", "size fp32", "size int8", "fp32", "int8"]


def _card_rows(name: str) -> dict:
    with open(os.path.join(HERE, name, "CARD.md")) as fh:
        rows = dict(re.findall(r"^\| (.+?) \| (.+?) \|$", fh.read(), re.M))
    pick = lambda key: next(v for k, v in rows.items() if k.startswith(key))  # noqa: E731
    kb_ = lambda v: re.search(r"\(([\d.]+ KB)\)", v).group(1)  # noqa: E731
    metric = next(k for k in rows if k.endswith(" fp32") and not k.startswith(("size", "latency")))
    return {"task": rows["task"], "parameters": rows["parameters"],
            "MACs": pick("MACs").split(" (")[0], "fp32": kb_(pick("size fp32")), "int8": kb_(pick("size int8")),
            "metric": metric[:-5], "m32": rows[metric].split(" (")[0], "m8": rows[metric[:-5] + " int8"].split(" (")[0],
            "lat": pick("latency int8")}


def readme() -> str:
    lines = [README_HEAD, "| model | task | parameters | MACs | fp32 | int8 | held-out metric | fp32 | int8 | int8 latency |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for n in MODELS:
        if os.path.isfile(os.path.join(HERE, n, "CARD.md")):
            r = _card_rows(n)
            lines.append(f"| [{n}]({n}/CARD.md) | {r['task']} | {r['parameters']} | {r['MACs']} | {r['fp32']} | "
                         f"{r['int8']} | {r['metric']} | {r['m32']} | {r['m8']} | {r['lat']} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    with open(os.path.join(HERE, "README.md"), "w") as fh:
        fh.write(readme())
    print(readme())

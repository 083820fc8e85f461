"""`tinyinfer ocr IMAGE... [--det MODEL|none] [--cls MODEL|none] [--rec MODEL]
[--decoder greedy|beam] [--json] [--draw OUT.png] [--compare rapidocr]`

Without model options it uses PP-OCRv4 det + rec and the mobile cls model of an installed
rapidocr_onnxruntime (`pip install rapidocr_onnxruntime`), else models/ppocr/ of this repository.
"""
from __future__ import annotations

import json
import os

from ..errors import InputError


def add_arguments(s) -> None:
    s.add_argument("images", nargs="+", metavar="IMAGE")
    s.add_argument("--det", help="text detection model (DB), or 'none': the image is one line")
    s.add_argument("--cls", help="text direction model (0/180 degrees), or 'none'")
    s.add_argument("--rec", help="text recognition model (CTC)")
    s.add_argument("--keys", help="character list file, if the rec model has no 'character' metadata")
    s.add_argument("--decoder", choices=["greedy", "beam"], default="greedy",
                   help="CTC decoding: greedy (default) or prefix beam search")
    s.add_argument("--beam-width", type=int, default=8)
    s.add_argument("--allowed", help="beam: the only characters the text may contain")
    s.add_argument("--lexicon", help="beam: file of allowed whole lines, one per line")
    s.add_argument("--regex", help="beam: the text must match this regular expression")
    s.add_argument("--json", action="store_true", help="print the result as JSON")
    s.add_argument("--draw", metavar="OUT.png", help="write the image with boxes and text drawn")
    s.add_argument("--compare", choices=["rapidocr"],
                   help="run RapidOCR too and name the first stage that differs")


def _decoder_options(args) -> dict:
    opts = {}
    if args.decoder == "beam":
        opts["width"] = args.beam_width
        if args.allowed:
            opts["allowed"] = args.allowed
        if args.regex:
            opts["regex"] = args.regex
        if args.lexicon:
            try:
                with open(args.lexicon, encoding="utf-8") as f:
                    opts["lexicon"] = [ln.rstrip("\r\n") for ln in f if ln.strip()]
            except OSError as e:
                raise InputError(f"lexicon {args.lexicon!r}: {e.strerror}") from None
    elif args.allowed or args.regex or args.lexicon:
        raise InputError("--allowed, --lexicon and --regex need --decoder beam")
    return opts


def run(args) -> int:
    from .pipeline import OCR

    if args.compare:
        from .compare import compare_rapidocr
        status = 0
        for path in args.images:
            status |= compare_rapidocr(path, print)
        return status
    ocr = OCR(det=args.det, cls=args.cls, rec=args.rec, decoder=args.decoder,
              decoder_options=_decoder_options(args), characters=args.keys)
    results = []
    for path in args.images:
        res = ocr(path)
        results.append(res)
        if args.json:
            print(json.dumps(res if len(args.images) == 1 else {"image": path, **res},
                             ensure_ascii=False))
        else:
            if len(args.images) > 1:
                print(f"== {path}")
            for ln in res["lines"]:
                print(f"{ln['score']:.3f}  {ln['text']}")
            t = res["timings"]
            print("time   " + "  ".join(f"{k} {v * 1e3:.0f} ms" for k, v in t.items()))
        if args.draw:
            out = args.draw
            if len(args.images) > 1:
                stem, ext = os.path.splitext(args.draw)
                out = f"{stem}_{len(results)}{ext or '.png'}"
            draw(path, res, out)
    return 0


def draw(path: str, result: dict, out: str) -> None:
    """Write the image with each box outlined and its text written above it (needs Pillow)."""
    try:
        from PIL import Image, ImageDraw, ImageFont
    except ImportError:
        raise InputError("--draw needs Pillow (pip install tinyinfer[image])") from None
    from .pipeline import load_image

    im = Image.fromarray(load_image(path)[..., ::-1].copy())
    d = ImageDraw.Draw(im)
    try:
        font = ImageFont.load_default(size=14)
    except TypeError:  # Pillow < 10.1
        font = ImageFont.load_default()
    for ln in result["lines"]:
        pts = [tuple(p) for p in ln["box"]]
        d.polygon(pts, outline=(255, 0, 0))
        x, y = pts[0]
        d.text((x, max(0, y - 16)), ln["text"], fill=(0, 0, 255), font=font)
    try:
        im.save(out)
    except (OSError, ValueError) as e:
        raise InputError(f"cannot write {out!r}: {e}") from None

"""Evaluate tinyinfer's OCR against RapidOCR (onnxruntime) on rendered pages and lines.

    python tests/ocr/evaluate.py [--pages 8] [--lines 12] [--seed 7]

Prints: line-text agreement with RapidOCR, character error rate of both against ground truth,
share of RapidOCR's boxes matched by a tinyinfer box with IoU >= 0.9, median time per image of
both, CER of greedy vs prefix beam decoding, and what a card-number lexicon fixes.
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

import synth  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--pages", type=int, default=8)
    ap.add_argument("--lines", type=int, default=12)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args(argv)

    from rapidocr_onnxruntime import RapidOCR

    from tinyinfer.ocr import OCR, ctc

    items = synth.make_set(args.seed, args.pages, args.lines)
    ref_engine, ours = RapidOCR(), OCR()
    whole = OCR(det="none", cls="none")
    agree = total_lines = 0
    box_total = box_match = 0
    gt_chars = edits_ref = edits_ours = edits_greedy = edits_beam = 0
    t_ref, t_ours = [], []
    card_total = card_greedy_ok = card_lex_ok = 0
    rng = random.Random(args.seed + 1)
    for n, (kind, im, truth) in enumerate(items):
        img = np.asarray(im)[..., ::-1].copy()          # BGR, as both pipelines take arrays
        t0 = time.perf_counter()
        res, _ = ref_engine(img)
        t_ref.append(time.perf_counter() - t0)
        trace = {}
        t0 = time.perf_counter()
        mine = ours(img, trace=trace)
        t_ours.append(time.perf_counter() - t0)
        ref_lines = [(r[0], r[1]) for r in (res or [])]
        our_lines = [(ln["box"], ln["text"]) for ln in mine["lines"]]
        used = set()
        for box, text in ref_lines:
            best, bi = 0.0, None
            for j, (b2, _) in enumerate(our_lines):
                v = synth.iou(box, b2)
                if v > best:
                    best, bi = v, j
            box_total += 1
            box_match += best >= 0.9
            total_lines += 1
            if bi is not None and bi not in used and our_lines[bi][1] == text:
                agree += 1
                used.add(bi)
        total_lines += max(0, len(our_lines) - len(ref_lines))   # lines only tinyinfer found
        squeeze = lambda s: "".join(s.split())  # noqa: E731  (CER ignores white space)
        ref_text = squeeze("".join(t for _, t in ref_lines))
        our_text = squeeze("".join(t for _, t in our_lines))
        truth_line = truth if isinstance(truth, str) else ""
        truth_text = squeeze("".join(truth) if isinstance(truth, list) else truth)
        gt_chars += len(truth_text)
        edits_ref += synth.edits(truth_text, ref_text)
        edits_ours += synth.edits(truth_text, our_text)
        # decoders on the same logits (lines kept by the score filter, in reading order)
        g, b = [], []
        for p in trace.get("logits", []):
            dg = ctc.greedy(p, ours.characters)
            db = ctc.prefix_beam(p, ours.characters, width=8)
            if dg.score >= 0.5:
                g.append(dg.text)
            if db.score >= 0.5:
                b.append(db.text)
        edits_greedy += synth.edits(truth_text, squeeze("".join(g)))
        edits_beam += synth.edits(truth_text, squeeze("".join(b)))
        if kind == "line" and " " in truth_line:     # a card number: read the whole line as one
            lex = [truth_line] + [synth.card_number(rng) for _ in range(200)]
            tr = {}
            whole(img, trace=tr)
            p = tr["logits"][0]
            card_total += 1
            card_greedy_ok += ctc.greedy(p, ours.characters).text == truth_line
            card_lex_ok += ctc.prefix_beam(p, ours.characters, width=8, lexicon=lex).text == truth_line
        print(f"[{n + 1}/{len(items)}] {kind}: ref {t_ref[-1]:.2f}s ours {t_ours[-1]:.2f}s  "
              f"{sum(1 for _ in ref_lines)} / {len(our_lines)} lines", flush=True)
    print()
    print(f"images                 {len(items)} ({args.pages} pages, {args.lines} single lines, seed {args.seed})")
    print(f"line text agreement    {agree}/{total_lines} = {100 * agree / max(total_lines, 1):.1f} %")
    print(f"CER vs ground truth    (white space ignored) rapidocr {100 * edits_ref / gt_chars:.2f} %   "
          f"tinyinfer {100 * edits_ours / gt_chars:.2f} %   ({gt_chars} chars)")
    print(f"boxes IoU >= 0.9       {box_match}/{box_total} = {100 * box_match / max(box_total, 1):.1f} %")
    print(f"time per image median  rapidocr {statistics.median(t_ref):.2f} s   "
          f"tinyinfer {statistics.median(t_ours):.2f} s   "
          f"ratio {statistics.median(t_ours) / statistics.median(t_ref):.2f}")
    print(f"decoders (tinyinfer)   greedy CER {100 * edits_greedy / gt_chars:.2f} %   "
          f"prefix beam (8) CER {100 * edits_beam / gt_chars:.2f} %")
    print(f"card lines, lexicon    greedy right {card_greedy_ok}/{card_total}   "
          f"with a 201-entry lexicon right {card_lex_ok}/{card_total}")


if __name__ == "__main__":
    main()

"""`tinyinfer ocr IMAGE --compare rapidocr`: run RapidOCR (onnxruntime, OpenCV) and tinyinfer
stage by stage on one image and name the first stage that differs.

    image -> input tensor -> probability map -> boxes -> crops -> logits -> text

Only this module imports rapidocr_onnxruntime (and, through it, onnxruntime and cv2), lazily.
"""
from __future__ import annotations

import numpy as np

from ..errors import InputError


def compare_rapidocr(path: str, say=print) -> int:
    """Print one line per stage; return 0 if every stage agrees, 1 otherwise."""
    try:
        from rapidocr_onnxruntime import RapidOCR
    except ImportError:
        raise InputError("--compare rapidocr needs `pip install rapidocr_onnxruntime`") from None
    from . import det as D
    from .pipeline import OCR, crop_line, load_image, norm_line

    ref = RapidOCR()
    ours = OCR()
    first = None

    def stage(name, ok, detail):
        nonlocal first
        if not ok and first is None:
            first = name
        say(f"{name:16s} {'same' if ok else 'DIFFERS'}  {detail}")

    img_r = ref.load_img(path)
    img_o = load_image(path)
    stage("image", img_r.shape == img_o.shape and np.array_equal(img_r, img_o),
          f"{img_o.shape[1]}x{img_o.shape[0]}")
    work_r, _, _ = ref.preprocess(img_r)
    work_r, _ = ref.maybe_add_letterbox(work_r, {})
    work_o, _, _ = D.limit_sides(img_o)
    work_o, _ = D.letterbox(work_o)
    x_r = ref.text_det.get_preprocess(max(work_r.shape[:2]))(work_r)
    x_o = D.det_input(work_o)
    same = x_r.shape == x_o.shape
    d = float(np.abs(x_r - x_o).max()) if same else float("inf")
    stage("input tensor", same and d == 0, f"{list(x_o.shape)} max |diff| {d:.3g}")
    p_r = ref.text_det.infer(x_r)[0]
    (p_o,) = ours.det.run(None, {ours.det.get_inputs()[0].name: x_o})
    d = float(np.abs(p_r - p_o).max()) if p_r.shape == p_o.shape else float("inf")
    stage("probability map", d < 1e-3, f"max |diff| {d:.3g} (tolerance 1e-3)")
    b_r, _ = ref.text_det.postprocess_op(p_r, work_r.shape[:2])
    b_r = ref.text_det.filter_tag_det_res(b_r, work_r.shape[:2])
    b_r = ref.sorted_boxes(b_r) if len(b_r) else []
    b_o = ours.detect(work_o)
    same = len(b_r) == len(b_o) and all(np.array_equal(a, b) for a, b in zip(b_r, b_o))
    stage("boxes", same, f"rapidocr {len(b_r)}, tinyinfer {len(b_o)}")
    if not len(b_r):
        return 0 if first is None else 1
    c_r = ref.get_crop_img_list(work_r, b_r)
    c_o = [crop_line(work_o, b) for b in b_r]          # same boxes, to judge the warp alone
    d = max(int(np.abs(a.astype(int) - b).max()) if a.shape == b.shape else 999
            for a, b in zip(c_r, c_o))
    stage("crops", d <= 1, f"{len(c_r)} crops, max |diff| {d} grey levels (tolerance 1)")
    if ref.use_cls and ours.cls is not None:
        c_r, _, _ = ref.text_cls(c_r)
        c_o, _ = ours.classify(c_o)
    worst = 0.0
    name = ours.rec.get_inputs()[0].name
    for a in c_r:                                       # one line per batch on both runtimes
        x = norm_line(a, 48, int(48 * max(320 / 48, a.shape[1] / a.shape[0])))[None]
        la = ref.text_rec.session(x)[0]
        (lb,) = ours.rec.run(None, {name: x})
        worst = max(worst, float(np.abs(la - lb).max()))
    stage("logits", worst < 1e-3, f"max |diff| {worst:.3g} (tolerance 1e-3)")
    t_r = [t for t, _ in ref.text_rec(c_r)[0]]
    t_o = [d.text for d in ours.recognise(c_o)]
    stage("text", t_r == t_o, f"{sum(a == b for a, b in zip(t_r, t_o))}/{len(t_r)} lines equal")
    say(f"first difference: {first}" if first else "all stages agree")
    return 0 if first is None else 1

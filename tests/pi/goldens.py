"""Host side of the emulated Raspberry Pi run: write everything the board compares against.

    python tests/pi/goldens.py OUT_DIR

Needs onnx, onnxruntime and rapidocr_onnxruntime (the `dev` extra) on the HOST only; the board
reads plain .onnx/.npz/.json files with NumPy and tinyinfer. OUT_DIR gets:

    models/<name>/model.onnx, data.npz (in_<name>, out_<name>), meta.json (atol, source)
        digits_mobilenet fp32 and int8 (held-out images), PP-OCR cls (3x3x48x192) and rec
        (1x3x48x320): expected outputs from onnxruntime on this host.
    node/<test>/model.onnx, data.npz, meta.json    onnx's backend node tests whose inputs and
        outputs are plain NumPy tensors (expected outputs from onnx, rtol/atol from the case)
    limits/<name>/...  32-bit traps: int64 extremes in attributes and inputs, sizes past 2**31
        elements that must raise a ResourceLimitError instead of wrapping around.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _write(folder, model_bytes, inputs, outputs, **meta):
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "model.onnx"), "wb") as f:
        f.write(model_bytes)
    arrays = {f"in_{k}": v for k, v in inputs.items()}
    arrays.update({f"out_{k}": v for k, v in (outputs or {}).items()})
    np.savez(os.path.join(folder, "data.npz"), **arrays)
    with open(os.path.join(folder, "meta.json"), "w") as f:
        json.dump(meta, f, indent=1)


def _ort(path_or_bytes, feeds):
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    sess = ort.InferenceSession(path_or_bytes, so, providers=["CPUExecutionProvider"])
    outs = sess.run(None, feeds)
    return {o.name: y for o, y in zip(sess.get_outputs(), outs)}


def models(out):
    import rapidocr_onnxruntime

    ppocr = os.path.join(os.path.dirname(rapidocr_onnxruntime.__file__), "models")
    digits = os.path.join(ROOT, "models", "digits_mobilenet")
    held = np.load(os.path.join(digits, "heldout.npz"))
    x_digits = np.ascontiguousarray(held[held.files[0]][:16], dtype=np.float32)
    rng = np.random.default_rng(1)
    cases = [
        ("digits_mobilenet", os.path.join(digits, "digits_mobilenet.onnx"), {"image": x_digits}),
        ("digits_mobilenet_int8", os.path.join(digits, "digits_mobilenet.int8.onnx"), {"image": x_digits}),
        ("ppocr_cls", os.path.join(ppocr, "ch_ppocr_mobile_v2.0_cls_infer.onnx"),
         {"x": rng.uniform(-1, 1, (3, 3, 48, 192)).astype(np.float32)}),
        ("ppocr_rec", os.path.join(ppocr, "ch_PP-OCRv4_rec_infer.onnx"),
         {"x": rng.uniform(-1, 1, (1, 3, 48, 320)).astype(np.float32)}),
    ]
    for name, path, feeds in cases:
        with open(path, "rb") as f:
            data = f.read()
        _write(os.path.join(out, "models", name), data, feeds, _ort(path, feeds), atol=1e-4,
               source=os.path.basename(path), golden="onnxruntime")
        print(f"golden  models/{name}")


def _plain(a):
    return isinstance(a, np.ndarray) and a.dtype.kind in "biufc" and a.dtype.type.__module__ == "numpy" \
        and a.dtype.names is None


def node_tests(out):
    from onnx.backend.test.loader import load_model_tests

    excl = []
    with open(os.path.join(ROOT, "tests", "onnx", "backend_exclusions.txt")) as f:
        for line in f:
            pat = line.split("#", 1)[0].strip()
            if pat:
                excl.append(re.compile(pat))
    kept = skipped = 0
    for case in load_model_tests(kind="node"):
        name = case.name
        if any(p.search(name + "_cpu") for p in excl) or not case.data_sets:
            skipped += 1
            continue
        ins, outs = case.data_sets[0]
        g = case.model.graph
        if len(ins) != len(g.input) or len(outs) != len(g.output) or \
                not all(_plain(a) for a in list(ins) + list(outs)):
            skipped += 1  # sequences, maps, optionals, strings, bfloat16/float8 (ml_dtypes)
            continue
        _write(os.path.join(out, "node", name), case.model.SerializeToString(),
               {i.name: a for i, a in zip(g.input, ins)},
               {o.name: a for o, a in zip(g.output, outs)},
               rtol=case.rtol, atol=case.atol, golden="onnx backend test")
        kept += 1
    print(f"golden  node/: {kept} backend node tests ({skipped} excluded or with non-tensor/"
          f"non-NumPy values)")


def limit_cases(out):
    """Models whose int64 values do not fit a 32-bit np.intp, or whose sizes pass 2**31."""
    from onnx import TensorProto, helper

    I64_MAX, I64_MIN = np.iinfo(np.int64).max, np.iinfo(np.int64).min

    def model(nodes, inputs, outputs, inits=()):
        g = helper.make_graph(nodes, "g", inputs, outputs, initializer=list(inits))
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
        m.ir_version = 8
        return m.SerializeToString()

    def vi(name, dt, shape):
        return helper.make_tensor_value_info(name, dt, shape)

    def const(name, arr):
        return helper.make_tensor(name, TensorProto.INT64, arr.shape, arr.ravel().tolist())

    x = np.arange(2 * 3 * 10, dtype=np.float32).reshape(2, 3, 10)
    # Slice with the int64 extremes ONNX exporters write for "to the end" / "from the start".
    for nm, st, en, ax, sp in [("slice_int64_max_end", [1], [I64_MAX], [2], [1]),
                               ("slice_int64_min_reverse", [I64_MAX], [I64_MIN], [2], [-1]),
                               ("slice_neg_start_step2", [-7], [I64_MAX], [-1], [2])]:
        inits = [const("s", np.array(st, np.int64)), const("e", np.array(en, np.int64)),
                 const("a", np.array(ax, np.int64)), const("p", np.array(sp, np.int64))]
        b = model([helper.make_node("Slice", ["x", "s", "e", "a", "p"], ["y"])],
                  [vi("x", TensorProto.FLOAT, x.shape)], [vi("y", TensorProto.FLOAT, None)], inits)
        _write(os.path.join(out, "limits", nm), b, {"x": x}, _ort(b, {"x": x}), atol=0)
    # Gather with negative int64 indices, ArgMax/TopK int64 outputs, Range and CumSum in int64.
    idx = np.array([[-1, 0], [2, -3]], dtype=np.int64)
    big = np.array([3_000_000_000, -5, 7], dtype=np.int64)   # values past int32
    specs = [
        ("gather_neg_int64", [helper.make_node("Gather", ["x", "i"], ["y"], axis=2)],
         [vi("x", TensorProto.FLOAT, x.shape), vi("i", TensorProto.INT64, idx.shape)],
         {"x": x, "i": idx}),
        ("argmax_topk_int64", [helper.make_node("ArgMax", ["x"], ["y"], axis=2),
                               helper.make_node("TopK", ["x", "k"], ["v", "z"], axis=-1)],
         [vi("x", TensorProto.FLOAT, x.shape), vi("k", TensorProto.INT64, [1])],
         {"x": x, "k": np.array([4], np.int64)}),
        ("int64_values_past_int32", [helper.make_node("CumSum", ["b", "ax"], ["c"]),
                                     helper.make_node("Mul", ["b", "b2"], ["y"])],
         [vi("b", TensorProto.INT64, [3]), vi("ax", TensorProto.INT64, []),
          vi("b2", TensorProto.INT64, [3])],
         {"b": big, "ax": np.array(0, np.int64), "b2": np.array([2, 3, 1], np.int64)}),
        ("range_int64", [helper.make_node("Range", ["s", "l", "d"], ["y"])],
         [vi(n, TensorProto.INT64, []) for n in "sld"],
         {"s": np.array(2_147_483_640, np.int64), "l": np.array(2_147_483_660, np.int64),
          "d": np.array(3, np.int64)}),
    ]
    for nm, nodes, ins, feeds in specs:
        outs = [helper.make_empty_tensor_value_info(o) for n in nodes for o in n.output]
        b = model(nodes, ins, outs)
        _write(os.path.join(out, "limits", nm), b, feeds, _ort(b, feeds), atol=0)
    # Sizes past 2**31 elements: a budget error, never a wrapped-around small size or a crash.
    for nm, shape in [("constantofshape_2pow32", [65536, 65536]),
                      ("constantofshape_2pow31_int32_wrap", [2, 1 << 30, 1]),
                      ("constantofshape_2pow64_wrap", [1 << 32, 1 << 32])]:
        b = model([helper.make_node("ConstantOfShape", ["s"], ["y"])],
                  [vi("s", TensorProto.INT64, [len(shape)])], [vi("y", TensorProto.FLOAT, None)])
        _write(os.path.join(out, "limits", nm), b, {"s": np.array(shape, np.int64)}, None,
               expect="ResourceLimitError")
    print("golden  limits/: int64 extremes and sizes past 2**31")


def main(argv=None) -> int:
    out = (argv or sys.argv[1:] or ["pi-goldens"])[0]
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    limit_cases(out)
    models(out)
    node_tests(out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

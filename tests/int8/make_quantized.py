"""Make the quantised PP-OCR models the int8 tests and the benchmark figures use.

    python tests/int8/make_quantized.py OUTDIR        -> OUTDIR/{cls,rec}_{fp32,QOperator,QDQ}.onnx

quantize_static, per-channel, uint8 activations / int8 weights, 8 calibration inputs drawn
uniformly from [-1, 1] with seed 0 (exactly what tests/int8/test_ppocr_quantized.py does).
Benchmark (docs figure):
    python -m tinyinfer bench OUTDIR/rec_QOperator.onnx --shape x=1x3x48x320 --threads 1 --runs 10
    python -m tinyinfer bench OUTDIR/rec_fp32.onnx      --shape x=1x3x48x320 --threads 1 --runs 10
"""
import os
import sys

import numpy as np

MODELS = {"cls": ("ch_ppocr_mobile_v2.0_cls_infer.onnx", (1, 3, 48, 192)),
          "rec": ("ch_PP-OCRv4_rec_infer.onnx", (1, 3, 48, 320))}


def prepare(src, dst):
    """opset 13, Constant nodes moved to initializers (what quantize_static accepts)."""
    import onnx
    from onnx import version_converter
    m = version_converter.convert_version(onnx.load(src), 13)
    keep = []
    for n in m.graph.node:
        if n.op_type == "Constant" and len(n.attribute) == 1 and n.attribute[0].name == "value":
            t = onnx.helper.get_attribute_value(n.attribute[0])
            t.name = n.output[0]
            m.graph.initializer.append(t)
        else:
            keep.append(n)
    del m.graph.node[:]
    m.graph.node.extend(keep)
    onnx.save(m, dst)


def reader(name, shape):
    from onnxruntime import quantization as quant

    class _Reader(quant.CalibrationDataReader):
        def __init__(self):
            rng = np.random.default_rng(0)
            self.it = iter([{name: rng.uniform(-1, 1, shape).astype(np.float32)} for _ in range(8)])

        def get_next(self):
            return next(self.it, None)
    return _Reader()


def make(outdir, tags=("cls", "rec"), formats=("QOperator", "QDQ")):
    """{(tag, fmt): path} with fmt in formats + ('fp32',)."""
    import onnx
    import rapidocr_onnxruntime
    from onnxruntime import quantization as quant
    src = os.path.join(os.path.dirname(rapidocr_onnxruntime.__file__), "models")
    out = {}
    for tag in tags:
        fname, shape = MODELS[tag]
        fp32 = os.path.join(outdir, f"{tag}_fp32.onnx")
        prepare(os.path.join(src, fname), fp32)
        name = onnx.load(fp32).graph.input[0].name
        for fmt in formats:
            path = os.path.join(outdir, f"{tag}_{fmt}.onnx")
            quant.quantize_static(fp32, path, reader(name, shape), per_channel=True,
                                  quant_format=getattr(quant.QuantFormat, fmt),
                                  activation_type=quant.QuantType.QUInt8,
                                  weight_type=quant.QuantType.QInt8)
            out[tag, fmt] = path
        out[tag, "fp32"] = fp32
    return out


if __name__ == "__main__":
    d = sys.argv[1] if len(sys.argv) > 1 else "."
    os.makedirs(d, exist_ok=True)
    for k, v in make(d).items():
        print(*k, v)

"""tinyinfer-convert: offline ONNX -> ONNX tools (optimise, quantise, prune, low-rank, report).

    from converters import optimize, quantize, prune, lowrank, report
    optimize("m.onnx", "m.opt.onnx")
    quantize("m.onnx", "m.int8.onnx", calibrate="inputs.npz", format="qdq")

These may import `onnx` (never onnxruntime); they run models with tinyinfer.
"""
from ._common import ConvertError
from .optimize import optimize
from .lowrank import lowrank
from .prune import prune
from .quantize import quantize
from .report import report

__all__ = ["ConvertError", "optimize", "quantize", "prune", "lowrank", "report"]

"""tinyinfer — a small, readable ONNX inference engine: NumPy reference ops, Numba where installed.

    import tinyinfer
    sess = tinyinfer.InferenceSession("model.onnx")
    outputs = sess.run(None, {"x": x})
"""
from .errors import (DecodeError, InputError, ModelError, ResourceLimitError, RuntimeFailure,
                     TinyInferError, UnsupportedOpError)
from .session import (ExecutionMode, GraphOptimizationLevel, InferenceSession, ModelMetadata,
                      NodeArg, RunOptions, SessionOptions)

__version__ = "0.1.0"

__all__ = [
    "InferenceSession", "SessionOptions", "RunOptions", "GraphOptimizationLevel", "ExecutionMode",
    "NodeArg", "ModelMetadata", "TinyInferError", "ModelError", "DecodeError", "UnsupportedOpError",
    "InputError", "ResourceLimitError", "RuntimeFailure", "__version__",
]


def get_available_providers():
    return ["CPUExecutionProvider"]


def get_device():
    return "CPU"

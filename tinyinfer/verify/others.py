"""The other side of a comparison: onnxruntime, onnx's ReferenceEvaluator, or a bundle.

    other_values("onnxruntime", model_path, feeds) -> {value name: array}  every value
    other_values("reference", ...)                 -> the same from onnx.reference
    other_values("BUNDLE.npz", ...)                -> what the bundle holds (NumPy only)

For the two runtimes the intermediates come from a copy of the model in which every node output
of the top-level graph is also a graph output (the model file itself is not touched). That copy
needs the `onnx` package, imported here and only here, when one of those runtimes is asked for.
onnxruntime runs with its graph optimisations off, so no value is fused away or renamed.
"""
from __future__ import annotations

from typing import Dict

import numpy as np

from ..errors import InputError, TinyInferError
from .bundle import load_bundle

RUNTIMES = ("onnxruntime", "reference")


def exposed_model(model_path: str):
    """A ModelProto copy of `model_path` whose graph outputs are every top-level value."""
    try:
        import onnx
    except ImportError:
        raise TinyInferError("--against onnxruntime/reference needs the onnx package "
                             "(pip install onnx); a BUNDLE.npz needs only NumPy") from None
    model = onnx.load(model_path)
    have = {o.name for o in model.graph.output}
    for node in model.graph.node:
        for name in node.output:
            if name and name not in have:
                have.add(name)
                model.graph.output.append(onnx.ValueInfoProto(name=name))  # type left to the runtime
    return model


def _keep(names, results, feeds) -> Dict[str, np.ndarray]:
    out = dict(feeds)
    for name, v in zip(names, results):
        if isinstance(v, np.ndarray):
            out[name] = v
    return out


def run_onnxruntime(model_path: str, feeds: Dict[str, np.ndarray]) -> Dict[str, np.ndarray]:
    try:
        import onnxruntime as ort
    except ImportError:
        raise TinyInferError("--against onnxruntime needs onnxruntime (pip install onnxruntime)") from None
    model = exposed_model(model_path)
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    so.log_severity_level = 3
    sess = ort.InferenceSession(model.SerializeToString(), so, providers=["CPUExecutionProvider"])
    names = [o.name for o in sess.get_outputs()]
    return _keep(names, sess.run(names, feeds), feeds)


def run_reference(model_path: str, feeds: Dict[str, np.ndarray]) -> Dict[str, np.ndarray]:
    model = exposed_model(model_path)
    from onnx.reference import ReferenceEvaluator

    names = [o.name for o in model.graph.output]
    return _keep(names, ReferenceEvaluator(model).run(None, feeds), feeds)


def describe(against: str) -> str:
    if against == "onnxruntime":
        import onnxruntime
        return f"onnxruntime {onnxruntime.__version__} (CPU, graph optimisations off)"
    if against == "reference":
        import onnx
        return f"onnx {onnx.__version__} ReferenceEvaluator"
    return f"bundle {against}"


def other_values(against: str, model_path: str, feeds) -> Dict[str, np.ndarray]:
    if against == "onnxruntime":
        return run_onnxruntime(model_path, feeds)
    if against == "reference":
        return run_reference(model_path, feeds)
    if not against.lower().endswith(".npz"):
        raise InputError(f"--against must be onnxruntime, reference or a BUNDLE.npz, got {against!r}")
    return load_bundle(against)[0]

"""Build and run a one-node ONNX model through tinyinfer (shared by the tests/ops files)."""
import numpy as np
from onnx import helper

import tinyinfer
from tinyinfer import dtypes


def run_node(op_type, inputs, n_outputs=1, domain="", opset=None, **attrs):
    """inputs: list of (name, array-or-None); returns the list of outputs."""
    node = helper.make_node(op_type, [n for n, _ in inputs], [f"y{i}" for i in range(n_outputs)],
                            domain=domain, **attrs)
    ins = [helper.make_tensor_value_info(n, dtypes.to_onnx(np.asarray(a).dtype), np.asarray(a).shape)
           for n, a in inputs if n]
    outs = [helper.make_empty_tensor_value_info(f"y{i}") for i in range(n_outputs)]
    graph = helper.make_graph([node], "t", ins, outs)
    opsets = [helper.make_opsetid("", opset or 21)]
    if domain:
        opsets.append(helper.make_opsetid(domain, 1 if domain != "ai.onnx.ml" else 5))
    model = helper.make_model(graph, opset_imports=opsets)
    sess = tinyinfer.InferenceSession(model.SerializeToString())
    return sess.run(None, {n: a for n, a in inputs if n})

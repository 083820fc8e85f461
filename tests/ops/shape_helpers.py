"""Build and run one-node models for the shape / indexing / geometry op tests."""
from onnx import helper

import tinyinfer


def run(op_type, inputs, n_out=1, opset=21, **attrs):
    """Run ``op_type`` (node name "n1") on ``inputs`` ([array or None]); returns the outputs."""
    names = [f"x{i}" if a is not None else "" for i, a in enumerate(inputs)]
    outs = [f"y{i}" for i in range(n_out)]
    node = helper.make_node(op_type, names, outs, name="n1", **attrs)
    gin = [helper.make_tensor_value_info(n, helper.np_dtype_to_tensor_dtype(a.dtype), a.shape)
           for n, a in zip(names, inputs) if a is not None]
    gout = [helper.make_tensor_value_info(o, 0, None) for o in outs]
    graph = helper.make_graph([node], "g", gin, gout)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], ir_version=10)
    feeds = {n: a for n, a in zip(names, inputs) if a is not None}
    return tinyinfer.InferenceSession(model.SerializeToString()).run(None, feeds)

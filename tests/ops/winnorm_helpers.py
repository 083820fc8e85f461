"""Build and run one-node models for the convolution, pooling and normalisation op tests."""
import numpy as np
from onnx import helper

import tinyinfer


def session(op_type, inputs, n_out=1, opset=21, name="n1", **attrs):
    """A session for one node; inputs is a list of arrays (None = absent optional input)."""
    names = [f"x{i}" if a is not None else "" for i, a in enumerate(inputs)]
    outs = [f"y{i}" for i in range(n_out)]
    node = helper.make_node(op_type, names, outs, name=name, **attrs)
    gin = [helper.make_tensor_value_info(n, helper.np_dtype_to_tensor_dtype(a.dtype), a.shape)
           for n, a in zip(names, inputs) if a is not None]
    gout = [helper.make_tensor_value_info(o, 0, None) for o in outs]
    graph = helper.make_graph([node], "g", gin, gout)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], ir_version=10)
    return tinyinfer.InferenceSession(model.SerializeToString())


def run(op_type, inputs, n_out=1, opset=21, name="n1", **attrs):
    """Run one node on ``inputs``; returns the list of outputs."""
    sess = session(op_type, inputs, n_out, opset, name, **attrs)
    feeds = {f"x{i}": a for i, a in enumerate(inputs) if a is not None}
    return sess.run(None, feeds)


def f32(v):
    return np.array(v, dtype=np.float32)

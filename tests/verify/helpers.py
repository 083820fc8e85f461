"""Models for the verify tests: a small toy graph, and 'alter one node' (its output x 1.01)."""
import numpy as np
import onnx
from onnx import helper, numpy_helper, TensorProto


def toy_model(path, opset=13):
    """x (1,4,8,8) -> Conv(depthwise 3x3, pad 1) -> Relu -> Conv(1x1, 4->3) -> Add(bias) -> y."""
    rng = np.random.default_rng(0)
    w1 = numpy_helper.from_array(rng.standard_normal((4, 1, 3, 3)).astype(np.float32), "w1")
    w2 = numpy_helper.from_array(rng.standard_normal((3, 4, 1, 1)).astype(np.float32), "w2")
    b = numpy_helper.from_array(rng.standard_normal((1, 3, 1, 1)).astype(np.float32), "b")
    nodes = [
        helper.make_node("Conv", ["x", "w1"], ["c1"], name="dw", group=4, pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"], name="relu"),
        helper.make_node("Conv", ["r1", "w2"], ["c2"], name="pw"),
        helper.make_node("Add", ["c2", "b"], ["y"], name="bias"),
    ]
    g = helper.make_graph(nodes, "toy", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 8, 8])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3, 8, 8])],
                          [w1, w2, b])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)], ir_version=8)
    onnx.save(m, str(path))
    return str(path)


def altered_copy(src, dst, node_name, factor=1.01):
    """A copy of `src` in which node `node_name`'s first output is multiplied by `factor`; every
    value keeps its name (the node now writes '<out>__raw', a Mul writes '<out>')."""
    m = onnx.load(str(src))
    nodes = list(m.graph.node)
    k = next(i for i, n in enumerate(nodes) if n.name == node_name)
    node = nodes[k]
    out = node.output[0]
    node.output[0] = out + "__raw"
    const = helper.make_node("Constant", [], [out + "__factor"], name=node_name + "__factor",
                             value=numpy_helper.from_array(np.array(factor, np.float32)))
    mul = helper.make_node("Mul", [out + "__raw", out + "__factor"], [out], name=node_name + "__alter")
    del m.graph.node[:]
    m.graph.node.extend(nodes[:k + 1] + [const, mul] + nodes[k + 1:])
    onnx.save(m, str(dst))
    return str(dst)


def ort_bundle(model_path, feeds, out):
    """What a user on another machine would produce: onnxruntime's values of every tensor."""
    from tinyinfer.verify.bundle import save_bundle
    from tinyinfer.verify.others import run_onnxruntime

    save_bundle(str(out), run_onnxruntime(str(model_path), feeds), {"producer": "onnxruntime"})
    return str(out)

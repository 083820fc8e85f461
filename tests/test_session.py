"""InferenceSession: onnxruntime's API shape, feed checks, errors naming what is wrong."""
import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper  # noqa: E402

import tinyinfer  # noqa: E402
from tinyinfer import registry  # noqa: E402


def add_model(shape=("N", 3), opset=17, **meta):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, list(shape))
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, list(shape))
    b = helper.make_tensor("b", TensorProto.FLOAT, [3], [1.0, 2.0, 3.0])
    node = helper.make_node("Add", ["x", "b"], ["y"], name="add1")
    g = helper.make_graph([node], "g", [x], [y], [b], doc_string="a graph")
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)], producer_name="unit")
    for k, v in meta.items():
        helper.set_model_props(m, {k: v})
    return m.SerializeToString()


def test_run_and_describe():
    sess = tinyinfer.InferenceSession(add_model(author="me"))
    (i,) = sess.get_inputs()
    assert (i.name, i.shape, i.type) == ("x", ["N", 3], "tensor(float)")
    assert sess.get_outputs()[0].name == "y"
    x = np.ones((2, 3), np.float32)
    (y,) = sess.run(None, {"x": x})
    np.testing.assert_array_equal(y, [[2, 3, 4], [2, 3, 4]])
    assert sess.run(["y"], {"x": x})[0].dtype == np.float32
    meta = sess.get_modelmeta()
    assert meta.producer_name == "unit" and meta.custom_metadata_map == {"author": "me"}
    assert meta.graph_description == "a graph"
    assert sess.get_providers() == ["CPUExecutionProvider"]


def test_unknown_dim_is_none_and_symbolic_is_str():
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, "W", 3])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    g = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "g", [x], [y])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    sess = tinyinfer.InferenceSession(m.SerializeToString())
    assert sess.get_inputs()[0].shape == [None, "W", 3]


@pytest.mark.parametrize("feed, words", [
    ({"z": np.ones((1, 3), np.float32)}, ["'z'", "not an input"]),
    ({}, ["'x'", "missing", "tensor(float)"]),
    ({"x": np.ones((1, 3), np.float64)}, ["'x'", "tensor(float)", "float64"]),
    ({"x": np.ones((3,), np.float32)}, ["'x'", "rank 2", "rank 1"]),
    ({"x": np.ones((1, 4), np.float32)}, ["'x'", "dimension 1 must be 3", "got 4"]),
])
def test_bad_feeds_name_the_input(feed, words):
    sess = tinyinfer.InferenceSession(add_model())
    with pytest.raises(tinyinfer.InputError) as e:
        sess.run(None, feed)
    for w in words:
        assert w in str(e.value), str(e.value)


def test_unknown_output_name():
    sess = tinyinfer.InferenceSession(add_model())
    with pytest.raises(tinyinfer.InputError, match="'nope' is not an output"):
        sess.run(["nope"], {"x": np.ones((1, 3), np.float32)})


def test_unsupported_op_names_op_domain_and_opset():
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])
    g = helper.make_graph([helper.make_node("FrobnicateX", ["x"], ["y"], name="n7")], "g", [x],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    with pytest.raises(tinyinfer.UnsupportedOpError) as e:
        tinyinfer.InferenceSession(m.SerializeToString())
    assert "n7" in str(e.value) and "FrobnicateX" in str(e.value) and "ai.onnx" in str(e.value)


def _graph(nodes, inputs=("x",), outputs=("y",)):
    ins = [helper.make_tensor_value_info(n, TensorProto.FLOAT, [1]) for n in inputs]
    outs = [helper.make_tensor_value_info(n, TensorProto.FLOAT, [1]) for n in outputs]
    g = helper.make_graph(nodes, "g", ins, outs)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString()


def test_graph_errors_name_the_node():
    cyc = _graph([helper.make_node("Identity", ["b"], ["a"], name="A"),
                  helper.make_node("Identity", ["a"], ["b"], name="B"),
                  helper.make_node("Identity", ["x"], ["y"], name="C")])
    with pytest.raises(tinyinfer.ModelError, match="cycle"):
        tinyinfer.InferenceSession(cyc)
    undefined = _graph([helper.make_node("Identity", ["ghost"], ["y"], name="U")])
    with pytest.raises(tinyinfer.ModelError, match=r'"U".*ghost'):
        tinyinfer.InferenceSession(undefined)
    dup = _graph([helper.make_node("Identity", ["x"], ["y"], name="D1"),
                  helper.make_node("Identity", ["x"], ["y"], name="D2")])
    with pytest.raises(tinyinfer.ModelError, match="also produced"):
        tinyinfer.InferenceSession(dup)
    never = _graph([helper.make_node("Identity", ["x"], ["z"])])
    with pytest.raises(tinyinfer.ModelError, match="'y' is not produced"):
        tinyinfer.InferenceSession(never)


def test_nodes_out_of_order_are_sorted():
    m = _graph([helper.make_node("Identity", ["t"], ["y"]), helper.make_node("Identity", ["x"], ["t"])])
    (y,) = tinyinfer.InferenceSession(m).run(None, {"x": np.array([5.0], np.float32)})
    assert y[0] == 5.0


def test_registry_takes_highest_version_not_above_model_opset():
    @registry.op("_TestVersioned", since=1, domain="test.tinyinfer")
    def v1(x):
        return x + 1

    @registry.op("_TestVersioned", since=5, domain="test.tinyinfer")
    def v5(x):
        return x + 5

    for opset, want in [(1, 1), (4, 1), (5, 5), (9, 5)]:
        cls = registry.lookup("_TestVersioned", "test.tinyinfer", opset)
        assert cls(None).run(np.zeros(1))[0] == want
    with pytest.raises(tinyinfer.UnsupportedOpError, match="opset 0"):
        registry.lookup("_TestVersioned", "test.tinyinfer", 0)


def test_session_options_shape():
    so = tinyinfer.SessionOptions()
    so.graph_optimization_level = tinyinfer.GraphOptimizationLevel.ORT_DISABLE_ALL
    so.intra_op_num_threads = 1
    sess = tinyinfer.InferenceSession(add_model(), so)
    assert sess.get_session_options().intra_op_num_threads == 1


def test_runtime_failure_names_the_node():
    # Reshape to an impossible shape: a data-dependent failure at run time
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [None])
    s = helper.make_tensor_value_info("s", TensorProto.INT64, [1])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    g = helper.make_graph([helper.make_node("Reshape", ["x", "s"], ["y"], name="rs")], "g", [x, s], [y])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    sess = tinyinfer.InferenceSession(m.SerializeToString())
    with pytest.raises(tinyinfer.TinyInferError, match='"rs"'):
        sess.run(None, {"x": np.ones(6, np.float32), "s": np.array([4], np.int64)})


@pytest.mark.parametrize("ir_version, overridable", [(3, False), (8, True)])
def test_initializers_listed_as_inputs(ir_version, overridable):
    """IR < 4 files list every weight as an input: constants there (as onnxruntime), feeds after."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [3])
    b_in = helper.make_tensor_value_info("b", TensorProto.FLOAT, [3])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [3])
    b = helper.make_tensor("b", TensorProto.FLOAT, [3], [1.0, 2.0, 3.0])
    g = helper.make_graph([helper.make_node("Add", ["x", "b"], ["y"])], "g", [x, b_in], [y], [b])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 9)], ir_version=ir_version)
    sess = tinyinfer.InferenceSession(m.SerializeToString())
    assert [i.name for i in sess.get_inputs()] == ["x"]
    assert [i.name for i in sess.get_overridable_initializers()] == (["b"] if overridable else [])
    x0 = np.zeros(3, np.float32)
    np.testing.assert_array_equal(sess.run(None, {"x": x0})[0], [1, 2, 3])
    if overridable:
        got = sess.run(None, {"x": x0, "b": np.full(3, 7, np.float32)})[0]
        np.testing.assert_array_equal(got, [7, 7, 7])
    else:
        with pytest.raises(tinyinfer.InputError, match="'b' is not an input"):
            sess.run(None, {"x": x0, "b": np.full(3, 7, np.float32)})

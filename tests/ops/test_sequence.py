"""Sequence and optional ops: hand-checked values and error wording."""
import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper  # noqa: E402

import tinyinfer  # noqa: E402
from tinyinfer.errors import RuntimeFailure  # noqa: E402

F, I64 = TensorProto.FLOAT, TensorProto.INT64


def vi(name, t=F, shape=None):
    return helper.make_tensor_value_info(name, t, shape)


def seq(name):
    return helper.make_tensor_sequence_value_info(name, F, None)


def session(nodes, inputs, outputs, opset=18):
    graph = helper.make_graph(nodes, "g", inputs, outputs)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], ir_version=8)
    return tinyinfer.InferenceSession(model.SerializeToString())


a = np.array([1, 2], np.float32)
b = np.array([3], np.float32)
c = np.array([4, 5, 6], np.float32)


def test_construct_insert_erase_at_length():
    nodes = [helper.make_node("SequenceConstruct", ["a", "b"], ["s"]),
             helper.make_node("SequenceInsert", ["s", "c", "zero"], ["s2"]),   # [c, a, b]
             helper.make_node("SequenceErase", ["s2", "minus1"], ["s3"]),      # [c, a]
             helper.make_node("SequenceAt", ["s3", "minus1"], ["last"]),       # a
             helper.make_node("SequenceLength", ["s2"], ["n"])]                # 3
    s = session(nodes, [vi("a", F, [2]), vi("b", F, [1]), vi("c", F, [3]),
                        vi("zero", I64, []), vi("minus1", I64, [])],
                [seq("s"), seq("s2"), seq("s3"), vi("last"), vi("n", I64)])
    s1, s2, s3, last, n = s.run(None, {"a": a, "b": b, "c": c, "zero": np.array(0),
                                       "minus1": np.array(-1)})
    assert [list(t) for t in s1] == [[1, 2], [3]]          # the input list was not modified
    assert [list(t) for t in s2] == [[4, 5, 6], [1, 2], [3]]
    assert [list(t) for t in s3] == [[4, 5, 6], [1, 2]]
    np.testing.assert_array_equal(last, a)
    assert n == 3 and n.dtype == np.int64


def test_sequence_at_out_of_range_names_the_node():
    nodes = [helper.make_node("SequenceConstruct", ["a"], ["s"]),
             helper.make_node("SequenceAt", ["s", "i"], ["t"], name="pick")]
    s = session(nodes, [vi("a", F, [2]), vi("i", I64, [])], [vi("t")])
    with pytest.raises(RuntimeFailure, match='node "pick" \\(SequenceAt\\).*position=1 is out of range'):
        s.run(None, {"a": a, "i": np.array(1)})


def test_split_to_sequence_and_concat_back():
    x = np.arange(6, dtype=np.float32).reshape(3, 2)
    nodes = [helper.make_node("SplitToSequence", ["x", "split"], ["s"], axis=0),
             helper.make_node("SplitToSequence", ["x"], ["rows"], axis=0, keepdims=0),
             helper.make_node("ConcatFromSequence", ["s"], ["back"], axis=0),
             helper.make_node("ConcatFromSequence", ["rows"], ["stacked"], axis=-1, new_axis=1)]
    s = session(nodes, [vi("x", F, [3, 2]), vi("split", I64, [])],
                [seq("s"), seq("rows"), vi("back"), vi("stacked")])
    pieces, rows, back, stacked = s.run(None, {"x": x, "split": np.array(2)})
    assert [p.shape for p in pieces] == [(2, 2), (1, 2)]   # chunks of 2, last one shorter
    assert [r.shape for r in rows] == [(2,)] * 3
    np.testing.assert_array_equal(back, x)
    np.testing.assert_array_equal(stacked, x.T)            # rows stacked on a new last axis


def test_sequence_empty_then_insert():
    nodes = [helper.make_node("SequenceEmpty", [], ["e"]),
             helper.make_node("SequenceInsert", ["e", "a"], ["s"]),
             helper.make_node("SequenceLength", ["e"], ["n"])]
    s = session(nodes, [vi("a", F, [2])], [seq("s"), vi("n", I64)])
    out, n = s.run(None, {"a": a})
    assert len(out) == 1 and n == 0


def test_optional_has_and_get_element():
    nodes = [helper.make_node("Optional", ["a"], ["o"]),
             helper.make_node("OptionalHasElement", ["o"], ["has"]),
             helper.make_node("OptionalGetElement", ["o"], ["v"])]
    s = session(nodes, [vi("a", F, [2])], [vi("has", TensorProto.BOOL), vi("v")])
    has, v = s.run(None, {"a": a})
    assert bool(has) is True
    np.testing.assert_array_equal(v, a)


def test_get_element_of_empty_optional_names_the_node():
    tp = helper.make_tensor_type_proto(F, [2])
    nodes = [helper.make_node("Optional", [], ["o"], type=tp),
             helper.make_node("OptionalHasElement", ["o"], ["has"]),
             helper.make_node("OptionalGetElement", ["o"], ["v"], name="unwrap")]
    s = session(nodes, [], [vi("has", TensorProto.BOOL), vi("v")])
    with pytest.raises(RuntimeFailure, match='node "unwrap" \\(OptionalGetElement\\).*empty'):
        s.run(None, {})

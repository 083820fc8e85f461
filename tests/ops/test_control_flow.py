"""If, Loop, Scan, SequenceMap: hand-checked values, outer-scope captures, budgets and errors."""
import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper  # noqa: E402

import tinyinfer  # noqa: E402
from tinyinfer.errors import ModelError, ResourceLimitError, RuntimeFailure  # noqa: E402

F, I64, B = TensorProto.FLOAT, TensorProto.INT64, TensorProto.BOOL


def vi(name, t=F, shape=None):
    return helper.make_tensor_value_info(name, t, shape)


def session(nodes, inputs, outputs, opset=17, options=None):
    graph = helper.make_graph(nodes, "g", inputs, outputs)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], ir_version=8)
    return tinyinfer.InferenceSession(model.SerializeToString(), options)


def test_if_reads_outer_value_and_branches_differ_in_shape():
    # then: x + outer (shape [2]); else: a constant of shape [3]
    then_g = helper.make_graph([helper.make_node("Add", ["x", "y"], ["t"])], "then", [], [vi("t")])
    c = helper.make_tensor("c", F, [3], [7, 8, 9])
    else_g = helper.make_graph([helper.make_node("Constant", [], ["e"], value=c)], "else", [], [vi("e")])
    # 'y' is produced AFTER the If in file order: the plan must still compute it first
    nodes = [helper.make_node("If", ["cond"], ["out"], name="branch", then_branch=then_g, else_branch=else_g),
             helper.make_node("Neg", ["x"], ["y"])]
    s = session(nodes, [vi("cond", B, []), vi("x", F, [2])], [vi("out")])
    x = np.array([1, 2], np.float32)
    np.testing.assert_array_equal(s.run(None, {"cond": np.array(True), "x": x})[0], [0, 0])
    np.testing.assert_array_equal(s.run(None, {"cond": np.array(False), "x": x})[0], [7, 8, 9])


def test_if_condition_with_two_elements_names_the_node():
    g = helper.make_graph([helper.make_node("Identity", ["x"], ["t"])], "b", [], [vi("t")])
    s = session([helper.make_node("If", ["cond"], ["out"], name="branch", then_branch=g, else_branch=g)],
                [vi("cond", B, [2]), vi("x", F, [1])], [vi("out")])
    with pytest.raises(RuntimeFailure, match='node "branch" \\(If\\).*one element'):
        s.run(None, {"cond": np.array([True, False]), "x": np.ones(1, np.float32)})


def loop_body():
    # body(i, cond, acc) -> (cond, acc + i, acc + i as scan output)
    return helper.make_graph(
        [helper.make_node("Identity", ["cond_in"], ["cond_out"]),
         helper.make_node("Cast", ["i"], ["fi"], to=F),
         helper.make_node("Add", ["acc_in", "fi"], ["acc_out"]),
         helper.make_node("Identity", ["acc_out"], ["scan"])],
        "body", [vi("i", I64, []), vi("cond_in", B, []), vi("acc_in", F, [1])],
        [vi("cond_out", B, []), vi("acc_out", F, [1]), vi("scan", F, [1])])


def test_loop_sums_iteration_numbers_and_stacks_scan_outputs():
    # acc: 10 -> 10 -> 11 -> 13 -> 16;  scan outputs [[10], [11], [13], [16]]
    s = session([helper.make_node("Loop", ["M", "", "acc0"], ["acc", "scans"], name="lp", body=loop_body())],
                [vi("M", I64, []), vi("acc0", F, [1])], [vi("acc"), vi("scans")])
    acc, scans = s.run(None, {"M": np.array(4), "acc0": np.array([10], np.float32)})
    np.testing.assert_array_equal(acc, [16])
    np.testing.assert_array_equal(scans, [[10], [11], [13], [16]])
    acc, scans = s.run(None, {"M": np.array(0), "acc0": np.array([10], np.float32)})
    np.testing.assert_array_equal(acc, [10])
    assert scans.shape == (0, 1) and scans.dtype == np.float32


def test_loop_over_budget_raises_resource_limit_naming_the_node():
    opts = tinyinfer.SessionOptions()
    opts.add_session_config_entry("tinyinfer.max_loop_iterations", "5")
    s = session([helper.make_node("Loop", ["M", "", "acc0"], ["acc", "scans"], name="lp", body=loop_body())],
                [vi("M", I64, []), vi("acc0", F, [1])], [vi("acc"), vi("scans")], options=opts)
    s.run(None, {"M": np.array(5), "acc0": np.zeros(1, np.float32)})
    with pytest.raises(ResourceLimitError, match='node "lp" \\(Loop\\).*more than 5'):
        s.run(None, {"M": np.array(6), "acc0": np.zeros(1, np.float32)})


def test_loop_body_with_wrong_input_count_is_a_model_error():
    bad = helper.make_graph([helper.make_node("Identity", ["c"], ["c2"])], "body",
                            [vi("c", B, [])], [vi("c2", B, [])])
    with pytest.raises(ModelError, match='node "lp" \\(Loop\\).*inputs'):
        session([helper.make_node("Loop", ["M", ""], [], name="lp", body=bad)], [vi("M", I64, [])], [])


def test_scan9_cumulative_sum_forward_and_reverse():
    # state s, input x_t: s' = s + x_t, output s'.  x = [1, 2, 3]
    body = helper.make_graph([helper.make_node("Add", ["s", "x"], ["s2"]),
                              helper.make_node("Identity", ["s2"], ["y"])], "body",
                             [vi("s", F, []), vi("x", F, [])], [vi("s2", F, []), vi("y", F, [])])
    for direction, want in ((0, [1, 3, 6]), (1, [3, 5, 6])):
        s = session([helper.make_node("Scan", ["s0", "xs"], ["s", "ys"], name="sc", body=body,
                                      num_scan_inputs=1, scan_input_directions=[direction])],
                    [vi("s0", F, []), vi("xs", F, [3])], [vi("s"), vi("ys")])
        total, ys = s.run(None, {"s0": np.array(0, np.float32), "xs": np.array([1, 2, 3], np.float32)})
        assert total == 6
        np.testing.assert_array_equal(ys, want)


def test_scan9_output_axis_and_reverse_output():
    # x: (3, 2) scanned along axis 1 -> slices of shape (3,), y = 2 * slice stacked on axis 1
    body = helper.make_graph([helper.make_node("Add", ["x", "x"], ["y"])], "body",
                             [vi("x", F, [3])], [vi("y", F, [3])])
    s = session([helper.make_node("Scan", ["xs"], ["ys"], name="sc", body=body, num_scan_inputs=1,
                                  scan_input_axes=[1], scan_output_axes=[1],
                                  scan_output_directions=[1])],
                [vi("xs", F, [3, 2])], [vi("ys")])
    x = np.arange(6, dtype=np.float32).reshape(3, 2)
    np.testing.assert_array_equal(s.run(None, {"xs": x})[0], 2 * x[:, ::-1])


def test_sequence_map_adds_outer_tensor_to_each_element():
    body = helper.make_graph([helper.make_node("Add", ["e", "t"], ["o"])], "body",
                             [vi("e", F, None), vi("t", F, None)], [vi("o", F, None)])
    nodes = [helper.make_node("SequenceConstruct", ["a", "b"], ["seq"]),
             helper.make_node("SequenceMap", ["seq", "t"], ["out"], body=body)]
    s = session(nodes, [vi("a", F, [2]), vi("b", F, [1]), vi("t", F, [1])],
                [helper.make_tensor_sequence_value_info("out", F, None)])
    out = s.run(None, {"a": np.array([1, 2], np.float32), "b": np.array([5], np.float32),
                       "t": np.array([10], np.float32)})[0]
    np.testing.assert_array_equal(out[0], [11, 12])
    np.testing.assert_array_equal(out[1], [15])

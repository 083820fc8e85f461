"""The bad-input corpus: every way a model file, an option or a feed can be hostile or broken.

Each case builds its files in a folder and names the error class and message words expected
(``"ok"`` for a hostile-looking file that is in fact fine, e.g. unknown fields). The cases run in
a child process (runner.py); test_bad_inputs.py checks class, words, time (< 2 s) and memory.
"""
from __future__ import annotations

import os
import struct
import zlib
from dataclasses import dataclass, field
from typing import Callable, Dict

import numpy as np
from onnx import TensorProto, helper, numpy_helper

from . import pb

F = TensorProto.FLOAT


@dataclass
class Case:
    name: str
    build: Callable          # build(folder) -> job dict (without name)
    error: str               # expected class name (or a base it derives from), or "ok"
    words: str = ""          # a regex the message must match
    category: str = ""


CASES = []


def case(category: str, error: str, words: str = ""):
    def register(fn):
        CASES.append(Case(fn.__name__, fn, error, words, category))
        return fn
    return register


# -- helpers ------------------------------------------------------------------------------------

def save(folder: str, model_or_bytes, name: str = "model.onnx") -> str:
    path = os.path.join(folder, name)
    data = model_or_bytes if isinstance(model_or_bytes, bytes) else model_or_bytes.SerializeToString()
    with open(path, "wb") as f:
        f.write(data)
    return path


def mk(nodes, inputs, outputs, inits=(), opset=17, **kw):
    g = helper.make_graph(nodes, "g", inputs, outputs, list(inits))
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)], **kw)
    m.ir_version = 8
    return m


def vi(name, elem=F, shape=None):
    return helper.make_tensor_value_info(name, elem, shape)


def session(folder, model, **options) -> Dict:
    return {"action": "session", "path": save(folder, model), "options": options}


def run(folder, model, feeds, **options) -> Dict:
    return {"action": "run", "path": save(folder, model), "options": options,
            "feeds": {k: {"dtype": str(np.asarray(v).dtype), "value": np.asarray(v).tolist()}
                      for k, v in feeds.items()}}


def one_node(op, inputs, outputs=("y",), in_shapes=None, elem=F, opset=17, inits=(), **attrs):
    node = helper.make_node(op, list(inputs), list(outputs), name="n1", **attrs)
    init_names = {t.name for t in inits}
    ins = [vi(n, elem, (in_shapes or {}).get(n)) for n in inputs if n and n not in init_names]
    return mk([node], ins, [vi(o, elem) for o in outputs], inits, opset=opset)


def ext_tensor(location, offset=0, length=None, dims=(2, 3)):
    t = TensorProto(name="w", data_type=F, dims=list(dims), data_location=TensorProto.EXTERNAL)
    entries = {"location": location, "offset": str(offset)}
    if length is not None:
        entries["length"] = str(length)
    for k, v in entries.items():
        e = t.external_data.add()
        e.key, e.value = k, v
    return t


def ext_model(folder, location, offset=0, length=None, data=b"\0" * 24, dims=(2, 3)):
    if data is not None:
        with open(os.path.join(folder, "weights.bin"), "wb") as f:
            f.write(data)
    t = ext_tensor(location, offset, length, dims)
    return mk([helper.make_node("Add", ["x", "w"], ["y"])], [vi("x", F, [2, 3])], [vi("y")], [t])


def raw_init(t: TensorProto):
    return mk([helper.make_node("Identity", [t.name], ["y"])], [], [vi("y")], [t])


# -- protobuf wire format -------------------------------------------------------------------------

@case("protobuf", "DecodeError", "longer than 10 bytes")
def varint_longer_than_10_bytes(d):
    return {"action": "session", "path": save(d, pb.key(1, 0) + b"\xff" * 11 + b"\x01")}


@case("protobuf", "DecodeError", "declares .* bytes, only")
def length_beyond_buffer(d):
    return {"action": "session", "path": save(d, pb.key(7, 2) + pb.varint(1 << 40) + b"abc")}


@case("protobuf", "DecodeError", "invalid wire type 7")
def invalid_wire_type(d):
    return {"action": "session", "path": save(d, pb.key(7, 7) + b"\0" * 8)}


@case("protobuf", "DecodeError", "truncated")
def truncated_model(d):
    m = one_node("Relu", ["x"], in_shapes={"x": [2]}).SerializeToString()
    return {"action": "session", "path": save(d, m[: len(m) - 7])}


@case("protobuf", "ModelError", "empty")
def empty_file(d):
    return {"action": "session", "path": save(d, b"")}


@case("protobuf", "ModelError", "not an ONNX model|not a valid ONNX")
def text_file_not_a_model(d):
    return {"action": "session", "path": save(d, b"hello, I am not a model\n" * 10)}


@case("protobuf", "ModelError", "not a regular file")
def model_path_is_a_device(d):
    return {"action": "session", "path": "/dev/zero"}


@case("protobuf", "NestingLimitError", "sub-graphs nest deeper than 64")
def subgraphs_nested_200_deep(d):
    g = pb.identity_graph()
    for _ in range(200):  # If(then_branch = If(then_branch = ...))
        attr = pb.field(1, "then_branch") + pb.field(20, 5) + pb.field(6, g)
        node = pb.field(1, "c") + pb.field(2, "y") + pb.field(4, "If") + pb.field(5, attr)
        g = pb.field(1, node) + pb.field(12, pb.value_info("y"))
    return {"action": "session", "path": save(d, pb.model(g))}


@case("protobuf", "NestingLimitError", "type declarations nest deeper")
def type_nested_5000_deep(d):
    t = pb.tensor_type(1, [2])
    for _ in range(5000):  # sequence(sequence(...)): would overflow a recursive decoder's stack
        t = pb.field(4, pb.field(1, t))
    return {"action": "session", "path": save(d, pb.model(pb.identity_graph(pb.field(13, pb.value_info("v", t)))))}


@case("protobuf", "ok")
def unknown_fields_and_groups_are_skipped(d):
    junk = (pb.field(99, 7) + pb.field(100, b"\x01\x02\x03") + pb.key(101, 5) + b"abcd"
            + pb.key(102, 1) + b"12345678" + pb.key(103, 3) + pb.field(1, 5) + pb.key(103, 4))
    g = pb.identity_graph(junk)
    return {"action": "run", "path": save(d, pb.model(g) + junk), "options": {},
            "feeds": {"x": {"dtype": "float32", "value": [1.0, 2.0]}}}


@case("protobuf", "ModelError", "more than 64 dimensions")
def repeated_dims_bomb(d):
    t = pb.field(1, 1) * 2_000_000 + pb.field(2, 1) + pb.field(8, "w")  # 2 M unpacked dims
    g = pb.identity_graph(pb.field(5, t))
    return {"action": "session", "path": save(d, pb.model(g))}


@case("protobuf", "ModelError", "need 1 stored elements, found 20000000")
def packed_int64_bomb(d):
    t = pb.field(1, 1) + pb.field(2, 7) + pb.field(7, b"\x01" * 20_000_000) + pb.field(8, "w")
    g = pb.identity_graph(pb.field(5, t))
    return {"action": "session", "path": save(d, pb.model(g))}


@case("protobuf", "ModelError", "more than 64 dimensions")
def declared_shape_rank_bomb(d):
    shape = pb.field(1, b"") * 1_000_000
    t = pb.field(1, pb.field(1, 1) + pb.field(2, shape))
    return {"action": "session", "path": save(d, pb.model(pb.identity_graph(pb.field(13, pb.value_info("v", t)))))}


# -- tensor data ------------------------------------------------------------------------------------

@case("tensor", "TensorSizeLimitError", "max_tensor_bytes")
def huge_dims_with_no_data(d):
    return session(d, raw_init(TensorProto(name="w", data_type=F, dims=[1 << 20, 1 << 20])))


@case("tensor", "ModelError", "impossibly large")
def dims_product_overflows_int64(d):
    return session(d, raw_init(TensorProto(name="w", data_type=F, dims=[1 << 62, 1 << 62, 0])))


@case("tensor", "ModelError", "negative dimension -3")
def negative_dim(d):
    return session(d, raw_init(TensorProto(name="w", data_type=F, dims=[-3, 2])))


@case("tensor", "ModelError", r"need 40 bytes of raw data, found 12")
def raw_data_too_short(d):
    return session(d, raw_init(TensorProto(name="w", data_type=F, dims=[10], raw_data=b"\0" * 12)))


@case("tensor", "ModelError", "need 4 stored elements, found 3")
def float_data_count_mismatch(d):
    return session(d, raw_init(TensorProto(name="w", data_type=F, dims=[4], float_data=[1, 2, 3])))


@case("tensor", "ModelError", "unknown element type 99")
def unknown_element_type(d):
    return session(d, raw_init(TensorProto(name="w", data_type=99, dims=[1], raw_data=b"\0")))


@case("tensor", "ModelError", "need 3 strings, found 1")
def string_count_mismatch(d):
    return session(d, raw_init(TensorProto(name="w", data_type=TensorProto.STRING, dims=[3],
                                           string_data=[b"a"])))


@case("tensor", "ModelError", "sparse index out of range")
def sparse_index_out_of_range(d):
    values = numpy_helper.from_array(np.ones(2, np.float32), "w")
    idx = numpy_helper.from_array(np.array([1, 99], np.int64), "i")
    sp = helper.make_sparse_tensor(values, idx, [10])
    g = helper.make_graph([helper.make_node("Identity", ["w"], ["y"])], "g", [], [vi("y")],
                          sparse_initializer=[sp])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    return session(d, m)


@case("tensor", "TensorSizeLimitError", "max_tensor_bytes")
def sparse_dense_shape_huge(d):
    values = numpy_helper.from_array(np.ones(1, np.float32), "w")
    idx = numpy_helper.from_array(np.array([0], np.int64), "i")
    sp = helper.make_sparse_tensor(values, idx, [1 << 25, 1 << 25])
    g = helper.make_graph([helper.make_node("Identity", ["w"], ["y"])], "g", [], [vi("y")],
                          sparse_initializer=[sp])
    return session(d, helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]))


# -- external data ----------------------------------------------------------------------------------

@case("external", "ModelError", "absolute path")
def external_absolute_path(d):
    return session(d, ext_model(d, "/etc/passwd"))


@case("external", "ModelError", "contains '..'")
def external_dotdot(d):
    return session(d, ext_model(d, "sub/../../weights.bin"))


@case("external", "ModelError", "outside the model's folder")
def external_symlink_out(d):
    outside = os.path.join(os.path.dirname(d), os.path.basename(d) + "_outside.bin")
    with open(outside, "wb") as f:
        f.write(b"\0" * 24)
    os.symlink(outside, os.path.join(d, "link.bin"))
    return session(d, ext_model(d, "link.bin", data=None))


@case("external", "ModelError", "not found")
def external_missing_file(d):
    return session(d, ext_model(d, "nothere.bin", data=None))


@case("external", "ModelError", "length 10 does not match the 24 bytes")
def external_short_file(d):
    return session(d, ext_model(d, "weights.bin", data=b"\0" * 10))


@case("external", "ModelError", "has only 24 bytes")
def external_offset_past_end(d):
    return session(d, ext_model(d, "weights.bin", offset=1 << 40, length=24))


@case("external", "ModelError", "does not match the 24 bytes")
def external_length_mismatch(d):
    return session(d, ext_model(d, "weights.bin", data=b"\0" * 64, length=64))


@case("external", "ModelError", "negative external data offset")
def external_negative_offset(d):
    return session(d, ext_model(d, "weights.bin", offset=-8))


@case("external", "ModelError", "not integers")
def external_offset_not_a_number(d):
    return session(d, ext_model(d, "weights.bin", offset="zero"))


@case("external", "ModelError", "no model folder")
def external_from_bytes(d):
    job = session(d, ext_model(d, "weights.bin"))
    job["as_bytes"] = True
    return job


# -- graph structure --------------------------------------------------------------------------------

@case("graph", "ModelError", "cycle")
def graph_cycle(d):
    nodes = [helper.make_node("Relu", ["b"], ["a"], name="r1"), helper.make_node("Relu", ["a"], ["b"], name="r2"),
             helper.make_node("Relu", ["a"], ["y"], name="r3")]
    return session(d, mk(nodes, [], [vi("y")]))


@case("graph", "ModelError", "'nowhere' is not a graph input")
def undefined_input(d):
    return session(d, mk([helper.make_node("Relu", ["nowhere"], ["y"], name="r")], [], [vi("y")]))


@case("graph", "ModelError", "also produced by")
def duplicate_producer(d):
    nodes = [helper.make_node("Relu", ["x"], ["y"], name="a"), helper.make_node("Neg", ["x"], ["y"], name="b")]
    return session(d, mk(nodes, [vi("x", F, [2])], [vi("y")]))


@case("graph", "ModelError", "'z' is not produced")
def output_never_produced(d):
    return session(d, mk([helper.make_node("Relu", ["x"], ["y"])], [vi("x", F, [2])], [vi("z")]))


@case("graph", "UnsupportedOpError", "FrobnicateTensor .* not implemented")
def unknown_op(d):
    return session(d, one_node("FrobnicateTensor", ["x"]))


@case("graph", "UnsupportedOpError", "com.example")
def unknown_domain(d):
    node = helper.make_node("Relu", ["x"], ["y"], domain="com.example", name="n1")
    m = helper.make_model(helper.make_graph([node], "g", [vi("x")], [vi("y")]),
                          opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.example", 1)])
    return session(d, m)


@case("graph", "UnsupportedOpError", "opset 99 .* newer than the newest")
def opset_newer_than_supported(d):
    return session(d, one_node("Relu", ["x"], opset=99))


@case("graph", "ModelError", "required attribute 'to'")
def missing_required_attribute(d):
    return session(d, one_node("Cast", ["x"]))


@case("graph", "ModelError", r'"n1" \(Add\): has 1 inputs .* needs at least 2')
def missing_required_input(d):
    return session(d, one_node("Add", ["x"]))


@case("graph", "ModelError", "node .*Gather.*bad attributes")
def attribute_of_wrong_type(d):
    return session(d, one_node("Gather", ["x", "i"], axis="zero"))


@case("graph", "GraphSizeLimitError", "max_nodes")
def too_many_nodes(d):
    nodes = [helper.make_node("Relu", ["x" if i == 0 else f"t{i}"], [f"t{i + 1}"]) for i in range(50)]
    nodes.append(helper.make_node("Relu", ["t50"], ["y"]))
    return session(d, mk(nodes, [vi("x", F, [2])], [vi("y")]), max_nodes=20)


@case("graph", "GraphSizeLimitError", "would make 1,073,741,824 nodes")
def function_call_tree_bomb(d):
    fns = [helper.make_function("local", "f0", ["a"], ["b"], [helper.make_node("Relu", ["a"], ["b"])],
                                [helper.make_opsetid("", 17)])]
    for i in range(1, 31):  # f_i calls f_{i-1} twice: 2**30 nodes once inlined
        body = [helper.make_node(f"f{i - 1}", ["a"], ["t"], domain="local"),
                helper.make_node(f"f{i - 1}", ["t"], ["b"], domain="local")]
        fns.append(helper.make_function("local", f"f{i}", ["a"], ["b"], body, [helper.make_opsetid("", 17)]))
    g = helper.make_graph([helper.make_node("f30", ["x"], ["y"], domain="local")], "g", [vi("x", F, [2])], [vi("y")])
    m = helper.make_model(g, functions=fns, opset_imports=[helper.make_opsetid("", 17),
                                                           helper.make_opsetid("local", 1)])
    return session(d, m)


@case("graph", "NestingLimitError", "deeper than 32")
def recursive_function(d):
    f = helper.make_function("local", "f", ["a"], ["b"], [helper.make_node("f", ["a"], ["b"], domain="local")],
                             [helper.make_opsetid("", 17), helper.make_opsetid("local", 1)])
    g = helper.make_graph([helper.make_node("f", ["x"], ["y"], domain="local")], "g", [vi("x", F, [2])], [vi("y")])
    m = helper.make_model(g, functions=[f], opset_imports=[helper.make_opsetid("", 17),
                                                          helper.make_opsetid("local", 1)])
    return session(d, m)


# -- attribute ranges (checked when the model loads) -----------------------------------------------

@case("attributes", "TinyInferError", "group")
def conv_group_does_not_divide_channels(d):
    w = numpy_helper.from_array(np.ones((4, 1, 3, 3), np.float32), "w")
    return run(d, one_node("Conv", ["x", "w"], inits=[w], in_shapes={"x": [1, 3, 8, 8]}, group=2),
               {"x": np.ones((1, 3, 8, 8), np.float32)})


@case("attributes", "TinyInferError", "strides")
def conv_zero_stride(d):
    w = numpy_helper.from_array(np.ones((1, 1, 3, 3), np.float32), "w")
    return run(d, one_node("Conv", ["x", "w"], inits=[w], in_shapes={"x": [1, 1, 8, 8]}, strides=[0, 1]),
               {"x": np.ones((1, 1, 8, 8), np.float32)})


@case("attributes", "TinyInferError", "kernel|larger|padded input")
def conv_kernel_larger_than_input(d):
    w = numpy_helper.from_array(np.ones((1, 1, 9, 9), np.float32), "w")
    return run(d, one_node("Conv", ["x", "w"], inits=[w], in_shapes={"x": [1, 1, 4, 4]}),
               {"x": np.ones((1, 1, 4, 4), np.float32)})


@case("attributes", "TinyInferError", "perm")
def transpose_bad_perm(d):
    return run(d, one_node("Transpose", ["x"], in_shapes={"x": [2, 3]}, perm=[0, 0]),
               {"x": np.ones((2, 3), np.float32)})


@case("attributes", "TinyInferError", "axis")
def softmax_axis_out_of_range(d):
    return run(d, one_node("Softmax", ["x"], in_shapes={"x": [2, 3]}, axis=7),
               {"x": np.ones((2, 3), np.float32)})


@case("attributes", "TinyInferError", "pads")
def pool_negative_pads(d):
    return run(d, one_node("MaxPool", ["x"], in_shapes={"x": [1, 1, 4, 4]}, kernel_shape=[2, 2],
                           pads=[-5, 0, 0, 0]), {"x": np.ones((1, 1, 4, 4), np.float32)})


# -- data-dependent sizes and indices (checked when the data arrives) ------------------------------

I64 = TensorProto.INT64


def idx_model(op, data_shape, index_name="i", index_elem=I64, extra_inputs=(), **attrs):
    node = helper.make_node(op, ["x", index_name, *extra_inputs], ["y"], name="n1", **attrs)
    ins = [vi("x", F, data_shape), vi(index_name, index_elem, None)] + [vi(n, F, None) for n in extra_inputs]
    return mk([node], ins, [vi("y")])


@case("indices", "RuntimeFailure", r'"n1" \(Gather\).*out of (range|bounds)')
def gather_index_out_of_range(d):
    return run(d, idx_model("Gather", [3]), {"x": np.ones(3, np.float32), "i": np.array([5])})


@case("indices", "RuntimeFailure", r'"n1" \(GatherElements\).*out of (range|bounds)')
def gather_elements_index_out_of_range(d):
    return run(d, idx_model("GatherElements", [3]), {"x": np.ones(3, np.float32), "i": np.array([-9])})


@case("indices", "RuntimeFailure", r'"n1" \(ScatterElements\).*out of (range|bounds)')
def scatter_index_out_of_range(d):
    return run(d, idx_model("ScatterElements", [3], extra_inputs=("u",)),
               {"x": np.ones(3, np.float32), "i": np.array([1 << 40]), "u": np.ones(1, np.float32)})


@case("indices", "RuntimeFailure", r'"n1" \(ScatterND\).*out of (range|bounds)')
def scatter_nd_index_out_of_range(d):
    return run(d, idx_model("ScatterND", [3], extra_inputs=("u",)),
               {"x": np.ones(3, np.float32), "i": np.array([[7]]), "u": np.ones(1, np.float32)})


@case("indices", "RuntimeFailure", r'"n1" \(GatherND\).*out of (range|bounds)')
def gather_nd_index_out_of_range(d):
    return run(d, idx_model("GatherND", [3]), {"x": np.ones(3, np.float32), "i": np.array([[3]])})


@case("indices", "TinyInferError", r'"n1" \(Expand\).*(2\*\*31|max_tensor_bytes)')
def expand_to_huge_shape(d):
    return run(d, idx_model("Expand", [1]), {"x": np.ones(1, np.float32), "i": np.array([1 << 20, 1 << 20])})


@case("indices", "TinyInferError", r'"n1" \(Tile\).*(2\*\*31|max_tensor_bytes)')
def tile_huge_repeats(d):
    return run(d, idx_model("Tile", [2]), {"x": np.ones(2, np.float32), "i": np.array([1 << 40])})


@case("indices", "TinyInferError", r'"n1" \(ConstantOfShape\).*(2\*\*31|max_tensor_bytes|negative)')
def constant_of_shape_huge(d):
    node = helper.make_node("ConstantOfShape", ["s"], ["y"], name="n1")
    return run(d, mk([node], [vi("s", I64, [2])], [vi("y")]), {"s": np.array([1 << 30, 1 << 30])})


@case("indices", "TinyInferError", r'"n1" \(Range\).*(2\*\*31|max_tensor_bytes|elements)')
def range_huge_count(d):
    node = helper.make_node("Range", ["a", "b", "c"], ["y"], name="n1")
    ins = [vi(n, F, []) for n in "abc"]
    return run(d, mk([node], ins, [vi("y")]), {"a": np.float32(0), "b": np.float32(1e12), "c": np.float32(1e-3)})


@case("indices", "TinyInferError", r'"n1" \(OneHot\).*(2\*\*31|max_tensor_bytes|depth)')
def onehot_huge_depth(d):
    node = helper.make_node("OneHot", ["i", "depth", "v"], ["y"], name="n1")
    ins = [vi("i", I64, [2]), vi("depth", I64, []), vi("v", F, [2])]
    return run(d, mk([node], ins, [vi("y")]), {"i": np.array([0, 1]), "depth": np.int64(1 << 40),
                                                "v": np.array([0, 1], np.float32)})


@case("indices", "TinyInferError", r'"n1" \(TopK\).*k')
def topk_k_larger_than_axis(d):
    node = helper.make_node("TopK", ["x", "k"], ["v", "i"], name="n1")
    m = mk([node], [vi("x", F, [3]), vi("k", I64, [1])], [vi("v"), vi("i", I64)])
    return run(d, m, {"x": np.ones(3, np.float32), "k": np.array([10])})


@case("indices", "TinyInferError", r'"n1" \(Slice\).*step')
def slice_zero_step(d):
    node = helper.make_node("Slice", ["x", "s", "e", "a", "st"], ["y"], name="n1")
    ins = [vi("x", F, [4])] + [vi(n, I64, [1]) for n in ("s", "e", "a", "st")]
    return run(d, mk([node], ins, [vi("y")]), {"x": np.ones(4, np.float32), "s": np.array([0]),
                                                "e": np.array([4]), "a": np.array([0]), "st": np.array([0])})


@case("indices", "TinyInferError", r'"n1" \(Reshape\)')
def reshape_wrong_element_count(d):
    return run(d, idx_model("Reshape", [6]), {"x": np.ones(6, np.float32), "i": np.array([4, 4])})


@case("indices", "TinyInferError", r'"n1" \(Resize\).*(2\*\*31|max_tensor_bytes|elements)')
def resize_huge_scales(d):
    node = helper.make_node("Resize", ["x", "", "sc"], ["y"], name="n1")
    m = mk([node], [vi("x", F, [1, 1, 4, 4]), vi("sc", F, [4])], [vi("y")])
    return run(d, m, {"x": np.ones((1, 1, 4, 4), np.float32), "sc": np.array([1, 1, 1e6, 1e6], np.float32)})


# -- quantisation -----------------------------------------------------------------------------------

def dq_model(scale, zp=None, axis=1, op="DequantizeLinear", x_elem=TensorProto.INT8):
    inits = [numpy_helper.from_array(np.asarray(scale, np.float32), "s")]
    ins = ["x", "s"]
    if zp is not None:
        inits.append(numpy_helper.from_array(np.asarray(zp), "z"))
        ins.append("z")
    node = helper.make_node(op, ins, ["y"], name="n1", axis=axis)
    out_elem = F if op == "DequantizeLinear" else TensorProto.INT8
    return mk([node], [vi("x", x_elem, [2, 3])], [vi("y", out_elem)], inits, opset=19)


@case("quantisation", "TinyInferError", r'"n1" \(DequantizeLinear\).*(scale|axis|3)')
def per_axis_scale_length_mismatch(d):
    return run(d, dq_model([1.0, 2.0], axis=1), {"x": np.ones((2, 3), np.int8)})


@case("quantisation", "TinyInferError", r'"n1" \(DequantizeLinear\).*(zero.point|type|dtype)')
def zero_point_type_differs_from_input(d):
    return run(d, dq_model(1.0, np.uint8(3)), {"x": np.ones((2, 3), np.int8)})


@case("quantisation", "TinyInferError", r'"n1" \(QuantizeLinear\).*scale')
def quantize_zero_scale(d):
    return run(d, dq_model(0.0, np.int8(0), op="QuantizeLinear", x_elem=F), {"x": np.ones((2, 3), np.float32)})


@case("quantisation", "TinyInferError", r'"n1" \(QuantizeLinear\).*scale')
def quantize_nan_scale(d):
    return run(d, dq_model(float("nan"), np.int8(0), op="QuantizeLinear", x_elem=F), {"x": np.ones((2, 3), np.float32)})


# -- budgets ----------------------------------------------------------------------------------------

def loop_model(trip):
    body = helper.make_graph([helper.make_node("Identity", ["c"], ["co"]), helper.make_node("Add", ["v", "one"], ["vo"])],
                             "body", [vi("i", I64, []), vi("c", TensorProto.BOOL, []), vi("v", F, [1])],
                             [vi("co", TensorProto.BOOL, []), vi("vo", F, [1])],
                             [numpy_helper.from_array(np.ones(1, np.float32), "one")])
    node = helper.make_node("Loop", ["M", "", "v0"], ["vf"], name="lp", body=body)
    inits = [numpy_helper.from_array(np.array(trip, np.int64), "M")]
    return mk([node], [vi("v0", F, [1])], [vi("vf", F, [1])], inits)


@case("budgets", "IterationLimitError", r'"lp" \(Loop\).*more than 1000 ')
def loop_trip_count_10_to_12(d):
    # checked per iteration: a body may stop a loop early (exporters write M = 2**63 - 1)
    return run(d, loop_model(10 ** 12), {"v0": np.zeros(1, np.float32)}, max_loop_iterations=1000)


@case("budgets", "TimeLimitError", r'"[^"]+" \((Add|Identity)\).*max_run_seconds=0\.2')
def run_over_wall_clock_limit(d):
    return run(d, loop_model(10 ** 7), {"v0": np.zeros(1, np.float32)}, max_run_seconds=0.2)


@case("budgets", "TimeLimitError", "RunOptions.terminate")
def run_terminated_by_run_options(d):
    job = run(d, loop_model(3), {"v0": np.zeros(1, np.float32)})
    job["terminate"] = True
    return job


@case("budgets", "TensorSizeLimitError", r'"n1" \(Tile\).*max_tensor_bytes=1,000')
def output_over_tensor_budget(d):
    return run(d, idx_model("Tile", [2]), {"x": np.ones(2, np.float32), "i": np.array([1000])},
               max_tensor_bytes=1000)


@case("budgets", "MemoryLimitError", r"max_live_bytes=3,000")
def live_tensors_over_memory_budget(d):
    nodes = [helper.make_node("Tile", ["x", "r"], ["a"], name="t1"), helper.make_node("Neg", ["x"], ["b"], name="t2"),
             helper.make_node("Neg", ["a"], ["c"], name="t3"), helper.make_node("Add", ["c", "b"], ["y"], name="t4")]
    r = numpy_helper.from_array(np.array([1], np.int64), "r")
    return run(d, mk(nodes, [vi("x", F, [500])], [vi("y")], [r]), {"x": np.ones(500, np.float32)},
               max_live_bytes=3000)


@case("budgets", "TensorSizeLimitError", "max_tensor_bytes=100")
def initializer_over_tensor_budget(d):
    w = numpy_helper.from_array(np.ones(100, np.float32), "w")
    return session(d, raw_init(w), max_tensor_bytes=100)


@case("budgets", "NestingLimitError", "max_subgraph_depth")
def subgraph_depth_budget(d):
    g = pb.identity_graph()
    for _ in range(5):
        attr = pb.field(1, "then_branch") + pb.field(20, 5) + pb.field(6, g)
        node = pb.field(1, "c") + pb.field(2, "y") + pb.field(4, "If") + pb.field(5, attr)
        g = pb.field(1, node) + pb.field(12, pb.value_info("y"))
    return {"action": "session", "path": save(d, pb.model(g)), "options": {"max_subgraph_depth": 3}}


# -- feeds ------------------------------------------------------------------------------------------

@case("feeds", "InputError", "expected tensor\\(float\\), got an array of int64")
def feed_wrong_dtype(d):
    return run(d, one_node("Relu", ["x"], in_shapes={"x": [2]}), {"x": np.array([1, 2])})


@case("feeds", "InputError", "dimension 0 must be 2, got 3")
def feed_wrong_shape(d):
    return run(d, one_node("Relu", ["x"], in_shapes={"x": [2]}), {"x": np.ones(3, np.float32)})


@case("feeds", "InputError", "'x' is missing")
def feed_missing(d):
    return run(d, one_node("Relu", ["x"], in_shapes={"x": [2]}), {})


@case("feeds", "InputError", "expected a NumPy array, got dict")
def feed_not_an_array(d):
    job = run(d, one_node("Relu", ["x"], in_shapes={"x": [2]}), {})
    job["feeds"] = {"x": {"not": "an array"}}
    return job


# -- images -----------------------------------------------------------------------------------------

def png(w, h, rows: bytes, color=0, truncate=0):
    def chunk(t, data):
        return struct.pack(">I", len(data)) + t + data + struct.pack(">I", zlib.crc32(t + data))
    ihdr = struct.pack(">IIBBBBB", w, h, 8, color, 0, 0, 0)
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")
    return data[: len(data) - truncate] if truncate else data


def image(d, data, name="img.png"):
    return {"action": "image", "path": save(d, data, name)}


@case("images", "InputError", "100000x100000 pixels")
def png_decompression_bomb(d):
    return image(d, png(100000, 100000, b"\0" * 10))


@case("images", "InputError", "truncated")
def png_truncated(d):
    return image(d, png(4, 4, b"".join(b"\0" + bytes(4) for _ in range(4)), truncate=30))


@case("images", "InputError", "pixels; refused|declares more than")
def jpeg_decompression_bomb_via_pillow(d):
    from PIL import Image
    import io
    buf = io.BytesIO()
    Image.new("L", (8, 8)).save(buf, "GIF")
    data = bytearray(buf.getvalue())
    data[6:10] = struct.pack("<HH", 60000, 60000)  # logical screen 60000 x 60000 = 3.6 G pixels
    for i in range(13, len(data) - 9):
        if data[i] == 0x2C:  # image descriptor: width/height at +5..+9
            data[i + 5:i + 9] = struct.pack("<HH", 60000, 60000)
            break
    return image(d, bytes(data), "bomb.gif")


@case("images", "InputError", "not a readable image.*allowed formats: .*PNG")
def image_format_not_allowed(d):
    return image(d, b"%PDF-1.4\n" + b"\0" * 100, "doc.pdf")


@case("images", "InputError", "not found")
def image_missing(d):
    return {"action": "image", "path": os.path.join(d, "nothere.png")}


# -- serialized tensors (test_data_set inputs) ------------------------------------------------------

@case("tensor", "ModelError", "need 4 stored elements, found 1")
def tensor_pb_count_mismatch(d):
    t = TensorProto(name="t", data_type=I64, dims=[4], int64_data=[1])
    return {"action": "tensor", "path": save(d, t.SerializeToString(), "input_0.pb")}

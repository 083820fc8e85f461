# %% [markdown]
# # 02 · What is inside an .onnx file
#
# **At the end of this notebook you will be able to** read the bytes of an ONNX file by hand:
# decode protobuf varints and field keys, walk a `ModelProto` down to its nodes, attributes and
# weight bytes, and check your reading against tinyinfer's own decoder. You will also know what an
# *initializer*, an *attribute* and an *opset* are, and why the opset matters.
#
# Source files explained here: [tinyinfer/onnx/wire.py](../tinyinfer/onnx/wire.py) (the wire format,
# ~250 lines), [tinyinfer/onnx/reader.py](../tinyinfer/onnx/reader.py) (messages → IR),
# [tinyinfer/ir.py](../tinyinfer/ir.py) (the IR) and [tinyinfer/registry.py](../tinyinfer/registry.py)
# (lookup by opset). The `onnx` package is used only to *write* the tiny model; tinyinfer never
# imports it.

# %%
import numpy as np
import matplotlib.pyplot as plt
from nbsetup import ROOT
import onnx
from onnx import helper, TensorProto, numpy_helper

W = np.array([[1.0, -2.0], [0.5, 4.0], [3.0, 0.25]], np.float32)    # (3, 2)
b = np.array([0.5, -1.0], np.float32)
graph = helper.make_graph(
    [helper.make_node("MatMul", ["x", "W"], ["xw"], name="mm"),
     helper.make_node("Add", ["xw", "b"], ["z"], name="add"),
     helper.make_node("LeakyRelu", ["z"], ["y"], name="act", alpha=0.1)],
    "tiny",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2])],
    initializer=[numpy_helper.from_array(W, "W"), numpy_helper.from_array(b, "b")])
m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="notebook02")
m.ir_version = 8
data = m.SerializeToString()
print(len(data), "bytes")
print(" ".join(f"{c:02x}" for c in data[:48]), "...")

# %% [markdown]
# ## 1. Varints and keys
# Protobuf writes integers as **varints**: 7 bits per byte, least significant group first, the top
# bit set on every byte but the last. Every field starts with a varint **key**
# `(field_number << 3) | wire_type`. Wire type 0 is a varint value, 2 is *length-delimited* (a varint
# length, then that many bytes: strings, bytes, nested messages, packed arrays), 5 is 4 bytes, 1 is
# 8 bytes. That is all of it. Our decoder, from scratch:

# %%
def read_varint(buf, pos):
    value, shift = 0, 0
    while True:
        byte = buf[pos]; pos += 1
        value |= (byte & 0x7F) << shift           # low 7 bits, least significant group first
        if byte < 0x80:                           # top bit clear: last byte
            return value, pos
        shift += 7

def read_fields(buf, start, end):
    """yield (field number, wire type, value): an int, or a (start, end) span for wire type 2."""
    pos = start
    while pos < end:
        key, pos = read_varint(buf, pos)
        number, wtype = key >> 3, key & 7
        if wtype == 0:
            value, pos = read_varint(buf, pos)
        elif wtype == 2:
            n, pos = read_varint(buf, pos); value = (pos, pos + n); pos += n
        elif wtype == 5:
            value = int.from_bytes(buf[pos:pos + 4], "little"); pos += 4
        elif wtype == 1:
            value = int.from_bytes(buf[pos:pos + 8], "little"); pos += 8
        else:
            raise ValueError(f"wire type {wtype}")
        yield number, wtype, value

print(read_varint(bytes([0xAC, 0x02]), 0), "  <- 0xAC 0x02 = 0b0101100 + (0b10 << 7) = 300")
for number, wtype, value in read_fields(data, 0, len(data)):
    print(f"field {number:2d}  wire type {wtype}  ", value if wtype != 2 else f"{value[1] - value[0]} bytes at {value[0]}")

# %% [markdown]
# The numbers mean nothing without the schema, [onnx.proto](https://github.com/onnx/onnx/blob/main/onnx/onnx.proto).
# For `ModelProto`: 1 `ir_version`, 2 `producer_name`, 7 `graph`, 8 `opset_import`. We write down the
# handful of field names we need and walk the tree recursively, treating each length-delimited field
# of a known message type as a nested message:

# %%
SCHEMA = {   # message -> {field number: (name, type)}; type is a message name or a scalar kind
    "Model": {1: ("ir_version", "int"), 2: ("producer_name", "str"), 7: ("graph", "Graph"),
              8: ("opset_import", "OpsetId")},
    "OpsetId": {1: ("domain", "str"), 2: ("version", "int")},
    "Graph": {1: ("node", "Node"), 2: ("name", "str"), 5: ("initializer", "Tensor"),
              11: ("input", "ValueInfo"), 12: ("output", "ValueInfo")},
    "Node": {1: ("input", "str"), 2: ("output", "str"), 3: ("name", "str"), 4: ("op_type", "str"),
             5: ("attribute", "Attribute")},
    "Attribute": {1: ("name", "str"), 2: ("f", "float"), 3: ("i", "int"), 20: ("type", "int")},
    "Tensor": {1: ("dims", "int"), 2: ("data_type", "int"), 8: ("name", "str"), 9: ("raw_data", "bytes")},
    "ValueInfo": {1: ("name", "str"), 2: ("type", "bytes")},
}

def dump(buf, start, end, message="Model", indent=0):
    for number, wtype, value in read_fields(buf, start, end):
        name, kind = SCHEMA[message].get(number, (f"#{number}", "bytes"))
        pad = "  " * indent
        if kind in SCHEMA:
            print(f"{pad}{name} {{"); dump(buf, *value, kind, indent + 1); print(f"{pad}}}")
        elif kind == "str":
            print(f"{pad}{name}: {buf[value[0]:value[1]].decode()!r}")
        elif kind == "float":
            print(f"{pad}{name}: {np.frombuffer(value.to_bytes(4, 'little'), np.float32)[0]}  (32-bit bits {value:#010x})")
        elif kind == "bytes":
            print(f"{pad}{name}: <{value[1] - value[0]} bytes> {buf[value[0]:value[1]][:12].hex(' ')}")
        else:
            print(f"{pad}{name}: {value}")

dump(data, 0, len(data))

# %% [markdown]
# Note how the weights are stored: `raw_data` holds the float32 values little-endian, back to back,
# and `dims` the shape. And `alpha=0.1` is an `AttributeProto` with `f` (field 2, wire type 5: four
# raw bytes) and `type: 1` (FLOAT). Let us pull `W` out of the bytes ourselves:

# %%
def find(buf, span, number):
    return [v for n, _, v in read_fields(buf, *span) if n == number]

(graph_span,) = find(data, (0, len(data)), 7)
for t in find(data, graph_span, 5):                              # GraphProto.initializer
    name = bytes(data.__getitem__(slice(*find(data, t, 8)[0]))).decode()
    dims = find(data, t, 1)
    raw = data[slice(*find(data, t, 9)[0])]
    print(name, dims, np.frombuffer(raw, "<f4").reshape(dims).tolist())

# %% [markdown]
# ## 2. The same with tinyinfer
# [tinyinfer/onnx/wire.py](../tinyinfer/onnx/wire.py) is the production version of the two functions
# above: it checks every length against the end of its message (a hostile file cannot make it read
# out of bounds), refuses varints longer than 10 bytes, and decodes packed arrays with NumPy.
# The field list it yields is the same as ours:

# %%
from tinyinfer.onnx import wire
mine = list(read_fields(data, 0, len(data)))
theirs = list(wire.fields(data, 0, len(data)))
print(theirs)
assert mine == theirs

# %% [markdown]
# [tinyinfer/onnx/reader.py](../tinyinfer/onnx/reader.py) turns the messages into the IR: frozen
# dataclasses in [tinyinfer/ir.py](../tinyinfer/ir.py). Initializers become NumPy arrays, attributes
# Python values with their ONNX types (FLOAT → float, INTS → tuple, TENSOR → ndarray, GRAPH → Graph).

# %%
from tinyinfer.onnx import load_model
model = load_model(data)
print("ir_version", model.ir_version, " opsets", dict(model.opset_import), " producer", model.producer_name)
for n in model.graph.nodes:
    print(f"  {n.op_type:9s} {n.name:4s} {list(n.inputs)} -> {list(n.outputs)} {dict(n.attributes)}")
for k, v in model.graph.initializers.items():
    print(f"  initializer {k}: {v.dtype} {v.shape}")

# %% [markdown]
# ## 3. Opsets: the same op name, different behaviour
# A model names the operator-set version it was written against (`opset_import`). tinyinfer keeps
# every version of an op whose behaviour changed and picks the newest one not newer than the model's
# opset ([tinyinfer/registry.py](../tinyinfer/registry.py)). A few ops and the versions registered:

# %%
from tinyinfer import registry
reg = registry.registered()
for op_name in ("Softmax", "Resize", "BatchNormalization", "LeakyRelu", "Conv"):
    print(f"{op_name:20s} implementations since opsets {reg.get(('', op_name))}")
for opset in (11, 13):
    print(f"opset {opset}: Softmax ->", registry.lookup("Softmax", "", opset).__name__)

# %% [markdown]
# Softmax changed at opset 13: before it, `axis=1` meant *flatten everything from axis 1 and take
# one softmax over it*; from 13 it is a softmax along that one axis. The same file bytes give
# different numbers under the two opsets:

# %%
import tinyinfer
def softmax_model(opset):
    g = helper.make_graph([helper.make_node("Softmax", ["x"], ["y"], axis=1)], "sm",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 2])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2, 2])])
    mm = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)]); mm.ir_version = 8
    return mm.SerializeToString()
xs = np.array([[[1.0, 2.0], [3.0, 4.0]]], np.float32)
for opset in (11, 13):
    (ys,) = tinyinfer.InferenceSession(softmax_model(opset)).run(None, {"x": xs})
    print(f"opset {opset}:", np.array2string(ys, precision=3).replace("\n", ""))

# %% [markdown]
# Finally, the size of a file is almost all weights. For the bundled digits classifier:

# %%
import os
from nbsetup import MODELS
path = os.path.join(MODELS, "digits_mobilenet", "digits_mobilenet.onnx")
buf = open(path, "rb").read()
(gspan,) = find(buf, (0, len(buf)), 7)
sizes = {}
for n, _, v in read_fields(buf, *gspan):
    label = {1: "nodes", 5: "initializers", 11: "inputs", 12: "outputs"}.get(n, "other")
    sizes[label] = sizes.get(label, 0) + v[1] - v[0]
sizes["model header"] = len(buf) - (gspan[1] - gspan[0])
plt.figure(figsize=(6, 2)); plt.barh(list(sizes), list(sizes.values())); plt.xscale("log")
plt.title(f"where the {len(buf):,} bytes of digits_mobilenet.onnx go"); plt.tight_layout(); plt.show()
print(sizes)

# %% [markdown]
# ## Exercises
# The committed notebook holds our solution so that it runs green: **replace our solution with
# yours** and re-run the checking cell.
#
# 1. Write `encode_varint(n)` returning the varint bytes of a non-negative integer.
# 2. Using only `read_fields`, count the nodes of digits_mobilenet.onnx and list their op types.
# 3. Decode the `alpha` of the LeakyRelu in the tiny model from the raw bytes (wire type 5).

# %%
# --- your answers (replace our solution with yours) ---
def encode_varint(n):
    out = bytearray()
    while True:
        low, n = n & 0x7F, n >> 7
        out.append(low | (0x80 if n else 0))
        if not n:
            return bytes(out)

node_spans = find(buf, gspan, 1)
op_types = [buf[slice(*find(buf, s, 4)[0])].decode() for s in node_spans]

act = [s for s in find(data, graph_span, 1) if data[slice(*find(data, s, 4)[0])] == b"LeakyRelu"][0]
(attr,) = find(data, act, 5)
alpha = float(np.frombuffer(find(data, attr, 2)[0].to_bytes(4, "little"), np.float32)[0])

# %%
# --- check ---
for n in (0, 1, 127, 128, 300, 2 ** 31, 2 ** 63 - 1):
    assert wire.varint(encode_varint(n), 0, len(encode_varint(n))) == (n, len(encode_varint(n))), n
digits = load_model(path)
assert op_types == [n.op_type for n in digits.graph.nodes]
assert alpha == np.float32(model.graph.nodes[2].attributes["alpha"])
print("all checks passed:", len(op_types), "nodes; alpha =", alpha)

"""tinyinfer's own protobuf reader against the onnx package, on every model the onnx package has.

For each model: every initializer, every tensor-valued attribute (Constant values included, in
sub-graphs too), every scalar/list attribute, graph inputs/outputs and opsets decode to what
onnx and onnx.numpy_helper give.
"""
import glob
import os

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ml_dtypes = pytest.importorskip("ml_dtypes")

from onnx import numpy_helper  # noqa: E402

from tinyinfer import ir  # noqa: E402
from tinyinfer.backend import from_test_value  # noqa: E402
from tinyinfer.onnx import load_model, load_tensor  # noqa: E402

DATA = os.path.join(os.path.dirname(onnx.__file__), "backend", "test", "data")


def node_models():
    from onnx.backend.test.loader import load_node_model_tests

    return [(c.name, c.model) for c in load_node_model_tests()]


def file_models():
    out = []
    for path in sorted(glob.glob(os.path.join(DATA, "*", "*", "model.onnx")) +
                       glob.glob(os.path.join(DATA, "light", "*.onnx"))):
        out.append((os.path.relpath(path, DATA), onnx.load(path)))
    return out


def same_array(ours, ref, what):
    ref = from_test_value(ref)  # ml_dtypes -> tinyinfer's tagged representation
    assert ours.shape == ref.shape, what
    assert ours.dtype == ref.dtype, f"{what}: {ours.dtype} vs {ref.dtype}"
    if ref.dtype == object:
        assert list(ours.reshape(-1)) == list(ref.reshape(-1)), what
    else:
        # compare bits, so NaN payloads and -0.0 count too
        assert ours.tobytes() == np.ascontiguousarray(ref).tobytes(), what


def attr_value(a):
    t = onnx.AttributeProto
    if a.type == t.FLOAT:
        return a.f
    if a.type == t.INT:
        return a.i
    if a.type == t.STRING:
        return a.s.decode("utf-8")
    if a.type == t.FLOATS:
        return list(a.floats)
    if a.type == t.INTS:
        return list(a.ints)
    if a.type == t.STRINGS:
        return [s.decode("utf-8") for s in a.strings]
    return None


def compare_graph(g_ref, g_ours: ir.Graph, where):
    assert [i.name for i in g_ref.input] == [v.name for v in g_ours.inputs], where
    assert [o.name for o in g_ref.output] == [v.name for v in g_ours.outputs], where
    for init in g_ref.initializer:
        same_array(g_ours.initializers[init.name], numpy_helper.to_array(init), f"{where}: {init.name}")
    assert len(g_ref.node) == len(g_ours.nodes), where
    for n_ref, n in zip(g_ref.node, g_ours.nodes):
        assert (n_ref.op_type, list(n_ref.input), list(n_ref.output)) == (n.op_type, list(n.inputs), list(n.outputs))
        for a in n_ref.attribute:
            got = n.attributes[a.name]
            what = f"{where}: {n.op_type}.{a.name}"
            if a.type == onnx.AttributeProto.TENSOR:
                same_array(got, numpy_helper.to_array(a.t), what)
            elif a.type == onnx.AttributeProto.TENSORS:
                for t_ref, t in zip(a.tensors, got):
                    same_array(t, numpy_helper.to_array(t_ref), what)
            elif a.type == onnx.AttributeProto.GRAPH:
                compare_graph(a.g, got, what)
            elif a.type == onnx.AttributeProto.GRAPHS:
                for g1, g2 in zip(a.graphs, got):
                    compare_graph(g1, g2, what)
            elif a.type == onnx.AttributeProto.SPARSE_TENSOR:
                dense = numpy_helper.to_array(a.sparse_tensor.values)
                idx = numpy_helper.to_array(a.sparse_tensor.indices)
                ref = np.zeros(int(np.prod(a.sparse_tensor.dims)), dense.dtype)
                ref[idx.reshape(-1) if idx.ndim == 1 else np.ravel_multi_index(idx.T, a.sparse_tensor.dims)] = dense
                same_array(got, ref.reshape(a.sparse_tensor.dims), what)
            else:
                ref = attr_value(a)
                if ref is not None:
                    if isinstance(ref, float):
                        assert np.float32(ref) == np.float32(got) or (np.isnan(ref) and np.isnan(got)), what
                    else:
                        assert ref == got, what


def compare_model(name, model_proto):
    ours = load_model(model_proto.SerializeToString(), expand=False)
    assert ours.ir_version == model_proto.ir_version
    assert ours.opset_import == {(o.domain if o.domain != "ai.onnx" else ""): o.version
                                 for o in model_proto.opset_import}
    assert dict(ours.metadata_props) == {p.key: p.value for p in model_proto.metadata_props}
    assert len(ours.functions) == len(model_proto.functions)
    compare_graph(model_proto.graph, ours.graph, name)


def test_every_node_test_model_decodes_like_onnx():
    models = node_models()
    assert len(models) >= 1800
    for name, m in models:
        compare_model(name, m)


def test_every_data_model_decodes_like_onnx():
    models = file_models()
    assert any("light" in n for n, _ in models)
    for name, m in models:
        compare_model(name, m)


def test_test_data_tensors_decode_like_onnx():
    files = sorted(glob.glob(os.path.join(DATA, "*", "*", "test_data_set_*", "*.pb")))
    checked = 0
    for path in files:
        t = onnx.TensorProto()
        with open(path, "rb") as f:
            data = f.read()
        try:
            t.ParseFromString(data)
        except Exception:
            continue
        if t.data_type == 0:  # a SequenceProto or map, not a tensor
            continue
        same_array(load_tensor(path), numpy_helper.to_array(t), path)
        checked += 1
    assert checked > 50


@pytest.mark.parametrize("name", ["ch_ppocr_mobile_v2.0_cls_infer.onnx", "ch_PP-OCRv4_rec_infer.onnx",
                                  "ch_PP-OCRv4_det_infer.onnx"])
def test_ppocr_models_decode_like_onnx(name, ppocr_dir):
    path = os.path.join(ppocr_dir, name)
    compare_model(name, onnx.load(path))


def test_every_tensor_type_round_trips():
    """All element types, through raw_data and through the typed fields."""
    from onnx import helper

    rng = np.random.default_rng(0)
    for code, np_dtype in [(k, helper.tensor_dtype_to_np_dtype(k)) for k in range(1, 29) if k != 8]:
        if code in (onnx.TensorProto.COMPLEX64, onnx.TensorProto.COMPLEX128):
            vals = (rng.standard_normal(6) + 1j * rng.standard_normal(6)).astype(np_dtype)
        elif np.dtype(np_dtype).kind == "b":
            vals = rng.integers(0, 2, 6).astype(bool)
        elif code in (onnx.TensorProto.INT4, onnx.TensorProto.INT2, onnx.TensorProto.UINT4,
                      onnx.TensorProto.UINT2):
            lo, hi = {22: (-8, 8), 26: (-2, 2), 21: (0, 16), 25: (0, 4)}[code]
            vals = rng.integers(lo, hi, 7).astype(np_dtype)
        else:
            vals = (rng.standard_normal(7) * 3).astype(np_dtype)
        for raw in (True, False):
            try:
                t = numpy_helper.from_array(vals, "t") if raw else helper.make_tensor(
                    "t", code, vals.shape, vals.tolist() if code not in (16, 17, 18, 19, 20, 23, 24, 27, 28) else vals.astype(np.float32).tolist())
            except Exception:
                continue
            same_array(load_tensor(t.SerializeToString()), numpy_helper.to_array(t), f"type {code} raw={raw}")

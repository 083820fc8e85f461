"""External tensor data: read from the model's folder, and nothing outside it is ever opened."""
import os

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

import tinyinfer  # noqa: E402
from tinyinfer.errors import ModelError  # noqa: E402


def model_with_external(folder, location, offset=0, length=None, data=None, write=True):
    w = np.arange(6, dtype=np.float32).reshape(2, 3)
    t = numpy_helper.from_array(w, "w")
    t.ClearField("raw_data")
    t.data_location = TensorProto.EXTERNAL
    entries = {"location": location, "offset": str(offset)}
    if length is not None:
        entries["length"] = str(length)
    for k, v in entries.items():
        e = t.external_data.add()
        e.key, e.value = k, v
    if write:
        with open(os.path.join(folder, "weights.bin"), "wb") as f:
            f.write(data if data is not None else b"\0" * offset + w.tobytes())
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3])
    g = helper.make_graph([helper.make_node("Add", ["x", "w"], ["y"])], "g", [x], [y], [t])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    path = os.path.join(folder, "model.onnx")
    with open(path, "wb") as f:
        f.write(m.SerializeToString())
    return path, w


def test_reads_external_data_with_offset(tmp_path):
    path, w = model_with_external(str(tmp_path), "weights.bin", offset=16, length=24)
    (y,) = tinyinfer.InferenceSession(path).run(None, {"x": np.ones((2, 3), np.float32)})
    np.testing.assert_array_equal(y, w + 1)


def test_onnx_saved_external_data_loads(tmp_path):
    w = np.random.default_rng(0).standard_normal((64, 64)).astype(np.float32)
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 64])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 64])
    g = helper.make_graph([helper.make_node("MatMul", ["x", "w"], ["y"])], "g", [x], [y],
                          [numpy_helper.from_array(w, "w")])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    onnx.save_model(m, str(tmp_path / "m.onnx"), save_as_external_data=True, location="w.data",
                    size_threshold=0)
    (out,) = tinyinfer.InferenceSession(str(tmp_path / "m.onnx")).run(None, {"x": np.ones((1, 64), np.float32)})
    np.testing.assert_allclose(out, np.ones((1, 64), np.float32) @ w, rtol=1e-5)


@pytest.mark.parametrize("location, words", [
    ("/etc/passwd", "absolute path"),
    ("../secret.bin", "'..'"),
    ("sub/../../secret.bin", "'..'"),
    ("C:\\secret.bin", "absolute path"),
])
def test_paths_leaving_the_folder_are_refused(tmp_path, location, words):
    path, _ = model_with_external(str(tmp_path), location)
    with pytest.raises(ModelError, match=words):
        tinyinfer.InferenceSession(path)


def test_symlink_out_of_the_folder_is_refused_without_opening(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    target = outside / "secret.bin"
    target.write_bytes(np.arange(6, dtype=np.float32).tobytes())
    model_dir = tmp_path / "model"
    model_dir.mkdir()
    os.symlink(target, model_dir / "link.bin")
    path, _ = model_with_external(str(model_dir), "link.bin", write=False)
    os.chmod(target, 0)  # were it opened, reading would fail differently (or succeed as root)
    try:
        with pytest.raises(ModelError, match="outside the model's folder"):
            tinyinfer.InferenceSession(path)
    finally:
        os.chmod(target, 0o600)


@pytest.mark.parametrize("offset, length, data, words", [
    (0, 24, b"\0" * 10, "only 10 bytes"),
    (100, 24, b"\0" * 30, "only 30 bytes"),
    (0, 20, b"\0" * 30, "does not match the 24 bytes"),
    (-4, 24, b"\0" * 30, "negative"),
])
def test_offsets_and_lengths_are_checked(tmp_path, offset, length, data, words):
    path, _ = model_with_external(str(tmp_path), "weights.bin", offset, length, data)
    with pytest.raises(ModelError, match=words):
        tinyinfer.InferenceSession(path)


def test_missing_file_and_bytes_loading(tmp_path):
    path, _ = model_with_external(str(tmp_path), "nothere.bin")
    with pytest.raises(ModelError, match="not found"):
        tinyinfer.InferenceSession(path)
    with open(path, "rb") as f:
        data = f.read()
    with pytest.raises(ModelError, match="loaded from bytes"):
        tinyinfer.InferenceSession(data)

"""session.run(..., capture=...), the TensorProto writer and test-data folders."""
import numpy as np
import onnx
import onnx.numpy_helper as nh
import pytest

import tinyinfer
from tinyinfer import dtypes
from tinyinfer.onnx import load_tensor
from tinyinfer.onnx.writer import tensor_bytes
from tinyinfer.verify.bundle import load_bundle, read_test_data, save_bundle, write_test_data

from .helpers import toy_model

X = np.random.default_rng(1).standard_normal((1, 4, 8, 8)).astype(np.float32)


@pytest.fixture
def toy(tmp_path):
    return toy_model(tmp_path / "toy.onnx")


def test_capture_all_returns_every_value_and_the_same_outputs(toy):
    sess = tinyinfer.InferenceSession(toy)
    (y,) = sess.run(None, {"x": X})
    (y2,), seen = sess.run(None, {"x": X}, capture="all")
    assert list(seen) == ["x", "c1", "r1", "c2", "y"]
    np.testing.assert_array_equal(y, y2)
    np.testing.assert_array_equal(seen["r1"], np.maximum(seen["c1"], 0))
    assert "w1" not in seen  # weights are not captured


def test_capture_named_values_and_run_until_a_node(toy):
    sess = tinyinfer.InferenceSession(toy)
    _, seen = sess.run(None, {"x": X}, capture=["c2"])
    assert list(seen) == ["c2"]
    (y,), seen = sess.run(None, {"x": X}, capture="all", until="relu")
    assert y is None and list(seen) == ["x", "c1", "r1"]
    with pytest.raises(tinyinfer.InputError, match="not an input or node output"):
        sess.run(None, {"x": X}, capture=["w1"])
    with pytest.raises(tinyinfer.InputError, match="neither a node name"):
        sess.run(None, {"x": X}, capture="all", until="nope")


@pytest.mark.parametrize("a", [
    np.arange(6, dtype=np.float32).reshape(2, 3), np.array([-1, 5], np.int64),
    np.array(3.5, np.float16), np.array([True, False]), np.zeros((0, 3), np.float32),
    np.array(["ab", "ç"], object), np.array([1 + 2j], np.complex64),
])
def test_writer_round_trips_through_onnx_and_our_reader(a):
    b = tensor_bytes(a, "v")
    t = onnx.TensorProto()
    t.ParseFromString(b)
    assert t.name == "v"
    ref = nh.to_array(t)
    ours = load_tensor(b)
    assert ours.dtype == a.dtype and ours.shape == a.shape
    np.testing.assert_array_equal(ours, a)
    np.testing.assert_array_equal(ref.astype(object) if a.dtype == object else ref, a)


def test_writer_packs_int4_like_onnx():
    a = dtypes.from_int(np.array([-3, 2, 7]), dtypes.int4)
    t = onnx.TensorProto()
    t.ParseFromString(tensor_bytes(a))
    assert list(nh.to_array(t).astype(int)) == [-3, 2, 7]


def test_test_data_folder_and_bundle_round_trip(tmp_path, toy):
    where = write_test_data(str(tmp_path / "data"), {"x": X}, {"y": X[:, :3]})
    assert sorted(p.name for p in (tmp_path / "data" / "test_data_set_0").iterdir()) == \
        ["input_0.pb", "output_0.pb"]
    ins, outs = read_test_data(str(tmp_path / "data"), ["x"], ["y"])
    np.testing.assert_array_equal(ins["x"], X)
    np.testing.assert_array_equal(outs["y"], X[:, :3])
    assert where.endswith("test_data_set_0")
    save_bundle(str(tmp_path / "b.npz"), {"x": X, "a/b:0": X[0], "s": np.array(["q"], object)},
                {"producer": "test"})
    values, meta = load_bundle(str(tmp_path / "b.npz"))
    assert meta == {"producer": "test"} and set(values) == {"x", "a/b:0", "s"}

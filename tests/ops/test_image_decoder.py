"""ImageDecoder: a tiny PNG decoded in each pixel format, and undecodable bytes."""
import io

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
Image = pytest.importorskip("PIL.Image")
from onnx import TensorProto, helper  # noqa: E402

import tinyinfer  # noqa: E402
from tinyinfer.errors import ModelError, RuntimeFailure  # noqa: E402


def decode(data, pixel_format):
    node = helper.make_node("ImageDecoder", ["d"], ["img"], name="dec", pixel_format=pixel_format)
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("d", TensorProto.UINT8, [None])],
                              [helper.make_tensor_value_info("img", TensorProto.UINT8, None)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 20)], ir_version=9)
    return tinyinfer.InferenceSession(model.SerializeToString()).run(None, {"d": data})[0]


def png_bytes():
    # 1 x 2 image: a red pixel then a blue one
    pixels = np.array([[[255, 0, 0], [0, 0, 255]]], np.uint8)
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="PNG")
    return np.frombuffer(buf.getvalue(), np.uint8)


def test_png_rgb_bgr_grayscale():
    data = png_bytes()
    np.testing.assert_array_equal(decode(data, "RGB"), [[[255, 0, 0], [0, 0, 255]]])
    np.testing.assert_array_equal(decode(data, "BGR"), [[[0, 0, 255], [255, 0, 0]]])
    gray = decode(data, "Grayscale")
    # ITU-R 601-2 luma: L = R * 299/1000 + G * 587/1000 + B * 114/1000
    assert gray.shape == (1, 2, 1)
    np.testing.assert_allclose(gray[0, :, 0], [76, 29], atol=1)


def test_garbage_bytes_name_the_node():
    with pytest.raises(RuntimeFailure, match='node "dec" \\(ImageDecoder\\): cannot decode'):
        decode(np.array([1, 2, 3], np.uint8), "RGB")


def test_unknown_pixel_format_is_a_model_error():
    with pytest.raises(ModelError, match="pixel_format='CMYK'"):
        decode(png_bytes(), "CMYK")

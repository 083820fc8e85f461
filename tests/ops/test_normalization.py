"""BatchNormalization, Layer/RMS/Group/Instance normalisation, LRN, MVN, LpNormalization."""
import numpy as np
import pytest

pytest.importorskip("onnx")
from tinyinfer.errors import ModelError, RuntimeFailure  # noqa: E402

from winnorm_helpers import f32, run, session  # noqa: E402

X = f32([[[[1]], [[2]]]])  # (1, 2, 1, 1)
BN = [f32([2, 1]), f32([0, 1]), f32([1, 0]), f32([4, 1])]  # scale, B, mean, var


@pytest.mark.parametrize("opset,attrs", [
    (6, {"is_test": 1, "spatial": 1}), (7, {"spatial": 1}), (9, {"momentum": 0.5}),
    (14, {}), (15, {"training_mode": 0})])
def test_batchnorm_inference_uses_stored_statistics(opset, attrs):
    (y,) = run("BatchNormalization", [X] + BN, opset=opset, epsilon=0.0, **attrs)
    # (1 - 1) / 2 * 2 + 0 = 0;  (2 - 0) / 1 * 1 + 1 = 3
    np.testing.assert_array_equal(y, f32([[[[0]], [[3]]]]))


def test_batchnorm_training_mode_outputs_running_statistics():
    x = f32([[1], [3]])  # (N=2, C=1): batch mean 2, population variance 1
    y, rm, rv = run("BatchNormalization", [x, f32([1]), f32([0]), f32([0]), f32([1])], n_out=3,
                    opset=15, epsilon=0.0, training_mode=1, momentum=0.9)
    np.testing.assert_allclose(y, f32([[-1], [1]]))
    np.testing.assert_allclose(rm, f32([0 * 0.9 + 2 * 0.1]), rtol=1e-6)
    np.testing.assert_allclose(rv, f32([1 * 0.9 + 1 * 0.1]), rtol=1e-6)


def test_layer_normalization_with_statistics():
    y, mean, inv = run("LayerNormalization", [f32([[1, 3]]), f32([1, 2]), f32([0, 1])], n_out=3,
                       opset=17, epsilon=0.0)
    np.testing.assert_allclose(y, f32([[-1, 3]]))
    np.testing.assert_allclose(mean, f32([[2]]))
    np.testing.assert_allclose(inv, f32([[1]]))


def test_rms_normalization():
    (y,) = run("RMSNormalization", [f32([[1, -1]]), f32([2, 3])], opset=23, epsilon=0.0)
    np.testing.assert_allclose(y, f32([[2, -3]]))


def test_group_and_instance_normalization():
    x = f32([1, 3, 5, 9]).reshape(1, 4, 1, 1)
    ones, zeros = np.ones(4, np.float32), np.zeros(4, np.float32)
    (y,) = run("GroupNormalization", [x, ones, zeros], opset=21, num_groups=2, epsilon=0.0)
    np.testing.assert_allclose(y.reshape(-1), [-1, 1, -1, 1])
    # opset 18: one scale/bias per group
    (y,) = run("GroupNormalization", [x, f32([1, 2]), f32([0, 10])], opset=18, num_groups=2,
               epsilon=0.0)
    np.testing.assert_allclose(y.reshape(-1), [-1, 1, 8, 12])
    x = f32([[[1, 3], [5, 9]]])  # (1, 2, 2): per-channel statistics
    (y,) = run("InstanceNormalization", [x, f32([1, 1]), f32([0, 0])], epsilon=0.0)
    np.testing.assert_allclose(y, f32([[[-1, 1], [-1, 1]]]))


def test_lrn():
    x = f32([[[[1]], [[2]]]])
    (y,) = run("LRN", [x], size=1, alpha=1.0, beta=1.0, bias=1.0)
    np.testing.assert_allclose(y.reshape(-1), [1 / 2, 2 / 5])
    (y,) = run("LRN", [x], size=3, alpha=3.0, beta=1.0, bias=1.0)
    np.testing.assert_allclose(y.reshape(-1), [1 / 6, 2 / 6])  # both windows see 1 + 4


def test_mvn_and_lp_normalization():
    (y,) = run("MeanVarianceNormalization", [f32([[[[1, 3]]]])])
    np.testing.assert_allclose(y, f32([[[[-1, 1]]]]), rtol=1e-6)
    (y,) = run("LpNormalization", [f32([[3, 4], [0, 0]])])
    np.testing.assert_allclose(y, f32([[0.6, 0.8], [0, 0]]))
    (y,) = run("LpNormalization", [f32([[3, -4]])], p=1)
    np.testing.assert_allclose(y, f32([[3 / 7, -4 / 7]]))


def test_group_norm_groups_must_divide_channels_names_node():
    x = np.zeros((1, 3, 2), np.float32)
    with pytest.raises(ModelError, match=r'node "gn" \(GroupNormalization\).*num_groups=2'):
        session("GroupNormalization", [x, f32([1, 1, 1]), f32([0, 0, 0])], name="gn",
                num_groups=2)


def test_batchnorm_channel_mismatch_names_node():
    with pytest.raises(ModelError, match=r'node "bn" \(BatchNormalization\).*scale'):
        session("BatchNormalization", [X, f32([1, 1, 1])] + BN[1:], name="bn")


def test_layer_norm_bad_axis_names_node():
    with pytest.raises(RuntimeFailure, match=r'node "ln" \(LayerNormalization\).*axis=3'):
        run("LayerNormalization", [f32([[1, 3]]), f32([1, 1])], name="ln", opset=17, axis=3)

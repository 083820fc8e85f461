"""ai.onnx.ml ops: hand-checkable values and errors that name the node."""
import os
import sys

import numpy as np
import pytest
from onnx import helper, TensorProto

from tinyinfer.errors import ModelError, RuntimeFailure

sys.path.insert(0, os.path.dirname(__file__))
from qtypes_helpers import run_node  # noqa: E402

ML = "ai.onnx.ml"


def test_array_feature_extractor_and_binarizer():
    x = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], np.float32)
    (y,) = run_node("ArrayFeatureExtractor", [("x", x), ("i", np.array([2, 0], np.int64))], domain=ML)
    assert y.tolist() == [[3.0, 1.0], [6.0, 4.0]]
    (b,) = run_node("Binarizer", [("x", x)], domain=ML, threshold=3.0)
    assert b.dtype == np.float32 and b.tolist() == [[0, 0, 0], [1, 1, 1]]


def test_label_encoder():
    x = np.empty(3, dtype=object)
    x[:] = ["a", "b", "zzz"]
    (y,) = run_node("LabelEncoder", [("x", x)], domain=ML, keys_strings=["a", "b"],
                    values_int64s=[10, 20])
    assert y.dtype == np.int64 and y.tolist() == [10, 20, -1]


def _tree_attrs():
    # one tree: x0 <= 0.5 ? leaf 0 (weight 1.0) : leaf 1 (weight 2.0)
    t = helper.make_tensor
    return dict(nodes_featureids=[0], nodes_modes=t("m", TensorProto.UINT8, [1], [0]),
                nodes_splits=t("s", TensorProto.FLOAT, [1], [0.5]), nodes_truenodeids=[0],
                nodes_falsenodeids=[1], nodes_trueleafs=[1], nodes_falseleafs=[1],
                leaf_targetids=[0, 0], leaf_weights=t("w", TensorProto.FLOAT, [2], [1.0, 2.0]),
                tree_roots=[0], n_targets=1)


def test_tree_ensemble_single_split():
    x = np.array([[0.0], [0.5], [0.7]], np.float32)
    (y,) = run_node("TreeEnsemble", [("x", x)], domain=ML, **_tree_attrs())
    assert y.dtype == np.float32 and y.tolist() == [[1.0], [1.0], [2.0]]


def test_errors_name_the_node():
    with pytest.raises(RuntimeFailure, match="ArrayFeatureExtractor.*out of range"):
        run_node("ArrayFeatureExtractor", [("x", np.ones((1, 2), np.float32)),
                                           ("i", np.array([5], np.int64))], domain=ML)
    with pytest.raises(ModelError, match="LabelEncoder.*pair up"):
        run_node("LabelEncoder", [("x", np.array([1], np.int64))], domain=ML, keys_int64s=[1, 2],
                 values_int64s=[1])
    with pytest.raises(RuntimeFailure, match="TreeEnsemble.*feature"):
        attrs = _tree_attrs()
        attrs["nodes_featureids"] = [3]
        run_node("TreeEnsemble", [("x", np.ones((1, 1), np.float32))], domain=ML, **attrs)

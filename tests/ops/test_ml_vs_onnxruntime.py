"""ai.onnx.ml ops against onnxruntime on small random inputs."""
import numpy as np
import pytest

ort = pytest.importorskip("onnxruntime")
from onnx import helper  # noqa: E402

import tinyinfer  # noqa: E402
from tinyinfer import dtypes  # noqa: E402


def _both(op_type, inputs, n_outputs=1, **attrs):
    node = helper.make_node(op_type, [n for n, _ in inputs], [f"y{i}" for i in range(n_outputs)],
                            domain="ai.onnx.ml", **attrs)
    graph = helper.make_graph(
        [node], "t",
        [helper.make_tensor_value_info(n, dtypes.to_onnx(a.dtype), a.shape) for n, a in inputs],
        [helper.make_empty_tensor_value_info(f"y{i}") for i in range(n_outputs)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 19),
                                                    helper.make_opsetid("ai.onnx.ml", 3)])
    model.ir_version = 9
    data = model.SerializeToString()
    feeds = dict(inputs)
    ours = tinyinfer.InferenceSession(data).run(None, feeds)
    theirs = ort.InferenceSession(data, providers=["CPUExecutionProvider"]).run(None, feeds)
    return ours, theirs


rng = np.random.default_rng(0)
X = rng.normal(size=(5, 3)).astype(np.float32)
X[1, 2] = np.nan

CASES = [
    ("Scaler", [("x", X)], dict(offset=[0.5, -1.0, 2.0], scale=[2.0, 0.5, 1.0])),
    ("Scaler", [("x", X)], dict(offset=[0.5], scale=[3.0])),
    ("Normalizer", [("x", np.nan_to_num(X))], dict(norm="MAX")),
    ("Normalizer", [("x", np.nan_to_num(X))], dict(norm="L1")),
    ("Normalizer", [("x", np.nan_to_num(X))], dict(norm="L2")),
    ("Imputer", [("x", X)], dict(imputed_value_floats=[1.0, 2.0, 3.0], replaced_value_float=np.nan)),
    ("Imputer", [("x", np.array([[1, 0], [0, 5]], np.int64))],
     dict(imputed_value_int64s=[7], replaced_value_int64=0)),
    ("LinearRegressor", [("x", np.nan_to_num(X))],
     dict(coefficients=[1.0, 2.0, 3.0, -1.0, 0.5, 0.25], intercepts=[0.5, -0.5], targets=2)),
    ("OneHotEncoder", [("x", np.array([[1, 3], [2, 9]], np.int64))], dict(cats_int64s=[1, 2, 3])),
    ("CategoryMapper", [("x", np.array([1, 5, 2], np.int64))],
     dict(cats_int64s=[1, 2], cats_strings=["a", "b"], default_string="?")),
    ("FeatureVectorizer", [("a", np.nan_to_num(X)), ("b", np.array([[1], [2], [3], [4], [5]], np.float32))],
     dict(inputdimensions=[2, 3])),
]


@pytest.mark.parametrize("op_type,inputs,attrs", CASES, ids=[c[0] for c in CASES])
def test_matches_onnxruntime(op_type, inputs, attrs):
    ours, theirs = _both(op_type, inputs, **attrs)
    for o, t in zip(ours, theirs):
        assert o.dtype == t.dtype or (o.dtype == object and t.dtype.kind in "OU")
        if o.dtype.kind == "f":
            np.testing.assert_allclose(o, t, rtol=1e-6, atol=1e-7)
        else:
            assert o.tolist() == t.tolist()


def test_zipmap_matches_onnxruntime():
    x = np.array([[0.25, 0.75], [1.0, 0.0]], np.float32)
    ours, theirs = _both("ZipMap", [("x", x)], classlabels_strings=["no", "yes"])
    assert ours[0] == theirs[0]


LINEAR = [
    dict(coefficients=[1.0, 0.5], intercepts=[0.1], classlabels_ints=[3, 7], post_transform=pt)
    for pt in ("NONE", "LOGISTIC", "SOFTMAX")
] + [
    dict(coefficients=[1.0, 0.5], intercepts=[0.1], classlabels_strings=["a", "b"]),
    dict(coefficients=[1.0, 0.5, -1, 2, 0, 0], intercepts=[0.1, 0, 0.2], classlabels_ints=[0, 1, 2],
         post_transform="SOFTMAX_ZERO"),
    dict(coefficients=[1.0, 0.5, -1, 2, 0, 0], intercepts=[0.1, 0, 0.0],
         classlabels_strings=["x", "y", "z"], post_transform="LOGISTIC"),
    dict(coefficients=[1.0, 0.5, -1, 2], intercepts=[0.1, 0], classlabels_ints=[0, 1],
         post_transform="SOFTMAX"),
]


@pytest.mark.parametrize("attrs", LINEAR)
def test_linear_classifier_matches_onnxruntime(attrs):
    x = np.array([[1.0, -2.0], [0.5, 0.5], [-1, 0], [0, 0]], np.float32)
    ours, theirs = _both("LinearClassifier", [("x", x)], n_outputs=2, **attrs)
    assert ours[0].tolist() == theirs[0].tolist()
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-6, atol=1e-7)


def _forest(kind, ids, weights, **extra):
    # two trees over two features; tree 0: x0 <= 0.5 ? (x1 < 0 ? n3 : n4) : n2 ; tree 1: x1 >= 1 ? n1 : n2
    pre = "class" if kind == "TreeEnsembleClassifier" else "target"
    leaves = [(0, 2), (0, 3), (0, 4), (1, 1), (1, 2)]
    attrs = dict(
        nodes_treeids=[0, 0, 0, 0, 0, 1, 1, 1], nodes_nodeids=[0, 1, 2, 3, 4, 0, 1, 2],
        nodes_featureids=[0, 1, 0, 0, 0, 1, 0, 0], nodes_values=[0.5, 0.0, 0, 0, 0, 1.0, 0, 0],
        nodes_modes=["BRANCH_LEQ", "BRANCH_LT", "LEAF", "LEAF", "LEAF", "BRANCH_GTE", "LEAF", "LEAF"],
        nodes_truenodeids=[1, 3, 0, 0, 0, 1, 0, 0], nodes_falsenodeids=[2, 4, 0, 0, 0, 2, 0, 0],
        nodes_missing_value_tracks_true=[1, 0, 0, 0, 0, 0, 0, 0])
    tids, nids, cids, ws = [], [], [], []
    for j, (t, n) in enumerate(leaves):
        for c, w in zip(ids, weights[j]):
            tids.append(t), nids.append(n), cids.append(c), ws.append(w)
    attrs.update({f"{pre}_treeids": tids, f"{pre}_nodeids": nids, f"{pre}_ids": cids,
                  f"{pre}_weights": ws}, **extra)
    return attrs


TX = np.array([[0.0, -1.0], [0.0, 2.0], [1.0, 0.5], [np.nan, 1.5], [0.7, -3.0]], np.float32)
W3 = [[0.1, 0.2, 0.7], [0.5, 0.25, 0.25], [0.3, 0.3, 0.4], [0.2, 0.6, 0.2], [0.9, 0.05, 0.05]]
TREES = [
    ("TreeEnsembleRegressor", _forest("TreeEnsembleRegressor", [0], [[1.5], [-2.0], [0.25], [3.0], [-1.0]],
                                      n_targets=1, aggregate_function=agg, base_values=[0.5]))
    for agg in ("SUM", "AVERAGE", "MIN", "MAX")
] + [
    ("TreeEnsembleRegressor", _forest("TreeEnsembleRegressor", [0, 1], W3, n_targets=3 - 1,
                                      post_transform="NONE")),
    ("TreeEnsembleClassifier", _forest("TreeEnsembleClassifier", [0, 1, 2], W3,
                                       classlabels_int64s=[4, 5, 6])),
    ("TreeEnsembleClassifier", _forest("TreeEnsembleClassifier", [0, 1, 2], W3,
                                       classlabels_strings=["a", "b", "c"], post_transform="SOFTMAX",
                                       base_values=[0.1, 0.2, 0.3])),
    ("TreeEnsembleClassifier", _forest("TreeEnsembleClassifier", [0], [[1.5], [-2.0], [0.25], [3.0], [-1.0]],
                                       classlabels_int64s=[0, 1], post_transform="LOGISTIC",
                                       base_values=[0.2])),
    ("TreeEnsembleClassifier", _forest("TreeEnsembleClassifier", [1], [[0.1], [0.2], [0.3], [0.4], [0.05]],
                                       classlabels_int64s=[0, 1])),
]


@pytest.mark.parametrize("op_type,attrs", TREES)
def test_tree_ensembles_match_onnxruntime(op_type, attrs):
    n = 2 if op_type == "TreeEnsembleClassifier" else 1
    ours, theirs = _both(op_type, [("x", TX)], n_outputs=n, **attrs)
    for o, t in zip(ours, theirs):
        if o.dtype.kind == "f":
            np.testing.assert_allclose(o, t, rtol=1e-5, atol=1e-6)
        else:
            assert o.tolist() == t.tolist()


def test_dict_vectorizer_matches_onnxruntime():
    from onnx import TensorProto as TP
    node = helper.make_node("DictVectorizer", ["x"], ["y"], domain="ai.onnx.ml",
                            string_vocabulary=["a", "b", "c"])
    mt = helper.make_map_type_proto(TP.STRING, helper.make_tensor_type_proto(TP.FLOAT, []))
    graph = helper.make_graph([node], "t", [helper.make_value_info("x", mt)],
                              [helper.make_empty_tensor_value_info("y")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 19),
                                                    helper.make_opsetid("ai.onnx.ml", 3)])
    model.ir_version = 9
    feed = {"x": {"c": 2.5, "a": 1.0, "zz": 7.0}}
    ours = tinyinfer.InferenceSession(model.SerializeToString()).run(None, feed)[0]
    theirs = ort.InferenceSession(model.SerializeToString(),
                                  providers=["CPUExecutionProvider"]).run(None, feed)[0]
    assert ours.dtype == theirs.dtype and ours.tolist() == theirs.tolist()

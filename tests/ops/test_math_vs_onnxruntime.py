"""Math, reduction and matrix ops against onnxruntime on random data: values, dtypes, shapes."""
import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
from onnx import helper  # noqa: E402

import tinyinfer  # noqa: E402

RNG = np.random.default_rng(0)
X = (RNG.standard_normal((3, 4, 5)) * 3).astype(np.float32)
Y = RNG.standard_normal((4, 5)).astype(np.float32)


def both(op_type, inputs, n_out=1, opset=21, **attrs):
    """(onnxruntime outputs, tinyinfer outputs); output types come from onnx shape inference."""
    names = [f"x{i}" if a is not None else "" for i, a in enumerate(inputs)]
    outs = [f"y{i}" for i in range(n_out)]
    node = helper.make_node(op_type, names, outs, **attrs)
    gin = [helper.make_tensor_value_info(n, helper.np_dtype_to_tensor_dtype(a.dtype), a.shape)
           for n, a in zip(names, inputs) if a is not None]
    graph = helper.make_graph([node], "g", gin, [helper.make_empty_tensor_value_info(o) for o in outs])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], ir_version=10)
    inferred = onnx.shape_inference.infer_shapes(model)
    elem = {v.name: v.type.tensor_type.elem_type for v in inferred.graph.output}
    del model.graph.output[:]
    model.graph.output.extend(helper.make_tensor_value_info(o, elem[o], None) for o in outs)
    data = model.SerializeToString()
    feeds = {n: a for n, a in zip(names, inputs) if a is not None}
    ref = ort.InferenceSession(data, providers=["CPUExecutionProvider"]).run(None, feeds)
    return ref, tinyinfer.InferenceSession(data).run(None, feeds)


def check(op_type, inputs, n_out=1, opset=21, rtol=1e-5, atol=1e-6, **attrs):
    ref, got = both(op_type, inputs, n_out, opset, **attrs)
    for r, g in zip(ref, got):
        assert g.dtype == r.dtype and g.shape == r.shape
        np.testing.assert_allclose(g.astype(np.float64), r.astype(np.float64), rtol=rtol, atol=atol)


UNARY = ["Neg", "Abs", "Reciprocal", "Floor", "Ceil", "Round", "Sqrt", "Exp", "Log", "Sin", "Cos",
         "Tan", "Asin", "Acos", "Atan", "Sinh", "Cosh", "Tanh", "Asinh", "Acosh", "Atanh", "Erf",
         "Sign", "Relu", "Sigmoid", "Softplus", "Softsign", "HardSwish", "Mish", "Selu", "Elu",
         "HardSigmoid", "LeakyRelu", "ThresholdedRelu", "Shrink"]


@pytest.mark.parametrize("op_type", UNARY)
@pytest.mark.parametrize("dtype", [np.float32, np.float16])
def test_unary(op_type, dtype):
    tol = 1e-2 if dtype == np.float16 else 1e-4
    with np.errstate(all="ignore"):
        check(op_type, [X.astype(dtype)], opset=22, rtol=tol, atol=tol / 10)


@pytest.mark.parametrize("dtype", [np.int8, np.int32, np.int64, np.uint8, np.float16, np.float64])
@pytest.mark.parametrize("op_type", ["Add", "Sub", "Mul", "Div", "Max", "Min", "Mod"])
def test_binary_types(op_type, dtype):
    low = 0 if np.dtype(dtype).kind == "u" else -50
    a = RNG.integers(low, 50, (3, 4)).astype(dtype)
    b = RNG.integers(1, 9, (4,)).astype(dtype)
    attrs = {"fmod": 1} if op_type == "Mod" and np.dtype(dtype).kind == "f" else {}
    check(op_type, [a, b], **attrs)


@pytest.mark.parametrize("op_type", ["ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin",
                                     "ReduceProd", "ReduceL1", "ReduceL2", "ReduceLogSum",
                                     "ReduceLogSumExp", "ReduceSumSquare"])
@pytest.mark.parametrize("axes", [[1], [0, 2], []])
@pytest.mark.parametrize("keepdims", [0, 1])
def test_reductions(op_type, axes, keepdims):
    x = np.abs(X) if op_type == "ReduceLogSum" else X
    check(op_type, [x, np.array(axes, np.int64)], opset=18, keepdims=keepdims, rtol=1e-4)
    if axes:
        check(op_type, [x], opset=11, axes=axes, keepdims=keepdims, rtol=1e-4)


@pytest.mark.parametrize("op_type", ["Softmax", "LogSoftmax", "Hardmax"])
@pytest.mark.parametrize("axis", [0, 1, -1])
@pytest.mark.parametrize("opset", [11, 13])
def test_softmax_family(op_type, axis, opset):
    check(op_type, [X], opset=opset, axis=axis)


def test_matrix_and_selection():
    check("MatMul", [X, RNG.standard_normal((5, 2)).astype(np.float32)], rtol=1e-4)
    a, b = RNG.standard_normal((3, 4)).astype(np.float32), RNG.standard_normal((5, 4)).astype(np.float32)
    check("Gemm", [a, b, RNG.standard_normal((5,)).astype(np.float32)], transB=1, alpha=0.5,
          beta=2.0, rtol=1e-4)
    check("Einsum", [X, Y], equation="bij,ij->b", rtol=1e-4)
    ties = RNG.integers(0, 3, (3, 6)).astype(np.float32)
    for largest in (0, 1):
        check("TopK", [ties, np.array([4], np.int64)], n_out=2, axis=1, largest=largest)
    for op_type in ("ArgMax", "ArgMin"):
        check(op_type, [ties], axis=1, select_last_index=1)
    check("CumSum", [X, np.array(1, np.int64)], exclusive=1, reverse=1)

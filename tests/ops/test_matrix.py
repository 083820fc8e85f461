"""MatMul, Gemm, Einsum and Det on values checked by hand."""
import numpy as np
import pytest

pytest.importorskip("onnx")
from tinyinfer.errors import RuntimeFailure  # noqa: E402

from mathops_helpers import run  # noqa: E402

A = np.array([[1, 2], [3, 4]], np.float32)
B = np.array([[0, 1], [1, 0]], np.float32)


def test_matmul_and_vector_forms():
    np.testing.assert_array_equal(run("MatMul", [A, B])[0], [[2, 1], [4, 3]])
    (v,) = run("MatMul", [np.array([1, 1], np.float32), A])  # (2,) @ (2, 2) -> (2,)
    np.testing.assert_array_equal(v, [4, 6])
    (i,) = run("MatMul", [A.astype(np.int32), B.astype(np.int32)])
    assert i.dtype == np.int32


def test_matmul_shape_mismatch_names_node():
    with pytest.raises(RuntimeFailure, match=r'node "n1" \(MatMul\).*inner dimensions'):
        run("MatMul", [A, np.ones((3, 2), np.float32)])


def test_gemm_transpose_alpha_beta():
    c = np.array([10, 20], np.float32)  # broadcasts over rows
    (y,) = run("Gemm", [A, B, c], transA=1, alpha=2.0, beta=0.5)
    # A.T @ B = [[3, 1], [4, 2]]
    np.testing.assert_array_equal(y, [[11, 12], [13, 14]])
    (z,) = run("Gemm", [A, B])  # C absent
    np.testing.assert_array_equal(z, [[2, 1], [4, 3]])


def test_einsum_and_det():
    (t,) = run("Einsum", [A], equation="ij->ji")
    np.testing.assert_array_equal(t, A.T)
    (s,) = run("Einsum", [A, B], equation="ij,ij->")
    assert s.shape == () and float(s) == 5
    (d,) = run("Det", [A])
    np.testing.assert_allclose(d, -2, rtol=1e-6)
    with pytest.raises(RuntimeFailure, match=r'node "n1" \(Det\).*square'):
        run("Det", [np.ones((2, 3), np.float32)])

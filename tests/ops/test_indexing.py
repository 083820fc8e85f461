"""Indexing ops on values checked by hand: Gather*, Scatter*, NonZero, Compress, Unique, Trilu,
OneHot, ReverseSequence, Dropout."""
import numpy as np
import pytest

pytest.importorskip("onnx")
from tinyinfer.errors import RuntimeFailure  # noqa: E402

from shape_helpers import run  # noqa: E402

X = np.arange(6, dtype=np.float32).reshape(2, 3)   # [[0 1 2] [3 4 5]]
i64 = lambda *v: np.array(v, dtype=np.int64)  # noqa: E731


def test_gather_family():
    assert run("Gather", [X, i64(-1, 0)], axis=1)[0].tolist() == [[2, 0], [5, 3]]
    (ge,) = run("GatherElements", [X, np.array([[2, 0], [1, 1]], np.int64)], axis=1)
    assert ge.tolist() == [[2, 0], [4, 4]]
    (nd,) = run("GatherND", [X, np.array([[1, 2], [0, 0]], np.int64)])
    assert nd.tolist() == [5, 0]
    (nb,) = run("GatherND", [X, np.array([[1], [2]], np.int64)], batch_dims=1)
    assert nb.tolist() == [1, 5]


def test_gather_out_of_range_names_node():
    with pytest.raises(RuntimeFailure, match=r'node "n1" \(Gather\).*value 3 is out of range'):
        run("Gather", [X, i64(3)], axis=1)
    with pytest.raises(RuntimeFailure, match=r'node "n1" \(ScatterND\).*out of range'):
        run("ScatterND", [X, np.array([[5, 0]], np.int64), np.ones(1, np.float32)])


def test_scatter_reductions():
    z = np.zeros((1, 3), np.float32)
    idx = np.array([[1, 1, 2]], np.int64)
    upd = np.array([[1, 2, 3]], np.float32)
    assert run("ScatterElements", [z, idx, upd], axis=1, reduction="add")[0].tolist() == [[0, 3, 3]]
    assert run("ScatterElements", [z, idx, upd], axis=1, reduction="max")[0].tolist() == [[0, 2, 3]]
    (nd,) = run("ScatterND", [X, np.array([[0, 1]], np.int64), np.array([10], np.float32)],
                reduction="mul")
    assert nd.tolist() == [[0, 10, 2], [3, 4, 5]]


def test_nonzero_compress_unique():
    assert run("NonZero", [np.array([[1, 0], [0, 2]], np.float32)])[0].tolist() == [[0, 1], [0, 1]]
    assert run("Compress", [X, np.array([0, 1, 1], bool)], axis=1)[0].tolist() == [[1, 2], [4, 5]]
    y, first, inv, cnt = run("Unique", [np.array([3, 1, 3, 2], np.float32)], n_out=4, sorted=0)
    assert y.tolist() == [3, 1, 2] and first.tolist() == [0, 1, 3]
    assert inv.tolist() == [0, 1, 0, 2] and cnt.tolist() == [2, 1, 1]
    y, *_ = run("Unique", [np.array([3, 1, 3, 2], np.float32)], n_out=4)
    assert y.tolist() == [1, 2, 3]


def test_trilu_onehot_reverse_sequence():
    m = np.ones((3, 3), np.float32)
    assert run("Trilu", [m, np.array(1, np.int64)])[0].tolist() == [[0, 1, 1], [0, 0, 1], [0, 0, 0]]
    assert run("Trilu", [m], upper=0)[0].tolist() == [[1, 0, 0], [1, 1, 0], [1, 1, 1]]
    (oh,) = run("OneHot", [i64(0, -1, 7), np.array(3, np.int64), np.array([0, 5], np.float32)])
    assert oh.tolist() == [[5, 0, 0], [0, 0, 5], [0, 0, 0]]
    x = np.arange(6, dtype=np.float32).reshape(3, 2)  # (time, batch)
    (rs,) = run("ReverseSequence", [x, i64(3, 2)])
    assert rs.tolist() == [[4, 3], [2, 1], [0, 5]]


def test_dropout_inference_and_seeded_training():
    y, mask = run("Dropout", [X], n_out=2)
    assert (y == X).all() and mask.dtype == bool and mask.all()
    y, mask = run("Dropout", [X, np.array(0.5, np.float32), np.array(True)], n_out=2, seed=0)
    expect = np.random.RandomState(0).uniform(0, 1, X.shape) >= 0.5
    assert (mask == expect).all() and np.allclose(y, X * expect * 2)

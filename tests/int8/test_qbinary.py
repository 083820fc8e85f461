"""QLinearAdd/QLinearMul fast paths (a 256-entry table when one operand is a scalar, the 65536-entry
pair table otherwise) equal the op's direct float32 reference on every input."""
import numpy as np
import pytest

from tinyinfer.ops.qlinear_ms import QLinearAdd, QLinearMul

SHAPES = [((1, 16, 8, 160), (1, 16, 8, 160)), ((1, 16, 8, 160), (1, 16, 1, 1)),
          ((1, 16, 1, 1), (1, 16, 8, 160)), ((4, 30, 40, 5), ()), ((), (4, 30, 40, 5)),
          ((1,), (24000,)), ((24000,), (1, 1)), ((1, 1, 1), (3, 80, 100)), ((70, 1), (1, 400))]
SCALES = [(0.02, 0.03, 0.05), (0.5, 0.001, 1e-4), (1e-3, 1e-3, 10.0), (0.1, 0.1, 1e-30)]


class _Node:
    name, op_type, outputs = "n", "QLinearAdd", ["y"]


@pytest.mark.parametrize("cls", [QLinearAdd, QLinearMul])
@pytest.mark.parametrize("t", range(18))
def test_qbinary_tables_equal_direct(cls, t):
    rng = np.random.default_rng(t)
    sa_, sb_ = SHAPES[t % len(SHAPES)]
    da = (np.uint8, np.int8)[t % 2]
    db = (np.uint8, np.int8)[(t // 2) % 2] if t % 3 else da
    A = rng.integers(np.iinfo(da).min, np.iinfo(da).max + 1, sa_).astype(da)
    B = rng.integers(np.iinfo(db).min, np.iinfo(db).max + 1, sb_).astype(db)
    s = SCALES[t % len(SCALES)]
    za = int(rng.integers(-20, 20)) + (128 if da == np.uint8 else 0)
    zb = int(rng.integers(-20, 20)) + (128 if db == np.uint8 else 0)
    zc = int(rng.integers(-5, 5)) + (128 if da == np.uint8 else 0)
    op = cls(_Node())
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(2):  # built, then cached
            y = op.run(A, np.float32(s[0]), np.asarray(za, da), B, np.float32(s[1]),
                       np.asarray(zb, db), np.float32(s[2]), np.asarray(zc, da))
        ref = op._direct(A, B, np.float32(s[0]), za, np.float32(s[1]), zb, np.float32(s[2]), zc,
                         A.dtype)
    assert y.dtype == ref.dtype and y.shape == ref.shape
    np.testing.assert_array_equal(y, ref)

"""tinyinfer.dtypes conversions against ml_dtypes (the oracle), exhaustively over bit patterns."""
import numpy as np
import pytest

ml_dtypes = pytest.importorskip("ml_dtypes")

from tinyinfer import dtypes  # noqa: E402

FLOATS = {  # tinyinfer tagged dtype -> ml_dtypes type
    "bfloat16": ml_dtypes.bfloat16,
    "float8e4m3fn": ml_dtypes.float8_e4m3fn,
    "float8e4m3fnuz": ml_dtypes.float8_e4m3fnuz,
    "float8e5m2": ml_dtypes.float8_e5m2,
    "float8e5m2fnuz": ml_dtypes.float8_e5m2fnuz,
    "float4e2m1": ml_dtypes.float4_e2m1fn,
    "float6e2m3": ml_dtypes.float6_e2m3fn,
    "float6e3m2": ml_dtypes.float6_e3m2fn,
}
NBITS = {"bfloat16": 16, "float4e2m1": 4, "float6e2m3": 6, "float6e3m2": 6}


def _bits_of(ml_array):
    return ml_array.view(np.uint16 if ml_array.dtype.itemsize == 2 else np.uint8)


def _all_float16_and_samples():
    f16 = np.arange(1 << 16, dtype=np.uint16).view(np.float16).astype(np.float32)
    rng = np.random.default_rng(0)
    f32 = rng.integers(0, 1 << 32, size=200_000, dtype=np.uint64).astype(np.uint32).view(np.float32)
    return np.concatenate([f16, f32, np.array([np.inf, -np.inf, np.nan, -np.nan], np.float32)])


@pytest.mark.parametrize("name", sorted(FLOATS))
def test_decode_every_bit_pattern(name):
    n = NBITS.get(name, 8)
    raw = np.arange(1 << n, dtype=np.uint16 if n == 16 else np.uint8)
    tagged = dtypes.from_bits(raw, getattr(dtypes, name))
    want = raw.view(FLOATS[name]) if n >= 8 else raw.view(FLOATS[name])
    np.testing.assert_array_equal(dtypes.to_float32(tagged), want.astype(np.float32))


@pytest.mark.parametrize("name", sorted(FLOATS))
def test_encode_matches_ml_dtypes_without_saturation(name):
    x = _all_float16_and_samples()
    got = dtypes.bits(dtypes.from_float(x, getattr(dtypes, name), saturate=False))
    want = _bits_of(x.astype(FLOATS[name]))
    bad = np.nonzero(got != want)[0]
    assert bad.size == 0, [(x[i], got[i], want[i]) for i in bad[:5]]


@pytest.mark.parametrize("name", ["float8e4m3fn", "float8e4m3fnuz", "float8e5m2", "float8e5m2fnuz"])
def test_encode_saturating_matches_clip_then_cast(name):
    x = _all_float16_and_samples()
    info = ml_dtypes.finfo(FLOATS[name])
    want = _bits_of(np.clip(x, float(info.min), float(info.max)).astype(FLOATS[name]))
    got = dtypes.bits(dtypes.from_float(x, getattr(dtypes, name), saturate=True))
    bad = np.nonzero(got != want)[0]
    assert bad.size == 0, [(x[i], got[i], want[i]) for i in bad[:5]]


def test_float64_input_rounds_once():
    x = np.array([1.0 + 2.0 ** -8 + 2.0 ** -40], np.float64)  # just above a bfloat16 tie
    got = dtypes.to_float32(dtypes.from_float(x, dtypes.bfloat16))
    assert got[0] == np.float32(1.0 + 2.0 ** -7)


def test_e8m0_decode_and_round_modes():
    raw = np.arange(256, dtype=np.uint8)
    want = raw.view(ml_dtypes.float8_e8m0fnu).astype(np.float32)
    np.testing.assert_array_equal(dtypes.to_float32(dtypes.from_bits(raw, dtypes.float8e8m0)), want)
    x = np.array([1.0, 1.5, 3.0, 0.75, 2.0 ** 127 * 1.5], np.float32)
    up = dtypes.to_float32(dtypes.from_float(x, dtypes.float8e8m0, round_mode="up"))
    down = dtypes.to_float32(dtypes.from_float(x, dtypes.float8e8m0, round_mode="down"))
    np.testing.assert_array_equal(up, [1.0, 2.0, 4.0, 1.0, 2.0 ** 127])  # saturates at the top
    np.testing.assert_array_equal(down, [1.0, 1.0, 2.0, 0.5, 2.0 ** 127])


@pytest.mark.parametrize("name,ml", [("int4", "int4"), ("uint4", "uint4"), ("int2", "int2"), ("uint2", "uint2")])
def test_small_ints_wrap_like_ml_dtypes(name, ml):
    x = np.arange(-300, 300).astype(np.float32) + np.float32(0.5)
    got = dtypes.to_int(dtypes.convert(x, getattr(dtypes, name)))
    want = x.astype(getattr(ml_dtypes, ml)).astype(np.int64)
    np.testing.assert_array_equal(got, want)
    sat = dtypes.to_int(dtypes.from_int(np.array([-100, 100]), getattr(dtypes, name), saturate=True))
    assert sat.tolist() == list(dtypes.int_range(getattr(dtypes, name)))


@pytest.mark.parametrize("round_mode", ["up", "down", "nearest"])
@pytest.mark.parametrize("saturate", [True, False])
def test_e8m0_encode_matches_onnx_reference(round_mode, saturate):
    numpy_helper = pytest.importorskip("onnx.numpy_helper")
    x = _all_float16_and_samples()
    want = numpy_helper.to_float8e8m0(x, saturate, round_mode).view(np.uint8)
    got = dtypes.bits(dtypes.from_float(x, dtypes.float8e8m0, saturate, round_mode))
    np.testing.assert_array_equal(got, want)

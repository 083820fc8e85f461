"""int8 audit (tinyinfer/audit.py): saturated outputs and int32 headroom per integer node."""
import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

import tinyinfer  # noqa: E402
from tinyinfer import audit  # noqa: E402
from tinyinfer.cli import main  # noqa: E402


def _qconv_model(y_scale, m=8, c=4, k=3):
    """x (uint8) -> QLinearConv -> y (uint8); a small y_scale saturates most outputs."""
    rng = np.random.default_rng(0)
    inits = dict(x_scale=np.float32(0.02), x_zero_point=np.uint8(128),
                 w=rng.integers(-127, 128, (m, c, k, k)).astype(np.int8),
                 w_scale=np.float32(0.01), w_zero_point=np.int8(0),
                 y_scale=np.float32(y_scale), y_zero_point=np.uint8(128),
                 B=rng.integers(-500, 500, m).astype(np.int32))
    node = helper.make_node("QLinearConv", ["x"] + list(inits), ["y"], name="qconv",
                            pads=[1, 1, 1, 1])
    g = helper.make_graph(
        [node], "g", [helper.make_tensor_value_info("x", TensorProto.UINT8, [1, c, 8, 8])],
        [helper.make_tensor_value_info("y", TensorProto.UINT8, None)],
        [numpy_helper.from_array(np.asarray(v), n) for n, v in inits.items()])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)], ir_version=8)


def _run(model, **opts):
    so = tinyinfer.SessionOptions(**opts)
    sess = tinyinfer.InferenceSession(model.SerializeToString(), so)
    x = np.random.default_rng(1).integers(0, 256, (1, 4, 8, 8)).astype(np.uint8)
    return sess, sess.run(None, {"x": x})[0]


def test_saturating_qlinearconv_is_flagged():
    sess, y = _run(_qconv_model(1e-4), enable_int8_audit=True)
    [row] = sess.int8_audit().rows()
    assert row["op"] == "QLinearConv" and row["outputs"] == y.size
    hi_lo = int(np.count_nonzero((y == 0) | (y == 255)))
    assert row["saturated"] == hi_lo and row["saturation"] > 0.5
    assert row["at_risk"] and "saturated" in row["why"]
    assert sess.int8_audit().at_risk() == [row]


def test_normal_qlinearconv_is_not_flagged():
    sess, y = _run(_qconv_model(4.0), enable_int8_audit=True)
    [row] = sess.int8_audit().rows()
    assert row["saturated"] == 0 and not row["at_risk"]
    # max|acc| is the exact accumulator: check against a float64 recomputation
    m = onnx.load_from_string(_qconv_model(4.0).SerializeToString())
    inits = {t.name: numpy_helper.to_array(t).astype(np.float64) for t in m.graph.initializer}
    w, b = inits["w"], inits["B"]
    x = np.random.default_rng(1).integers(0, 256, (1, 4, 8, 8)).astype(np.float64) - 128
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    acc = np.zeros((8, 8, 8))
    for i in range(8):
        for j in range(8):
            acc[:, i, j] = np.tensordot(w, xp[0, :, i:i + 3, j:j + 3], axes=3)
    acc += b[:, None, None]
    assert row["max_acc"] == int(np.abs(acc).max())
    assert row["headroom_bits"] == 31 - int(np.abs(acc).max()).bit_length()


def test_audit_via_config_entry_and_off_by_default():
    sess, _ = _run(_qconv_model(1e-4))
    assert sess.int8_audit() is None
    sess, _ = _run(_qconv_model(1e-4), config={"tinyinfer.int8_audit": "1"})
    assert len(sess.int8_audit().rows()) == 1


def test_audit_does_not_change_results():
    _, a = _run(_qconv_model(0.05))
    _, b = _run(_qconv_model(0.05), enable_int8_audit=True)
    np.testing.assert_array_equal(a, b)


def test_low_headroom_matmulinteger_is_flagged():
    k = 1 << 17  # 2**17 products of 127*127 ~ 2**31: the int32 accumulator is nearly full
    a = np.full((1, k), 127, np.int8)
    b = np.full((k, 1), 127, np.int8)
    node = helper.make_node("MatMulInteger", ["a", "b"], ["y"], name="mmi")
    g = helper.make_graph([node], "g", [helper.make_tensor_value_info("a", TensorProto.INT8, [1, k])],
                          [helper.make_tensor_value_info("y", TensorProto.INT32, None)],
                          [numpy_helper.from_array(b, "b")])
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)], ir_version=8)
    sess = tinyinfer.InferenceSession(model.SerializeToString(),
                                      tinyinfer.SessionOptions(enable_int8_audit=True))
    sess.run(None, {"a": a})
    [row] = sess.int8_audit().rows()
    assert row["max_acc"] == 127 * 127 * k and row["headroom_bits"] < audit.MIN_HEADROOM_BITS
    assert row["at_risk"] and "headroom" in row["why"] and row["saturated"] is None


def test_cli_run_audit_int8_prints_the_table(tmp_path, capsys):
    bad, good = tmp_path / "bad.onnx", tmp_path / "good.onnx"
    onnx.save(_qconv_model(1e-4), str(bad))
    onnx.save(_qconv_model(4.0), str(good))
    assert main(["run", str(bad), "--audit-int8"]) == 0
    out = capsys.readouterr().out
    assert "int8 audit: 1 integer nodes; 1 at risk" in out
    assert "headroom" in out and "qconv" in out and "AT RISK" in out
    assert main(["run", str(good), "--audit-int8"]) == 0
    out = capsys.readouterr().out
    assert "0 at risk" in out and " ok" in out
    assert main(["run", str(good)]) == 0
    assert "int8 audit" not in capsys.readouterr().out

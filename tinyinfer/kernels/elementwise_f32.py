"""Elementwise float32 loops: the activation epilogue shared by the conv kernels, and Clip.

    apply_act(v, act, a0, a1)    one value through an activation (plain Python, jitted in place)
        ACT_NONE 0: v                  ACT_RELU 1: max(v, 0)        ACT_CLIP 2: min(max(v, a0), a1)
        ACT_HARDSIGMOID 3: clip(a0 * v + a1, 0, 1)                 ACT_HARDSWISH 4: v * clip(v/6 + 1/2, 0, 1)
        ACT_SIGMOID 5: 1 / (1 + exp(-v))                           ACT_LEAKYRELU 6: v if v >= 0 else a0 * v
        ACT_SWISH 7: v * sigmoid(a0 * v)                           ACT_TANH 8: tanh(v)
        ACT_HARDSWISH_AFFINE 9: HardSwish(v) * a0 + a1 (FusedConv's post_scale/post_shift after
        a HardSwish, PP-LCNetV3's activation + learnable affine block; each step rounded)
    act_f32_inplace(x, act, a0, a1)   x = act(x) over a flat float32 array, in place
    act_f32_scale_shift(x, s, t, mode)   x = (x * s) + t in place over a flat float32 array;
        mode 1: only * s, 2: only + t, 3: both (each step rounds to float32, as Mul then Add)
    batchnorm_f32_nchw(x, a, c, s, d, act, out)   over (N, C, S), per channel ch:
        out = act(((x * a[ch] + c[ch]) * s[ch]) + d[ch])   s, d of length 0: that step is absent
        BatchNormalization's inference form (ops/batch_norm.py computes a, c), and FusedBatchNorm's
        trailing Mul, Add and Relu, in one pass; each step rounds to float32 as the NumPy ops do
"""
from __future__ import annotations

import math

import numpy as np

(ACT_NONE, ACT_RELU, ACT_CLIP, ACT_HARDSIGMOID, ACT_HARDSWISH, ACT_SIGMOID, ACT_LEAKYRELU,
 ACT_SWISH, ACT_TANH, ACT_HARDSWISH_AFFINE) = range(10)

SIGNATURES = {
    "act_f32_inplace": "void(float32[::1], int64, float32, float32)",
    "act_f32_clip": "void(float32[::1], float32[::1], float32, float32)",
    "act_f32_scale_shift": "void(float32[::1], float32, float32, int64)",
    "batchnorm_f32_nchw": "void(float32[:, :, ::1], float32[::1], float32[::1], float32[::1], "
                          "float32[::1], int64, float32[:, :, ::1])",
}


def apply_act(v, act, a0, a1):
    # float32 constants: with a float32 v every step rounds as the NumPy reference's does
    if act == 1:  # NaN stays NaN; -inf gives 0 (v * 0 would give NaN), as np.maximum(v, 0)
        return v if (v > 0) | (v != v) else _ZERO
    if act == 2:
        if v < a0:
            return a0
        if v > a1:
            return a1
        return v
    if act == 3:
        t = v * a0 + a1
        return 0 * v if t < 0 else (_ONE + 0 * v if t > 1 else t)
    if act == 4:
        t = v * _SIXTH + _HALF
        return 0 * v if t < 0 else (v if t > 1 else v * t)
    if act == 5:
        return _sigmoid(v)
    if act == 6:
        return v if v >= 0 else v * a0
    if act == 7:
        return v * _sigmoid(v * a0)
    if act == 8:
        return math.tanh(v)
    if act == 9:
        t = v * _SIXTH + _HALF
        h = 0 * v if t < 0 else (v if t > 1 else v * t)
        return h * a0 + a1
    return v


_ZERO, _ONE, _HALF, _SIXTH = np.float32(0), np.float32(1), np.float32(0.5), np.float32(1 / 6)


def _sigmoid(v):
    """1 / (1 + e^-|v|) or e^-|v| / (1 + e^-|v|), as ops/activations._sigmoid."""
    e = math.exp(-abs(v))
    return _ONE / (_ONE + e) if v >= 0 else e / (_ONE + e)


def act_row(r, act, a0, a1):
    """r = act(r) over a 1-D float32 row: one branch-free loop per common code (LLVM vectorises
    these), apply_act for the rest. Same float32 steps as apply_act."""
    n = r.shape[0]
    if act == 0:
        return
    if act == 1:
        for i in range(n):
            v = r[i]
            r[i] = v if (v > 0) | (v != v) else _ZERO
    elif act == 2:
        for i in range(n):
            v = r[i]
            v = a0 if v < a0 else v
            r[i] = a1 if v > a1 else v
    elif act == 3:
        for i in range(n):
            t = r[i] * a0 + a1
            t = _ZERO if t < 0 else t
            r[i] = _ONE if t > 1 else t
    elif act == 6:
        for i in range(n):
            v = r[i]
            r[i] = v if v >= 0 else v * a0
    elif act == 4:
        for i in range(n):
            v = r[i]
            t = v * _SIXTH + _HALF
            t = _ZERO if t < 0 else t
            t = _ONE if t > 1 else t
            r[i] = v * t
    elif act == 9:
        for i in range(n):
            v = r[i]
            t = v * _SIXTH + _HALF
            t = _ZERO if t < 0 else t
            t = _ONE if t > 1 else t
            h = v * t
            h = h * a0
            r[i] = h + a1
    else:
        for i in range(n):
            r[i] = apply_act(r[i], act, a0, a1)


def act_f32_inplace(x, act, a0, a1):
    for i in range(x.shape[0]):
        x[i] = apply_act(x[i], act, a0, a1)


def act_f32_clip(x, out, lo, hi):
    """out = min(max(x, lo), hi); NaN passes through as NaN (as np.clip)."""
    for i in range(x.shape[0]):
        v = x[i]
        if v < lo:
            v = lo
        if v > hi:
            v = hi
        out[i] = v


def act_f32_scale_shift(x, s, t, mode):
    if mode == 1:
        for i in range(x.shape[0]):
            x[i] = x[i] * s
    elif mode == 2:
        for i in range(x.shape[0]):
            x[i] = x[i] + t
    else:
        for i in range(x.shape[0]):
            v = x[i] * s
            x[i] = v + t


def batchnorm_f32_nchw(x, a, c, s, d, act, out):
    """a, c: (C,); s, d: (C,) or (0,), as validated by the op (C = x.shape[1]). Multiplies and
    adds stay separate (no FMA), so the float32 result equals the NumPy steps."""
    n_img, c_n, s_n = x.shape
    has_s, has_d = s.shape[0] == c_n, d.shape[0] == c_n
    for n in range(n_img):
        for ch in range(c_n):
            xr = x[n, ch]
            o = out[n, ch]
            av, cv = a[ch], c[ch]
            sv = s[ch] if has_s else _ONE
            dv = d[ch] if has_d else _ZERO
            if has_s and has_d:
                for i in range(s_n):
                    o[i] = (xr[i] * av + cv) * sv + dv
            elif has_s:
                for i in range(s_n):
                    o[i] = (xr[i] * av + cv) * sv
            elif has_d:
                for i in range(s_n):
                    o[i] = (xr[i] * av + cv) + dv
            else:
                for i in range(s_n):
                    o[i] = xr[i] * av + cv
            act_row(o, act, _ZERO, _ZERO)

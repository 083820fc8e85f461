"""Elementwise float32 loops: the activation epilogue shared by the conv kernels, and Clip.

    apply_act(v, act, a0, a1)    one value through an activation (plain Python, jitted in place)
        ACT_NONE 0: v                  ACT_RELU 1: max(v, 0)        ACT_CLIP 2: min(max(v, a0), a1)
        ACT_HARDSIGMOID 3: clip(a0 * v + a1, 0, 1)                 ACT_HARDSWISH 4: v * clip(v/6 + 1/2, 0, 1)
        ACT_SIGMOID 5: 1 / (1 + exp(-v))                           ACT_LEAKYRELU 6: v if v >= 0 else a0 * v
    act_f32_inplace(x, act, a0, a1)   x = act(x) over a flat float32 array, in place
"""
from __future__ import annotations

import math

ACT_NONE, ACT_RELU, ACT_CLIP, ACT_HARDSIGMOID, ACT_HARDSWISH, ACT_SIGMOID, ACT_LEAKYRELU = range(7)

SIGNATURES = {
    "act_f32_inplace": "void(float32[::1], int64, float32, float32)",
    "act_f32_clip": "void(float32[::1], float32[::1], float32, float32)",
}


def apply_act(v, act, a0, a1):
    if act == 1:
        return v if v > 0 else v * 0
    if act == 2:
        if v < a0:
            return a0
        if v > a1:
            return a1
        return v
    if act == 3:
        t = a0 * v + a1
        return 0 * v if t < 0 else (1 + 0 * v if t > 1 else t)
    if act == 4:
        t = v / 6 + 0.5
        return 0 * v if t < 0 else (v if t > 1 else v * t)
    if act == 5:
        if v >= 0:
            return 1 / (1 + math.exp(-v))
        e = math.exp(v)
        return e / (1 + e)
    if act == 6:
        return v if v >= 0 else v * a0
    return v


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

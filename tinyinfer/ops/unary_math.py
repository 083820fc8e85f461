"""Element-wise unary math: y = f(x), same shape, same dtype as x.

    Neg Abs Reciprocal Floor Ceil Round Sqrt Exp Log Sin Cos Tan Asin Acos Atan Sinh Cosh Tanh
    Asinh Acosh Atanh Erf Sign IsNaN IsInf

Round is half to even (np.rint). Floats outside a function's domain give NaN/inf as in IEEE
(no warnings). Erf has no NumPy ufunc: a rational approximation accurate to float32 rounding for
float16/float32 inputs, math.erf per element for float64.
"""
from __future__ import annotations

import math

import numpy as np

from ..registry import op
from ._floatcodec import decode, encode


def _unary(fn, x):
    f, tag = decode(x)
    with np.errstate(all="ignore"):
        y = fn(f)
    return encode(np.asarray(y).astype(f.dtype, copy=False), tag)


@op("Neg", since=1)
def Neg(x):
    """y = -x (integers wrap: -INT_MIN == INT_MIN)."""
    return _unary(np.negative, x)


@op("Abs", since=1)
def Abs(x):
    """y = |x|."""
    return _unary(np.abs, x)


@op("Reciprocal", since=1)
def Reciprocal(x):
    """y = 1 / x."""
    return _unary(np.reciprocal, x)


@op("Floor", since=1)
def Floor(x):
    """y = floor(x)."""
    return _unary(np.floor, x)


@op("Ceil", since=1)
def Ceil(x):
    """y = ceil(x)."""
    return _unary(np.ceil, x)


@op("Round", since=11)
def Round(x):
    """y = x rounded to the nearest integer, halves to even (2.5 -> 2, 3.5 -> 4)."""
    return _unary(np.rint, x)


@op("Sqrt", since=1)
def Sqrt(x):
    """y = sqrt(x); NaN for x < 0."""
    return _unary(np.sqrt, x)


@op("Exp", since=1)
def Exp(x):
    """y = e ** x."""
    return _unary(np.exp, x)


@op("Log", since=1)
def Log(x):
    """y = ln(x); -inf at 0, NaN below."""
    return _unary(np.log, x)


@op("Sin", since=7)
def Sin(x):
    """y = sin(x)."""
    return _unary(np.sin, x)


@op("Cos", since=7)
def Cos(x):
    """y = cos(x)."""
    return _unary(np.cos, x)


@op("Tan", since=7)
def Tan(x):
    """y = tan(x)."""
    return _unary(np.tan, x)


@op("Asin", since=7)
def Asin(x):
    """y = arcsin(x)."""
    return _unary(np.arcsin, x)


@op("Acos", since=7)
def Acos(x):
    """y = arccos(x)."""
    return _unary(np.arccos, x)


@op("Atan", since=7)
def Atan(x):
    """y = arctan(x)."""
    return _unary(np.arctan, x)


@op("Sinh", since=9)
def Sinh(x):
    """y = sinh(x)."""
    return _unary(np.sinh, x)


@op("Cosh", since=9)
def Cosh(x):
    """y = cosh(x)."""
    return _unary(np.cosh, x)


@op("Tanh", since=1)
def Tanh(x):
    """y = tanh(x)."""
    return _unary(np.tanh, x)


@op("Asinh", since=9)
def Asinh(x):
    """y = arcsinh(x)."""
    return _unary(np.arcsinh, x)


@op("Acosh", since=9)
def Acosh(x):
    """y = arccosh(x)."""
    return _unary(np.arccosh, x)


@op("Atanh", since=9)
def Atanh(x):
    """y = arctanh(x)."""
    return _unary(np.arctanh, x)


@op("Sign", since=9)
def Sign(x):
    """y = -1, 0 or 1 by the sign of x (NaN stays NaN)."""
    return _unary(np.sign, x)


@op("IsNaN", since=9)
def IsNaN(x):
    """y[i] = x[i] is NaN, bool of x's shape."""
    return np.isnan(decode(x)[0])


@op("IsInf", since=10)
def IsInf(x, *, detect_negative: int = 1, detect_positive: int = 1):
    """y[i] = x[i] is +inf (if detect_positive) or -inf (if detect_negative), bool."""
    f = decode(x)[0]
    y = np.zeros(f.shape, dtype=bool)
    if detect_positive:
        y |= np.isposinf(f)
    if detect_negative:
        y |= np.isneginf(f)
    return y


# erf(x) ≈ x·P(x²)/Q(x²) on [-4, 4], |erf| = 1 beyond (to float32 precision). Coefficients of
# Eigen's generic_fast_erf_float; evaluated in float64, error below one float32 ulp.
_ERF_ALPHA = (-2.72614225801306e-10, 2.77068142495902e-08, -2.10102402082508e-06,
              -5.69250639462346e-05, -7.34990630326855e-04, -2.95459980854025e-03,
              -1.60960333262415e-02)
_ERF_BETA = (-1.45660718464996e-05, -2.13374055278905e-04, -1.68282697438203e-03,
             -7.37332916720468e-03, -1.42647390514189e-02)
_erf_exact = np.vectorize(math.erf, otypes=[np.float64])


def erf(x: np.ndarray) -> np.ndarray:
    """The error function 2/sqrt(pi) ∫0^x exp(-t²) dt, element-wise, in x's float dtype."""
    if x.dtype == np.float64 or x.size <= 64:
        return _erf_exact(x).astype(x.dtype) if x.size else x.copy()
    t = np.clip(x.astype(np.float64), -4.0, 4.0)
    t2 = t * t
    p = np.full_like(t2, _ERF_ALPHA[0])
    for c in _ERF_ALPHA[1:]:
        p = p * t2 + c
    q = np.full_like(t2, _ERF_BETA[0])
    for c in _ERF_BETA[1:]:
        q = q * t2 + c
    y = t * p / q
    y = np.where(np.isnan(x), x, y)
    return y.astype(x.dtype)


@op("Erf", since=9)
def Erf(x):
    """y = erf(x) = 2/sqrt(pi) ∫0^x exp(-t²) dt."""
    f, tag = decode(x)
    if f.dtype.kind in "iu":  # integer Erf: computed in float, rounded back
        return np.rint(erf(f.astype(np.float64))).astype(f.dtype)
    return encode(erf(f), tag)

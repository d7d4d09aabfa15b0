"""Element-wise ASIC ops: activations and broadcasting arithmetic (ONNX semantics).

Every function takes ``(node, args, ctx)`` and returns the node's outputs;
``args`` are the input arrays in ONNX order (``None`` for an omitted
optional input). Values arrive on the ASIC's number grid; the executor puts
each float result back on it (:mod:`adept_core.asic.numfmt`). The math
inside one op is float32.

Transcendentals use their numerically safe forms (sigmoid through
``exp(-|x|)``, so no overflow). NumPy has no ``erf`` (and SciPy is not a
dependency); :func:`erf` is a rational approximation evaluated in float64 by
a Numba ufunc (see :data:`ERF_P`): no libm call, so the loop vectorises,
about 10x faster than calling ``math.erf`` per element.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from .fused import add_

_SQRT_HALF = np.float32(1.0 / math.sqrt(2.0))
_TANH_GELU_C = np.float32(math.sqrt(2.0 / math.pi))
_TANH_GELU_A = np.float32(0.044715)
_F32 = np.float32


#: ``erf(x) = x * P(x**2) / Q(x**2)`` for ``|x| <= 4`` (``erf = sign(x)`` beyond, exact in
#: float32 since ``1 - erf(4) = 1.5e-8``). Coefficients from our own weighted least-squares
#: rational fit (Loeb reweighting, 12,000 points on [0, 4]) of ``erf(x)/x``: max absolute
#: error 4.5e-9 in float64, below float32's half-ulp of 1 (3e-8); tested against ``math.erf``.
ERF_P = (1.1283791677123587, 0.1855716043019099, 0.054213083865439035, 0.0038444341449918817,
         0.00037321784127820017, 4.507940776159735e-06, -1.2324082060099428e-08)
ERF_Q = (1.0, 0.4977919228588829, 0.11397544161493044, 0.015430041724135698, 0.001297847977027721,
         6.142553892715715e-05)
_P0, _P1, _P2, _P3, _P4, _P5, _P6 = ERF_P
_Q0, _Q1, _Q2, _Q3, _Q4, _Q5 = ERF_Q


@numba.vectorize(["float32(float32)"], cache=True)
def _erf32(v):
    if v != v:
        return v
    x = min(abs(numba.float64(v)), 4.0)
    t = x * x
    p = (((((_P6 * t + _P5) * t + _P4) * t + _P3) * t + _P2) * t + _P1) * t + _P0
    q = ((((_Q5 * t + _Q4) * t + _Q3) * t + _Q2) * t + _Q1) * t + _Q0
    r = min(x * p / q, 1.0)
    return numba.float32(math.copysign(r, v))


def erf(x: np.ndarray) -> np.ndarray:
    """float32 erf, element-wise."""
    return _erf32(np.asarray(x, dtype=np.float32))


def sigmoid(x: np.ndarray) -> np.ndarray:
    """``1 / (1 + exp(-x))`` without overflow for large ``|x|``."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, _F32(1) / (_F32(1) + e), e / (_F32(1) + e)).astype(np.float32, copy=False)


def gelu(x: np.ndarray, approximate: str = "none") -> np.ndarray:
    """GELU: ``"none"`` = exact erf form, ``"tanh"`` = the tanh approximation."""
    if approximate == "tanh":
        inner = _TANH_GELU_C * (x + _TANH_GELU_A * x * x * x)
        return _F32(0.5) * x * (_F32(1) + np.tanh(inner))
    return _F32(0.5) * x * (_F32(1) + erf(x * _SQRT_HALF))


def _unary(fn):
    def op(node, args, ctx):
        return (fn(args[0]),)

    op.__doc__ = f"ONNX element-wise op computed as ``{getattr(fn, '__name__', fn)}``."
    return op


def _attr_str(node, name: str, default: str) -> str:
    value = node.attrs.get(name, default)
    return value.decode() if isinstance(value, bytes) else value


def op_gelu(node, args, ctx):
    return (gelu(args[0], _attr_str(node, "approximate", "none")),)


def op_clip(node, args, ctx):
    """Clip / ReLU6: bounds from inputs 1, 2 (opset >= 11) or attributes (canonical form).

    One ``np.clip`` pass: a max-then-min pair would allocate a second
    activation-sized temporary (page faults dominate at EfficientNet sizes).
    """
    x = args[0]
    lo = args[1] if len(args) > 1 and args[1] is not None else node.attrs.get("min")
    hi = args[2] if len(args) > 2 and args[2] is not None else node.attrs.get("max")
    lo = np.asarray(-np.inf if lo is None else lo, dtype=x.dtype)
    hi = np.asarray(np.inf if hi is None else hi, dtype=x.dtype)
    return (np.clip(x, lo, hi),)


def op_leaky_relu(node, args, ctx):
    alpha = _F32(node.attrs.get("alpha", 0.01))
    x = args[0]
    return (np.where(x >= 0, x, alpha * x),)


def op_hard_sigmoid(node, args, ctx):
    alpha, beta = _F32(node.attrs.get("alpha", 0.2)), _F32(node.attrs.get("beta", 0.5))
    return (np.clip(alpha * args[0] + beta, _F32(0), _F32(1)),)


def op_hard_swish(node, args, ctx):
    x = args[0]
    return (x * np.clip(x * _F32(1 / 6) + _F32(0.5), _F32(0), _F32(1)),)


def _div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    if np.issubdtype(a.dtype, np.integer) and np.issubdtype(b.dtype, np.integer):
        return (np.trunc(a / b)).astype(np.result_type(a, b))  # ONNX integer Div truncates
    return a / b


def _pow(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    out = np.power(a, b.astype(a.dtype) if np.issubdtype(a.dtype, np.floating) else b)
    return out.astype(a.dtype, copy=False)  # ONNX Pow returns the base's type


def _binary(fn):
    def op(node, args, ctx):
        return (fn(args[0], args[1]),)

    op.__doc__ = f"ONNX broadcasting binary op ``{getattr(fn, '__name__', fn)}``."
    return op


def _variadic(fn):
    def op(node, args, ctx):
        out = args[0]
        for a in args[1:]:
            out = fn(out, a)
        return (out,)

    return op


def op_mean(node, args, ctx):
    total = _variadic(np.add)(node, args, ctx)[0]
    return (total / _F32(len(args)),)


def op_where(node, args, ctx):
    return (np.where(args[0], args[1], args[2]),)


def _relu_into(node, args, ctx, out):
    x = args[0]
    if out.shape != x.shape or x.dtype != out.dtype:
        return None
    return (np.maximum(x, x.dtype.type(0), out=out),)


def _add_into(node, args, ctx, out):
    """``a + b`` written over ``out`` (a dead input) and rounded there (plus a fused Relu, see :mod:`.fused`)."""
    a, b = args
    if not (a.shape == b.shape == out.shape and a.dtype == b.dtype == out.dtype == np.float32):
        return None
    return (add_(a, b, out, ctx.asic_format, ctx.take_fused_relu()),)


#: Ops that can write their result over an input the executor no longer needs:
#: ``fn(node, args, ctx, out) -> outputs`` (already on the number grid), or None
#: when ``out`` does not fit (then the op runs normally). ``out`` is one of
#: ``args``, dead after this node and aliased by no other value; activation-sized
#: allocations cost more in page faults than these ops' arithmetic.
def _broadcast_into(ufunc):
    """``ufunc(a, b)`` of float32 operands written over ``out`` (a dead input of the result's shape), rounded there.

    The same ufunc on the same operands in the same order as the allocating path, then the same
    rounding: bit-identical. It covers what :func:`_add_into` does not: a per-channel constant
    (DenseNet's BatchNorm is followed by ``Mul`` and ``Add`` of [C, 1, 1] vectors, each of which
    allocated a feature-map-sized result).
    """
    def into(node, args, ctx, out):
        if len(args) != 2:
            return None
        a, b = args
        if not all(isinstance(v, np.ndarray) and v.dtype == np.float32 for v in (a, b, out)):
            return None
        if np.broadcast_shapes(a.shape, b.shape) != out.shape:
            return None
        y = ctx.round(ufunc(a, b, out=out), out=out)
        if ctx.take_fused_relu():
            np.maximum(y, y.dtype.type(0), out=y)
        return (y,)

    return into


_broadcast_add_into = _broadcast_into(np.add)


def _add_or_broadcast_into(node, args, ctx, out):
    outs = _add_into(node, args, ctx, out)
    return outs if outs is not None else _broadcast_add_into(node, args, ctx, out)


IN_PLACE = {"Relu": _relu_into, "Add": _add_or_broadcast_into, "Mul": _broadcast_into(np.multiply),
            "Sub": _broadcast_into(np.subtract)}


UNARY = {
    "Relu": lambda x: np.maximum(x, x.dtype.type(0)),
    "Sigmoid": sigmoid,
    "Tanh": np.tanh,
    "Erf": erf,
    "Sqrt": np.sqrt,
    "Exp": np.exp,
    "Log": np.log,
    "Neg": np.negative,
    "Abs": np.abs,
    "Reciprocal": lambda x: _F32(1) / x,
    "Floor": np.floor,
    "Ceil": np.ceil,
    "Not": np.logical_not,
}

BINARY = {
    "Add": np.add,
    "Sub": np.subtract,
    "Mul": np.multiply,
    "Div": _div,
    "Pow": _pow,
    "Equal": np.equal,
    "Less": np.less,
    "Greater": np.greater,
    "And": np.logical_and,
    "Or": np.logical_or,
}

OPS = {name: _unary(fn) for name, fn in UNARY.items()}
OPS.update({name: _binary(fn) for name, fn in BINARY.items()})
OPS.update({
    "Sum": _variadic(np.add),
    "Max": _variadic(np.maximum),
    "Min": _variadic(np.minimum),
    "Mean": op_mean,
    "Gelu": op_gelu,
    "Clip": op_clip,
    "LeakyRelu": op_leaky_relu,
    "HardSigmoid": op_hard_sigmoid,
    "HardSwish": op_hard_swish,
    "Where": op_where,
})

"""Normalisations and reductions on the ASIC: softmax, layernorm, batchnorm, Reduce*.

Where the ASIC accumulates wider than its storage format (``docs/asic.md``):
the sums of softmax (``sum exp``) and of layernorm (mean and variance) and
every ``Reduce*`` are accumulated in float32 even when tensors are stored
in bfloat16; a bf16 accumulator over 1024 terms would lose every addend
below 1/256 of the running sum. Only the op's result is rounded to the
storage format (by the executor).
"""

from __future__ import annotations

import numpy as np

from ..errors import ShapeError
from ..graph.half_types import is_half

_F32 = np.float32


def softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """Softmax along ``axis`` with the max subtracted first (no overflow), float32 sums.

    A float16 / bfloat16 ``x`` is computed by a half-precision ASIC: each step's result is stored in
    the half type (``exp`` rounded before it is summed, the float32 sum rounded before the division),
    as the onnx reference computes it too (graph/half_types.py).
    """
    z = x - np.max(x, axis=axis, keepdims=True)
    if is_half(x):
        e = np.exp(z)  # in the half type (NumPy: float32 exp, rounded)
        return e / np.sum(e, axis=axis, keepdims=True, dtype=np.float32).astype(x.dtype)
    e = np.exp(z, dtype=np.float32)
    return e / np.sum(e, axis=axis, keepdims=True, dtype=np.float32)


def op_softmax(node, args, ctx):
    return (softmax(args[0], int(node.attrs.get("axis", -1))),)


def op_log_softmax(node, args, ctx):
    x = args[0]
    axis = int(node.attrs.get("axis", -1))
    z = x - np.max(x, axis=axis, keepdims=True)
    if is_half(x):  # each step stored in the half type, as in softmax()
        return (z - np.log(np.sum(np.exp(z), axis=axis, keepdims=True, dtype=np.float32).astype(x.dtype)),)
    return (z - np.log(np.sum(np.exp(z), axis=axis, keepdims=True, dtype=np.float32)),)


def layer_norm(x: np.ndarray, scale, bias, axis: int = -1, epsilon: float = 1e-5):
    """``(x - mean) / sqrt(var + eps) * scale + bias`` over axes ``axis..-1``; returns (y, mean, inv_std)."""
    axis = axis % x.ndim
    axes = tuple(range(axis, x.ndim))
    mean = np.mean(x, axis=axes, keepdims=True, dtype=np.float32)
    d = x - mean
    var = np.mean(d * d, axis=axes, keepdims=True, dtype=np.float32)
    inv_std = _F32(1) / np.sqrt(var + _F32(epsilon))
    y = d * inv_std
    if scale is not None:
        y = y * scale
    if bias is not None:
        y = y + bias
    return y, mean, inv_std


def op_layer_norm(node, args, ctx):
    x, scale = args[0], args[1]
    bias = args[2] if len(args) > 2 else None
    y, mean, inv_std = layer_norm(x, scale, bias, int(node.attrs.get("axis", -1)),
                                  float(node.attrs.get("epsilon", 1e-5)))
    return (y, mean, inv_std)[:len(node.outputs)]


def batchnorm_affine(scale, bias, mean, var, epsilon: float) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel ``(a, c)`` with ``BN(x) = a * x + c`` (inference form), float32."""
    a = (scale.astype(np.float32) / np.sqrt(var.astype(np.float32) + _F32(epsilon))).astype(np.float32)
    c = (bias.astype(np.float32) - mean.astype(np.float32) * a).astype(np.float32)
    return a, c


def op_batchnorm(node, args, ctx):
    """Inference-mode BatchNormalization over axis 1 (the one not folded into a conv)."""
    if len(node.outputs) > 1 and any(node.outputs[1:]):
        raise ShapeError(f"BatchNormalization {node.name!r}: training mode (extra outputs) is not supported")
    x = args[0]
    a, c = batchnorm_affine(*args[1:5], float(node.attrs.get("epsilon", 1e-5)))
    shape = (1, -1) + (1,) * (x.ndim - 2)
    y = np.multiply(x, a.reshape(shape))  # x * a + c with one temporary (the same two roundings)
    return (np.add(y, c.reshape(shape), out=y) if y.dtype == np.result_type(y, c) else y + c.reshape(shape),)


def reduce_axes(node, args, ndim: int) -> tuple[int, ...] | None:
    """Axes of a Reduce* node: input 1 (opset 18) or attribute ``axes`` (older); None = all."""
    axes = args[1] if len(args) > 1 and args[1] is not None else node.attrs.get("axes")
    if axes is None or len(axes) == 0:
        return None if not node.attrs.get("noop_with_empty_axes", 0) else ()
    return tuple(int(a) % ndim for a in np.asarray(axes).ravel())


def _reduce(fn, wide: bool):
    def op(node, args, ctx):
        x = args[0]
        axes = reduce_axes(node, args, x.ndim)
        if axes == ():
            return (x.copy(),)
        keep = bool(node.attrs.get("keepdims", 1))
        if wide and np.issubdtype(x.dtype, np.floating):
            return (fn(x, axis=axes, keepdims=keep, dtype=np.float32),)
        return (fn(x, axis=axes, keepdims=keep),)

    return op


OPS = {
    "Softmax": op_softmax,
    "LogSoftmax": op_log_softmax,
    "LayerNormalization": op_layer_norm,
    "BatchNormalization": op_batchnorm,
    "ReduceMean": _reduce(np.mean, True),
    "ReduceSum": _reduce(np.sum, True),
    "ReduceMax": _reduce(np.max, False),
    "ReduceMin": _reduce(np.min, False),
}

"""Integer products (MatMulInteger, ConvInteger, QLinearMatMul, QLinearConv) as one photonic MatMul / Conv.

How a quantized model maps onto the core (also in ``docs/executor.md``):

- The zero points are subtracted first, so the core multiplies the *centred
  integers* ``x - x_zp`` and ``w - w_zp`` (exactly what ONNX defines); a
  constant weight is centred at import and programmed weight-stationary. With
  the core's symmetric weight DAC, ``w - w_zp`` of an int8 symmetric model
  (``w_zp = 0``, ``|w| <= 127``) are integer DAC levels up to the DAC's own
  max-abs scale; the scales (``x_scale * w_scale / y_scale``) are applied after
  the product on the ASIC, never programmed into the core.
- In ``precision="fp32"`` the product is a float32 GEMM of integers: exact
  (equal to the ONNX integer reference) while every partial sum stays below
  ``2**24``, i.e. ``K * max|x - x_zp| * max|w - w_zp| < 16,777,216`` (K up to 258
  for full-range uint8 x uint8); checked per layer at import (a
  ``RuntimeWarning`` names a layer whose bound reaches it).
- In the emulated precisions the integers go through the input DAC, the
  analog core and the ADC like any activation and weight: the result differs
  from the model's own integer arithmetic by the ADC's rounding of the
  accumulations and the analog noise, the requantisation (scale, round to
  even, zero point, saturation) then runs on the ASIC in float64 exactly as
  ONNX specifies.

Every step other than the product runs on the ONNX reference kernels (the
canonical ASIC Cast computes every float in float32, and the requantisation
needs ONNX's float64 promotion of ``int32 * float32``).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
from onnx import TensorProto, helper

from .ir import Node

_F32, _F64, _I32 = TensorProto.FLOAT, TensorProto.DOUBLE, TensorProto.INT32


class _Builder:
    def __init__(self, v):
        self.v, self.nodes, self.k = v, [], 0

    def ref(self, op, inputs, shape, elem, attrs=None, out=None):
        self.k += 1
        name = out or self.v.new_value(f"{op.lower()}{self.k}", tuple(shape))
        dtype = np.dtype(helper.tensor_dtype_to_np_dtype(elem)).name
        self.nodes.append(Node(name if out is None else f"{self.v.name}/{op.lower()}_out", op, tuple(inputs),
                               (name,), {**(attrs or {}), "onnx_opset": self.v.opset, "onnx_out_dtypes": [dtype]}))
        return name

    def centred(self, i, zp_i, per_channel_axis=None):
        """Input ``i`` minus zero point ``zp_i`` as float32 (a constant when both are constants)."""
        v = self.v
        shape = tuple(v.in_shapes[i])
        has_zp = zp_i < len(v.inputs) and bool(v.inputs[zp_i])
        zp_const = v.consts[zp_i] if has_zp else np.zeros((), np.int32)
        zp = zp_const
        zp_shape = tuple(v.in_shapes[zp_i]) if has_zp else ()
        bshape = zp_shape
        if per_channel_axis is not None and len(zp_shape) == 1 and zp_shape[0] > 1:
            bshape = tuple(zp_shape[0] if a == per_channel_axis else 1 for a in range(len(shape)))
        if v.consts[i] is not None and zp_const is not None:
            value = (v.consts[i].astype(np.int32) - np.asarray(zp).astype(np.int32).reshape(bshape)).astype(np.float32)
            return v.new_const("centred", value), value
        x = self.ref("Cast", [v.inputs[i]], shape, _F32, {"to": _F32})
        if not has_zp:
            return x, None
        z = self.ref("Cast", [v.inputs[zp_i]], zp_shape, _F32, {"to": _F32})
        if bshape != zp_shape:
            z = self.ref("Reshape", [z, v.new_const("zp_shape", np.array(bshape, np.int64))], bshape, _F32)
        return self.ref("Sub", [x, z], shape, _F32), None


def _requantise(b, product, out_shape, scales, y_scale_i, y_zp_i, q_elem, channel_axis=None):
    """ONNX requantisation: rint(P * (s_x * s_w / s_y) + y_zp), saturated to the output integer type."""
    v = b.v
    s_elem = v.in_elem_types[scales[0]] if v.in_elem_types else _F32  # the factor is computed in the scales' type
    factor = b.ref("Mul", [v.inputs[scales[0]], v.inputs[scales[1]]],
                   np.broadcast_shapes(v.in_shapes[scales[0]], v.in_shapes[scales[1]]), s_elem)
    fshape = np.broadcast_shapes(v.in_shapes[scales[0]], v.in_shapes[scales[1]], v.in_shapes[y_scale_i])
    factor = b.ref("Div", [factor, v.inputs[y_scale_i]], fshape, s_elem)
    if channel_axis is not None and len(fshape) == 1 and fshape[0] > 1:
        rshape = tuple(fshape[0] if a == channel_axis else 1 for a in range(len(out_shape)))
        factor = b.ref("Reshape", [factor, v.new_const("scale_shape", np.array(rshape, np.int64))], rshape, s_elem)
    p = b.ref("Cast", [b.ref("Cast", [product], out_shape, _I32, {"to": _I32})], out_shape, _F64, {"to": _F64})
    r = b.ref("Mul", [p, b.ref("Cast", [factor], fshape, _F64, {"to": _F64})], out_shape, _F64)
    if y_zp_i < len(v.inputs) and v.inputs[y_zp_i]:
        r = b.ref("Add", [r, b.ref("Cast", [v.inputs[y_zp_i]], v.in_shapes[y_zp_i], _F64, {"to": _F64})],
                  out_shape, _F64)
    info = np.iinfo(helper.tensor_dtype_to_np_dtype(q_elem))
    if v.opset >= 11:
        lo, hi = (v.new_const(n, np.array(x, np.float64)) for n, x in (("qmin", info.min), ("qmax", info.max)))
        r = b.ref("Clip", [r, lo, hi], out_shape, _F64)
    else:
        r = b.ref("Clip", [r], out_shape, _F64, {"min": float(info.min), "max": float(info.max)})
    r = b.ref("Round", [r], out_shape, _F64)
    b.ref("Cast", [r], out_shape, q_elem, {"to": int(q_elem)}, out=v.outputs[0])
    return b.nodes


#: float32 holds every integer up to 2**24 exactly; a partial sum past it may round.
EXACT_FLOAT32_INT = 1 << 24


def _centred_max(v, i, zp_i, const) -> int:
    """Largest |x - x_zp| input ``i`` can take: from the constant, else from its integer type and zero point."""
    if const is not None:
        return int(np.max(np.abs(const))) if np.size(const) else 0
    info = np.iinfo(helper.tensor_dtype_to_np_dtype(v.in_elem_types[i] if v.in_elem_types else TensorProto.UINT8))
    zp = v.consts[zp_i] if zp_i < len(v.inputs) and v.inputs[zp_i] else np.zeros((), np.int64)
    if zp is None:
        return int(info.max) - int(info.min)
    zp = np.asarray(zp, np.int64)
    return int(max(np.max(zp) - info.min, info.max - np.min(zp)))


def _check_exact(v, k: int, x_max: int, w_max: int) -> None:
    """Warn, naming the layer, when a float32 partial sum of this integer product may pass 2**24."""
    bound = k * x_max * w_max
    if bound >= EXACT_FLOAT32_INT:
        warnings.warn(
            f"node {v.name!r} ({v.op}): K={k} x max|x - x_zp|={x_max} x max|w - w_zp|={w_max} = {bound:,} "
            f">= 2**24, so float32 partial sums of this integer product may round (precision='fp32' is then "
            "not bit-exact against ONNX's int32 arithmetic; the emulated precisions quantise anyway)",
            RuntimeWarning, stacklevel=2)


def integer_product(v, conv2d) -> list[Node]:
    """The four integer-product ops; ``conv2d(view) -> nodes`` normalises the centred Conv."""
    b = _Builder(v)
    out_shape = tuple(v.out_shapes[0])
    is_conv = v.op in ("ConvInteger", "QLinearConv")
    # (x, x_zp, w, w_zp) input positions
    xi, xz, wi, wz = (0, 2, 1, 3) if v.op in ("MatMulInteger", "ConvInteger") else (0, 2, 3, 5)
    x, _ = b.centred(xi, xz, per_channel_axis=None if is_conv else 0)
    w, w_const = b.centred(wi, wz, per_channel_axis=0 if is_conv else 1)
    w_shape = tuple(v.in_shapes[wi])
    k = math.prod(w_shape[1:]) if is_conv else w_shape[-2]
    _check_exact(v, k, _centred_max(v, xi, xz, None), _centred_max(v, wi, wz, w_const))
    product = v.new_value("product", out_shape)
    if is_conv:
        view = v.derived("Conv", [x, w], [tuple(v.in_shapes[xi]), tuple(v.in_shapes[wi])], v.attrs, [None, w_const])
        view.outputs = [product]
        nodes = conv2d(view)
    else:
        nodes = [Node(v.name, "MatMul", (x, w), (product,), {})]
    b.nodes = b.nodes + nodes
    if v.op in ("MatMulInteger", "ConvInteger"):
        b.ref("Cast", [product], out_shape, _I32, {"to": _I32}, out=v.outputs[0])
        return b.nodes
    if is_conv and len(v.inputs) > 8 and v.inputs[8]:
        # QLinearConv's int32 bias joins the accumulator before requantisation.
        bias = b.ref("Cast", [v.inputs[8]], v.in_shapes[8], _F32, {"to": _F32})
        bias = b.ref("Reshape", [bias, v.new_const("bias_shape", np.array((1, -1) + (1,) * (len(out_shape) - 2),
                                                                             np.int64))],
                     (1, out_shape[1]) + (1,) * (len(out_shape) - 2), _F32)
        product = b.ref("Add", [product, bias], out_shape, _F32)
    q_elem = (v.out_elem_types[0] if v.out_elem_types else TensorProto.UINT8)
    return _requantise(b, product, out_shape, (1, 4), 6, 7, q_elem, 1 if is_conv else None)


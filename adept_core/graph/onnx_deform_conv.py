"""ONNX ``DeformConv`` as ASIC bilinear sampling (``DeformSample``) and a photonic 1x1 ``Conv``.

DeformConv has a weight product, so (issue 9 section 3) the product runs on the photonic core: the
offset-shifted, masked bilinear samples of every kernel tap are gathered on the ASIC into an
im2col-like tensor ``[N, C*kh*kw, Ho, Wo]`` (:mod:`adept_core.asic.deform`), and a canonical 1x1 Conv
with ``group`` groups and the weight reshaped to ``[Cout, Cg*kh*kw, 1, 1]`` multiplies it: one GEMM
``[N*Ho*Wo, Cg*kh*kw] x [Cg*kh*kw, Cout/g]`` per group, charged by the scheduler like any Conv (the
K of a plain Conv's im2col). A constant weight is reshaped at import (weight-stationary); the bias
is the Conv's. 2-D only (onnx's reference implements only 2-D too).
"""

from __future__ import annotations

from .ir import Node
from .onnx_conv_rewrite import Emitter, _conv_pads


def deform_conv(v, conv2d) -> list[Node]:
    if v.rank() != 4:
        raise v.unsupported(f"only 2-D DeformConv (input rank 4) is supported, got input rank {v.rank()}")
    x_shape, w_shape, off_shape = (tuple(v.in_shapes[i]) for i in range(3))
    n, c = x_shape[:2]
    cout, cg, kh, kw = w_shape
    kernel = [int(k) for k in v.attrs.get("kernel_shape", [kh, kw])]
    if kernel != [kh, kw]:
        raise v.unsupported(f"kernel_shape {kernel} differs from the weight's {[kh, kw]}")
    group = int(v.attrs.get("group", 1))
    offset_group = int(v.attrs.get("offset_group", 1))
    if c != cg * group or cout % group or c % offset_group or off_shape[1] != offset_group * kh * kw * 2:
        raise v.unsupported(f"inconsistent shapes: X {x_shape}, W {w_shape}, offset {off_shape}, group {group}, "
                            f"offset_group {offset_group}")
    strides = [int(s) for s in v.attrs.get("strides", [1, 1])]
    dilations = [int(d) for d in v.attrs.get("dilations", [1, 1])]
    pads = _conv_pads(v, x_shape[2:], kernel, strides, dilations)
    ho, wo = off_shape[2:]
    e = Emitter(v)
    samples = v.new_value("samples", (n, c * kh * kw, ho, wo))
    mask = v.inputs[4] if len(v.inputs) > 4 and v.inputs[4] else ""
    inputs = (v.inputs[0], v.inputs[2]) + ((mask,) if mask else ())
    e.nodes.append(Node(f"{v.name}/sample", "DeformSample", inputs, (samples,),
                        {"kernel_shape": kernel, "strides": strides, "pads": [int(p) for p in pads],
                         "dilations": dilations, "offset_group": offset_group}))
    w2, _, _ = e.reshape(v.inputs[1], w_shape, (cout, cg * kh * kw, 1, 1), v.consts[1])
    bias = v.inputs[3] if len(v.inputs) > 3 and v.inputs[3] else ""
    inner = v.derived("Conv", [samples, w2] + ([bias] if bias else []),
                      [(n, c * kh * kw, ho, wo), (cout, cg * kh * kw, 1, 1)] + ([v.in_shapes[3]] if bias else []),
                      {"kernel_shape": [1, 1], "group": group}, [])
    return e.nodes + conv2d(inner)

"""1-D / 3-D ``Conv`` and ``ConvTranspose`` rewritten into the canonical 2-D ``Conv``.

The photonic core has one convolution lowering (im2col to a GEMM,
:mod:`adept_core.graph.lowering`); these rewrites bring every other
convolution to it with data-movement ops (Reshape, Transpose, Slice, Pad,
Concat, all ASIC), so the product itself is always one photonic GEMM that the
scheduler charges like any 2-D Conv:

- **1-D** ``[N, C, L]`` is a 2-D Conv of height 1 (kernel ``[1, k]``).
- **3-D** ``[N, C, D, H, W]``: the ``kd`` depth taps are gathered along the
  channel axis (``kd`` strided depth slices, group-major) and the output depths
  folded into the batch, giving one 2-D Conv ``[N*Do, G*kd*Cg, H, W]`` with
  ``K = Cg*kd*kh*kw``, exactly the K of a direct 3-D im2col. A 3-D depthwise
  conv with ``kd > 1`` therefore becomes photonic (K = kd*kh*kw >= 2 rows).
- **ConvTranspose** is the equivalent direct convolution: the input is
  zero-stuffed by the strides (Reshape + Pad + Reshape), padded by
  ``dilation*(k-1) - pad`` (cropped where that is negative), and convolved at
  stride 1 with the weight flipped spatially and its in/out channels swapped
  per group. The MACs charged include the products with the stuffed zeros:
  the core does that work.

Constant weights are transformed at import (new initializers, so the core
holds them weight-stationary); a weight computed at run time gets the same
transforms as nodes.
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import ShapeError
from .ir import Node


class Emitter:
    """Builds the rewrite's nodes; a constant operand is transformed in NumPy instead."""

    def __init__(self, v):
        self.v, self.nodes, self.k = v, [], 0

    def _out(self, shape, tag):
        self.k += 1
        return self.v.new_value(f"{tag}{self.k}", tuple(int(d) for d in shape))

    def op(self, src, shape, op, attrs, const=None, out=None, out_shape=None):
        """``op`` on ``src`` (shape ``shape``); returns (name, shape, const-or-None)."""
        probe = np.zeros(shape, np.float32) if const is None else const
        if op == "Reshape":
            value = probe.reshape(attrs["shape"])
        elif op == "Transpose":
            value = probe.transpose(attrs["perm"])
        elif op == "Slice":
            index = [slice(None)] * probe.ndim
            for s, e, a, st in zip(attrs["starts"], attrs["ends"], attrs["axes"], attrs["steps"]):
                index[a] = slice(s, None if e == -probe.shape[a] - 1 else e, st)
            value = probe[tuple(index)]
        elif op == "Pad":
            r = probe.ndim
            value = np.pad(probe, [(attrs["pads"][i], attrs["pads"][i + r]) for i in range(r)])
        else:
            raise AssertionError(op)
        if const is not None:
            return self.v.new_const(f"{op.lower()}{self.k}", np.ascontiguousarray(value)), value.shape, value
        name = out or self._out(value.shape, op.lower())
        # Value names are unique, so naming the node after its output keeps node names unique too.
        node_name = f"{self.v.name}/{op.lower()}_out" if out else name
        self.nodes.append(Node(node_name, op, (src,), (name,), attrs))
        return name, value.shape, None

    def reshape(self, x, shape, new, const=None, out=None):
        return self.op(x, shape, "Reshape", {"shape": [int(d) for d in new]}, const, out)

    def transpose(self, x, shape, perm, const=None, out=None):
        return self.op(x, shape, "Transpose", {"perm": list(perm)}, const, out)

    def slice(self, x, shape, axes, starts, ends, steps, const=None):
        return self.op(x, shape, "Slice", {"starts": list(starts), "ends": list(ends), "axes": list(axes),
                                             "steps": list(steps)}, const)

    def pad(self, x, shape, pads):
        if not any(pads):
            return x, shape, None
        return self.op(x, shape, "Pad", {"pads": [int(p) for p in pads], "mode": "constant", "value": 0.0})


def _geometry(v, kernel, transpose=False):
    nd = len(kernel)
    strides = [int(s) for s in v.attrs.get("strides", [1] * nd)]
    dilations = [int(d) for d in v.attrs.get("dilations", [1] * nd)]
    return strides, dilations


def _same_pads(auto, sizes, kernel, strides, dilations):
    begin, end = [], []
    for size, k, s, d in zip(sizes, kernel, strides, dilations):
        total = max(0, (math.ceil(size / s) - 1) * s + (k - 1) * d + 1 - size)
        small, large = total // 2, total - total // 2
        begin.append(small if auto == "SAME_UPPER" else large)
        end.append(large if auto == "SAME_UPPER" else small)
    return begin + end


def _conv_pads(v, sizes, kernel, strides, dilations):
    auto = v.attrs.get("auto_pad", "NOTSET")
    nd = len(kernel)
    if auto in ("NOTSET", ""):
        return [int(p) for p in v.attrs.get("pads", [0] * 2 * nd)]
    if auto == "VALID":
        return [0] * 2 * nd
    return _same_pads(auto, sizes, kernel, strides, dilations)


def conv_nd(v, conv2d) -> list[Node]:
    """A 1-D or 3-D Conv as a canonical 2-D Conv (``conv2d(view) -> nodes`` normalises that one)."""
    rank = v.rank()
    if rank not in (3, 5):
        raise v.unsupported(f"Conv of input rank {rank} is not supported (1-D, 2-D and 3-D are)")
    e = Emitter(v)
    xshape, wshape = tuple(v.in_shapes[0]), tuple(v.in_shapes[1])
    kernel = [int(k) for k in v.attrs.get("kernel_shape", wshape[2:])]
    strides, dilations = _geometry(v, kernel)
    pads = _conv_pads(v, xshape[2:], kernel, strides, dilations)
    group = int(v.attrs.get("group", 1))
    wconst = v.consts[1]
    if rank == 3:
        x, _, _ = e.reshape(v.inputs[0], xshape, xshape[:2] + (1, xshape[2]))
        w, _, _ = e.reshape(v.inputs[1], wshape, wshape[:2] + (1, wshape[2]), wconst)
        y2 = v.new_value("conv2d", tuple(v.out_shapes[0][:2]) + (1, v.out_shapes[0][2]))
        attrs = {"kernel_shape": [1, kernel[0]], "strides": [1, strides[0]], "dilations": [1, dilations[0]],
                 "pads": [0, pads[0], 0, pads[1]], "group": group}
        inputs = [x, w] + list(v.inputs[2:3])
        e.nodes.append(Node(v.name, "Conv", tuple(i for i in inputs if i), (y2,), attrs))
        e.reshape(y2, v.out_shapes[0][:2] + (1,) + tuple(v.out_shapes[0][2:]), v.out_shapes[0], out=v.outputs[0])
        return e.nodes
    n, c, d = xshape[:3]
    cout, cg, kd = wshape[:3]
    do = tuple(v.out_shapes[0])[2]
    x, xs, _ = e.pad(v.inputs[0], xshape, [0, 0, pads[0], 0, 0] + [0, 0, pads[3], 0, 0])
    taps = []
    for j in range(kd):
        start = j * dilations[0]
        t, ts, _ = e.slice(x, xs, [2], [start], [start + (do - 1) * strides[0] + 1], [strides[0]])
        t, ts, _ = e.reshape(t, ts, (n, 1) + tuple(ts[1:]))
        taps.append(t)
    stacked_shape = (n, kd, c, do) + tuple(xs[3:])
    stacked = v.new_value("taps", stacked_shape) if kd > 1 else taps[0]
    if kd > 1:
        e.nodes.append(Node(f"{v.name}/taps", "Concat", tuple(taps), (stacked,), {"axis": 1}))
    h, wd = xs[3:]
    s, ss, _ = e.reshape(stacked, stacked_shape, (n, kd, group, c // group, do, h, wd))
    s, ss, _ = e.transpose(s, ss, (0, 4, 2, 1, 3, 5, 6))
    x2, x2s, _ = e.reshape(s, ss, (n * do, group * kd * (c // group), h, wd))
    w, ws, wc = e.transpose(v.inputs[1], wshape, (0, 2, 1, 3, 4), wconst)
    w2, _, _ = e.reshape(w, ws, (cout, kd * cg) + tuple(wshape[3:]), wc)
    ho, wo = tuple(v.out_shapes[0])[3:]
    y2 = v.new_value("conv2d", (n * do, cout, ho, wo))
    attrs = {"kernel_shape": kernel[1:], "strides": strides[1:], "dilations": dilations[1:],
             "pads": [pads[1], pads[2], pads[4], pads[5]], "group": group}
    inputs = [x2, w2] + list(v.inputs[2:3])
    e.nodes.append(Node(v.name, "Conv", tuple(i for i in inputs if i), (y2,), attrs))
    y, ys, _ = e.reshape(y2, (n * do, cout, ho, wo), (n, do, cout, ho, wo))
    e.transpose(y, ys, (0, 2, 1, 3, 4), out=v.outputs[0])
    return e.nodes


def conv_transpose(v, conv_any) -> list[Node]:
    """ConvTranspose as the equivalent stride-1 Conv (``conv_any(view-like) -> nodes``)."""
    e = Emitter(v)
    xshape, wshape = tuple(v.in_shapes[0]), tuple(v.in_shapes[1])
    nd = len(xshape) - 2
    if nd not in (1, 2, 3):
        raise v.unsupported(f"ConvTranspose of input rank {len(xshape)} is not supported")
    kernel = [int(k) for k in v.attrs.get("kernel_shape", wshape[2:])]
    strides, dilations = _geometry(v, kernel)
    group = int(v.attrs.get("group", 1))
    out_pad = [int(p) for p in v.attrs.get("output_padding", [0] * nd)]
    sizes = xshape[2:]
    full = [(s - 1) * st + (k - 1) * dl + 1 + op
            for s, st, k, dl, op in zip(sizes, strides, kernel, dilations, out_pad)]
    target = tuple(v.out_shapes[0])[2:]
    auto = v.attrs.get("auto_pad", "NOTSET")
    if "output_shape" in v.attrs or auto in ("SAME_UPPER", "SAME_LOWER"):
        begin, end = [], []
        for f, t in zip(full, target):
            total = f - t
            small, large = total // 2, total - total // 2
            # ONNX: SAME_UPPER puts the larger half at the end, anything else at the start.
            begin.append(small if auto == "SAME_UPPER" else large)
            end.append(large if auto == "SAME_UPPER" else small)
        pads = begin + end
    elif auto == "VALID":
        pads = [0] * 2 * nd
    else:
        pads = [int(p) for p in v.attrs.get("pads", [0] * 2 * nd)]
    n, cin = xshape[:2]
    cog = wshape[1]
    # Zero-stuff by the strides: [.., s_i, ..] -> [.., s_i, 1, ..] padded to stride, reshaped, cropped.
    x, xs = v.inputs[0], xshape
    if any(st > 1 for st in strides):
        inter = (n, cin) + tuple(d for s in sizes for d in (s, 1))
        x, xs, _ = e.reshape(x, xs, inter)
        pad = [0] * (2 * len(inter))
        for i, st in enumerate(strides):
            pad[len(inter) + 3 + 2 * i] = st - 1
        x, xs, _ = e.pad(x, xs, pad)
        x, xs, _ = e.reshape(x, xs, (n, cin) + tuple(s * st for s, st in zip(sizes, strides)))
        x, xs, _ = e.slice(x, xs, list(range(2, 2 + nd)), [0] * nd,
                           [(s - 1) * st + 1 for s, st in zip(sizes, strides)], [1] * nd)
    # Pad by dilation*(k-1) - pad (+ output_padding at the end); crop where that is negative.
    before = [dl * (k - 1) - p for dl, k, p in zip(dilations, kernel, pads[:nd])]
    after = [dl * (k - 1) - p + op for dl, k, p, op in zip(dilations, kernel, pads[nd:], out_pad)]
    x, xs, _ = e.pad(x, xs, [0, 0] + [max(b, 0) for b in before] + [0, 0] + [max(a, 0) for a in after])
    if any(b < 0 for b in before) or any(a < 0 for a in after):
        x, xs, _ = e.slice(x, xs, list(range(2, 2 + nd)), [max(-b, 0) for b in before],
                           [xs[2 + i] - max(-a, 0) for i, a in enumerate(after)], [1] * nd)
    # Weight [Cin, Cout/g, k...] -> [Cout, Cin/g, k...] flipped spatially.
    wconst = v.consts[1]
    cig = cin // group
    w, ws, wc = e.reshape(v.inputs[1], wshape, (group, cig, cog) + tuple(kernel), wconst)
    w, ws, wc = e.transpose(w, ws, (0, 2, 1) + tuple(range(3, 3 + nd)), wc)
    w, ws, wc = e.reshape(w, ws, (group * cog, cig) + tuple(kernel), wc)
    w, ws, wc = e.slice(w, ws, list(range(2, 2 + nd)), [k - 1 for k in kernel], [-k - 1 for k in kernel],
                        [-1] * nd, wc)
    out_shape = (n, group * cog) + tuple(xs[2 + i] - dilations[i] * (kernel[i] - 1) for i in range(nd))
    if tuple(out_shape) != tuple(v.out_shapes[0]):
        raise ShapeError(f"node {v.name!r} (ConvTranspose): rewritten shape {out_shape} differs from the "
                         f"inferred {tuple(v.out_shapes[0])}")
    conv = v.derived("Conv", [x, w] + list(v.inputs[2:3]), [tuple(xs), tuple(ws)] + list(v.in_shapes[2:3]),
                     {"kernel_shape": kernel, "strides": [1] * nd, "dilations": dilations, "pads": [0] * 2 * nd,
                      "group": group}, [wc] + ([v.consts[2]] if len(v.inputs) > 2 else []))
    return e.nodes + conv_any(conv)

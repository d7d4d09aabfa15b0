"""GEMM-class nodes: Conv, Gemm, MatMul, LSTM, GRU, each as the GEMMs of :func:`~adept_core.graph.lowering.gemm_calls`.

Each runner takes ``(ex, node, args)``: ``ex`` is the executor context
(engine, rounding, weights, graph), ``args`` the node's input arrays with
``None`` at the positions of programmed weights (fetched via ``ex.weight_array``
only when a core is first programmed). Depthwise Conv is not a GEMM: it runs
on the ASIC (:func:`adept_core.asic.depthwise_conv`).
"""

from __future__ import annotations

import itertools
import time

import numpy as np

from ..asic import ConvGeometry, depthwise_conv
from ..asic.fused import _has_nan, conv_epilogue_
from ..asic.im2col import im2col, weight_matrix
from ..asic.rnn import gru, lstm, rnn
from ..errors import ShapeError
from ..graph.half_types import is_half
from ..graph.lowering import is_depthwise
from .engine import Fp32Engine

#: Input positions of each op whose operand a weight-stationary core holds.
PROGRAMMED_INPUTS = {"Conv": (1,), "Gemm": (1,), "MatMul": (1,), "LSTM": (1, 2), "GRU": (1, 2), "RNN": (1, 2)}


def _operand(ex, node, args, i: int) -> np.ndarray:
    """Input ``i`` as an array (materialising a programmed weight when an op needs its values)."""
    return args[i] if args[i] is not None else ex.weight_array(node.inputs[i])


def _half_in(x):
    """(x as float32, the half dtype to round the result to or None).

    The photonic core's DACs take an activation's value whatever its storage type: a float16 /
    bfloat16 tensor is widened (exactly) to float32 at the GEMM's input, computed as any float32
    tensor (so also rounded to the ASIC number format, as a float32 graph input is), and the result is
    rounded to the declared half type, as a half-precision ASIC's output
    buffer would. (im2col and the kernels are float32 only.)
    """
    if is_half(x) or (isinstance(x, np.ndarray) and x.dtype == np.float64):
        # float64 (a float64 model, docs/executor.md): the DAC takes it as float32, far finer than its
        # own resolution; the result is widened back to float64 (exact).
        return x.astype(np.float32), x.dtype
    return x, None


def _half_precision(runner):
    """``runner`` with the half-precision rule of :func:`_half_in`: the first float16 / bfloat16 array
    operand sets the output type; every array operand is widened and rounded to the ASIC format."""
    def run(ex, node, args):
        half = next((h for h in (_half_in(a)[1] for a in args) if h is not None), None)
        if half is None:
            return runner(ex, node, args)
        args = [ex.round(_half_in(a)[0]) if isinstance(a, np.ndarray) else a for a in args]
        return tuple(y.astype(half) for y in runner(ex, node, args))
    return run


def run_conv(ex, node, args):
    x = args[0]
    info = ex.node_cache.get(node.name)  # static per node: resolved once per prepared model
    if info is None:
        wshape = ex.graph.shape(node.inputs[1])
        info = ex.node_cache[node.name] = (wshape, ConvGeometry.from_attrs(node.attrs, kernel_shape=wshape[2:],
                                                                           name=node.name),
                                           is_depthwise(node, ex.graph))
    wshape, geo, depthwise = info
    bias = args[2] if len(args) > 2 else None
    if depthwise:
        return (depthwise_conv(x, _operand(ex, node, args, 1), bias, geo),)
    b = x.shape[0]
    t0 = time.perf_counter()
    cols = _grouped_pointwise_rows(x, geo) if geo.groups > 1 else None
    if cols is None:
        cols = im2col(x, geo, ex.im2col_impl, ex.scratch)
    ex.lowering_seconds += time.perf_counter() - t0
    ho, wo = geo.output_hw(x.shape[2], x.shape[3])
    cout = wshape[0]
    ng = cout // geo.groups
    if geo.groups == 1:
        y = ex.gemm(node, "conv", 0, cols[0], lambda: weight_matrix(_operand(ex, node, args, 1)), args[1])
    else:  # each group's GEMM writes its columns of the output: no concatenation copy
        rows = cols[0].shape[0]
        y = np.empty((rows, cout), np.float32)
        w_fns = _GroupWeights(ex, node, args, ng, geo.groups)
        out3 = y.reshape(rows, geo.groups, ng).transpose(1, 0, 2)  # out3[g] = group g's output columns
        stacked = (args[1] is None and type(ex.engine) is Fp32Engine
                   and ex.engine.grouped_weight_gemm(node.name, "conv", cols, w_fns, out3))
        if not stacked:
            for g in range(geo.groups):
                ex.gemm(node, "conv", g, cols[g], w_fns[g], args[1], out=out3[g])
    # The GEMM rows are output pixels: keep them channels-last and expose an NCHW view (no copy).
    # y: [B*Ho*Wo, Cout], ours to modify.
    # Rounding, bias and a following Relu in one pass over the rows (ASIC time).
    nan_key = (node.name, "bias_has_nan")
    if bias is not None and nan_key not in ex.node_cache and ex.graph.is_weight(node.inputs[2]):
        ex.node_cache[nan_key] = _has_nan(bias)  # a weight's bias: looked at once, not every call
    y = conv_epilogue_(y, bias, ex.asic_format, ex.take_fused_relu(), bias_has_nan=ex.node_cache.get(nan_key))
    return (y.reshape(b, ho, wo, cout).transpose(0, 3, 1, 2),)


class _GroupWeights:
    """``w_fns[g]()``: group ``g``'s weight matrix, for a grouped conv's GEMMs (made only when programmed).

    A sequence of callables without building ``groups`` closures on every call: the engines
    call them only when a core is first programmed.
    """

    __slots__ = ("ex", "node", "args", "ng", "groups")

    def __init__(self, ex, node, args, ng: int, groups: int) -> None:
        self.ex, self.node, self.args, self.ng, self.groups = ex, node, args, ng, groups

    def __len__(self) -> int:
        return self.groups

    def __getitem__(self, g: int):
        if not 0 <= g < self.groups:
            raise IndexError(g)
        ng = self.ng
        return lambda: weight_matrix(_operand(self.ex, self.node, self.args, 1)[g * ng:(g + 1) * ng])


def _grouped_pointwise_rows(x: np.ndarray, geo) -> np.ndarray | None:
    """A grouped 1x1, stride-1, unpadded conv's GEMM inputs as column views of the NHWC pixels, or None.

    im2col would copy the pixels into [groups, pixels, Cin/groups]; each group's rows are
    already a column block of the [pixels, Cin] matrix, which BLAS reads with its row stride
    (the same sgemm, bit-identical). Only when ``x`` is stored channels-last (a conv output);
    otherwise im2col's one copy is needed anyway.
    """
    if (geo.kh, geo.kw, geo.sh, geo.sw, geo.pt, geo.pl, geo.pb, geo.pr) != (1, 1, 1, 1, 0, 0, 0, 0):
        return None
    if x.dtype != np.float32 or x.ndim != 4:
        return None
    nhwc = x.transpose(0, 2, 3, 1)
    if not nhwc.flags.c_contiguous:
        return None
    b, h, w, cin = nhwc.shape
    if cin % geo.groups:
        return None  # im2col names the error
    rows = nhwc.reshape(b * h * w, cin)
    cg = cin // geo.groups
    return rows.reshape(b * h * w, geo.groups, cg).transpose(1, 0, 2)  # [groups, pixels, Cin/groups] view


def run_gemm(ex, node, args):
    a = args[0]
    if node.attrs.get("transA", 0):
        a = a.T
    trans_b = bool(node.attrs.get("transB", 0))

    def w_fn():
        w = _operand(ex, node, args, 1)
        return np.ascontiguousarray(w.T if trans_b else w)

    y = ex.round(ex.gemm(node, "fc", 0, np.ascontiguousarray(a), w_fn, args[1]))
    alpha, beta = np.float32(node.attrs.get("alpha", 1.0)), np.float32(node.attrs.get("beta", 1.0))
    if alpha != 1:
        y = ex.round(alpha * y)
    c = args[2] if len(args) > 2 else None
    if c is not None and beta != 0:
        y = y + (c if beta == 1 else ex.round(beta * c))
    return (y,)


def run_matmul(ex, node, args):
    a = args[0]
    bshape = ex.graph.shape(node.inputs[1]) if args[1] is None else args[1].shape
    if a.ndim < 2 or len(bshape) < 2:
        raise ShapeError(f"MatMul {node.name!r}: 1-D operands are not supported ({a.shape} x {bshape})")
    k, n = bshape[-2:]
    if args[1] is None and len(bshape) == 2:  # weight-stationary: all rows stream through one core
        y = ex.gemm(node, "fc", 0, np.ascontiguousarray(a.reshape(-1, k)),
                    lambda: np.ascontiguousarray(ex.weight_array(node.inputs[1])), None)
        return (y.reshape(a.shape[:-1] + (n,)),)
    b = _operand(ex, node, args, 1)
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    if ex.precision == "fp32":  # one batched product; the same MACs as the per-product loop below
        t0 = time.perf_counter()
        y = ex.engine.product(a, b)
        ex.engine.record(node.name, "matmul", int(np.prod(batch)) * a.shape[-2], k, n, time.perf_counter() - t0)
        return (y,)
    a = np.broadcast_to(a, batch + a.shape[-2:])
    b = np.broadcast_to(b, batch + b.shape[-2:])
    out = np.empty(batch + (a.shape[-2], n), np.float32)
    for i, idx in enumerate(itertools.product(*(range(d) for d in batch))):
        w = b[idx]
        out[idx] = ex.gemm(node, "matmul", i, a[idx], (lambda w=w: np.ascontiguousarray(w)),
                           args[1] if args[1] is None else w)
    return (out,)


def _rnn(cell, role):
    def run(ex, node, args):
        def gemm_in(d, x2d):
            return ex.gemm(node, f"{role}_input", d, x2d,
                           lambda: np.ascontiguousarray(_operand(ex, node, args, 1)[d].T), args[1])

        def gemm_rec(d, t, h, cols):
            key = d if cols == slice(None) else (d, cols.start, cols.stop)
            return ex.gemm(node, f"{role}_recurrent", key, h,
                           lambda: np.ascontiguousarray(_operand(ex, node, args, 2)[d][cols].T), args[2])

        return cell(node, args, gemm_in, gemm_rec, ex.round)

    return run


# Every GEMM runner takes half-precision and float64 activations by the one rule of _half_in.
RUNNERS = {op: _half_precision(run) for op, run in {
    "Conv": run_conv, "Gemm": run_gemm, "MatMul": run_matmul, "LSTM": _rnn(lstm, "lstm"), "GRU": _rnn(gru, "gru"),
    "RNN": _rnn(rnn, "rnn")}.items()}

"""``Einsum`` rewritten into one canonical ``MatMul`` (photonic) between Transposes and Reshapes (ASIC).

A two-operand equation ``a, b -> out`` sorts its indices into batch (in a, b
and out), contracted (in a and b only), a-only and b-only ones; a is laid out
``[batch, a-only, contracted]``, b ``[batch, contracted, b-only]``, and their
product is one (batched) MatMul, so the scheduler charges exactly
``batch * M * K * N`` MACs on the photonic core. Without batch indices the
MatMul is 2-D, and a constant right operand is then weight-stationary.

A one-operand equation (transpose, trace, sum over an axis) has no product:
it runs on the ASIC's reference kernel (:class:`RunOnReference`). Refused with
a sentence: three or more operands, an index repeated inside one operand of a
product (a diagonal), an index of one operand only that the output drops (a
sum before the product), and ``...`` that would have to broadcast.
"""

from __future__ import annotations

import math
import string

import numpy as np
from onnx import TensorProto, helper

from ..errors import UnsupportedOpError
from .ir import Node
from .onnx_conv_rewrite import Emitter


class RunOnReference(UnsupportedOpError):
    """The node has no weight or activation product: run it on its ASIC reference kernel."""


def _terms(v, equation: str):
    equation = equation.replace(" ", "")
    lhs, arrow, out = equation.partition("->")
    terms = lhs.split(",")
    free = [c for c in string.ascii_uppercase if c not in equation]  # letters standing for `...` dims
    ell_rank = 0
    for j, term in enumerate(terms):
        if "..." in term:
            ell_rank = max(ell_rank, len(v.in_shapes[j]) - (len(term) - 3))
    ell = "".join(free[:ell_rank])
    terms = [t.replace("...", ell[len(ell) - (len(v.in_shapes[j]) - (len(t) - 3)):]) if "..." in t else t
             for j, t in enumerate(terms)]
    if not arrow:
        letters = "".join(terms)
        out = ell + "".join(sorted(c for c in set(letters) if letters.count(c) == 1 and c not in ell))
    return terms, out.replace("...", ell)


def einsum(v) -> list[Node]:
    equation = v.attrs["equation"]
    equation = equation.decode() if isinstance(equation, bytes) else equation
    if len(v.inputs) == 1:
        raise RunOnReference(f"node {v.name!r} (Einsum): one operand, no product")
    if len(v.inputs) != 2:
        raise v.unsupported(f"Einsum with {len(v.inputs)} operands is not supported (two are: one MatMul)")
    (ta, tb), out = _terms(v, equation)
    sa, sb = tuple(v.in_shapes[0]), tuple(v.in_shapes[1])
    size = {}
    for term, shape in ((ta, sa), (tb, sb)):
        if len(set(term)) != len(term):
            raise v.unsupported(f"equation {equation!r}: an index repeated inside one operand (a diagonal) "
                                "is not supported in a product")
        for c, d in zip(term, shape):
            if size.setdefault(c, d) != d:
                raise v.unsupported(f"equation {equation!r}: index {c!r} has sizes {size[c]} and {d} "
                                    "(broadcasting inside Einsum is not supported)")
    for term in (ta, tb):
        other = tb if term is ta else ta
        dropped = [c for c in term if c not in out and c not in other]
        if dropped:
            raise v.unsupported(f"equation {equation!r}: index {dropped[0]!r} is summed before the product; "
                                "not supported")
    batch = [c for c in out if c in ta and c in tb]
    contract = [c for c in ta if c in tb and c not in out]
    a_only = [c for c in ta if c not in tb]
    b_only = [c for c in tb if c not in ta]
    bt, m, k, n = (math.prod(size[c] for c in g) for g in (batch, a_only, contract, b_only))
    e = Emitter(v)
    lead = (bt,) if batch else ()

    def arrange(name, term, shape, order, final, const):
        perm = [term.index(c) for c in order]
        if perm != list(range(len(perm))):
            name, shape, const = e.transpose(name, shape, perm, const)
        if tuple(shape) != final:
            name, shape, const = e.reshape(name, shape, final, const)
        return name, shape

    a, _ = arrange(v.inputs[0], ta, sa, batch + a_only + contract, lead + (m, k), v.consts[0])
    b, _ = arrange(v.inputs[1], tb, sb, batch + contract + b_only, lead + (k, n), v.consts[1])
    order = batch + a_only + b_only
    natural = tuple(size[c] for c in order)
    perm = [order.index(c) for c in out]
    y_shape = lead + (m, n)
    # The core's products come out in float32; another declared dtype (float64, bfloat16) is restored by
    # the ONNX Cast kernel (the canonical Cast computes every float in float32).
    elem = v.out_elem_types[0] if v.out_elem_types else TensorProto.FLOAT
    final = v.outputs[0] if elem == TensorProto.FLOAT else v.new_value("float32", tuple(v.out_shapes[0]))
    if y_shape == natural and perm == list(range(len(perm))):
        e.nodes.append(Node(v.name, "MatMul", (a, b), (final,), {}))
    else:
        y = v.new_value("product", y_shape)
        e.nodes.append(Node(v.name, "MatMul", (a, b), (y,), {}))
        if perm == list(range(len(perm))):
            e.reshape(y, y_shape, natural, out=final)
        else:
            if y_shape != natural:
                y, y_shape, _ = e.reshape(y, y_shape, natural)
            e.transpose(y, y_shape, perm, out=final)
    if final != v.outputs[0]:
        dtype = np.dtype(helper.tensor_dtype_to_np_dtype(elem)).name
        e.nodes.append(Node(f"{v.name}/cast", "Cast", (final,), (v.outputs[0],),
                            {"to": int(elem), "onnx_opset": v.opset, "onnx_out_dtypes": [dtype]}))
    return e.nodes

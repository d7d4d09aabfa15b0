"""The emulated digital ASIC: every op that is not a photonic GEMM (see ``docs/asic.md``).

:data:`ASIC_OPS` maps an ONNX op type to ``fn(node, args, ctx) -> outputs``.
:data:`DATA_MOVEMENT` lists the ops that only copy or select values; the
executor skips rounding their results (they are already on the number grid).
"""

from . import deform, elementwise, norm, pool, tensor
from .im2col import ConvGeometry
from .numfmt import FORMATS, round_bf16, rounder
from .elementwise import IN_PLACE
from .pool import depthwise_conv

ASIC_OPS = {**elementwise.OPS, **norm.OPS, **pool.OPS, **tensor.OPS, **deform.OPS}
DATA_MOVEMENT = frozenset(tensor.OPS) | {"Where", "MaxPool", "GlobalMaxPool", "ReduceMax", "ReduceMin", "Relu",
                                         "Max", "Min", "Equal", "Less", "Greater", "And", "Or", "Not", "Neg",
                                         "Abs"}

__all__ = ["ASIC_OPS", "DATA_MOVEMENT", "IN_PLACE", "FORMATS", "ConvGeometry", "depthwise_conv", "round_bf16",
           "rounder"]

"""Node patterns the executor runs as one step, each bit-identical to running its nodes one by one.

Only patterns whose intermediate values nobody else can observe: every value inside the chain
has exactly one reader (the next node of the chain) and is no graph output, and every other
input of the chain is a weight, so nothing is computed in another order than the graph's.

- **Channel shuffle into a depthwise conv** (ShuffleNet): ``Reshape [B, G, C/G, H, W] ->
  Transpose (0, 2, 1, 3, 4) -> Reshape [B, C, H, W] -> Conv`` with group = C and a
  ``[C, 1, kh, kw]`` weight. The three data-movement nodes pass their input on unchanged and the
  conv reads it as the shuffle of its channels (:mod:`adept_core.asic.shuffle`): no shuffled copy
  is stored.
"""

from __future__ import annotations

from ..errors import ShapeError
from ..graph.ir import Graph

#: The Transpose of a channel shuffle written as [B, G, C/G, H, W].
SHUFFLE_PERM = (0, 2, 1, 3, 4)


def shuffle_depthwise_chains(graph: Graph) -> dict[str, int]:
    """Depthwise Conv node name -> shuffle groups G, plus each absorbed Reshape / Transpose name -> 0.

    The executor passes the absorbed nodes' input on as is (their values are the unshuffled
    tensor under the chain's names, read only inside the chain) and runs the conv with
    :func:`adept_core.asic.shuffle.unshuffle_depthwise_conv`.
    """
    readers: dict[str, list] = {}
    for node in graph.nodes:
        for name in node.inputs:
            if name:
                readers.setdefault(name, []).append(node)
    outputs = set(graph.outputs)

    def only_reader(value):
        r = readers.get(value, [])
        return r[0] if len(r) == 1 and value not in outputs else None

    def plain(node, data_inputs):  # canonical node; inputs past the data ones are weights (or absent)
        return ("onnx_opset" not in node.attrs and len(node.outputs) == 1
                and all(not n or graph.is_weight(n) for n in node.inputs[data_inputs:]))

    chains: dict[str, int] = {}
    for first in graph.nodes:
        try:
            if first.op != "Reshape" or not first.inputs or graph.is_weight(first.inputs[0]) or not plain(first, 1):
                continue
            src = tuple(graph.shape(first.inputs[0]))
            if len(src) != 4:
                continue
            b, c, h, w = src
            mid = tuple(graph.shape(first.outputs[0]))
            if len(mid) != 5 or mid[0] != b or mid[3:] != (h, w) or mid[1] * mid[2] != c or mid[1] < 1:
                continue
            groups = mid[1]
            second = only_reader(first.outputs[0])
            if (second is None or second.op != "Transpose" or len(second.inputs) != 1 or not plain(second, 1)
                    or tuple(second.attrs.get("perm", ())) != SHUFFLE_PERM):
                continue
            third = only_reader(second.outputs[0])
            if (third is None or third.op != "Reshape" or third.inputs[0] != second.outputs[0] or not plain(third, 1)
                    or tuple(graph.shape(third.outputs[0])) != tuple(src)):
                continue
            conv = only_reader(third.outputs[0])
            if conv is None or conv.op != "Conv" or conv.inputs[0] != third.outputs[0] or not plain(conv, 1):
                continue
            wshape = tuple(graph.shape(conv.inputs[1]))
            if conv.attrs.get("group", 1) != c or len(wshape) != 4 or wshape[:2] != (c, 1):
                continue  # depthwise with multiplier 1 only (the shuffle permutes input = output channels)
        except ShapeError:  # a value without a known shape: not a pattern we can prove
            continue
        chains.update({first.name: 0, second.name: 0, third.name: 0, conv.name: groups})
    return chains

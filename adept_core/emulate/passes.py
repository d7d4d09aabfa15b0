"""Graph passes run before execution (and before costing: both must see the same Graph).

:func:`fold_batchnorm` folds an inference ``BatchNormalization`` into the
``Conv`` that feeds it, as deployed accelerators do: the BN's per-channel
affine map ``a * y + c`` becomes part of the conv's weights and bias, so it
costs nothing at run time and the photonic weights carry the scale. A BN is
folded only when the model allows it: its input is produced by a ``Conv``
whose weight (and bias, if any) are initializers, nobody else reads the
conv's output, and the BN's four parameters are initializers. Any other BN
stays in the graph and runs on the ASIC.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..asic.norm import batchnorm_affine
from ..graph.ir import Graph, Node


def fold_batchnorm(graph: Graph) -> Graph:
    """A new Graph with every foldable Conv -> BatchNormalization pair fused (input unchanged).

    Folded weights are concrete float32 arrays named ``<conv>.bn_folded_w`` /
    ``<conv>.bn_folded_b``; lazy weights of folded convs are materialised.
    """
    readers: dict[str, int] = {}
    for node in graph.nodes:
        for name in node.inputs:
            readers[name] = readers.get(name, 0) + 1
    for name in graph.outputs:
        readers[name] = readers.get(name, 0) + 1
    producers = graph.producers()
    weights = dict(graph.weights)
    shapes = dict(graph.shapes)
    replaced: dict[str, Node] = {}  # conv name -> fused conv
    dropped: set[str] = set()
    for node in graph.nodes:
        if node.op != "BatchNormalization" or any(node.outputs[1:]):
            continue
        conv = producers.get(node.inputs[0])
        if conv is None or conv.op != "Conv" or readers.get(conv.outputs[0], 0) != 1:
            continue
        params = node.inputs[1:5]
        conv_params = [n for n in conv.inputs[1:] if n]
        if not all(graph.is_weight(n) for n in list(params) + conv_params):
            continue
        a, c = batchnorm_affine(*(graph.weight(n) for n in params), float(node.attrs.get("epsilon", 1e-5)))
        w = graph.weight(conv.inputs[1]).astype(np.float32)
        bias = graph.weight(conv.inputs[2]).astype(np.float32) if len(conv.inputs) > 2 and conv.inputs[2] else 0
        w_name, b_name = f"{conv.name}.bn_folded_w", f"{conv.name}.bn_folded_b"
        weights[w_name] = (w * a[:, None, None, None]).astype(np.float32)
        weights[b_name] = (bias * a + c).astype(np.float32)
        shapes[w_name] = weights[w_name].shape
        shapes[b_name] = weights[b_name].shape
        replaced[conv.name] = replace(conv, inputs=(conv.inputs[0], w_name, b_name), outputs=(node.outputs[0],))
        dropped.add(node.name)
    if not replaced:
        return graph
    nodes = [replaced.get(n.name, n) for n in graph.nodes if n.name not in dropped]
    used = {name for n in nodes for name in n.inputs}
    weights = {k: v for k, v in weights.items() if k in used}
    live = set(graph.inputs) | set(weights) | {o for n in nodes for o in n.outputs}
    shapes = {k: v for k, v in shapes.items() if k in live}
    meta = dict(graph.meta, batchnorm_folded=len(replaced))
    return Graph(graph.name, dict(graph.inputs), list(graph.outputs), nodes, weights, shapes,
                 dict(graph.input_dtypes), meta, rebind=graph.rebind)

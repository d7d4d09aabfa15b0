"""Run one ONNX node in onnxruntime and the same node through adept's executor (test helper)."""

from __future__ import annotations

import numpy as np
import onnx
from onnx import helper, numpy_helper

from adept_core.emulate import prepare
from adept_core.graph.ir import Graph, Node


def run_both(op: str, inputs: dict, weights: dict, attrs: dict, n_out: int = 1, opset: int = 17,
             **prepare_kwargs):
    """(onnxruntime outputs, adept outputs) of a single ``op`` node.

    ``inputs`` are graph inputs (name -> array), ``weights`` initializers;
    the node reads ``inputs`` then ``weights`` in dict order. An input named
    ``""`` in ``weights`` (value None) marks an omitted optional input.
    """
    import onnxruntime as ort

    names = list(inputs) + list(weights)
    outs = [f"out{i}" for i in range(n_out)]
    node = helper.make_node(op, names, outs, name="n", **attrs)
    tp = {np.dtype(np.float32): onnx.TensorProto.FLOAT, np.dtype(np.int64): onnx.TensorProto.INT64}
    g_in = [helper.make_tensor_value_info(k, tp[v.dtype], v.shape) for k, v in inputs.items()]
    g_out = [helper.make_tensor_value_info(o, onnx.TensorProto.FLOAT, None) for o in outs]
    inits = [numpy_helper.from_array(v, k) for k, v in weights.items() if k]
    model = helper.make_model(helper.make_graph([node], "single", g_in, g_out, inits),
                              opset_imports=[helper.make_opsetid("", opset)], ir_version=10)
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    expected = sess.run(outs, inputs)
    shapes = {k: v.shape for k, v in {**inputs, **{k: v for k, v in weights.items() if k}}.items()}
    shapes.update({o: e.shape for o, e in zip(outs, expected)})
    graph = Graph("single", {k: v.shape for k, v in inputs.items()}, outs,
                  [Node("n", op, tuple(names), tuple(outs), dict(attrs))],
                  {k: v for k, v in weights.items() if k}, shapes,
                  {k: str(v.dtype) for k, v in inputs.items()})
    got = prepare(graph, **({"precision": "fp32"} | prepare_kwargs)).run(inputs, progress=False)
    return expected, [got.outputs[o] for o in outs]


def assert_close(expected, got, rtol: float = 1e-5):
    for e, g in zip(expected, got):
        assert g.shape == e.shape, (g.shape, e.shape)
        scale = max(float(np.max(np.abs(e))), 1e-30)
        err = float(np.max(np.abs(g.astype(np.float64) - e)))
        assert err <= rtol * scale, f"max error {err:.3g} vs scale {scale:.3g}"

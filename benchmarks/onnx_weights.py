"""Seeded random weights for the onnx wheel's light models (the fp32 speed benchmark's honest variant).

The light models build every weight with ``ConstantOfShape`` (one value per tensor: 0.02), which the
fp32 reference's repeated-column rule (``docs/executor.md``) turns into one-column GEMMs. A trained
model has distinct columns, so :func:`random_weights` replaces each float ``ConstantOfShape`` whose
shape is a constant by an initializer of the same shape and seeded random values: He-scaled normals
(std ``sqrt(SCALE / fan_in)``, ``fan_in`` = product of the dims after the first) for tensors of rank >= 2,
uniform [0.5, 1.5] for vectors (biases, BatchNorm scale / mean / variance: positive, so a variance
stays valid). adept and onnxruntime then both run the rewritten model.
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import numpy_helper

#: Weight variance times fan-in. He's 2 (and even 1) saturates the Softmax of ResNet-50 and ShuffleNet
#: (1000 outputs, 2-16 distinct values), which would check little; 0.5 gives 485-1000 distinct outputs.
SCALE = 0.5


def _constant_shapes(model: onnx.ModelProto) -> dict[str, np.ndarray]:
    shapes = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    for node in model.graph.node:
        if node.op_type == "Constant" and node.attribute and node.attribute[0].name == "value":
            shapes[node.output[0]] = numpy_helper.to_array(node.attribute[0].t)
    return shapes


def random_weights(model: onnx.ModelProto, seed: int = 0) -> onnx.ModelProto:
    """A copy of ``model`` whose float ConstantOfShape weights are seeded random initializers (same shapes)."""
    out = onnx.ModelProto()
    out.CopyFrom(model)
    rng = np.random.default_rng(seed)
    consts = _constant_shapes(out)
    keep, added = [], []
    for node in out.graph.node:
        value = next((a.t for a in node.attribute if a.name == "value"), None)
        shape = consts.get(node.input[0]) if node.op_type == "ConstantOfShape" and node.input else None
        if shape is None or value is None or value.data_type != onnx.TensorProto.FLOAT:
            keep.append(node)
            continue
        dims = tuple(int(d) for d in np.asarray(shape).reshape(-1))
        if len(dims) >= 2:
            fan_in = max(1, int(np.prod(dims[1:])))
            w = rng.standard_normal(dims) * np.sqrt(SCALE / fan_in)
        else:
            w = rng.uniform(0.5, 1.5, dims)
        added.append(numpy_helper.from_array(w.astype(np.float32), node.output[0]))
    del out.graph.node[:]
    out.graph.node.extend(keep)
    out.graph.initializer.extend(added)
    # IR < 4 wants every initializer listed as a graph input; IR 4 (ONNX 1.3, opset <= 9) does not.
    # Graph inputs that are initializers (all of them, in these IR-3 files) may be overridden at run
    # time, so onnxruntime folds none of them (it warns per tensor): drop them, as a modern exporter does.
    inits = {t.name for t in out.graph.initializer}
    inputs = [i for i in out.graph.input if i.name not in inits]
    del out.graph.input[:]
    out.graph.input.extend(inputs)
    out.ir_version = max(out.ir_version, 4)
    return out

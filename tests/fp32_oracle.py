"""A deliberately plain float32/float64 NumPy interpreter of the ops the real-model loaders emit.

It exists so the model tests check the loaders (weights, architecture,
preprocessing) independently of the executor: if this oracle and the
executor's ``precision="fp32"`` mode disagree, one of them is wrong.
Computation is in float64 to make it a reference, not a twin.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from adept_core.graph.ir import Graph


def _conv(x, w, b, attrs):
    group = attrs.get("group", 1)
    sh, sw = attrs.get("strides", (1, 1))
    pt, pl, pb, pr = attrs.get("pads", (0, 0, 0, 0))
    x = np.pad(x, ((0, 0), (0, 0), (pt, pb), (pl, pr)))
    cout, cin_g, kh, kw = w.shape
    win = sliding_window_view(x, (kh, kw), axis=(2, 3))[:, :, ::sh, ::sw]  # [B, C, Ho, Wo, kh, kw]
    bsz, _, ho, wo = win.shape[:4]
    win = win.reshape(bsz, group, cin_g, ho, wo, kh, kw)
    wg = w.reshape(group, cout // group, cin_g, kh, kw)
    y = np.einsum("bgchwij,gocij->bgohw", win, wg).reshape(bsz, cout, ho, wo)
    return y if b is None else y + b.reshape(1, -1, 1, 1)


def _gemm(a, b, c, attrs):
    a = a.T if attrs.get("transA", 0) else a
    b = b.T if attrs.get("transB", 0) else b
    y = attrs.get("alpha", 1.0) * (a @ b)
    return y if c is None else y + attrs.get("beta", 1.0) * c


def _erf(x):
    try:  # scipy ships with scikit-image (the models extra); math.erf per element is the fallback
        from scipy.special import erf
    except ImportError:
        return np.vectorize(math.erf, otypes=[np.float64])(x)
    return erf(x)


def run(graph: Graph, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    env = {k: np.asarray(v) for k, v in inputs.items()}
    for name in graph.weights:
        env[name] = graph.weight(name)

    def f(name):
        return None if not name else env[name].astype(np.float64) if env[name].dtype.kind == "f" else env[name]

    for node in graph.nodes:
        a = node.attrs
        op = node.op
        if op == "Gather":  # look up first: casting a 30522-row embedding table would dominate the run
            y = np.take(env[node.inputs[0]], env[node.inputs[1]], axis=a.get("axis", 0)).astype(np.float64)
            assert y.shape == graph.shape(node.outputs[0]), node.name
            env[node.outputs[0]] = y
            continue
        ins = [f(n) for n in node.inputs]
        if op in ("Add", "Sub", "Mul", "Div"):
            y = {"Add": np.add, "Sub": np.subtract, "Mul": np.multiply, "Div": np.divide}[op](ins[0], ins[1])
        elif op == "Cast":
            y = ins[0].astype(np.float64) if a["to"].startswith("float") else ins[0].astype(a["to"])
        elif op == "Reshape":
            y = ins[0].reshape(a["shape"])
        elif op == "Transpose":
            y = ins[0].transpose(a["perm"])
        elif op == "MatMul":
            y = ins[0] @ ins[1]
        elif op == "Softmax":
            e = np.exp(ins[0] - ins[0].max(axis=a.get("axis", -1), keepdims=True))
            y = e / e.sum(axis=a.get("axis", -1), keepdims=True)
        elif op == "LayerNormalization":
            mu = ins[0].mean(-1, keepdims=True)
            var = ((ins[0] - mu) ** 2).mean(-1, keepdims=True)
            y = (ins[0] - mu) / np.sqrt(var + a.get("epsilon", 1e-5)) * ins[1] + ins[2]
        elif op == "Gelu":
            y = 0.5 * ins[0] * (1.0 + _erf(ins[0] / math.sqrt(2.0)))
        elif op == "ReduceMean":
            y = ins[0].mean(axis=tuple(a["axes"]), keepdims=bool(a["keepdims"]))
        elif op == "Sqrt":
            y = np.sqrt(ins[0])
        elif op == "Conv":
            y = _conv(ins[0], ins[1], ins[2] if len(ins) > 2 else None, a)
        elif op == "BatchNormalization":
            x, s, bb, m, v = ins
            shp = (1, -1, 1, 1)
            y = (x - m.reshape(shp)) / np.sqrt(v.reshape(shp) + a.get("epsilon", 1e-5)) * s.reshape(shp) + bb.reshape(shp)
        elif op == "Clip":
            y = np.clip(ins[0], a["min"], a["max"])
        elif op == "GlobalAveragePool":
            y = ins[0].mean(axis=(2, 3), keepdims=True)
        elif op == "Flatten":
            y = ins[0].reshape(ins[0].shape[0], -1)
        elif op == "Gemm":
            y = _gemm(ins[0], ins[1], ins[2] if len(ins) > 2 else None, a)
        else:
            raise NotImplementedError(op)
        assert y.shape == graph.shape(node.outputs[0]), (node.name, y.shape, graph.shape(node.outputs[0]))
        env[node.outputs[0]] = y
    return {name: env[name] for name in graph.outputs}

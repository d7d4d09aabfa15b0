"""Half-precision values (float16 / bfloat16): which ones a graph holds, and keeping them in that type.

A model typed float16 or bfloat16 is computed by a half-precision ASIC: every op's result is stored
in the half type, so the next op reads the rounded value. The onnx reference (and onnxruntime)
compute such a model the same way, node by node in the half type. Computing the whole body in
float32 and rounding only the graph outputs, as adept did before, differs from that by an ulp of the
half type after a few ops (half-precision Attention: 4.9e-4 on values near 0.5, over onnx's rtol of
1e-3).

The rule (:func:`keep_half`, applied by the executor to every node output the importer lists in
``graph.meta["half_values"]``): a float result of another float type is rounded to the value's half
type (round to nearest even, ``astype``) and kept as a NumPy half array. Ops then compute on half
arrays the way NumPy does (per element in float32, rounded to the half type: for +, -, *, / and sqrt
that is the correctly rounded half result, as float32 holds twice the half mantissa plus two bits);
ops with a float32 accumulator (softmax, norms, Reduce*) accumulate in float32 and round their
result, and the photonic GEMMs widen the half operands exactly to float32 at the DACs
(:func:`adept_core.emulate.gemm_ops._half_in`). float32 models are untouched (nothing is listed).
"""

from __future__ import annotations

import numpy as np

#: ONNX element type -> half type (TensorProto.FLOAT16 = 10, BFLOAT16 = 16; numbers, so the executor,
#: which imports this module, never imports onnx for graphs that do not come from ONNX).
_HALF = {10: "float16", 16: "bfloat16"}


def half_values(nodes, elem_types: dict) -> dict[str, str]:
    """Node output name -> "float16" / "bfloat16" for every output the model types half precision."""
    return {out: _HALF[elem_types[out]] for node in nodes for out in node.outputs
            if out and elem_types.get(out) in _HALF}


def half_dtypes(meta: dict) -> dict[str, np.dtype]:
    """``meta["half_values"]`` as NumPy dtypes (bfloat16 is ml_dtypes', which ships with onnx)."""
    names = meta.get("half_values") or {}
    if not names:
        return {}
    types = {"float16": np.dtype(np.float16)}
    if "bfloat16" in names.values():
        import ml_dtypes

        types["bfloat16"] = np.dtype(ml_dtypes.bfloat16)
    return {value: types[kind] for value, kind in names.items()}


def _is_float_array(a) -> bool:
    # bfloat16 (ml_dtypes) is a NumPy void-kind dtype, so kind "f" alone misses it.
    return isinstance(a, np.ndarray) and (a.dtype.kind == "f" or a.dtype.name == "bfloat16")


def is_half(a) -> bool:
    """True for a float16 or bfloat16 array."""
    return _is_float_array(a) and a.dtype.itemsize == 2


def keep_half(value, dtype: np.dtype):
    """``value`` in the half type ``dtype`` when it is a float array of another float type, else as is."""
    if _is_float_array(value) and value.dtype != dtype:
        return value.astype(dtype)
    return value

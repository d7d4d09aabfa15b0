"""ONNX ``TensorProto`` values at the boundary of :meth:`PreparedModel.run`, and declared output dtypes.

Why TensorProto: ONNX stores tensors of the types NumPy cannot hold natively (bfloat16, the float8 and
4-/2-bit families) as ``TensorProto``, and so does onnx's own conformance material. A TensorProto is a
*typed* tensor, so converting it with :func:`onnx.numpy_helper.to_array` is exact, not a cast; the dtype
and shape are then checked against the model's declared input like any array. The rule for outputs is
"tensors come back in the container you gave": a run fed any TensorProto returns every output as a
TensorProto of the model's declared element type, named after the graph output; a run fed arrays returns
arrays. onnx is imported only when a TensorProto is actually seen (the executor never imports it for
graphs that do not come from ONNX).

Declared output dtypes: the ASIC computes on float32 (rounded to its number format); a graph output the
model declares as float16, bfloat16 or float64 is handed back in that dtype (``graph.meta["output_dtypes"]``,
written by the importer). float32 -> float64 is exact; to a half type it is the final rounding a
half-precision ASIC's output buffer would apply.
"""

from __future__ import annotations

import numpy as np


def is_tensor_proto(value) -> bool:
    """True for an ``onnx.TensorProto`` (checked by type name, so onnx need not be imported)."""
    cls = type(value)
    return cls.__name__ == "TensorProto" and cls.__module__.split(".")[0] == "onnx"


def from_protos(feeds: dict) -> tuple[dict, bool]:
    """``feeds`` with every TensorProto converted exactly to an array; whether any was a TensorProto."""
    if not any(is_tensor_proto(v) for v in feeds.values()):
        return feeds, False
    from onnx import numpy_helper

    return {n: numpy_helper.to_array(v) if is_tensor_proto(v) else v for n, v in feeds.items()}, True


def declared(outputs: dict, dtypes: dict) -> dict:
    """Outputs held in the float dtype the model declares (float16 / bfloat16 / float64), when it differs."""
    if not dtypes:
        return outputs
    out = {}
    for name, value in outputs.items():
        want = dtypes.get(name)
        if want and isinstance(value, np.ndarray) and value.dtype.name != want and value.dtype.kind == "f":
            target = np.dtype(want)
            if target.kind == "f" or target.name == "bfloat16":
                value = value.astype(target)
        out[name] = value
    return out


def to_protos(outputs: dict, dtypes: dict) -> dict:
    """Every output as a TensorProto named after it, in its declared dtype."""
    from onnx import numpy_helper

    protos = {}
    for name, value in outputs.items():
        value = np.asarray(value)
        want = dtypes.get(name)
        if want and value.dtype.name != want:
            value = value.astype(np.dtype(want))
        protos[name] = numpy_helper.from_array(value, name=name)
    return protos

"""ONNX ``TensorProto`` values at the boundary of :meth:`PreparedModel.run`, and declared output dtypes.

Why TensorProto: ONNX stores tensors of the types NumPy cannot hold natively (bfloat16, the float8 and
4-/2-bit families) as ``TensorProto``, and so does onnx's own conformance material. A TensorProto is a
*typed* tensor, so converting it with :func:`onnx.numpy_helper.to_array` is exact, not a cast; the dtype
and shape are then checked against the model's declared input like any array. The rule for outputs is
"tensors come back in the container you gave": a run fed arrays returns arrays; a run fed any
TensorProto returns each output (in the model's declared element type, named after the graph output) in
the container its element type was fed in - an array when some input of that type was an array, else a
TensorProto (in the encoding that input used, see :func:`to_protos`). This is how onnx's own cases mix them (DequantizeLinear: int4 TensorProto in, float32
scale array in, float32 array out). onnx is imported only when a TensorProto is actually seen (the executor never imports it for
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


def from_protos(feeds: dict) -> tuple[dict, dict | None]:
    """``feeds`` with every TensorProto converted exactly to an array, and how each element type was fed.

    The second value is ``None`` when no TensorProto was fed (numpy in -> numpy out); otherwise a
    mapping numpy dtype name -> ``"array"`` / ``"proto"`` (how inputs of that type were fed), used by
    :func:`to_protos`.
    """
    if not any(is_tensor_proto(v) for v in feeds.values()):
        return feeds, None
    from onnx import numpy_helper

    arrays, kinds = {}, {}
    for n, v in feeds.items():
        if is_tensor_proto(v):
            a = numpy_helper.to_array(v)
            # The encoding too: values in the typed field (int32_data, float_data, ...) rather than
            # raw_data come back that way (an empty tensor says nothing: raw_data).
            kinds.setdefault(a.dtype.name, "proto_fields" if a.size and not v.raw_data else "proto")
        else:
            a = v
            if isinstance(a, (np.ndarray, np.generic)):
                kinds[np.asarray(a).dtype.name] = "array"  # an array of this type wins: numpy back
        arrays[n] = a
    return arrays, kinds


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


def to_protos(outputs: dict, dtypes: dict, kinds: dict) -> dict:
    """Outputs in their declared dtype, each in the container its element type was fed in.

    An output whose element type was fed as a numpy array (say the float32 scale of a DequantizeLinear
    whose quantized input came as a TensorProto) comes back as an array; any other output comes back
    as a TensorProto named after it, in the encoding its element type was fed in: ``raw_data``
    (``numpy_helper.from_array``) unless the fed TensorProto of that type held its values in the typed
    field (``int32_data``, ``float_data``, ...; ``helper.make_tensor(..., raw=False)``), and ``raw_data`` for
    a type not fed at all. (onnx's own cases use both: its Cast cases feed and expect ``raw_data``, its
    4-bit / float8 QuantizeLinear cases feed the zero point and expect the output in ``int32_data``; the
    caller's encoding is the one rule that gives each what it used.)
    """
    from onnx import numpy_helper

    protos = {}
    for name, value in outputs.items():
        value = np.asarray(value)
        want = dtypes.get(name)
        if want and value.dtype.name != want:
            value = value.astype(np.dtype(want))
        kind = kinds.get(value.dtype.name)
        if kind == "array":
            protos[name] = value
        elif kind == "proto_fields":  # onnx's own typed-field encoding (helper.make_tensor, raw=False)
            from onnx import helper

            protos[name] = helper.make_tensor(name, helper.np_dtype_to_tensor_dtype(value.dtype), value.shape,
                                              value, raw=False)
        else:
            protos[name] = numpy_helper.from_array(value, name=name)
    return protos

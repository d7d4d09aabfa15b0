"""Data-movement ops (ONNX semantics): they copy or select values and never round.

Integer inputs that ONNX passes as tensors (shapes, axes, pads, starts ...)
arrive as NumPy integer arrays (initializers or values computed on the
host); :func:`ints` turns them into Python ints.
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import ShapeError, UnsupportedOpError

#: ONNX TensorProto element types adept represents, and how (floats live as float32
#: on the ASIC's grid; float16 is rounded to half precision first).
_CAST = {1: np.float32, 2: np.uint8, 3: np.int8, 5: np.int16, 6: np.int32, 7: np.int64, 9: np.bool_,
         10: np.float16, 11: np.float32, 12: np.uint32, 13: np.uint64, 16: np.float32}


def ints(a) -> list[int]:
    return [int(v) for v in np.asarray(a).ravel()]


def _opt(args, i):
    return args[i] if len(args) > i else None


def _axes_from(node, args, index: int):
    a = _opt(args, index)
    return ints(a) if a is not None else node.attrs.get("axes")


def op_identity(node, args, ctx):
    return (args[0],)


def _shape_arg(node, args) -> list[int]:
    """Target shape: the canonical ``shape`` attribute, or ONNX's input 1."""
    return ints(args[1]) if len(args) > 1 and args[1] is not None else list(node.attrs["shape"])


def op_reshape(node, args, ctx):
    x, shape = args[0], _shape_arg(node, args)
    # The canonical ``shape`` attribute is the exact output shape (a 0 there is a 0-sized axis, as with
    # allowzero=1); ONNX's "0 copies the input's dimension" applies to a shape given as input 1.
    if len(args) > 1 and args[1] is not None and not node.attrs.get("allowzero", 0):
        shape = [x.shape[i] if d == 0 else d for i, d in enumerate(shape)]
    try:
        return (reshape_keep_layout(x, shape),)
    except ValueError:
        raise ShapeError(f"Reshape {node.name!r}: cannot reshape {x.shape} to {shape}") from None


#: Largest innermost target axis :func:`reshape_keep_layout` copies one index at a time.
MAX_SPLIT_COPIES = 16


def reshape_keep_layout(x: np.ndarray, shape) -> np.ndarray:
    """``x.reshape(shape)`` (the same values), copied channels-last when a copy is needed anyway and fits.

    A view when one exists. Otherwise NumPy would copy into NCHW memory; but activations here
    are mostly stored channels-last (conv outputs, :mod:`adept_core.asic.im2col`), so the next
    Conv or depthwise Conv would copy once more to get NHWC back. A 4-D result is therefore
    written into NHWC memory (an NCHW view of it) when that memory can be seen at ``x``'s shape
    and ``x``'s innermost axis lands inside one pixel's channel run: then the one copy reads and
    writes within the same pixel's channels (ShuffleNet's channel shuffle: [B, g, C/g, H, W]
    -> transpose -> [B, C, H, W], of a conv output stored NHWC).
    """
    try:
        return np.reshape(x, shape, copy=False)
    except ValueError:
        pass
    shape = tuple(int(d) for d in shape)
    if shape.count(-1) == 1:  # resolve it as NumPy would; a size that does not divide falls through to NumPy
        known = math.prod(d for d in shape if d != -1)
        if known > 0 and x.size % known == 0:
            shape = tuple(x.size // known if d == -1 else d for d in shape)
    if len(shape) == 4 and x.ndim > 1 and math.prod(shape) == x.size:
        out = np.empty((shape[0], shape[2], shape[3], shape[1]), x.dtype)
        nchw = out.transpose(0, 3, 1, 2)
        try:
            target = np.reshape(nchw, x.shape, copy=False)
        except ValueError:
            target = None
        inner = _innermost(x)
        if target is not None and inner >= 0 and abs(target.strides[inner]) < shape[1] * x.itemsize:
            short = _innermost(target)
            if short != inner and target.shape[short] <= MAX_SPLIT_COPIES:
                # NumPy's copy would walk the target's short innermost axis (the shuffle's groups) in
                # its inner loop; one copy per index of it keeps x's contiguous run inside (2x faster).
                for j in range(target.shape[short]):
                    index = (slice(None),) * short + (j,)
                    target[index] = x[index]
            else:
                np.copyto(target, x)
            return nchw
    return x.reshape(shape)


def _innermost(a: np.ndarray) -> int:
    """The axis of ``a`` (of size > 1) with the smallest stride."""
    axes = [d for d in range(a.ndim) if a.shape[d] > 1]
    return min(axes, key=lambda d: abs(a.strides[d])) if axes else -1


def op_flatten(node, args, ctx):
    x = args[0]
    axis = int(node.attrs.get("axis", 1)) % (x.ndim + 1) if x.ndim else 0
    return (x.reshape(int(np.prod(x.shape[:axis])), -1),)


def op_transpose(node, args, ctx):
    perm = node.attrs.get("perm")
    return (np.transpose(args[0], perm),)


def op_concat(node, args, ctx):
    return (np.concatenate([a for a in args if a is not None], axis=int(node.attrs["axis"])),)


def op_slice(node, args, ctx):
    x = args[0]
    if len(args) > 1:
        starts, ends = ints(args[1]), ints(args[2])
        axes = ints(args[3]) if _opt(args, 3) is not None else list(range(len(starts)))
        steps = ints(args[4]) if _opt(args, 4) is not None else [1] * len(starts)
    else:  # canonical form (graph/ops.py): attributes
        starts, ends = list(node.attrs["starts"]), list(node.attrs["ends"])
        axes = list(node.attrs.get("axes", range(len(starts))))
        steps = list(node.attrs.get("steps", [1] * len(starts)))
    index = [slice(None)] * x.ndim
    for s, e, a, st in zip(starts, ends, axes, steps):
        if st == 0:
            raise ShapeError(f"Slice {node.name!r}: step 0 is not allowed")
        index[a % x.ndim] = slice(s, e, st)
    return (x[tuple(index)],)


def op_gather(node, args, ctx):
    """Gather (also the embedding lookup): ``take`` along ``axis``; negative indices count from the end."""
    data, idx = args
    axis = int(node.attrs.get("axis", 0))
    idx = np.asarray(idx)
    if not np.issubdtype(idx.dtype, np.integer):
        raise ShapeError(f"Gather {node.name!r}: indices must be integers, got {idx.dtype}")
    size = data.shape[axis]
    if idx.size and (idx.max() >= size or idx.min() < -size):
        raise ShapeError(f"Gather {node.name!r}: index out of range [-{size}, {size}) "
                         f"(min {idx.min()}, max {idx.max()})")
    return (np.take(data, idx, axis=axis),)


def op_split(node, args, ctx):
    x = args[0]
    axis = int(node.attrs.get("axis", 0)) % x.ndim
    split = _opt(args, 1)
    split = ints(split) if split is not None else node.attrs.get("split")
    n = len(node.outputs)
    if split is None:
        size = -(-x.shape[axis] // n)  # opset 18 num_outputs: equal chunks, the last smaller
        split = [min(size, x.shape[axis] - i * size) for i in range(n)]
    bounds = np.cumsum(split)[:-1]
    return tuple(np.split(x, bounds, axis=axis))


def op_squeeze(node, args, ctx):
    x = args[0]
    axes = _axes_from(node, args, 1)
    if axes is None:
        return (np.squeeze(x),)
    return (np.squeeze(x, axis=tuple(int(a) % x.ndim for a in axes)),)


def op_unsqueeze(node, args, ctx):
    x = args[0]
    axes = _axes_from(node, args, 1)
    rank = x.ndim + len(axes)
    out = x
    for a in sorted(int(a) % rank for a in axes):
        out = np.expand_dims(out, a)
    return (out,)


def op_pad(node, args, ctx):
    x = args[0]
    if len(args) > 1 and args[1] is not None:
        pads = ints(args[1])
        value = _opt(args, 2)
        value = 0 if value is None else np.asarray(value).ravel()[0]
        axes = ints(args[3]) if _opt(args, 3) is not None else list(range(x.ndim))
    else:
        pads, value, axes = list(node.attrs["pads"]), node.attrs.get("value", 0.0), list(range(x.ndim))
        value = 0.0 if value is None else value
    mode = node.attrs.get("mode", "constant")
    mode = mode.decode() if isinstance(mode, bytes) else mode
    widths = [(0, 0)] * x.ndim
    n = len(axes)
    for i, a in enumerate(axes):
        widths[a % x.ndim] = (pads[i], pads[i + n])
    # Negative pads crop.
    crop = tuple(slice(max(0, -lo), x.shape[i] - max(0, -hi)) for i, (lo, hi) in enumerate(widths))
    x = x[crop]
    widths = [(max(0, lo), max(0, hi)) for lo, hi in widths]
    if mode == "constant":
        return (np.pad(x, widths, mode="constant", constant_values=value),)
    if mode in ("reflect", "edge"):
        return (np.pad(x, widths, mode=mode),)
    raise UnsupportedOpError(f"Pad {node.name!r}: mode {mode!r} is not supported (constant, reflect, edge)")


def op_expand(node, args, ctx):
    x = args[0]
    shape = np.broadcast_shapes(x.shape, tuple(_shape_arg(node, args)))
    return (np.ascontiguousarray(np.broadcast_to(x, shape)),)


def op_tile(node, args, ctx):
    return (np.tile(args[0], ints(args[1])),)


def op_cast(node, args, ctx):
    to = node.attrs["to"]
    if isinstance(to, str):  # canonical form: a NumPy dtype name
        target = {"float16": np.float16, "float64": np.float32, "bfloat16": np.float32}.get(to)
        try:
            target = target or np.dtype(to).type
        except TypeError:
            raise UnsupportedOpError(f"Cast {node.name!r}: target type {to!r} is not a NumPy dtype name") from None
    elif int(to) in _CAST:
        target = _CAST[int(to)]
    else:
        raise UnsupportedOpError(f"Cast {node.name!r}: target type {to} is not supported ({sorted(_CAST)})")
    x = args[0]
    if target is np.float16:  # half precision: round there, compute on as float32
        return (x.astype(np.float16).astype(np.float32),)
    return (x.astype(target),)


def op_shape(node, args, ctx):
    shape = np.array(args[0].shape, dtype=np.int64)
    start, end = node.attrs.get("start", 0), node.attrs.get("end")
    return (shape[start:end],)


def op_constant_of_shape(node, args, ctx):
    value = node.attrs.get("value")
    value = np.zeros(1, np.float32) if value is None else np.asarray(value)
    return (np.full(ints(args[0]), value.ravel()[0], dtype=value.dtype),)


def op_range(node, args, ctx):
    start, limit, delta = (np.asarray(a).ravel()[0] for a in args)
    return (np.arange(start, limit, delta, dtype=np.result_type(args[0])),)


OPS = {
    "Identity": op_identity,
    "Dropout": op_identity,
    "Reshape": op_reshape,
    "Flatten": op_flatten,
    "Transpose": op_transpose,
    "Concat": op_concat,
    "Slice": op_slice,
    "Gather": op_gather,
    "Split": op_split,
    "Squeeze": op_squeeze,
    "Unsqueeze": op_unsqueeze,
    "Pad": op_pad,
    "Expand": op_expand,
    "Tile": op_tile,
    "Cast": op_cast,
    "Shape": op_shape,
    "ConstantOfShape": op_constant_of_shape,
    "Range": op_range,
}

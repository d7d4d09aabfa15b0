"""LSTM, GRU and RNN cell math on the ASIC, with the gate GEMMs delegated to the caller.

The executor passes two callables so the same cell code runs on the photonic
core or in float32: ``gemm_in(d, x2d)`` returns ``x2d @ W[d]^T`` for every
time step at once (``[T*B, G*H]``), and ``gemm_rec(d, t, h, cols)`` returns
``h @ R[d][cols]^T`` for one step (the recurrence serialises the steps).
The cell's element-wise math rounds to the ASIC format after each step
(gate sum, activation, cell state, hidden state), as the vector unit writes
every intermediate back to its bf16 register file.

ONNX conventions: LSTM gates in the order ``i, o, f, c``; GRU gates
``z, r, h``; ``layout = 0`` (``X`` is ``[T, B, I]``); outputs
``Y [T, D, B, H]``, ``Y_h [D, B, H]`` (and ``Y_c`` for LSTM).
"""

from __future__ import annotations

import numpy as np

from ..errors import UnsupportedOpError
from .elementwise import sigmoid

_DEFAULT_ACTS = {"LSTM": ["Sigmoid", "Tanh", "Tanh"], "GRU": ["Sigmoid", "Tanh"], "RNN": ["Tanh"]}


def check_supported(node, args) -> None:
    """Raise :class:`UnsupportedOpError` for the RNN variants adept does not emulate."""
    acts = [a.decode() if isinstance(a, bytes) else a for a in node.attrs.get("activations", [])]
    default = _DEFAULT_ACTS[node.op]
    if acts and acts != default * (len(acts) // len(default)):
        raise UnsupportedOpError(f"{node.op} {node.name!r}: only the default activations {default} are supported")
    if node.attrs.get("layout", 0) != 0:
        raise UnsupportedOpError(f"{node.op} {node.name!r}: only layout=0 ([T, B, I]) is supported")
    if node.attrs.get("input_forget", 0):
        raise UnsupportedOpError(f"LSTM {node.name!r}: input_forget=1 is not supported")
    seq_lens = args[4] if len(args) > 4 else None
    if seq_lens is not None and np.any(np.asarray(seq_lens) != args[0].shape[0]):
        raise UnsupportedOpError(f"{node.op} {node.name!r}: sequence_lens shorter than the input are not supported")


def directions(node) -> list[bool]:
    """Per direction: True if it runs backwards in time."""
    d = node.attrs.get("direction", "forward")
    d = d.decode() if isinstance(d, bytes) else d
    return {"forward": [False], "reverse": [True], "bidirectional": [False, True]}[d]


def _initial(state, d: int, batch: int, hidden: int) -> np.ndarray:
    return np.zeros((batch, hidden), np.float32) if state is None else state[d]


def lstm(node, args, gemm_in, gemm_rec, rnd) -> tuple[np.ndarray, ...]:
    """ONNX LSTM forward; ``args`` = X, W, R, B, sequence_lens, initial_h, initial_c, P.

    Peepholes ``P [D, 3H]`` (order i, o, f) are element-wise products with the cell state on the ASIC:
    ``i`` and ``f`` see the previous ``c``, ``o`` the new one.
    """
    check_supported(node, args)
    x = args[0]
    seq, batch, _ = x.shape
    hidden = int(node.attrs["hidden_size"])
    bias = args[3] if len(args) > 3 else None
    clip = node.attrs.get("clip")
    dirs = directions(node)
    y = np.empty((seq, len(dirs), batch, hidden), np.float32)
    y_h = np.empty((len(dirs), batch, hidden), np.float32)
    y_c = np.empty((len(dirs), batch, hidden), np.float32)
    for d, backwards in enumerate(dirs):
        xw = rnd(gemm_in(d, x.reshape(seq * batch, -1))).reshape(seq, batch, 4 * hidden)
        if bias is not None:
            xw = rnd(xw + (bias[d, :4 * hidden] + bias[d, 4 * hidden:]))
        h = _initial(args[5] if len(args) > 5 else None, d, batch, hidden)
        c = _initial(args[6] if len(args) > 6 else None, d, batch, hidden)
        peep = args[7][d] if len(args) > 7 and args[7] is not None else None
        for t in (range(seq - 1, -1, -1) if backwards else range(seq)):
            g = rnd(xw[t] + rnd(gemm_rec(d, t, h, slice(None))))
            if clip is not None:
                g = np.clip(g, -np.float32(clip), np.float32(clip))
            gi, go, gf = g[:, :hidden], g[:, hidden:2 * hidden], g[:, 2 * hidden:3 * hidden]
            if peep is not None:
                gi, gf = rnd(gi + rnd(peep[:hidden] * c)), rnd(gf + rnd(peep[2 * hidden:] * c))
            i = rnd(sigmoid(gi))
            f = rnd(sigmoid(gf))
            cand = rnd(np.tanh(g[:, 3 * hidden:]))
            c = rnd(rnd(f * c) + rnd(i * cand))
            if peep is not None:
                go = rnd(go + rnd(peep[hidden:2 * hidden] * c))
            o = rnd(sigmoid(go))
            h = rnd(o * rnd(np.tanh(c)))
            y[t, d] = h
        y_h[d], y_c[d] = h, c
    return (y, y_h, y_c)


def gru(node, args, gemm_in, gemm_rec, rnd) -> tuple[np.ndarray, ...]:
    """ONNX GRU forward; ``args`` = X, W, R, B, sequence_lens, initial_h.

    With ``linear_before_reset = 0`` (the ONNX default) the candidate gate
    needs ``(r * h) @ R_h^T``, which depends on ``r``: the recurrent GEMM is
    run as two products, ``h @ R_zr^T`` (N = 2H) and ``(r*h) @ R_h^T``
    (N = H), the same MACs as the single ``N = 3H`` GEMM the lowering
    counts (``docs/executor.md``).
    """
    check_supported(node, args)
    x = args[0]
    seq, batch, _ = x.shape
    hidden = int(node.attrs["hidden_size"])
    bias = args[3] if len(args) > 3 else None
    before_reset = bool(node.attrs.get("linear_before_reset", 0))
    dirs = directions(node)
    y = np.empty((seq, len(dirs), batch, hidden), np.float32)
    y_h = np.empty((len(dirs), batch, hidden), np.float32)
    h2 = 2 * hidden
    for d, backwards in enumerate(dirs):
        xw = rnd(gemm_in(d, x.reshape(seq * batch, -1))).reshape(seq, batch, 3 * hidden)
        wb = bias[d, :3 * hidden] if bias is not None else np.zeros(3 * hidden, np.float32)
        rb = bias[d, 3 * hidden:] if bias is not None else np.zeros(3 * hidden, np.float32)
        xw = rnd(xw + wb)
        h = _initial(args[5] if len(args) > 5 else None, d, batch, hidden)
        for t in (range(seq - 1, -1, -1) if backwards else range(seq)):
            if before_reset:
                rh = rnd(rnd(gemm_rec(d, t, h, slice(None))) + rb)
                zr = rnd(sigmoid(rnd(xw[t, :, :h2] + rh[:, :h2])))
                z, r = zr[:, :hidden], zr[:, hidden:]
                n = rnd(np.tanh(rnd(xw[t, :, h2:] + rnd(r * rh[:, h2:]))))
            else:
                rh = rnd(rnd(gemm_rec(d, t, h, slice(0, h2))) + rb[:h2])
                zr = rnd(sigmoid(rnd(xw[t, :, :h2] + rh)))
                z, r = zr[:, :hidden], zr[:, hidden:]
                rh_n = rnd(rnd(gemm_rec(d, t, rnd(r * h), slice(h2, None))) + rb[h2:])
                n = rnd(np.tanh(rnd(xw[t, :, h2:] + rh_n)))
            h = rnd(rnd((np.float32(1) - z) * n) + rnd(z * h))
            y[t, d] = h
        y_h[d] = h
    return (y, y_h)


def rnn(node, args, gemm_in, gemm_rec, rnd) -> tuple[np.ndarray, ...]:
    """ONNX (Elman) RNN forward, default Tanh; ``args`` = X, W, R, B, sequence_lens, initial_h."""
    check_supported(node, args)
    x = args[0]
    seq, batch, _ = x.shape
    hidden = int(node.attrs["hidden_size"])
    bias = args[3] if len(args) > 3 else None
    dirs = directions(node)
    y = np.empty((seq, len(dirs), batch, hidden), np.float32)
    y_h = np.empty((len(dirs), batch, hidden), np.float32)
    for d, backwards in enumerate(dirs):
        xw = rnd(gemm_in(d, x.reshape(seq * batch, -1))).reshape(seq, batch, hidden)
        if bias is not None:
            xw = rnd(xw + (bias[d, :hidden] + bias[d, hidden:]))
        h = _initial(args[5] if len(args) > 5 else None, d, batch, hidden)
        for t in (range(seq - 1, -1, -1) if backwards else range(seq)):
            h = rnd(np.tanh(rnd(xw[t] + rnd(gemm_rec(d, t, h, slice(None))))))
            y[t, d] = h
        y_h[d] = h
    return (y, y_h)

"""RNN-T speech recognizer as in MLPerf inference (LibriSpeech, greedy decoding).

Shapes follow the MLPerf reference: 80 log-mel features per 10 ms frame,
stacked x3 (and subsampled x3) to 240 features every 30 ms; encoder LSTMs
240->1024 and 1024->1024, time stacking x2 (2048 features every 60 ms), LSTMs
2048->1024, 1024->1024, 1024->1024; prediction network: embedding 28 x 320
(the 28 non-blank labels) and two LSTMs 320->320; joint: concat(1024 + 320 =
1344) -> 512 -> ReLU -> 29 logits (28 labels + blank).

Static approximation of greedy decoding (decoding is data dependent; a Graph
is static):

- **Prediction network**: run once over ``symbols + 1`` steps: a zero
  start-of-sequence vector (as the MLPerf reference feeds) followed by the
  embeddings of the ``symbols`` emitted labels, input ``labels [symbols, B]``.
  An efficient decoder evaluates the prediction network only when a symbol is
  emitted (its state does not change on blank), so these are exactly the
  evaluations it needs. (The MLPerf Python reference recomputes it on every
  joint step, T + U times; that is redundant work, not part of the model.)
- **Joint network**: greedy decoding visits one (t, u) pair per emitted symbol
  plus one per frame (the blank that moves to the next frame): ``T + U``
  evaluations. The pairs form a monotone path; we fix it to the path that
  spreads the ``U`` emissions evenly over the ``T`` encoder frames
  (:func:`greedy_path`) and gather the encoder and prediction outputs along it
  with constant index tables. The MAC count is exact for any path with U
  emissions (every path has T + U joint evaluations); only which pairs are
  evaluated is assumed.
- **Frames**: the utterance is padded with zero frames to a multiple of 60 ms
  (3 x 2 stacking needs whole groups; MLPerf pads too), ``frames =
  6 * ceil(utterance_s * 100 / 6)``; 7.2 s -> 720 frames -> 240 -> T = 120.

Default: 7.2 s, 107 symbols -> 7.116 GMAC (encoder 6.779, prediction 0.177,
joint 0.160), counted by :func:`adept_core.graph.lowering.graph_macs`.
"""

from __future__ import annotations

import math

import numpy as np

from ...errors import ConfigError
from ..ir import Graph
from ._builder import GraphBuilder, positive_int

MEL_FEATURES = 80
FRAME_MS = 10
STACK_FEATURES = 3
STACK_TIME = 2
ENCODER_HIDDEN = 1024
PRE_LAYERS = 2
POST_LAYERS = 3
PRED_HIDDEN = 320
PRED_LAYERS = 2
LABELS = 28             # non-blank symbols; blank is the 29th joint output
JOINT_HIDDEN = 512


def frames_for(utterance_s: float) -> int:
    """10 ms feature frames of an utterance, padded to a whole number of 60 ms groups."""
    if isinstance(utterance_s, bool) or not isinstance(utterance_s, (int, float)) or not utterance_s > 0 \
            or not math.isfinite(utterance_s):
        raise ConfigError(f"utterance_s must be a positive number of seconds, got {utterance_s!r}")
    group = STACK_FEATURES * STACK_TIME
    frames_exact = round(utterance_s * 1000 / FRAME_MS, 6)  # round away float noise (7.2 s -> 720.0000000001)
    return group * math.ceil(frames_exact / group)


def greedy_path(frames: int, symbols: int) -> tuple[np.ndarray, np.ndarray]:
    """(t, u) index arrays of the ``frames + symbols`` joint evaluations of a greedy decode.

    ``symbols`` emissions are spread evenly: by the end of frame ``t``,
    ``floor((t + 1) * symbols / frames)`` symbols have been emitted. At each
    frame the decoder evaluates the joint once per emission (u advances) and
    once more for the blank that ends the frame (t advances).
    """
    t_idx, u_idx = [], []
    u = 0
    for t in range(frames):
        target = (t + 1) * symbols // frames
        while u <= target:
            t_idx.append(t)
            u_idx.append(u)
            if u == target:
                break
            u += 1
    return np.asarray(t_idx, dtype=np.int64), np.asarray(u_idx, dtype=np.int64)


def build(batch: int = 1, utterance_s: float = 7.2, symbols: int = 107) -> Graph:
    """RNN-T graph for ``batch`` utterances of ``utterance_s`` seconds emitting ``symbols`` labels each."""
    batch = positive_int("batch", batch)
    symbols = positive_int("symbols", symbols)
    frames = frames_for(utterance_s)
    t1 = frames // STACK_FEATURES
    t2 = t1 // STACK_TIME
    g = GraphBuilder("rnnt")
    feats = g.input("features", (batch, frames, MEL_FEATURES))
    labels = g.input("labels", (symbols, batch), "int64")

    # Encoder: stack 3 frames -> [T1, B, 240], two LSTMs, stack 2 -> [T2, B, 2048], three LSTMs.
    x = g.reshape("encoder.stack_features", feats, (batch, t1, STACK_FEATURES * MEL_FEATURES))
    x = g.transpose("encoder.time_major", x, (1, 0, 2))
    for i in range(PRE_LAYERS):
        x = g.lstm(f"encoder.pre_rnn.{i}", x, ENCODER_HIDDEN)
    x = g.transpose("encoder.stack_time.batch_major", x, (1, 0, 2))
    x = g.reshape("encoder.stack_time", x, (batch, t2, STACK_TIME * ENCODER_HIDDEN))
    x = g.transpose("encoder.stack_time.time_major", x, (1, 0, 2))
    for i in range(POST_LAYERS):
        x = g.lstm(f"encoder.post_rnn.{i}", x, ENCODER_HIDDEN)
    encoded = x                                                        # [T2, B, 1024]

    # Prediction network over the start vector and the emitted labels: [U + 1, B, 320].
    y = g.gather("prediction.embed", g.weight("prediction.embed.table", (LABELS, PRED_HIDDEN), "normal"), labels)
    start = g.weight("prediction.start", (1, batch, PRED_HIDDEN), "zeros")
    y = g.concat("prediction.with_start", [start, y], 0)
    for i in range(PRED_LAYERS):
        y = g.lstm(f"prediction.dec_rnn.{i}", y, PRED_HIDDEN)

    # Joint network along the fixed greedy path: [T2 + U, B, 29].
    t_idx, u_idx = greedy_path(t2, symbols)
    f = g.gather("joint.encoder_frames", encoded, g.const("joint.t_index", t_idx))
    p = g.gather("joint.prediction_steps", y, g.const("joint.u_index", u_idx))
    z = g.concat("joint.concat", [f, p], 2)
    z = g.unary("Relu", "joint.relu", g.linear("joint.fc1", z, JOINT_HIDDEN))
    logits = g.linear("joint.fc2", z, LABELS + 1)
    meta = {
        "source": "MLPerf inference RNN-T (rnnt_512 config, LibriSpeech), greedy decoding",
        "batch": batch,
        "utterance_s": utterance_s,
        "frames": frames,
        "encoder_frames": t2,
        "symbols": symbols,
        "joint_evaluations": int(t_idx.size),
        "inputs": {
            "features": f"float32 [batch, {frames}, 80] log-mel features, 10 ms hop (utterance padded to 60 ms groups)",
            "labels": f"int64 [{symbols}, batch] emitted label ids in [0, {LABELS}), in decoding order",
        },
        "outputs": {logits: "float32 [T + U, batch, 29] joint logits along the fixed greedy path (blank = 28)"},
        # Which axis of each input/output is the batch (the executor streams chunks along it).
        "batch_axes": {"features": 0, "labels": 1, logits: 1},
        "approximation": "prediction net on U+1 steps; joint on the T+U pairs of an evenly spread greedy path "
                         "(see adept_core.graph.zoo.rnnt docstring)",
        "weights": "He-normal (fan_in = input size for W, hidden for R), zero biases, embedding normal(0, 0.02)",
    }
    return g.graph([logits], meta)

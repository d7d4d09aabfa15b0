"""BERT's uncased WordPiece tokenizer, written from its published definition.

Two stages, as in the original BERT release (and ``tokenizer.json``'s
``BertNormalizer`` + ``BertPreTokenizer`` + ``WordPiece`` of all-MiniLM-L6-v2):

1. **basic tokenization**: drop NUL, U+FFFD and control characters, map
   whitespace to a space, surround every CJK ideograph with spaces, split on
   whitespace, lowercase, strip accents (NFD, drop combining marks), and split
   every punctuation character (Unicode category ``P*`` plus the ASCII symbols
   ``$+<=>^`|~``) into its own token;
2. **WordPiece**: each word becomes the greedy longest-match-first sequence of
   vocabulary pieces, continuation pieces prefixed ``##``; a word with no
   complete segmentation, or longer than 100 characters, becomes ``[UNK]``.

Encoding adds ``[CLS]`` ... ``[SEP]``, truncates to ``max_length`` and pads
with ``[PAD]`` (id 0) to a common length, returning the attention mask.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import InputError

#: Maximum characters of a word before it is replaced by [UNK] (BERT's default).
MAX_WORD_CHARS = 100

# CJK Unified Ideographs and their extensions/compatibility blocks (BERT's definition of "Chinese char").
_CJK_RANGES = (
    (0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2A6DF), (0x2A700, 0x2B73F),
    (0x2B740, 0x2B81F), (0x2B820, 0x2CEAF), (0xF900, 0xFAFF), (0x2F800, 0x2FA1F),
)


def _is_cjk(cp: int) -> bool:
    return any(lo <= cp <= hi for lo, hi in _CJK_RANGES)


def _is_whitespace(ch: str) -> bool:
    return ch in " \t\n\r" or unicodedata.category(ch) == "Zs"


def _is_control(ch: str) -> bool:
    # \t \n \r count as whitespace, not control.
    return ch not in "\t\n\r" and unicodedata.category(ch).startswith("C")


def _is_punctuation(ch: str) -> bool:
    cp = ord(ch)
    # All non-alphanumeric ASCII counts as punctuation, including $ + < = > ^ ` | ~ (Unicode "S*").
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


def basic_tokenize(text: str) -> list[str]:
    """Split ``text`` into lowercased, accent-stripped words and punctuation marks."""
    chars = []
    for ch in text:
        cp = ord(ch)
        if cp == 0 or cp == 0xFFFD or _is_control(ch):
            continue
        if _is_whitespace(ch):
            chars.append(" ")
        elif _is_cjk(cp):
            chars.append(f" {ch} ")
        else:
            chars.append(ch)
    words = []
    for word in "".join(chars).split():
        word = unicodedata.normalize("NFD", word.lower())
        word = "".join(ch for ch in word if unicodedata.category(ch) != "Mn")
        current = ""
        for ch in word:
            if _is_punctuation(ch):
                if current:
                    words.append(current)
                words.append(ch)
                current = ""
            else:
                current += ch
        if current:
            words.append(current)
    return words


@dataclass
class Encoding:
    """A padded batch: ``input_ids``, ``attention_mask`` and ``token_type_ids``, each int64 ``[B, S]``."""

    input_ids: np.ndarray
    attention_mask: np.ndarray
    token_type_ids: np.ndarray
    tokens: list[list[str]]


class WordPieceTokenizer:
    """Uncased BERT tokenizer over a ``vocab.txt`` (one piece per line; line number = id).

    Parameters
    ----------
    vocab : dict
        Piece -> id. Must contain ``[PAD]``, ``[UNK]``, ``[CLS]`` and ``[SEP]``.
    """

    def __init__(self, vocab: dict[str, int]):
        missing = [t for t in ("[PAD]", "[UNK]", "[CLS]", "[SEP]") if t not in vocab]
        if missing:
            raise InputError(f"vocabulary lacks the special tokens {missing}")
        self.vocab = vocab

    @classmethod
    def from_file(cls, path: str | Path) -> "WordPieceTokenizer":
        lines = Path(path).read_text(encoding="utf-8").split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        return cls({piece: i for i, piece in enumerate(lines)})

    def wordpiece(self, word: str) -> list[str]:
        """Greedy longest-match-first segmentation of one basic token."""
        if len(word) > MAX_WORD_CHARS:
            return ["[UNK]"]
        pieces, start = [], 0
        while start < len(word):
            end = len(word)
            while end > start:
                piece = word[start:end] if start == 0 else "##" + word[start:end]
                if piece in self.vocab:
                    break
                end -= 1
            else:
                return ["[UNK]"]
            pieces.append(piece)
            start = end
        return pieces

    def tokenize(self, text: str) -> list[str]:
        return [piece for word in basic_tokenize(text) for piece in self.wordpiece(word)]

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

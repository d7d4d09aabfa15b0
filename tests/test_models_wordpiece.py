"""The BERT WordPiece tokenizer against hand-checked tokenizations and the shipped tokenizer.json."""

import json

import numpy as np
import pytest

from adept_core.errors import InputError
from adept_core.models import minilm
from adept_core.models.assets import minilm_dir
from adept_core.models.wordpiece import WordPieceTokenizer, basic_tokenize


@pytest.fixture(scope="module")
def tok():
    return minilm.tokenizer()


def test_vocab_txt_matches_tokenizer_json():
    spec = json.loads((minilm_dir() / "tokenizer.json").read_text())
    assert spec["model"]["type"] == "WordPiece" and spec["model"]["continuing_subword_prefix"] == "##"
    assert spec["normalizer"]["lowercase"] is True
    assert WordPieceTokenizer.from_file(minilm_dir() / "vocab.txt").vocab == spec["model"]["vocab"]


@pytest.mark.parametrize("text, words", [
    ("Hello, World!", ["hello", ",", "world", "!"]),
    ("The café serves crème brûlée.", ["the", "cafe", "serves", "creme", "brulee", "."]),  # accents stripped
    ("tab\tnew\nline\u00a0nbsp", ["tab", "new", "line", "nbsp"]),  # all whitespace kinds split
    ("nul\x00and\x07bell", ["nulandbell"]),  # control characters dropped, not split
    ("北京abc", ["北", "京", "abc"]),  # CJK ideographs stand alone
    ("a+b=c $5 ~x", ["a", "+", "b", "=", "c", "$", "5", "~", "x"]),  # ASCII symbols are punctuation
    ("ÉCOLE", ["ecole"]),  # lowercase before accent stripping
    ("", []),
])
def test_basic_tokenize(text, words):
    assert basic_tokenize(text) == words


@pytest.mark.parametrize("text, pieces", [
    ("Hello, World!", ["hello", ",", "world", "!"]),
    ("photonics accelerators", ["photon", "##ics", "accelerator", "##s"]),
    ("Tokenization", ["token", "##ization"]),
    ("I can't", ["i", "can", "'", "t"]),
])
def test_wordpiece_real_vocab(tok, text, pieces):
    assert tok.tokenize(text) == pieces


def test_well_known_ids(tok):
    enc = tok.encode(["Hello, World!", "a cat."])
    # [CLS]=101 hello=7592 ,=1010 world=2088 !=999 [SEP]=102; a=1037 cat=4937 .=1012; [PAD]=0.
    np.testing.assert_array_equal(enc.input_ids, [[101, 7592, 1010, 2088, 999, 102], [101, 1037, 4937, 1012, 102, 0]])
    np.testing.assert_array_equal(enc.attention_mask, [[1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 0]])
    assert enc.input_ids.dtype == np.int64 and not enc.token_type_ids.any()


def test_greedy_longest_match_and_unk():
    vocab = {t: i for i, t in enumerate(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "un", "una", "##ff", "##able", "##a",
                                         "##ffable", "aff"])}
    t = WordPieceTokenizer(vocab)
    assert t.wordpiece("unaffable") == ["una", "##ffable"]  # longest first piece, then longest rest
    assert t.wordpiece("unx") == ["[UNK]"]  # any unmatched remainder makes the whole word unknown
    assert t.wordpiece("x" * 101) == ["[UNK]"]  # over-long words
    assert t.tokenize("aff unx") == ["aff", "[UNK]"]


def test_truncation_and_padding(tok):
    enc = tok.encode(["one two three four five six"], max_length=5)
    assert enc.tokens[0] == ["[CLS]", "one", "two", "three", "[SEP]"]
    enc = tok.encode(["one"], pad_to=6)
    assert enc.input_ids.shape == (1, 6) and enc.attention_mask.sum() == 3


def test_bad_arguments(tok):
    with pytest.raises(InputError, match="list of sentences"):
        tok.encode("not a list")
    with pytest.raises(InputError, match="pad_to"):
        tok.encode(["one two three"], pad_to=3)
    with pytest.raises(InputError, match="special tokens"):
        WordPieceTokenizer({"a": 0})


def test_shipped_tokenizer_json_and_vocab_rules_agree(tok, tmp_path):
    from adept_core.models.sentence_pairs import CALIBRATION_SENTENCES, SENTENCE_PAIRS

    sentences = [s for a, b, _ in SENTENCE_PAIRS for s in (a, b)] + list(CALIBRATION_SENTENCES) + ["Ünïcödé, CJK 北京 and $ymbols~", "x" * 120]
    from_vocab = WordPieceTokenizer.from_file(minilm_dir() / "vocab.txt")
    np.testing.assert_array_equal(tok.encode(sentences).input_ids, from_vocab.encode(sentences).input_ids)
    bad = tmp_path / "tokenizer.json"
    bad.write_text('{"not": "a tokenizer"}')
    with pytest.raises(InputError, match="cannot read tokenizer"):
        WordPieceTokenizer.from_json(bad)

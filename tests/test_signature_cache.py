"""The bounded per-signature cache of run-time binding and the ONNX backend (emulate/signature_cache.py)."""

import pytest

from adept_core.emulate.signature_cache import SignatureCache


def test_keeps_at_most_max_entries_dropping_the_least_recently_used():
    cache, made = SignatureCache(2), []
    make = lambda key: (lambda: made.append(key) or key.upper())  # noqa: E731
    assert cache.get("a", make("a")) == "A" and cache.get("b", make("b")) == "B"
    assert cache.get("a", make("a")) == "A"  # a hit: not rebuilt, and now the most recent
    cache.get("c", make("c"))  # evicts b, the least recently used
    assert len(cache) == 2 and "a" in cache and "c" in cache and "b" not in cache
    cache.get("b", make("b"))  # b comes back: rebuilt
    assert made == ["a", "b", "c", "b"]


def test_a_failing_build_stores_nothing():
    cache = SignatureCache(4)

    def fail():
        raise RuntimeError("import failed")

    with pytest.raises(RuntimeError):
        cache.get("k", fail)
    assert "k" not in cache and len(cache) == 0
    assert cache.get("k", lambda: 7) == 7


def test_the_bound_must_be_positive():
    with pytest.raises(ValueError, match="at least 1"):
        SignatureCache(0)

"""Stable per-call keys: one run seed + names -> the kernel's ``call_key``.

Python's ``hash()`` of a string changes from process to process
(``PYTHONHASHSEED``), so keys come from BLAKE2b of the UTF-8 text: the same
node name, role, index and chunk give the same 64-bit key on every machine.
"""

from __future__ import annotations

import hashlib


def stable_key(*parts: object) -> int:
    """64-bit unsigned key of ``parts`` (joined by ``"/"``), stable across processes and platforms."""
    text = "/".join(str(p) for p in parts).encode("utf-8")
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "little")

"""A bounded least-recently-used map from an input signature to the model prepared for it.

Run-time shape binding (``PreparedModel`` re-imports an ONNX graph at new input shapes or bound
values) and the ONNX backend (one prepared model per input signature) both keep such models. The
signatures come from the caller's inputs, so the number kept is bounded: past ``max_entries`` the
least recently used model is dropped (and rebuilt if its signature comes back).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Callable, Hashable, TypeVar

T = TypeVar("T")


class SignatureCache:
    """``get(key, make)``: the model cached for ``key``, or ``make()`` stored under it."""

    def __init__(self, max_entries: int):
        if max_entries < 1:
            raise ValueError(f"max_entries must be at least 1, got {max_entries}")
        self.max_entries = int(max_entries)
        self._entries: OrderedDict = OrderedDict()

    def get(self, key: Hashable, make: Callable[[], T]) -> T:
        if key in self._entries:
            self._entries.move_to_end(key)
            return self._entries[key]
        value = make()  # if make raises, nothing is stored
        self._entries[key] = value
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
        return value

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: Hashable) -> bool:
        return key in self._entries

    def values(self) -> list:
        """The cached models, least recently used first."""
        return list(self._entries.values())

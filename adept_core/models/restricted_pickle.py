"""The one unpickler of the package: plain data plus an explicit list of globals, nothing else.

Every pickle adept reads comes from a file the user named and may have been
written by anyone, so :func:`load_pickle_at` never hands a pickle to the
standard loader as is. It

1. **scans** the pickle with :func:`pickletools.genops` first, without
   building anything: each opcode must be in the allowed set (the plain-data
   opcodes, plus -- only when the caller allows globals -- ``GLOBAL``,
   ``STACK_GLOBAL``, ``REDUCE``, ``BUILD`` and the persistent-id opcodes), and
   every declared length must lie inside the bytes at hand, so a truncated
   pickle or a ``BINBYTES8`` that claims exabytes is refused before any
   allocation;
2. **loads** the scanned bytes with the pure-Python :class:`pickle._Unpickler`
   (a dict memo: a ``LONG_BINPUT 0xffffffff`` cannot make it allocate a
   32 GiB memo array, as the C unpickler would) whose ``find_class`` returns
   only the objects in the caller's ``allowed`` mapping.

Memory use is linear in the pickle's size: no opcode repeats or multiplies; and
so is time: dict keys must be ``str`` (salted hashes) and sets are not admitted,
so a pickle cannot choose colliding hashes.
Every failure is an :class:`~adept_core.errors.InputError` naming the source.
"""

from __future__ import annotations

import io
import pickle
import pickletools
from collections.abc import Callable, Mapping

from ..errors import InputError

#: Opcodes that only build plain data (numbers, strings, bytes, containers) or move it around.
DATA_OPCODES = frozenset({
    "PROTO", "FRAME", "STOP", "MARK", "POP", "POP_MARK", "DUP",
    "NONE", "NEWTRUE", "NEWFALSE", "INT", "BININT", "BININT1", "BININT2", "LONG", "LONG1", "LONG4",
    "FLOAT", "BINFLOAT", "STRING", "BINSTRING", "SHORT_BINSTRING", "UNICODE", "BINUNICODE",
    "SHORT_BINUNICODE", "BINUNICODE8", "BINBYTES", "SHORT_BINBYTES", "BINBYTES8", "BYTEARRAY8",
    "EMPTY_LIST", "APPEND", "APPENDS", "LIST", "EMPTY_TUPLE", "TUPLE", "TUPLE1", "TUPLE2", "TUPLE3",
    "EMPTY_DICT", "DICT", "SETITEM", "SETITEMS",
    "PUT", "BINPUT", "LONG_BINPUT", "MEMOIZE", "GET", "BINGET", "LONG_BINGET",
})

#: Extra opcodes a pickle naming objects needs; their callables come only from ``allowed``.
OBJECT_OPCODES = frozenset({"GLOBAL", "STACK_GLOBAL", "REDUCE", "BUILD", "PERSID", "BINPERSID"})


class _RestrictedUnpickler(pickle._Unpickler):  # noqa: SLF001 - the pure-Python one: dict memo, no C fast paths
    def __init__(self, file, source: str, allowed: Mapping[tuple[str, str], object],
                 persistent_load: Callable[[object], object] | None):
        super().__init__(file)
        self._source, self._allowed, self._persistent = source, allowed, persistent_load

    # Dict keys must be str: str hashes are salted per process, while ints, floats and tuples of them can be
    # chosen to collide, which turns a few MB of SETITEMS into hours of dict probing. (Sets are not admitted
    # at all, for the same reason: nothing adept reads pickles a set.)
    dispatch = dict(pickle._Unpickler.dispatch)  # noqa: SLF001

    def _check_keys(self, keys) -> None:
        for key in keys:
            if type(key) is not str:
                raise InputError(f"{self._source}: a dict key in the pickle is a {type(key).__name__}; "
                                 "only str keys are read")

    def _load_setitem(self):
        self._check_keys(self.stack[-2:-1])
        pickle._Unpickler.load_setitem(self)  # noqa: SLF001

    def _load_setitems(self):
        self._check_keys(self.stack[0::2])  # the items since the MARK, k, v, k, v ...
        pickle._Unpickler.load_setitems(self)  # noqa: SLF001

    def _load_dict(self):
        self._check_keys(self.stack[0::2])
        pickle._Unpickler.load_dict(self)  # noqa: SLF001

    dispatch[pickle.SETITEM[0]] = _load_setitem
    dispatch[pickle.SETITEMS[0]] = _load_setitems
    dispatch[pickle.DICT[0]] = _load_dict

    def find_class(self, module: str, name: str):
        try:
            return self._allowed[(module, name)]
        except KeyError:
            names = sorted(f"{m}.{n}" for m, n in self._allowed) or ["none (plain data only)"]
            raise InputError(f"{self._source}: refusing to unpickle global {module}.{name}; "
                             f"allowed: {', '.join(names)}") from None

    def persistent_load(self, pid):
        if self._persistent is None:
            raise InputError(f"{self._source}: unexpected persistent id in a plain-data pickle")
        return self._persistent(pid)


def load_pickle_at(data: bytes, pos: int, source: str, *, what: str,
                   allowed: Mapping[tuple[str, str], object] | None = None,
                   persistent_load: Callable[[object], object] | None = None) -> tuple[object, int]:
    """Unpickle the pickle starting at ``data[pos]``; return it and the offset just past its STOP.

    ``what`` names the pickle in errors ("magic number", "data.pkl"). With no
    ``allowed`` globals and no ``persistent_load`` only plain data is accepted.
    """
    allowed = allowed or {}
    permitted = DATA_OPCODES | (OBJECT_OPCODES if allowed or persistent_load else frozenset())
    stream = io.BytesIO(data)
    stream.seek(pos)
    try:
        for op, _arg, _at in pickletools.genops(stream):
            if op.name not in permitted:
                raise InputError(f"{source}: the {what} pickle uses opcode {op.name}, which a "
                                 f"{'state dict' if allowed else 'plain-data'} pickle never needs; refused")
    except InputError:
        raise
    except Exception as exc:  # noqa: BLE001 - genops raises ValueError for truncation and unknown opcodes
        raise InputError(f"{source}: the {what} pickle is truncated or malformed ({str(exc)[:200]})") from None
    end = stream.tell()
    unpickler = _RestrictedUnpickler(io.BytesIO(data[pos:end]), source, allowed, persistent_load)
    try:
        return unpickler.load(), end
    except InputError:
        raise
    except Exception as exc:  # noqa: BLE001 - a wrong-typed REDUCE/BUILD argument, bad memo index ...
        raise InputError(f"{source}: the {what} pickle cannot be read ({type(exc).__name__}: {str(exc)[:200]})") from None

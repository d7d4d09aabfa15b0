"""The one door to the kernel backends.

Backends are looked up by name; modules are imported on first use so that
``import adept_core`` stays cheap and works without the compiled extension
or Numba. An unavailable backend raises :class:`BackendUnavailableError`
saying why; nothing ever falls back silently, except ``"auto"``, which is
documented to pick the fastest backend that is available.
"""

from __future__ import annotations

import importlib
from functools import lru_cache

from ..errors import BackendUnavailableError, ConfigError

#: name -> (module, class); the order is the preference order of ``"auto"``.
_BACKENDS = {
    "cpp": ("adept_core.kernels.cpp_backend", "CppBackend"),
    "numba": ("adept_core.kernels.numba_backend", "NumbaBackend"),
    "numpy": ("adept_core.kernels.reference", "NumpyBackend"),
}

BACKEND_NAMES = tuple(_BACKENDS)


@lru_cache(maxsize=None)
def _load(name: str):
    module_name, class_name = _BACKENDS[name]
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:  # the module itself imports numba / the extension
        return None, f"{module_name} could not be imported: {exc}"
    backend = getattr(module, class_name)()
    reason = backend.unavailable_reason()
    return (None, reason) if reason else (backend, None)


def available_backends() -> tuple[str, ...]:
    """Names of the backends usable in this installation, fastest first."""
    return tuple(name for name in _BACKENDS if _load(name)[0] is not None)


def get_backend(name: str = "auto"):
    """The backend called ``name`` (``"auto"``: the fastest available)."""
    if name == "auto":
        for candidate in _BACKENDS:
            backend, _ = _load(candidate)
            if backend is not None:
                return backend
        raise BackendUnavailableError("no kernel backend is available")  # numpy always is
    if name not in _BACKENDS:
        raise ConfigError(f"unknown backend {name!r}; choose one of {', '.join(('auto',) + BACKEND_NAMES)}")
    backend, reason = _load(name)
    if backend is None:
        hint = ""
        if name == "cpp":
            hint = " Build it with `pip install -e .` from the repository root (needs a C++17 compiler and CMake)."
        raise BackendUnavailableError(f"backend {name!r} is not available: {reason}.{hint}")
    return backend

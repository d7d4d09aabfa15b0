"""The one strict loader of hardware configurations: TOML presets and user files.

A file is a TOML document of the shape of :func:`~.config.to_dict`. It may
start with ``base = "adept"`` (a preset name, or a path relative to the file)
to inherit every value and change only some; without ``base`` every key must
be present. Unknown keys, missing keys and impossible values raise
:class:`~adept_core.errors.ConfigError` naming the key.

A config file is untrusted input (``docs/security.md``): its ``base`` may name
a preset or a ``.toml`` file in the directory of the file that names it or
below -- after ``..`` and symlinks are resolved -- and nothing else (no
absolute paths, no way up). A file elsewhere is used only when the user names
it directly (``--config PATH``, ``load_config(PATH)``); the refusal happens
before the outside file is opened, so no key of it can reach a message.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Mapping

from ..errors import ConfigError
from .config import SECTIONS, HardwareConfig, apply_overrides, from_dict

PRESET_DIR = Path(__file__).with_name("presets")
#: Shipped preset names: every ``presets/*.toml`` (a new file is a new preset, nothing else to register).
PRESETS = tuple(sorted(path.stem for path in PRESET_DIR.glob("*.toml")))
_MAX_BASE_DEPTH = 8


def resolve_named_config(text: str, naming_file: Path) -> Path:
    """The preset or ``.toml`` file that ``naming_file`` refers to as ``text``, confined to its directory.

    For references read from a file (a config's ``base``, a sweep spec's
    ``preset``): a preset name, or a relative path that resolves (``..`` and
    symlinks followed) inside ``naming_file``'s directory. Raises ConfigError otherwise.
    """
    if text in PRESETS or Path(text).suffix != ".toml":
        return _resolve(text)  # a preset, or the unknown-config error
    folder = naming_file.parent
    root = folder.resolve()
    if Path(text).is_absolute() or not (folder / text).resolve().is_relative_to(root):
        raise ConfigError(f"{naming_file}: {text!r} is outside {root}; a file may only name a preset "
                          f"({', '.join(PRESETS)}) or a .toml file in its own directory or below. To use a file "
                          "elsewhere, name it directly (--config PATH) or copy it next to this one")
    return _resolve(folder / text)


def _resolve(name_or_path: str | Path) -> Path:
    text = str(name_or_path)
    if text in PRESETS:
        return PRESET_DIR / f"{text}.toml"
    path = Path(text)
    if path.suffix != ".toml":
        raise ConfigError(f"unknown hardware config {text!r}: use a preset ({', '.join(PRESETS)}) or a path to a .toml file")
    if not path.is_file():
        raise ConfigError(f"hardware config file not found: {path}")
    return path


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:  # a binary file is not UTF-8 text
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a directory, not a TOML file") from None


def _merge(base: dict[str, Any], top: Mapping[str, Any], origin: str) -> dict[str, Any]:
    out = {k: (dict(v) if isinstance(v, dict) else v) for k, v in base.items()}
    for key, value in top.items():
        if key in SECTIONS and isinstance(value, Mapping):
            out[key] = {**out.get(key, {}), **value}
        else:
            out[key] = value
    return out


def _load_raw(path: Path, depth: int = 0) -> dict[str, Any]:
    if depth > _MAX_BASE_DEPTH:
        raise ConfigError(f"{path}: 'base' chain deeper than {_MAX_BASE_DEPTH} (a cycle?)")
    data = _read_toml(path)
    data.setdefault("name", path.stem)
    base = data.pop("base", None)
    if base is None:
        return data
    if not isinstance(base, str):
        raise ConfigError(f"{path}: base must be a preset name or a .toml path, got {base!r}")
    return _merge(_load_raw(resolve_named_config(base, path), depth + 1), data, str(path))


def load_config(name_or_path: str | Path = "adept", overrides: Mapping[str, Any] | None = None) -> HardwareConfig:
    """Load a preset (one of :data:`PRESETS`, e.g. ``"adept"``, ``"systolic"``) or a TOML file, apply dotted overrides, validate.

    Parameters
    ----------
    name_or_path : str or Path
        Preset name or path to a ``.toml`` file.
    overrides : dict, optional
        Dotted keys to values, e.g. ``{"photonic.num_cores": 4}`` (sweeps).

    Returns
    -------
    HardwareConfig

    Raises
    ------
    ConfigError
        Unknown preset/file, invalid TOML, unknown or missing keys, impossible
        values; the message names the key and what is allowed.
    """
    path = _resolve(name_or_path)
    origin = str(name_or_path)
    data = _load_raw(path)
    return from_dict(apply_overrides(data, overrides), origin=origin)

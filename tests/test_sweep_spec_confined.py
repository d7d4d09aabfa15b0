"""A sweep spec file's ``preset = "x.toml"`` is confined like a config's ``base`` (docs/security.md)."""
from pathlib import Path

import pytest

from adept_core.dse.spec import load_spec
from adept_core.errors import ConfigError

SPEC = 'name = "s"\nworkloads = ["resnet50"]\npreset = "{preset}"\n[axes]\n"photonic.adc_bits" = [6, 8]\n'


def _write(folder: Path, preset: str) -> Path:
    path = folder / "spec.toml"
    path.write_text(SPEC.format(preset=preset))
    return path


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    secret = tmp_path / "outside" / "secret.toml"
    secret.parent.mkdir()
    secret.write_text('base = "adept"\nsecret_key_do_not_print = 1\n')
    return secret


def test_relative_escape_is_refused_before_reading(tmp_path, outside):
    inner = tmp_path / "specs"
    inner.mkdir()
    with pytest.raises(ConfigError, match="outside") as err:
        load_spec(_write(inner, "../outside/secret.toml"))
    assert "secret_key_do_not_print" not in str(err.value)


def test_absolute_path_is_refused(tmp_path, outside):
    inner = tmp_path / "specs"
    inner.mkdir()
    with pytest.raises(ConfigError, match="outside"):
        load_spec(_write(inner, str(outside)))


def test_symlink_escape_is_refused(tmp_path, outside):
    inner = tmp_path / "specs"
    inner.mkdir()
    (inner / "link.toml").symlink_to(outside)
    with pytest.raises(ConfigError, match="outside"):
        load_spec(_write(inner, "link.toml"))


def test_a_preset_file_next_to_the_spec_loads(tmp_path):
    (tmp_path / "mine.toml").write_text('base = "adept"\nname = "mine"\n')
    spec = load_spec(_write(tmp_path, "mine.toml"))
    assert Path(spec.preset).resolve() == (tmp_path / "mine.toml").resolve()
